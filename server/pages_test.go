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

// entryCoverage maps each entry of a list page to its coverage line ("" when
// it has none), by the entry's title.
func entryCoverage(body string) map[string]string {
	out := map[string]string{}
	for _, part := range strings.Split(body, `<li class="entry">`)[1:] {
		title := regexp.MustCompile(`<h2><a href="[^"]+">([^<]+)</a></h2>`).FindStringSubmatch(part)
		if title == nil {
			continue
		}
		cov := ""
		if m := regexp.MustCompile(`<p class="meta coverage">(.*?)</p>`).FindStringSubmatch(part); m != nil {
			cov = regexp.MustCompile(`<[^>]+>`).ReplaceAllString(m[1], "")
		}
		out[title[1]] = cov
	}
	return out
}

func TestHomePageListsStoriesWithOutletCountsFreshnessAndCollectionTime(t *testing.T) {
	srv, st := newTestServer(t, func(c *Config) { c.PageSize = 5 })
	fillStore(t, st, 2, 6)
	ids := articleIDs(t, st)
	art := func(n, src int) int64 { return ids[fmt.Sprintf("Article %d of Source %d: models and chips", n, src)] }
	// One event in both sources; another in both, with a second article of
	// source 1 (three articles, two outlets), started by its earliest.
	saveStories(t, st,
		testStory{members: []int64{art(0, 1), art(0, 2)}},
		testStory{members: []int64{art(2, 1), art(1, 2), art(1, 1)}})
	clusterRest(t, st) // 7 more stories of one article each: 9 in all
	h := srv.Handler()

	w := get(t, h, "/")
	if w.Code != http.StatusOK || w.Header().Get("Content-Type") != "text/html; charset=utf-8" {
		t.Fatalf("GET / = %d %q", w.Code, w.Header().Get("Content-Type"))
	}
	body := w.Body.String()
	mustContain(t, "/", body,
		"<h1>Latest AI news</h1>",
		fmt.Sprintf(`<h2><a href="/stories/%d">Article 0 of Source 1: models and chips</a></h2>`, art(0, 1)),
		fmt.Sprintf(`<h2><a href="/stories/%d">Article 2 of Source 1: models and chips</a></h2>`, art(2, 1)),
		`<span class="fresh">Fresh</span>`,
		"collected in 16m",
		"just now", // the lead of the first story: published 1s before testNow
		"14m ago",  // the lead of the second: article 2 of source 1
		`<a href="/sources/1">Source 1</a>`,
		`rel="alternate" type="application/rss+xml" title="Recap: latest AI news (RSS)" href="https://news.example.org/recap/feed.xml"`,
		`type="application/atom+xml"`, `type="application/feed+json"`,
		`<main id="main"`, `<nav aria-label="Main">`, `role="search"`, `<label for="q"`,
		"All content rights belong to original publishers",
		`rel="next" href="/?before=`, "Older stories →",
	)
	if strings.Contains(body, `href="/articles/`) {
		t.Error("/ links an article page; its entries are stories")
	}
	cov := entryCoverage(body)
	for title, want := range map[string]string{
		"Article 0 of Source 1: models and chips": "2 outlets",
		// Its lead is 14m old, its latest member 7m: the list's order says
		// why it stands above older single reports.
		"Article 2 of Source 1: models and chips": "2 outlets · 3 articles · updated 7m ago",
		"Article 2 of Source 2: models and chips": "1 outlet",
	} {
		if got, ok := cov[title]; !ok || got != want {
			t.Errorf("entry %q: coverage %q (shown: %v), want %q", title, got, ok, want)
		}
	}
	titles := regexp.MustCompile(`<h2><a href="/stories/\d+">([^<]+)</a></h2>`).FindAllStringSubmatch(body, -1)
	if len(titles) != 5 {
		t.Fatalf("/ shows %d entries, want a page of 5", len(titles))
	}
	want := storyTitles(t, st, 5)
	for i, m := range titles {
		if m[1] != want[i] {
			t.Errorf("entry %d = %q, want %q (most recently updated first)", i, m[1], want[i])
		}
	}

	// The pages walk every story once.
	seen := map[string]bool{}
	next := "/"
	for page := 0; next != "" && page < 10; page++ {
		w := get(t, h, next)
		if w.Code != http.StatusOK {
			t.Fatalf("GET %s = %d", next, w.Code)
		}
		for _, m := range regexp.MustCompile(`href="(/stories/\d+)"`).FindAllStringSubmatch(w.Body.String(), -1) {
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
	if len(seen) != 9 {
		t.Errorf("pages showed %d stories, want all 9", len(seen))
	}

	w = get(t, h, "/?before=nonsense")
	if w.Code != http.StatusBadRequest || !strings.Contains(w.Body.String(), "invalid cursor") {
		t.Errorf("GET /?before=nonsense = %d, want 400 saying the cursor is invalid", w.Code)
	}
}

func TestHomePageEmptyStoreSaysSo(t *testing.T) {
	srv, st := newTestServer(t, nil)
	h := srv.Handler()
	w := get(t, h, "/")
	if w.Code != http.StatusOK {
		t.Fatalf("GET / = %d", w.Code)
	}
	mustContain(t, "/", w.Body.String(), "Nothing collected yet")

	// Articles stored, none in a story yet: the page says they are coming.
	fillStore(t, st, 1, 3)
	w = get(t, h, "/")
	mustContain(t, "/ before clustering", w.Body.String(), "3 articles collected, being grouped into stories")
	if strings.Contains(w.Body.String(), "Nothing collected yet") {
		t.Error("/ says nothing was collected while 3 articles wait for the story stage")
	}
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

func TestArticlePageRedirectsToItsStory(t *testing.T) {
	srv, st := newTestServer(t, nil)
	fillStore(t, st, 2, 2)
	ids := articleIDs(t, st)
	first, second := ids["Article 1 of Source 1: models and chips"], ids["Article 0 of Source 2: models and chips"]
	saveStories(t, st, testStory{members: []int64{first, second}})
	alone := ids["Article 1 of Source 2: models and chips"] // not clustered yet
	h := srv.Handler()

	for _, id := range []int64{first, second} {
		for _, method := range []string{http.MethodGet, http.MethodHead} {
			w := request(t, h, method, fmt.Sprintf("/articles/%d", id), nil)
			if w.Code != http.StatusFound || w.Header().Get("Location") != fmt.Sprintf("/stories/%d", first) {
				t.Errorf("%s /articles/%d = %d to %q, want 302 to /stories/%d", method, id, w.Code, w.Header().Get("Location"), first)
			}
			if w.Header().Get("ETag") != "" {
				t.Errorf("%s /articles/%d: a redirect carries the ETag %q", method, id, w.Header().Get("ETag"))
			}
			if w.Header().Get("Content-Security-Policy") == "" {
				t.Errorf("%s /articles/%d: the redirect lacks the security headers", method, id)
			}
		}
	}
	if w := get(t, h, fmt.Sprintf("/stories/%d", first)); w.Code != http.StatusOK {
		t.Errorf("the redirect's target answers %d", w.Code)
	}
	w := get(t, h, fmt.Sprintf("/articles/%d", alone))
	if w.Code != http.StatusOK || !strings.Contains(w.Body.String(), "<h1>Article 1 of Source 2: models and chips</h1>") {
		t.Errorf("an article not in a story yet = %d, want its page as before", w.Code)
	}

	// It joins a story later: the cached page gives way to the redirect.
	saveStories(t, st, testStory{members: []int64{alone}})
	if w := get(t, h, fmt.Sprintf("/articles/%d", alone)); w.Code != http.StatusFound {
		t.Errorf("after clustering, /articles/%d = %d, want 302", alone, w.Code)
	}
}

// headingLevels returns the levels of a page's headings in order.
func headingLevels(body string) []int {
	var out []int
	for _, m := range regexp.MustCompile(`<h([1-6])[ >]`).FindAllStringSubmatch(body, -1) {
		out = append(out, int(m[1][0]-'0'))
	}
	return out
}

func TestStoryPageShowsLeadAndFullCoverage(t *testing.T) {
	srv, st := newTestServer(t, nil)
	scmp := addTestSource(t, st, "SCMP Technology", "https://scmp.example.com/feed.xml")
	reuters := addTestSource(t, st, "Reuters <Tech> & Co", "https://reuters.example.com/feed.xml")
	wire := addTestSource(t, st, "Wire Copy", "https://wire.example.com/feed.xml")
	digest := addTestSource(t, st, "AI Digest", "https://digest.example.com/feed.xml")

	lead := testArticle(scmp, 10)
	lead.Title = "DeepSeek V4 Optimized for Huawei Ascend"
	lead.Summary = "China's V4 models are optimized for Huawei chips. They bypass US restrictions, e.g. on Nvidia parts."
	follow := testArticle(scmp, 2)
	follow.Title = "DeepSeek V4: what the benchmarks say"
	saveArticles(t, st, scmp, []news.Article{lead, follow})
	report := testArticle(reuters, 8)
	report.Title = hostileTitles[2]
	noLink := testArticle(reuters, 5)
	noLink.Title = "A report with only a script URL"
	noLink.URL, noLink.Link, noLink.GUID = "javascript:alert(3)", "javascript:alert(4)", "urn:x"
	saveArticles(t, st, reuters, []news.Article{report, noLink})
	copied := testArticle(wire, 6)
	copied.Title = hostileTitles[0]
	saveArticles(t, st, wire, []news.Article{copied})
	// The aggregator carries SCMP's article under the same URL: one
	// article, a second outlet.
	again := lead
	again.GUID, again.ItemKey, again.Link = "urn:digest:1", "", lead.URL+"?utm_source=digest"
	saveArticles(t, st, digest, []news.Article{again})

	ids := articleIDs(t, st)
	storyID := ids[lead.Title]
	saveStories(t, st, testStory{
		members: []int64{storyID, ids[report.Title], ids[copied.Title], ids[noLink.Title], ids[follow.Title]},
		dups:    map[int64]int64{ids[copied.Title]: ids[report.Title]},
	})
	rec, err := st.Story(t.Context(), storyID)
	if err != nil {
		t.Fatal(err)
	}
	if rec.OutletCount != 4 || rec.Count != 5 {
		t.Fatalf("the store counts %d outlets and %d articles, want 4 and 5", rec.OutletCount, rec.Count)
	}
	h := srv.Handler()

	w := get(t, h, fmt.Sprintf("/stories/%d", storyID))
	if w.Code != http.StatusOK || w.Header().Get("Content-Type") != "text/html; charset=utf-8" {
		t.Fatalf("story page = %d %q", w.Code, w.Header().Get("Content-Type"))
	}
	body := w.Body.String()
	mustContain(t, "story page", body,
		"<title>DeepSeek V4 Optimized for Huawei Ascend · Recap</title>",
		"<h1>DeepSeek V4 Optimized for Huawei Ascend</h1>",
		`<p class="hook lead">China&#39;s V4 models are optimized for Huawei chips.</p>`,
		"They bypass US restrictions, e.g. on Nvidia parts.",
		fmt.Sprintf(`<a href="/sources/%d">SCMP Technology</a> · <span class="fresh">Fresh</span>`, scmp.ID),
		"collected in 16m",
		`<h2 id="coverage-h">Full coverage</h2>`,
		"4 outlets · 5 articles",
		fmt.Sprintf(`href="https://site%d.example.com/posts/10" rel="noopener noreferrer">Read the full article at SCMP Technology</a>`, scmp.ID),
		"Original source: SCMP Technology. All content rights belong to original publishers.",
		`<main id="main"`, `type="application/rss+xml"`,
	)
	// Every outlet, in the store's order, linked to its source page.
	var outlets []string
	for _, m := range regexp.MustCompile(`<h3 class="outlet"><a href="/sources/(\d+)">([^<]*)</a></h3>`).FindAllStringSubmatch(body, -1) {
		outlets = append(outlets, m[1]+" "+m[2])
	}
	var wantOutlets []string
	for _, o := range rec.Outlets {
		wantOutlets = append(wantOutlets, fmt.Sprintf("%d %s", o.SourceID, escapeHTMLText(o.Name)))
	}
	if strings.Join(outlets, "|") != strings.Join(wantOutlets, "|") {
		t.Errorf("outlets on the page %q, want %q", outlets, wantOutlets)
	}
	// Every member under each outlet that carried it: when it was
	// published, its title linked to its canonical URL.
	member := func(a news.Article, linked bool) string {
		pub := a.Published.UTC()
		s := fmt.Sprintf(`<time datetime="%s">%s</time> `, pub.Format(time.RFC3339), pub.Format("2 Jan 2006 15:04 MST"))
		if linked {
			return s + fmt.Sprintf(`<a href="%s" rel="noopener noreferrer">%s</a>`, a.URL, escapeHTMLText(a.Title))
		}
		return s + "<span>" + escapeHTMLText(a.Title) + "</span>"
	}
	mustContain(t, "story page", body,
		member(lead, true), member(follow, true), member(report, true), member(noLink, false),
		member(copied, true)+` <span class="copy">copy</span>`)
	if n := strings.Count(body, member(lead, true)); n != 2 {
		t.Errorf("the lead shows %d times in the coverage, want 2: under SCMP and under the aggregator that carried it", n)
	}
	if n := strings.Count(body, `class="copy"`); n != 1 {
		t.Errorf("%d members marked as copies, want 1", n)
	}
	for _, bad := range []string{"<script>", "javascript:", "utm_source", "Content of article", "<Tech>"} {
		if strings.Contains(body, bad) {
			t.Errorf("story page carries %q", bad)
		}
	}
	levels := headingLevels(body)
	if len(levels) == 0 || levels[0] != 1 {
		t.Fatalf("headings %v: want the page to start with its h1", levels)
	}
	for i := 1; i < len(levels); i++ {
		if levels[i] > levels[i-1]+1 {
			t.Errorf("headings %v skip a level at %d", levels, i)
		}
	}

	// A member's id is no story of its own; the path leads to its story,
	// as the path of a story that merged away does.
	memberPath := fmt.Sprintf("/stories/%d", ids[report.Title])
	if w := get(t, h, memberPath); w.Code != http.StatusFound || w.Header().Get("Location") != fmt.Sprintf("/stories/%d", storyID) {
		t.Errorf("GET %s = %d to %q, want 302 to its story %d", memberPath, w.Code, w.Header().Get("Location"), storyID)
	}
	for _, p := range []string{"/stories/999", "/stories/abc", "/stories/0", "/stories/-1"} {
		w := get(t, h, p)
		if w.Code != http.StatusNotFound || w.Header().Get("Content-Type") != "text/html; charset=utf-8" {
			t.Errorf("GET %s = %d %q, want an HTML 404", p, w.Code, w.Header().Get("Content-Type"))
		}
	}
}

// TestListsLinkArticlesToTheirStories: source pages and search results list
// articles; an article in a story leads to the story.
func TestListsLinkArticlesToTheirStories(t *testing.T) {
	srv, st := newTestServer(t, nil)
	fillStore(t, st, 2, 2)
	ids := articleIDs(t, st)
	clustered, alone := ids["Article 0 of Source 2: models and chips"], ids["Article 1 of Source 2: models and chips"]
	storyID := ids["Article 1 of Source 1: models and chips"]
	saveStories(t, st, testStory{members: []int64{storyID, clustered}})
	h := srv.Handler()
	for _, p := range []string{"/sources/2", "/search?q=chips"} {
		body := get(t, h, p).Body.String()
		mustContain(t, p, body,
			// Search results highlight "chips": the link is checked up to it.
			fmt.Sprintf(`<a href="/stories/%d">Article 0 of Source 2: models and `, storyID),
			fmt.Sprintf(`<a href="/articles/%d">Article 1 of Source 2: models and `, alone))
		if strings.Contains(body, fmt.Sprintf(`href="/articles/%d"`, clustered)) {
			t.Errorf("%s links the page of an article that is in a story", p)
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
	ids := articleIDs(t, st)
	storyID := ids["Article 0 of Source 1: models and chips"]
	saveStories(t, st, testStory{members: []int64{storyID, ids["Article 1 of Source 1: models and chips"]}})
	alone := ids["Article 2 of Source 1: models and chips"] // its own page until clustered
	h := srv.Handler()
	for _, p := range []string{"/", fmt.Sprintf("/stories/%d", storyID), fmt.Sprintf("/articles/%d", alone), "/sources", "/sources/1", "/search?q=chips", "/static/style.css"} {
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
	clusterRest(t, st)
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
	clusterRest(t, st)
	h := srv.Handler()
	get(t, h, "/")
	a := testArticle(srcs[0], 9)
	a.Title = "Arrived after the first render"
	a.Published = testNow
	saveArticles(t, st, srcs[0], []news.Article{a})
	clusterRest(t, st)
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
	fillStore(t, st, 1, 2)
	ids := articleIDs(t, st)
	clustered := ids["Article 0 of Source 1: models and chips"]
	saveStories(t, st, testStory{members: []int64{clustered}})
	alone := ids["Article 1 of Source 1: models and chips"]
	h := srv.Handler()
	for _, p := range []string{"/", "/nope", fmt.Sprintf("/stories/%d", clustered), fmt.Sprintf("/articles/%d", clustered), fmt.Sprintf("/articles/%d", alone),
		"/api/v1/nope", "/api/v1/stories", "/healthz", "/static/style.css", "/search?q=x", "/feed.xml"} {
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

// TestMergedStoryRedirectsToTheStoryItJoined: when the clusterer merges a
// story into another, links to the old story lead to the one it joined.
func TestMergedStoryRedirectsToTheStoryItJoined(t *testing.T) {
	srv, st := newTestServer(t, nil)
	fillStore(t, st, 2, 1)
	ids := articleIDs(t, st)
	a, b := ids["Article 0 of Source 1: models and chips"], ids["Article 0 of Source 2: models and chips"]
	saveStories(t, st, testStory{members: []int64{a}}, testStory{members: []int64{b}})
	h := srv.Handler()
	if w := get(t, h, fmt.Sprintf("/stories/%d", b)); w.Code != http.StatusOK {
		t.Fatalf("/stories/%d before the merge = %d, want 200", b, w.Code)
	}
	saveStories(t, st, testStory{members: []int64{a, b}})
	w := get(t, h, fmt.Sprintf("/stories/%d", b))
	if w.Code != http.StatusFound || w.Header().Get("Location") != fmt.Sprintf("/stories/%d", a) {
		t.Errorf("/stories/%d after the merge = %d to %q, want 302 to /stories/%d", b, w.Code, w.Header().Get("Location"), a)
	}
	if w := get(t, h, "/stories/999999"); w.Code != http.StatusNotFound {
		t.Errorf("/stories/999999 = %d, want 404", w.Code)
	}
}
