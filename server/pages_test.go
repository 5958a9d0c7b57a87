package server

import (
	"compress/gzip"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"recap/news"
	"recap/store"
)

// mustContain fails for each want missing from body.
func mustContain(t *testing.T, what, body string, wants ...string) {
	t.Helper()
	for _, w := range wants {
		if !strings.Contains(body, w) {
			t.Errorf("%s lacks %q", what, w)
		}
	}
}

func TestHomePageListsNewestFirstWithFreshnessAndCollectionTime(t *testing.T) {
	srv, st := newTestServer(t, func(c *Config) { c.PageSize = 5 })
	fillStore(t, st, 2, 6)
	h := srv.Handler()

	w := get(t, h, "/")
	if w.Code != http.StatusOK || w.Header().Get("Content-Type") != "text/html; charset=utf-8" {
		t.Fatalf("GET / = %d %q", w.Code, w.Header().Get("Content-Type"))
	}
	body := w.Body.String()
	mustContain(t, "/", body,
		"<h1>Latest AI news</h1>",
		`<a href="/articles/`,
		`<span class="fresh">Fresh</span>`,
		"collected in 16m",
		"just now", // article 0 of source 1: published 1s before testNow
		"7m ago",   // article 1
		`<a href="/sources/1">Source 1</a>`,
		`rel="alternate" type="application/rss+xml" title="Recap: latest AI news (RSS)" href="https://news.example.org/recap/feed.xml"`,
		`type="application/atom+xml"`, `type="application/feed+json"`,
		`<main id="main"`, `<nav aria-label="Main">`, `role="search"`, `<label for="q"`,
		"All content rights belong to original publishers",
	)
	titles := regexp.MustCompile(`<h2><a href="/articles/\d+">([^<]+)</a></h2>`).FindAllStringSubmatch(body, -1)
	if len(titles) != 5 {
		t.Fatalf("/ shows %d entries, want a page of 5", len(titles))
	}
	want := storedTitles(t, st, 0, 5)
	for i, m := range titles {
		if m[1] != want[i] {
			t.Errorf("entry %d = %q, want %q (newest first)", i, m[1], want[i])
		}
	}

	// The pages walk every article once.
	seen := map[string]bool{}
	next := "/"
	for page := 0; next != "" && page < 10; page++ {
		w := get(t, h, next)
		if w.Code != http.StatusOK {
			t.Fatalf("GET %s = %d", next, w.Code)
		}
		for _, m := range regexp.MustCompile(`href="(/articles/\d+)"`).FindAllStringSubmatch(w.Body.String(), -1) {
			if seen[m[1]] {
				t.Errorf("%s shown twice", m[1])
			}
			seen[m[1]] = true
		}
		next = ""
		if m := regexp.MustCompile(`rel="next" href="([^"]+)"`).FindStringSubmatch(w.Body.String()); m != nil {
			next = strings.ReplaceAll(m[1], "&amp;", "&")
		}
	}
	if len(seen) != 12 {
		t.Errorf("pages showed %d articles, want all 12", len(seen))
	}

	w = get(t, h, "/?before=nonsense")
	if w.Code != http.StatusBadRequest || !strings.Contains(w.Body.String(), "invalid cursor") {
		t.Errorf("GET /?before=nonsense = %d, want 400 saying the cursor is invalid", w.Code)
	}
}

func TestHomePageEmptyStoreSaysSo(t *testing.T) {
	srv, _ := newTestServer(t, nil)
	w := get(t, srv.Handler(), "/")
	if w.Code != http.StatusOK {
		t.Fatalf("GET / = %d", w.Code)
	}
	mustContain(t, "/", w.Body.String(), "Nothing collected yet")
}

