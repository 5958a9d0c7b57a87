package main

import (
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"recap/server"
	"recap/store/sqlite"
)

const adminTestToken = "admin-test-token"

// adminFeedSite serves a feed, a page that links another feed, and a page
// that links none.
func adminFeedSite(t *testing.T) *httptest.Server {
	mux := http.NewServeMux()
	mux.HandleFunc("/feed.xml", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/rss+xml")
		fmt.Fprint(w, rss(
			item("f-1", "First AI model story", "https://news.example/f-1"),
			item("f-2", "Second AI model story", "https://news.example/f-2"),
			item("f-3", "Third AI model story", "https://news.example/f-3")))
	})
	mux.HandleFunc("/blog/", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprint(w, `<!DOCTYPE html><html><head><title>A blog</title>`+
			`<link rel="alternate" type="application/rss+xml" title="Posts" href="posts.xml"></head><body>Posts</body></html>`)
	})
	mux.HandleFunc("/blog/posts.xml", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, rss(
			item("b-1", "Blog post on agents", "https://blog.example/b-1"),
			item("b-2", "Blog post on chips", "https://blog.example/b-2")))
	})
	mux.HandleFunc("/about", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprint(w, `<!DOCTYPE html><html><head><title>About</title></head><body>No feed here</body></html>`)
	})
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv
}

// adminTestServer serves the API over a fresh store with the real source
// admin (discovery and poller) wired as serve wires it.
func adminTestServer(t *testing.T, token string, allowPrivate bool) *httptest.Server {
	t.Helper()
	db := filepath.Join(t.TempDir(), "recap.db")
	args := []string{"--db", db, "--fetch-timeout", "10s"}
	if allowPrivate {
		args = append(args, "--allow-private-networks")
	}
	a, _, err := parseGlobal(args, func(string) string { return "" }, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	a.log = slog.New(slog.DiscardHandler)
	st, err := sqlite.Open(t.Context(), db)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	srv, err := server.New(server.Config{
		Store: st, BaseURL: "https://recap.example", AdminToken: token,
		Admin: newSourceAdmin(a, st, a.newPoller(st)),
	})
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(srv.Handler())
	t.Cleanup(ts.Close)
	return ts
}

// adminCall sends one API request and decodes the JSON answer into out
// (when not nil); it returns the status.
func adminCall(t *testing.T, ts *httptest.Server, method, path, token, ctype, body string, out any) int {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), method, ts.URL+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if ctype != "" {
		req.Header.Set("Content-Type", ctype)
	}
	resp, err := ts.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusNoContent && !strings.HasPrefix(resp.Header.Get("Content-Type"), "application/json") {
		t.Errorf("%s %s: Content-Type %q", method, path, resp.Header.Get("Content-Type"))
	}
	if out != nil {
		if err := json.Unmarshal(data, out); err != nil {
			t.Fatalf("%s %s: %d %s: %v", method, path, resp.StatusCode, data, err)
		}
	}
	return resp.StatusCode
}

type adminSource struct {
	ID        int64  `json:"id"`
	URL       string `json:"url"`
	Title     string `json:"title"`
	Filter    string `json:"filter"`
	LastCheck string `json:"last_check"`
	Articles  int    `json:"articles"`
}

type adminAdded struct {
	Source    adminSource       `json:"source"`
	FoundFrom string            `json:"found_from"`
	Poll      server.PollResult `json:"poll"`
	Error     string            `json:"error"`
}

func TestAdminAPIWithoutToken(t *testing.T) {
	site := adminFeedSite(t)
	ts := adminTestServer(t, "", true)
	var e adminAdded
	if got := adminCall(t, ts, http.MethodPost, "/api/v1/sources", adminTestToken, "application/json", `{"url": "`+site.URL+`/feed.xml"}`, &e); got != http.StatusNotFound {
		t.Errorf("POST /api/v1/sources without a configured token = %d, want 404", got)
	}
	var list struct{ Sources []adminSource }
	adminCall(t, ts, http.MethodGet, "/api/v1/sources", "", "", "", &list)
	if len(list.Sources) != 0 {
		t.Errorf("a source was added: %+v", list.Sources)
	}
}

