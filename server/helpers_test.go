package server

import (
	"cmp"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"recap/news"
	"recap/store"
	"recap/store/sqlite"
)

// Shared by every test of the package: a server over a temporary SQLite
// store, and ways to fill that store with articles.

// testBaseURL is the public base URL of test servers; its path checks that
// absolute URLs keep the base's path.
const testBaseURL = "https://news.example.org/recap"

// testNow is the clock of test servers and the time test articles are
// published around, so rendered pages do not depend on when tests run.
var testNow = time.Date(2026, 4, 1, 12, 0, 0, 0, time.UTC)

// hostileTitles are titles that break feeds and pages which escape badly:
// markup, entities, quotes, non-ASCII, an emoji, and a control character XML
// 1.0 forbids.
var hostileTitles = []string{
	`AT&T <b>bold</b> "quotes" 'apos' — ünïcödé — 🚀`,
	"A control char \x01 in the middle",
	`</title><script>alert(1)</script> & &amp; &lt;`,
	`Why "]]>" ends a CDATA section, and \back\slashes`,
}

// newTestStore opens an empty SQLite store in a temporary directory, closed
// when the test ends.
func newTestStore(t testing.TB) *sqlite.Store {
	t.Helper()
	st, err := sqlite.Open(t.Context(), filepath.Join(t.TempDir(), "recap.db"))
	if err != nil {
		t.Fatalf("open store: %v", err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

// newTestServer builds a server over a new empty store with testBaseURL and
// the testNow clock; cfg, when not nil, changes the Config before New.
func newTestServer(t testing.TB, cfg func(*Config)) (*Server, *sqlite.Store) {
	t.Helper()
	st := newTestStore(t)
	c := Config{Store: st, BaseURL: testBaseURL, Now: func() time.Time { return testNow }}
	if cfg != nil {
		cfg(&c)
	}
	srv, err := New(c)
	if err != nil {
		t.Fatalf("server.New: %v", err)
	}
	return srv, st
}

// addTestSource stores an enabled source titled title.
func addTestSource(t testing.TB, st store.Store, title, feedURL string) store.Source {
	t.Helper()
	src, err := st.AddSource(t.Context(), store.Source{
		URL: feedURL, Title: title, SiteURL: strings.TrimSuffix(feedURL, "/feed.xml"),
		Filter: store.FilterAll, Weight: 1, Enabled: true,
	})
	if err != nil {
		t.Fatalf("AddSource(%s): %v", feedURL, err)
	}
	return src
}

// testArticle builds the n-th article of a source the way the feeds stage
// hands it over: published n*7 minutes before testNow (minus a few seconds
// per source, so no two articles tie), collected 16 minutes later.
func testArticle(src store.Source, n int) news.Article {
	url := fmt.Sprintf("https://site%d.example.com/posts/%d", src.ID, n)
	guid := fmt.Sprintf("urn:test:%d:%d", src.ID, n)
	title := fmt.Sprintf("Article %d of %s: models and chips", n, src.Title)
	pub := testNow.Add(-time.Duration(n)*7*time.Minute - time.Duration(src.ID)*time.Second)
	return news.Article{
		ItemKey:     news.ItemKey(guid, url, title, pub),
		GUID:        guid,
		Link:        url + "?utm_source=rss",
		URL:         url,
		Title:       title,
		Summary:     fmt.Sprintf("Summary of article %d. It says what happened and why it matters.", n),
		ContentHTML: fmt.Sprintf("<p>Content of article %d.</p>", n),
		Text:        fmt.Sprintf("Content of article %d.", n),
		Author:      "Ada Lovelace",
		Categories:  []string{"AI"},
		Published:   pub,
		Collected:   pub.Add(16 * time.Minute),
	}
}

// searchIndexer is a store that can make new articles searchable at once
// (sqlite.Store); other stores index as they save.
type searchIndexer interface {
	IndexSearch(ctx context.Context) (int, error)
}

// saveArticles stores arts as one successful fetch of src and makes them
// searchable at once.
func saveArticles(t testing.TB, st store.Store, src store.Source, arts []news.Article) {
	t.Helper()
	for i := range arts {
		if arts[i].ItemKey == "" {
			arts[i].ItemKey = news.ItemKey(arts[i].GUID, arts[i].URL, arts[i].Title, arts[i].Published)
		}
	}
	at := testNow
	if _, err := st.SaveFetch(t.Context(), store.FetchResult{
		Fetch:     store.Fetch{SourceID: src.ID, At: at, Status: http.StatusOK, Duration: 120 * time.Millisecond, Items: len(arts)},
		Articles:  arts,
		NextCheck: at.Add(30 * time.Minute),
	}); err != nil {
		t.Fatalf("SaveFetch(source %d): %v", src.ID, err)
	}
	if ix, ok := st.(searchIndexer); ok {
		if _, err := ix.IndexSearch(t.Context()); err != nil {
			t.Fatalf("IndexSearch: %v", err)
		}
	}
}

// fillStore adds sources sources ("Source 1"...) with perSource articles
// each (see testArticle) and returns the sources.
func fillStore(t testing.TB, st store.Store, sources, perSource int) []store.Source {
	t.Helper()
	out := make([]store.Source, 0, sources)
	for i := range sources {
		src := addTestSource(t, st, fmt.Sprintf("Source %d", i+1), fmt.Sprintf("https://site%d.example.com/feed.xml", i+1))
		arts := make([]news.Article, perSource)
		for n := range arts {
			arts[n] = testArticle(src, n)
		}
		saveArticles(t, st, src, arts)
		out = append(out, src)
	}
	return out
}

// testLease is the lease tests place articles in stories under, as the
// story stage does.
var testLease = store.Lease{Name: "stories", Holder: "server-test"}

// testStory is a story a test makes: its members by article id, the first
// of them its id (the article that started it); lead is members[0] when 0;
// dups marks members as near-copies of another (member -> original).
type testStory struct {
	members []int64
	lead    int64
	dups    map[int64]int64
}

// saveStories stores stories as the story stage would: every member
// assigned, each story with its members earliest published first and its
// first and latest published times.
func saveStories(t testing.TB, st store.Store, stories ...testStory) {
	t.Helper()
	ok, err := st.AcquireLease(t.Context(), testLease, time.Hour)
	if err != nil || !ok {
		t.Fatalf("AcquireLease = %v, %v", ok, err)
	}
	var (
		as  []store.Assignment
		out []news.Story
	)
	for _, ts := range stories {
		if len(ts.members) == 0 {
			t.Fatal("a test story without members")
		}
		arts := make([]news.Article, len(ts.members))
		for i, id := range ts.members {
			rec, err := st.Article(t.Context(), id)
			if err != nil {
				t.Fatalf("Article(%d): %v", id, err)
			}
			arts[i] = rec.Article
		}
		slices.SortFunc(arts, func(a, b news.Article) int {
			if c := a.Published.Compare(b.Published); c != 0 {
				return c
			}
			return cmp.Compare(a.ID, b.ID)
		})
		story := news.Story{ID: ts.members[0], Lead: ts.lead, FirstSeen: arts[0].Published, Updated: arts[len(arts)-1].Published}
		if story.Lead == 0 {
			story.Lead = ts.members[0]
		}
		for _, a := range arts {
			story.Articles = append(story.Articles, a.ID)
			as = append(as, store.Assignment{ArticleID: a.ID, StoryID: story.ID, DuplicateOf: ts.dups[a.ID]})
		}
		out = append(out, story)
	}
	if err := st.SaveStories(t.Context(), testLease, as, out); err != nil {
		t.Fatalf("SaveStories: %v", err)
	}
}

// clusterRest places every article not yet in a story in a story of its
// own, and returns their ids.
func clusterRest(t testing.TB, st store.Store) []int64 {
	t.Helper()
	arts, err := st.Unclustered(t.Context(), 100_000)
	if err != nil {
		t.Fatalf("Unclustered: %v", err)
	}
	if len(arts) == 0 {
		return nil
	}
	stories := make([]testStory, len(arts))
	ids := make([]int64, len(arts))
	for i, a := range arts {
		stories[i], ids[i] = testStory{members: []int64{a.ID}}, a.ID
	}
	saveStories(t, st, stories...)
	return ids
}

// articleIDs maps the stored articles' titles to their ids.
func articleIDs(t testing.TB, st store.Store) map[string]int64 {
	t.Helper()
	recs, err := st.Articles(t.Context(), store.ArticleQuery{Limit: 100_000})
	if err != nil {
		t.Fatalf("Articles: %v", err)
	}
	out := make(map[string]int64, len(recs))
	for _, r := range recs {
		out[r.Title] = r.ID
	}
	return out
}

// storyTitles returns the titles of the latest limit stories, most
// recently updated first.
func storyTitles(t testing.TB, st store.Store, limit int) []string {
	t.Helper()
	recs, err := st.Stories(t.Context(), store.StoryQuery{Limit: limit})
	if err != nil {
		t.Fatalf("Stories: %v", err)
	}
	out := make([]string, len(recs))
	for i, r := range recs {
		out[i] = r.Title
	}
	return out
}

// storedTitles returns the titles of the newest limit articles (of one
// source when sourceID is not 0), newest first.
func storedTitles(t testing.TB, st store.Store, sourceID int64, limit int) []string {
	t.Helper()
	recs, err := st.Articles(t.Context(), store.ArticleQuery{Limit: limit, SourceID: sourceID})
	if err != nil {
		t.Fatalf("Articles: %v", err)
	}
	out := make([]string, len(recs))
	for i, r := range recs {
		out[i] = r.Title
	}
	return out
}

// request sends one request to h and returns the recorded response; body
// may be nil; header holds extra request headers as "Name", "value" pairs.
func request(t testing.TB, h http.Handler, method, target string, body io.Reader, header ...string) *httptest.ResponseRecorder {
	t.Helper()
	r := httptest.NewRequestWithContext(t.Context(), method, target, body)
	for i := 0; i+1 < len(header); i += 2 {
		r.Header.Set(header[i], header[i+1])
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	return w
}

// get is request with GET.
func get(t testing.TB, h http.Handler, target string, header ...string) *httptest.ResponseRecorder {
	t.Helper()
	return request(t, h, http.MethodGet, target, nil, header...)
}

// serveTest starts srv on 127.0.0.1 with its public base URL set to the
// listener's own address, so absolute links in feeds lead back to it. It
// returns the base URL; the listener closes when the test ends.
func serveTest(t testing.TB, cfg func(*Config)) (base string, srv *Server, st *sqlite.Store) {
	t.Helper()
	ts := httptest.NewUnstartedServer(nil)
	base = "http://" + ts.Listener.Addr().String()
	srv, st = newTestServer(t, func(c *Config) {
		c.BaseURL = base
		if cfg != nil {
			cfg(c)
		}
	})
	ts.Config.Handler = srv.Handler()
	ts.Start()
	t.Cleanup(ts.Close)
	return base, srv, st
}

// TestFillStore checks the helpers themselves: every article stored, newest
// first across sources, hostile titles kept byte for byte.
func TestFillStore(t *testing.T) {
	srv, st := newTestServer(t, nil)
	srcs := fillStore(t, st, 3, 5)
	arts := []news.Article{}
	for i, title := range hostileTitles {
		a := testArticle(srcs[0], 100+i)
		a.Title = title
		arts = append(arts, a)
	}
	saveArticles(t, st, srcs[0], arts)

	if n, err := st.CountArticles(t.Context()); err != nil || n != 15+len(hostileTitles) {
		t.Fatalf("CountArticles = %d, %v; want %d", n, err, 15+len(hostileTitles))
	}
	titles := storedTitles(t, st, 0, 3)
	want := []string{"Article 0 of Source 1: models and chips", "Article 0 of Source 2: models and chips", "Article 0 of Source 3: models and chips"}
	if strings.Join(titles, "|") != strings.Join(want, "|") {
		t.Errorf("newest titles = %q, want %q", titles, want)
	}
	got := map[string]bool{}
	for _, title := range storedTitles(t, st, srcs[0].ID, 50) {
		got[title] = true
	}
	for _, title := range hostileTitles {
		if !got[title] {
			t.Errorf("hostile title %q not stored as is", title)
		}
	}
	if w := get(t, srv.Handler(), "/"); w.Code != http.StatusOK {
		t.Errorf("GET / = %d, want 200", w.Code)
	}
}