func TestArticlePageShowsHookSummaryOriginalLinkAndRights(t *testing.T) {
	srv, st := newTestServer(t, nil)
	src := addTestSource(t, st, "SCMP Technology", "https://scmp.example.com/feed.xml")
	a := testArticle(src, 0)
	a.Title = "DeepSeek V4 Optimized for Huawei Ascend"
	a.Summary = "China's V4 models are optimized for Huawei chips. They bypass US restrictions, e.g. on Nvidia parts."
	b := testArticle(src, 1)
	b.URL = "" // an item without a web link
	b.Summary = "Only one sentence here."
	b.Link = "javascript:alert(1)"
	saveArticles(t, st, src, []news.Article{a, b})
	recs, _ := st.Articles(t.Context(), store.ArticleQuery{})
	ids := map[string]int64{}
	for _, r := range recs {
		ids[r.Title] = r.ID
	}
	h := srv.Handler()

	w := get(t, h, fmt.Sprintf("/articles/%d", ids[a.Title]))
	if w.Code != http.StatusOK {
		t.Fatalf("article page = %d", w.Code)
	}
	body := w.Body.String()
	mustContain(t, "article page", body,
		"<h1>DeepSeek V4 Optimized for Huawei Ascend</h1>",
		`<p class="hook lead">China&#39;s V4 models are optimized for Huawei chips.</p>`,
		"They bypass US restrictions, e.g. on Nvidia parts.",
		`<a href="/sources/1">SCMP Technology</a> · <span class="fresh">Fresh</span>`,
		"collected in 16m",
		`href="https://site1.example.com/posts/0" rel="noopener noreferrer">Read the full article at SCMP Technology</a>`,
		"Original source: SCMP Technology. All content rights belong to original publishers.",
		"<h2 id=\"coverage-h\">Coverage</h2>",
	)
	if strings.Contains(body, "utm_source") {
		t.Error("article page links the feed's raw link; it must link only the canonical URL")
	}
	if strings.Contains(body, "Content of article") {
		t.Error("article page republishes the full content; only the summary and the link may be shown")
	}

	w = get(t, h, fmt.Sprintf("/articles/%d", ids[b.Title]))
	if w.Code != http.StatusOK {
		t.Fatalf("article page without link = %d", w.Code)
	}
	if strings.Contains(w.Body.String(), `id="summary-h"`) {
		t.Error("a one-sentence summary is shown twice: as the hook and as the summary")
	}
	if strings.Contains(w.Body.String(), "javascript:") {
		t.Error("a javascript: link reached the page")
	}
	mustContain(t, "article page without link", w.Body.String(), "published no web link")

	for _, p := range []string{"/articles/999", "/articles/abc", "/articles/-1", "/articles/0"} {
		w := get(t, h, p)
		if w.Code != http.StatusNotFound || w.Header().Get("Content-Type") != "text/html; charset=utf-8" {
			t.Errorf("GET %s = %d %q, want an HTML 404", p, w.Code, w.Header().Get("Content-Type"))
		}
	}
}

func TestSourcesPagesShowHealth(t *testing.T) {
	srv, st := newTestServer(t, nil)
	srcs := fillStore(t, st, 2, 3)
	broken := addTestSource(t, st, "Broken", "https://broken.example.com/feed.xml")
	if _, err := st.SaveFetch(t.Context(), store.FetchResult{
		Fetch:      store.Fetch{SourceID: broken.ID, At: testNow.Add(-5 * time.Minute), Status: 500, Err: "fetch https://broken.example.com/feed.xml: 500 Internal Server Error"},
		NextCheck:  testNow.Add(20 * time.Minute),
		ErrorCount: 1,
	}); err != nil {
		t.Fatal(err)
	}
	h := srv.Handler()

	w := get(t, h, "/sources")
	if w.Code != http.StatusOK {
		t.Fatalf("GET /sources = %d", w.Code)
	}
	mustContain(t, "/sources", w.Body.String(),
		"3 sources: 2 healthy, 1 failing",
		`<a href="/sources/1">Source 1</a>`,
		`<span class="health health-failing">failing</span>`,
		"5m ago", "500 Internal Server Error", "in 20m",
		"fetch https://broken.example.com/feed.xml: 500 Internal Server Error",
		`type="text/x-opml"`,
	)

	w = get(t, h, fmt.Sprintf("/sources/%d", srcs[1].ID))
	if w.Code != http.StatusOK {
		t.Fatalf("GET /sources/2 = %d", w.Code)
	}
	body := w.Body.String()
	mustContain(t, "/sources/2", body, "<h1>Source 2</h1>", "Article 2 of Source 2",
		`href="https://news.example.org/recap/sources/2/feed.xml"`)
	if strings.Contains(body, "of Source 1:") {
		t.Error("/sources/2 lists articles of source 1")
	}
	for _, p := range []string{"/sources/99", "/sources/x"} {
		if w := get(t, h, p); w.Code != http.StatusNotFound {
			t.Errorf("GET %s = %d, want 404", p, w.Code)
		}
	}
}

