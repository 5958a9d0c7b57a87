package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"recap/store/sqlite"
)

// changingFeeds serves feeds that change between two polls: round 1, then round 2.
type changingFeeds struct {
	round atomic.Int32
	srv   *httptest.Server
}

func rss(items ...string) string {
	return `<?xml version="1.0" encoding="UTF-8"?><rss version="2.0"><channel><title>T</title><link>https://site.example/</link>` +
		strings.Join(items, "") + `</channel></rss>`
}

func item(guid, title, link string) string {
	return fmt.Sprintf(`<item><guid isPermaLink="false">%s</guid><title>%s</title><link>%s</link><description>%s, about the new AI model.</description><pubDate>Mon, 02 Mar 2026 10:00:00 GMT</pubDate></item>`,
		guid, title, link, title)
}

func newChangingFeeds(t *testing.T) *changingFeeds {
	f := &changingFeeds{}
	mux := http.NewServeMux()
	mux.HandleFunc("/a.xml", func(w http.ResponseWriter, r *http.Request) {
		a1 := item("a-1", "Shared launch story", "https://news.example/story-1?utm_source=feed-a&id=7")
		if f.round.Load() == 1 {
			fmt.Fprint(w, rss(a1, item("a-2", "First title", "https://news.example/story-2")))
			return
		}
		fmt.Fprint(w, rss(a1, item("a-2", "Edited title", "https://news.example/story-2"), item("a-3", "Brand new", "https://news.example/story-3")))
	})
	mux.HandleFunc("/b.atom", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/atom+xml")
		fmt.Fprint(w, `<?xml version="1.0" encoding="utf-8"?><feed xmlns="http://www.w3.org/2005/Atom"><title>B</title><id>urn:b</id><updated>2026-03-02T10:00:00Z</updated>`+
			`<entry><id>urn:b:1</id><title>Shared launch story, B's words</title><link href="https://NEWS.example:443/story-1?id=7&amp;fbclid=zz&amp;utm_medium=rss#top"/><updated>2026-03-02T10:05:00Z</updated><summary>b</summary></entry>`+
			`<entry><id>urn:b:2</id><title>Only in B</title><link href="/b-only"/><updated>2026-03-02T11:00:00Z</updated><summary>b2</summary></entry></feed>`)
	})
	mux.HandleFunc("/c.xml", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("ETag", `"c-v1"`)
		if r.Header.Get("If-None-Match") == `"c-v1"` {
			w.WriteHeader(http.StatusNotModified)
			return
		}
		fmt.Fprint(w, rss(item("c-1", "Cached item", "https://news.example/c-1")))
	})
	mux.HandleFunc("/err.xml", func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "boom", http.StatusInternalServerError)
	})
	mux.HandleFunc("/limited.xml", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Retry-After", "7200")
		http.Error(w, "slow down", http.StatusTooManyRequests)
	})
	mux.HandleFunc("/old.xml", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "/new.xml", http.StatusMovedPermanently)
	})
	mux.HandleFunc("/new.xml", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, rss(item("n-1", "Moved feed item", "https://news.example/n-1")))
	})
	mux.HandleFunc("/slow.xml", func(w http.ResponseWriter, r *http.Request) {
		time.Sleep(300 * time.Millisecond)
		fmt.Fprint(w, rss(item("s-1", "Slow but fine", "https://news.example/s-1")))
	})
	mux.HandleFunc("/stall.xml", func(w http.ResponseWriter, r *http.Request) {
		select { // longer than --fetch-timeout, bounded so the test can't hang
		case <-r.Context().Done():
		case <-time.After(10 * time.Second):
		}
	})
	f.srv = httptest.NewServer(mux)
	t.Cleanup(f.srv.Close)
	f.round.Store(1)
	return f
}

// recap runs the command line as a user would and returns its stdout.
func recap(t *testing.T, db string, args ...string) string {
	t.Helper()
	var out, errb bytes.Buffer
	all := append([]string{"--db", db, "--allow-private-networks", "--fetch-timeout", "1s", "--log-level", "warn"}, args...)
	env := func(string) string { return "" }
	if err := run(context.Background(), all, env, strings.NewReader(""), &out, &errb); err != nil {
		t.Fatalf("recap %s: %v\nstderr:\n%s", strings.Join(args, " "), err, errb.String())
	}
	return out.String()
}

func exportArticles(t *testing.T, db string) map[string]exportedArticle {
	t.Helper()
	out := recap(t, db, "export", "articles")
	byURL := map[string]exportedArticle{}
	sc := bufio.NewScanner(strings.NewReader(out))
	for sc.Scan() {
		var a exportedArticle
		if err := json.Unmarshal(sc.Bytes(), &a); err != nil {
			t.Fatalf("export line %q: %v", sc.Text(), err)
		}
		if _, dup := byURL[a.URL]; dup {
			t.Errorf("article %s exported twice", a.URL)
		}
		byURL[a.URL] = a
	}
	return byURL
}