func TestAdminAPI(t *testing.T) {
	site := adminFeedSite(t)
	// A site without any feed: every path is the same page.
	bare := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprint(w, `<!DOCTYPE html><html><head><title>About</title></head><body>No feed here</body></html>`)
	}))
	t.Cleanup(bare.Close)
	ts := adminTestServer(t, adminTestToken, true)
	post := func(token, body string, out any) int {
		t.Helper()
		return adminCall(t, ts, http.MethodPost, "/api/v1/sources", token, "application/json", body, out)
	}

	if got := post("wrong-token", `{"url": "`+site.URL+`/feed.xml"}`, nil); got != http.StatusUnauthorized {
		t.Errorf("wrong token = %d, want 401", got)
	}
	if got := post("", `{"url": "`+site.URL+`/feed.xml"}`, nil); got != http.StatusUnauthorized {
		t.Errorf("no token = %d, want 401", got)
	}

	// A feed: added and polled at once.
	var feed adminAdded
	if got := post(adminTestToken, `{"url": "`+site.URL+`/feed.xml", "filter": "ai"}`, &feed); got != http.StatusCreated {
		t.Fatalf("add a feed = %d: %+v", got, feed)
	}
	if feed.Source.URL != site.URL+"/feed.xml" || feed.FoundFrom != "" || feed.Source.Filter != "ai" || feed.Source.Title != "T" {
		t.Errorf("added: %+v", feed)
	}
	if feed.Poll.Status != 200 || feed.Poll.Items != 3 || feed.Poll.New != 3 || feed.Poll.Error != "" {
		t.Errorf("first poll: %+v, want 3 new items", feed.Poll)
	}
	if feed.Source.LastCheck == "" || feed.Source.Articles != 3 {
		t.Errorf("the source after its first poll: %+v", feed.Source)
	}
	var arts struct {
		Articles []struct {
			Title    string `json:"title"`
			SourceID int64  `json:"source_id"`
		} `json:"articles"`
	}
	if got := adminCall(t, ts, http.MethodGet, fmt.Sprintf("/api/v1/articles?source=%d", feed.Source.ID), "", "", "", &arts); got != http.StatusOK {
		t.Fatalf("articles of the new source = %d", got)
	}
	var titles []string
	for _, a := range arts.Articles {
		titles = append(titles, a.Title)
	}
	slices.Sort(titles)
	if want := []string{"First AI model story", "Second AI model story", "Third AI model story"}; !slices.Equal(titles, want) {
		t.Errorf("articles of the new source: %q, want %q", titles, want)
	}

	// A page: its feed is discovered, added and polled.
	var blog adminAdded
	if got := post(adminTestToken, `{"url": "`+site.URL+`/blog/", "title": "The blog"}`, &blog); got != http.StatusCreated {
		t.Fatalf("add a page = %d: %+v", got, blog)
	}
	if blog.Source.URL != site.URL+"/blog/posts.xml" || blog.FoundFrom != site.URL+"/blog/" || blog.Source.Title != "The blog" || blog.Poll.New != 2 {
		t.Errorf("added from a page: %+v", blog)
	}

	// Errors a person can act on.
	var e adminAdded
	for _, tt := range []struct {
		body   string
		status int
		msg    string
	}{
		{`{"url": "` + site.URL + `/feed.xml"}`, http.StatusConflict, fmt.Sprintf("is already source %d", feed.Source.ID)},
		{`{"url": "` + site.URL + `/blog/"}`, http.StatusConflict, fmt.Sprintf("is already source %d", blog.Source.ID)},
		{`{"url": "` + site.URL + `/about"}`, http.StatusConflict, fmt.Sprintf("is already source %d", feed.Source.ID)}, // found at /feed.xml
		{`{"url": "` + bare.URL + `/about"}`, http.StatusUnprocessableEntity, "no feed found at " + bare.URL + "/about: the page links no feed"},
		{`{"url": "` + site.URL + `/missing"}`, http.StatusUnprocessableEntity, "HTTP 404"},
		{`{"url": "ftp://files.example/feed"}`, http.StatusBadRequest, "not an http(s) feed URL"},
		{`{"url": "` + site.URL + `/feed.xml", "filter": "some"}`, http.StatusBadRequest, `filter "some"`},
		{`{"url": "` + site.URL + `/feed.xml", "weight": 11}`, http.StatusBadRequest, "weight"},
	} {
		e = adminAdded{}
		if got := post(adminTestToken, tt.body, &e); got != tt.status || !strings.Contains(e.Error, tt.msg) {
			t.Errorf("POST %s = %d %q, want %d with %q", tt.body, got, e.Error, tt.status, tt.msg)
		}
	}

	// Refresh: polled again, nothing new.
	var refreshed adminAdded
	if got := adminCall(t, ts, http.MethodPost, fmt.Sprintf("/api/v1/sources/%d/refresh", feed.Source.ID), adminTestToken, "", "", &refreshed); got != http.StatusOK {
		t.Fatalf("refresh = %d: %+v", got, refreshed)
	}
	if refreshed.Poll.Status != 200 || refreshed.Poll.Items != 3 || refreshed.Poll.New != 0 || refreshed.Source.ID != feed.Source.ID {
		t.Errorf("refresh: %+v", refreshed)
	}

	// Import: one new feed, one already there.
	opml := `<?xml version="1.0"?><opml version="2.0"><head><title>t</title></head><body>` +
		`<outline text="Posts" xmlUrl="` + site.URL + `/blog/posts.xml"/>` +
		`<outline text="New" xmlUrl="` + site.URL + `/new.xml" filter="ai"/></body></opml>`
	var counts server.ImportResult
	if got := adminCall(t, ts, http.MethodPost, "/api/v1/sources/import", adminTestToken, "text/x-opml", opml, &counts); got != http.StatusOK || counts != (server.ImportResult{Added: 1, Skipped: 1}) {
		t.Errorf("import = %d %+v, want 200 with 1 added and 1 skipped", got, counts)
	}
	if got := adminCall(t, ts, http.MethodPost, "/api/v1/sources/import", adminTestToken, "text/x-opml", `<opml><body><outline xmlUrl="x" weight="-1"/></body></opml>`, &e); got != http.StatusBadRequest {
		t.Errorf("import of an invalid OPML = %d %q, want 400", got, e.Error)
	}

	// Delete: gone, its articles stay.
	if got := adminCall(t, ts, http.MethodDelete, fmt.Sprintf("/api/v1/sources/%d", feed.Source.ID), adminTestToken, "", "", nil); got != http.StatusNoContent {
		t.Errorf("delete = %d, want 204", got)
	}
	if got := adminCall(t, ts, http.MethodGet, fmt.Sprintf("/api/v1/sources/%d", feed.Source.ID), "", "", "", &e); got != http.StatusNotFound {
		t.Errorf("GET a deleted source = %d, want 404", got)
	}
	if got := adminCall(t, ts, http.MethodDelete, fmt.Sprintf("/api/v1/sources/%d", feed.Source.ID), adminTestToken, "", "", &e); got != http.StatusNotFound {
		t.Errorf("delete again = %d, want 404", got)
	}
	var list struct{ Sources []adminSource }
	adminCall(t, ts, http.MethodGet, "/api/v1/sources", "", "", "", &list)
	if len(list.Sources) != 2 {
		t.Errorf("%d sources left, want 2 (the blog and the imported one): %+v", len(list.Sources), list.Sources)
	}
	var all struct{ Articles []json.RawMessage }
	adminCall(t, ts, http.MethodGet, "/api/v1/articles", "", "", "", &all)
	if len(all.Articles) != 5 {
		t.Errorf("%d articles, want all 5 kept", len(all.Articles))
	}
}

// TestAdminAPIRefusesPrivateAddresses: by default the API cannot be used to
// make Recap fetch from its own network.
func TestAdminAPIRefusesPrivateAddresses(t *testing.T) {
	site := adminFeedSite(t)
	ts := adminTestServer(t, adminTestToken, false)
	var e adminAdded
	got := adminCall(t, ts, http.MethodPost, "/api/v1/sources", adminTestToken, "application/json", `{"url": "`+site.URL+`/feed.xml"}`, &e)
	if got != http.StatusBadRequest || !strings.Contains(e.Error, "private") {
		t.Errorf("adding a feed on 127.0.0.1 = %d %q, want 400 naming the private address", got, e.Error)
	}
}