func TestSearchPageRanksAndHighlightsAndEscapes(t *testing.T) {
	srv, st := newTestServer(t, nil)
	src := addTestSource(t, st, "Lab", "https://lab.example.com/feed.xml")
	arts := []news.Article{testArticle(src, 0), testArticle(src, 1), testArticle(src, 2)}
	arts[0].Title = "Alpaca models beat <script>alert(1)</script> benchmarks"
	arts[1].Title = "Unrelated chip news"
	arts[1].Summary = "Nothing here."
	arts[2].Title = "Another alpaca"
	saveArticles(t, st, src, arts)
	h := srv.Handler()

	w := get(t, h, "/search?q=alpaca+model")
	if w.Code != http.StatusOK {
		t.Fatalf("search = %d", w.Code)
	}
	body := w.Body.String()
	mustContain(t, "search", body,
		`<mark>Alpaca</mark> <mark>models</mark> beat &lt;script&gt;alert(1)&lt;/script&gt; benchmarks`,
		`value="alpaca model"`)
	if strings.Contains(body, "<script>") || strings.Contains(body, "Another alpaca") || strings.Contains(body, "Unrelated") {
		t.Error("search shows raw markup, or articles that do not match every word")
	}

	if w := get(t, h, "/search?q=zebra"); !strings.Contains(w.Body.String(), "No article matches") {
		t.Error("a search without results does not say so")
	}
	if w := get(t, h, "/search"); w.Code != http.StatusOK || strings.Contains(w.Body.String(), "No article matches") {
		t.Errorf("empty search = %d, or it claims no results", w.Code)
	}
	if w := get(t, h, "/search?q="+strings.Repeat("a", 201)); w.Code != http.StatusBadRequest {
		t.Errorf("too long a search = %d, want 400", w.Code)
	}
	for _, p := range []string{"0", "2abc", "101", "-1"} {
		if w := get(t, h, "/search?q=a&page="+p); w.Code != http.StatusBadRequest {
			t.Errorf("page=%s = %d, want 400", p, w.Code)
		}
	}
}