func TestPollOnceTwiceStoresEachArticleOnce(t *testing.T) {
	feeds := newChangingFeeds(t)
	db := filepath.Join(t.TempDir(), "recap.db")
	for _, p := range []string{"/a.xml", "/b.atom", "/c.xml", "/err.xml", "/limited.xml", "/old.xml", "/slow.xml", "/stall.xml"} {
		recap(t, db, "sources", "add", feeds.srv.URL+p)
	}

	out1 := recap(t, db, "poll", "--once")
	for _, want := range []string{"total: 8 sources: 5 ok", "3 errors", "HTTP 500", "HTTP 429", "moved to " + feeds.srv.URL + "/new.xml"} {
		if !strings.Contains(out1, want) {
			t.Errorf("first poll output lacks %q:\n%s", want, out1)
		}
	}
	first := exportArticles(t, db)
	if len(first) != 6 {
		t.Errorf("after the first poll: %d articles, want 6 (a-1 shared with b, a-2, b-2, c-1, n-1, s-1)", len(first))
	}

	feeds.round.Store(2)
	out2 := recap(t, db, "poll", "--once")
	if !strings.Contains(out2, "/c.xml: 304 not modified") {
		t.Errorf("second poll: c.xml should answer 304:\n%s", out2)
	}
	got := exportArticles(t, db)
	want := map[string]string{
		"https://news.example/story-1?id=7": "", // title depends on which source stored it first
		"https://news.example/story-2":      "Edited title",
		"https://news.example/story-3":      "Brand new",
		"https://news.example/c-1":          "Cached item",
		"https://news.example/n-1":          "Moved feed item",
		"https://news.example/s-1":          "Slow but fine",
		feeds.srv.URL + "/b-only":           "Only in B",
	}
	if len(got) != len(want) {
		t.Errorf("after two polls: %d articles, want %d: %v", len(got), len(want), keys(got))
	}
	for u, title := range want {
		a, ok := got[u]
		if !ok {
			t.Errorf("article %s missing", u)
			continue
		}
		if title != "" && a.Title != title {
			t.Errorf("article %s: title %q, want %q", u, a.Title, title)
		}
	}
	shared := got["https://news.example/story-1?id=7"]
	if len(shared.Seen) != 2 {
		t.Fatalf("shared article seen %d times, want 2 (a and b): %+v", len(shared.Seen), shared.Seen)
	}
	links := map[string]string{}
	for _, s := range shared.Seen {
		links[s.SourceURL] = s.GUID + " " + s.Link
	}
	if links[feeds.srv.URL+"/a.xml"] != "a-1 https://news.example/story-1?utm_source=feed-a&id=7" {
		t.Errorf("sighting in a: %q", links[feeds.srv.URL+"/a.xml"])
	}
	if links[feeds.srv.URL+"/b.atom"] != "urn:b:1 https://NEWS.example:443/story-1?id=7&fbclid=zz&utm_medium=rss#top" {
		t.Errorf("sighting in b: %q", links[feeds.srv.URL+"/b.atom"])
	}

	// The store's view of each source's health.
	s, err := sqlite.Open(context.Background(), db)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	srcs, err := s.Sources(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	byPath := map[string]int{}
	for i, src := range srcs {
		byPath[strings.TrimPrefix(src.URL, feeds.srv.URL)] = i
	}
	if _, ok := byPath["/new.xml"]; !ok {
		t.Errorf("the permanent redirect did not update the source URL: %v", byPath)
	}
	lim := srcs[byPath["/limited.xml"]]
	if lim.ErrorCount != 2 || lim.LastStatus != 429 {
		t.Errorf("limited source: %d errors, status %d; want 2 and 429", lim.ErrorCount, lim.LastStatus)
	}
	if wait := time.Until(lim.NextCheck); wait < 110*time.Minute {
		t.Errorf("Retry-After 7200 s not honoured: next check in %s", wait)
	}
	stall := srcs[byPath["/stall.xml"]]
	if stall.ErrorCount != 2 || stall.LastError == "" {
		t.Errorf("stalled source: %d errors, last error %q", stall.ErrorCount, stall.LastError)
	}
	errSrc := srcs[byPath["/err.xml"]]
	fetches, err := s.Fetches(context.Background(), errSrc.ID, 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(fetches) != 2 || fetches[0].Status != 500 || fetches[0].Err == "" {
		t.Errorf("err.xml fetch records: %+v", fetches)
	}
	a := srcs[byPath["/a.xml"]]
	fa, err := s.Fetches(context.Background(), a.ID, 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(fa) != 2 || fa[0].New != 1 || fa[0].Updated != 1 {
		t.Errorf("a.xml fetch records (newest first): %+v", fa)
	}
	c := srcs[byPath["/c.xml"]]
	if c.LastStatus != 304 || c.ErrorCount != 0 {
		t.Errorf("c.xml: status %d, errors %d", c.LastStatus, c.ErrorCount)
	}
}

func keys[V any](m map[string]V) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}

func TestPrivateAddressesAreRefusedUnlessAllowed(t *testing.T) {
	feeds := newChangingFeeds(t)
	db := filepath.Join(t.TempDir(), "recap.db")
	recap(t, db, "sources", "add", feeds.srv.URL+"/c.xml")

	var out, errb bytes.Buffer
	args := []string{"--db", db, "--log-level", "warn", "poll", "--once"}
	if err := run(context.Background(), args, func(string) string { return "" }, nil, &out, &errb); err != nil {
		t.Fatalf("poll: %v %s", err, errb.String())
	}
	for _, want := range []string{"error", "refused to connect to 127.0.0.1", "--allow-private-networks"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("poll without the flag: output lacks %q:\n%s", want, out.String())
		}
	}
	if got := exportArticles(t, db); len(got) != 0 {
		t.Errorf("refused fetch stored %d articles", len(got))
	}

	// The environment twin allows it.
	out.Reset()
	env := func(k string) string {
		if k == "RECAP_ALLOW_PRIVATE_NETWORKS" {
			return "true"
		}
		return ""
	}
	if err := run(context.Background(), args, env, nil, &out, &errb); err != nil {
		t.Fatalf("poll: %v %s", err, errb.String())
	}
	if !strings.Contains(out.String(), "1 items, 1 new") {
		t.Errorf("poll with RECAP_ALLOW_PRIVATE_NETWORKS=true:\n%s", out.String())
	}
}