// TestPagesConditionalAndGzip: validators on every page, 304 on a match,
// gzip when asked, and a new version of the store outdates them.
func TestPagesConditionalAndGzip(t *testing.T) {
	srv, st := newTestServer(t, nil)
	srcs := fillStore(t, st, 1, 3)
	h := srv.Handler()
	for _, p := range []string{"/", "/articles/1", "/sources", "/sources/1", "/search?q=chips", "/static/style.css"} {
		w := get(t, h, p)
		etag, lm := w.Header().Get("ETag"), w.Header().Get("Last-Modified")
		if w.Code != http.StatusOK || etag == "" {
			t.Errorf("GET %s = %d, ETag %q", p, w.Code, etag)
			continue
		}
		if p != "/static/style.css" && lm == "" {
			t.Errorf("GET %s: no Last-Modified", p)
		}
		if w := get(t, h, p, "If-None-Match", etag); w.Code != http.StatusNotModified || w.Body.Len() != 0 {
			t.Errorf("GET %s If-None-Match = %d with %d bytes, want an empty 304", p, w.Code, w.Body.Len())
		}
		if w := get(t, h, p, "If-None-Match", `"other"`); w.Code != http.StatusOK {
			t.Errorf("GET %s with a stale ETag = %d, want 200", p, w.Code)
		}
		if lm != "" {
			if w := get(t, h, p, "If-Modified-Since", lm); w.Code != http.StatusNotModified {
				t.Errorf("GET %s If-Modified-Since = %d, want 304", p, w.Code)
			}
		}
		gz := get(t, h, p, "Accept-Encoding", "gzip, deflate")
		if gz.Header().Get("Content-Encoding") != "gzip" || !strings.Contains(gz.Header().Get("Vary"), "Accept-Encoding") {
			t.Errorf("GET %s with gzip: Content-Encoding %q, Vary %q", p, gz.Header().Get("Content-Encoding"), gz.Header().Get("Vary"))
			continue
		}
		zr, err := gzip.NewReader(gz.Body)
		if err != nil {
			t.Fatalf("GET %s: gzip: %v", p, err)
		}
		plain, _ := io.ReadAll(zr)
		if string(plain) != w.Body.String() {
			t.Errorf("GET %s: the gzipped body differs from the plain one", p)
		}
		if gz.Header().Get("ETag") == etag {
			t.Errorf("GET %s: gzip and plain share the ETag %s", p, etag)
		}
		if w := get(t, h, p, "Accept-Encoding", "gzip;q=0"); w.Header().Get("Content-Encoding") != "" {
			t.Errorf("GET %s with gzip;q=0 was gzipped", p)
		}
	}

	before := get(t, h, "/")
	a := testArticle(srcs[0], 50)
	a.Title = "Brand new article"
	a.Published = testNow
	saveArticles(t, st, srcs[0], []news.Article{a})
	after := get(t, h, "/", "If-None-Match", before.Header().Get("ETag"))
	if after.Code != http.StatusOK || !strings.Contains(after.Body.String(), "Brand new article") {
		t.Errorf("after a new article, GET / with the old ETag = %d, new article shown: %v", after.Code, strings.Contains(after.Body.String(), "Brand new article"))
	}
}

// TestCacheKeyIgnoresUnreadParameters: parameters a page does not read
// share its cache entry, so a stream of ?x=1, ?x=2 ... renders nothing new.
func TestCacheKeyIgnoresUnreadParameters(t *testing.T) {
	srv, st := newTestServer(t, nil)
	fillStore(t, st, 1, 3)
	h := srv.Handler()
	get(t, h, "/")
	for i := range 20 {
		get(t, h, fmt.Sprintf("/?utm_source=x&n=%d", i))
	}
	if n := len(srv.cache.byKey); n != 1 {
		t.Errorf("/ with 20 different unread parameters made %d cache entries, want 1", n)
	}
	get(t, h, "/?before=1775044800000-2")
	if n := len(srv.cache.byKey); n != 2 {
		t.Errorf("a cursor did not get an entry of its own: %d entries", n)
	}
}

func TestVersionTTLAndChanged(t *testing.T) {
	srv, st := newTestServer(t, func(c *Config) { c.VersionTTL = time.Hour })
	srcs := fillStore(t, st, 1, 1)
	h := srv.Handler()
	get(t, h, "/")
	a := testArticle(srcs[0], 9)
	a.Title = "Arrived after the first render"
	a.Published = testNow
	saveArticles(t, st, srcs[0], []news.Article{a})
	if strings.Contains(get(t, h, "/").Body.String(), a.Title) {
		t.Fatal("with a one-hour VersionTTL the page changed without Changed(): the TTL is not used")
	}
	srv.Changed()
	if !strings.Contains(get(t, h, "/").Body.String(), a.Title) {
		t.Error("after Changed() the page still shows the old version")
	}
}

func TestEveryResponseHasSecurityHeaders(t *testing.T) {
	srv, st := newTestServer(t, nil)
	fillStore(t, st, 1, 1)
	h := srv.Handler()
	for _, p := range []string{"/", "/nope", "/articles/1", "/api/v1/nope", "/healthz", "/static/style.css", "/search?q=x"} {
		w := get(t, h, p)
		csp := w.Header().Get("Content-Security-Policy")
		if !strings.Contains(csp, "default-src 'none'") || !strings.Contains(csp, "frame-ancestors 'none'") || strings.Contains(csp, "script-src") {
			t.Errorf("GET %s: CSP %q, want default-src 'none', frame-ancestors 'none' and no script", p, csp)
		}
		if w.Header().Get("X-Content-Type-Options") != "nosniff" || w.Header().Get("Referrer-Policy") == "" {
			t.Errorf("GET %s: nosniff %q, Referrer-Policy %q", p, w.Header().Get("X-Content-Type-Options"), w.Header().Get("Referrer-Policy"))
		}
		if strings.Contains(w.Body.String(), "<script") {
			t.Errorf("GET %s: the page has a script tag", p)
		}
	}
	w := get(t, h, "/api/v1/nope")
	if w.Code != http.StatusNotFound || !strings.HasPrefix(w.Header().Get("Content-Type"), "application/json") || !strings.Contains(w.Body.String(), `"error"`) {
		t.Errorf("unknown API route = %d %q %s, want a JSON 404", w.Code, w.Header().Get("Content-Type"), w.Body.String())
	}
	w = request(t, h, http.MethodPost, "/", nil)
	if w.Code != http.StatusMethodNotAllowed {
		t.Errorf("POST / = %d, want 405", w.Code)
	}
	w = request(t, h, http.MethodHead, "/", nil)
	if w.Code != http.StatusOK || w.Body.Len() != 0 || w.Header().Get("ETag") == "" {
		t.Errorf("HEAD / = %d with %d bytes, ETag %q", w.Code, w.Body.Len(), w.Header().Get("ETag"))
	}
}

func TestHealthReadyAndMetrics(t *testing.T) {
	srv, st := newTestServer(t, func(c *Config) { c.Metrics = NewMetrics(func() int { return 7 }) })
	h := srv.Handler()
	if w := get(t, h, "/healthz"); w.Code != http.StatusOK || !strings.Contains(w.Body.String(), `"ok"`) {
		t.Errorf("/healthz = %d %s", w.Code, w.Body.String())
	}
	if w := get(t, h, "/readyz"); w.Code != http.StatusOK {
		t.Errorf("/readyz = %d, want 200", w.Code)
	}
	get(t, h, "/")
	get(t, h, "/articles/12345")
	srv.cfg.Metrics.ObserveFetch("ok", 300*time.Millisecond, 4, 1)
	w := get(t, h, "/metrics")
	if w.Code != http.StatusOK || !strings.HasPrefix(w.Header().Get("Content-Type"), "text/plain") {
		t.Fatalf("/metrics = %d %q", w.Code, w.Header().Get("Content-Type"))
	}
	mustContain(t, "/metrics", w.Body.String(),
		`recap_http_requests_total{route="/",status="200"} 1`,
		`recap_http_requests_total{route="/articles/{id}",status="404"} 1`,
		`recap_fetches_total{outcome="ok"} 1`,
		`recap_fetches_total{outcome="error"} 0`,
		`recap_articles_stored_total{kind="new"} 4`,
		`recap_fetch_duration_seconds_count 1`,
		`recap_poll_queue_depth 7`,
		`recap_http_request_duration_seconds_bucket`,
	)
	st.Close()
	if w := get(t, h, "/readyz"); w.Code != http.StatusServiceUnavailable {
		t.Errorf("/readyz with the store closed = %d, want 503", w.Code)
	}
	if w := get(t, h, "/healthz"); w.Code != http.StatusOK {
		t.Errorf("/healthz with the store closed = %d, want 200 (the process is up)", w.Code)
	}
}
