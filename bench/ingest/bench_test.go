package main

import (
	"bytes"
	"compress/gzip"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/mmcdole/gofeed"

	"recap/store"
)

// testPool makes n items whose links collide every 7th item and whose
// GUIDs collide every 11th, as the real data's do across its feeds.
func testPool(t *testing.T, n int) []dataItem {
	t.Helper()
	var lines []string
	for i := range n {
		lines = append(lines, fmt.Sprintf(
			`{"feed":"f%d","title":"Model <b>%d</b> & co","link":"https://Lab.example/p/%d?utm_source=x","guid":"g%d","published":"2026-01-%02dT10:00:00+00:00","summary":"<p>Lead %d]]> with <a href=\"/x\">a link</a></p>"}`,
			i%5, i, i-i%7, i-i%11, 1+i%28, i))
	}
	pool, err := readItems(strings.NewReader(strings.Join(lines, "\n")))
	if err != nil {
		t.Fatal(err)
	}
	return pool
}

func TestReadItemsCanonicalizesLinksAndParsesDates(t *testing.T) {
	pool, err := readItems(strings.NewReader(`{"feed":"a","title":"T","link":"HTTPS://Ex.com:443/a?utm_medium=m&id=1#top","guid":"x","published":"2025-07-21T00:00:00+00:00","summary":""}

{"feed":"b","title":"U","link":"not a url","guid":"y","published":"junk","summary":"s"}`))
	if err != nil {
		t.Fatal(err)
	}
	if len(pool) != 2 {
		t.Fatalf("%d items, want 2", len(pool))
	}
	if got, want := pool[0].canonical, "https://ex.com/a?id=1"; got != want {
		t.Errorf("canonical %q, want %q", got, want)
	}
	if !pool[0].pub.Equal(time.Date(2025, 7, 21, 0, 0, 0, 0, time.UTC)) {
		t.Errorf("published %v", pool[0].pub)
	}
	if pool[1].canonical != "" || !pool[1].pub.IsZero() {
		t.Errorf("bad link and date should give empty canonical and zero time: %q %v", pool[1].canonical, pool[1].pub)
	}
	if _, err := readItems(strings.NewReader("{oops")); err == nil {
		t.Error("malformed line: no error")
	}
}

func TestBuildFeedsIsDeterministicAndRoundTripsThroughGofeed(t *testing.T) {
	pool := testPool(t, 400)
	a, err := buildFeeds(pool, 20, 30, 7)
	if err != nil {
		t.Fatal(err)
	}
	b, err := buildFeeds(pool, 20, 30, 7)
	if err != nil {
		t.Fatal(err)
	}
	c, err := buildFeeds(pool, 20, 30, 8)
	if err != nil {
		t.Fatal(err)
	}
	same, differs := true, false
	var total int64
	for i := range a.Feeds {
		same = same && bytes.Equal(a.Feeds[i].Body, b.Feeds[i].Body)
		differs = differs || !bytes.Equal(a.Feeds[i].Body, c.Feeds[i].Body)
		total += int64(len(a.Feeds[i].Body))
	}
	if !same {
		t.Error("same seed, different feeds")
	}
	if !differs {
		t.Error("another seed, the same feeds")
	}
	if total != a.Bytes {
		t.Errorf("Bytes %d, feeds add up to %d", a.Bytes, total)
	}

	parser := gofeed.NewParser()
	for _, g := range a.Feeds {
		feed, err := parser.Parse(bytes.NewReader(g.Body))
		if err != nil {
			t.Fatalf("%s does not parse: %v", g.Name, err)
		}
		if len(feed.Items) != len(g.Items) {
			t.Fatalf("%s: gofeed sees %d items, want %d", g.Name, len(feed.Items), len(g.Items))
		}
		guids, links := map[string]bool{}, map[string]bool{}
		for k, it := range feed.Items {
			want := pool[g.Items[k]]
			if it.GUID != want.GUID || it.Link != want.Link {
				t.Errorf("%s item %d: guid %q link %q, want %q %q", g.Name, k, it.GUID, it.Link, want.GUID, want.Link)
			}
			if guids[want.GUID] || links[want.canonical] {
				t.Errorf("%s: item %d repeats a GUID or canonical link within the feed", g.Name, k)
			}
			guids[want.GUID], links[want.canonical] = true, true
			if it.PublishedParsed == nil || !it.PublishedParsed.Equal(want.pub) {
				t.Errorf("%s item %d: published %v, want %v", g.Name, k, it.PublishedParsed, want.pub)
			}
			if !strings.Contains(it.Content, "Lead ") || strings.Contains(it.Description, "<") {
				t.Errorf("%s item %d: content %q, description %q", g.Name, k, it.Content, it.Description)
			}
		}
	}

	if _, err := buildFeeds(pool[:40], 2, 30, 1); err == nil {
		t.Error("a feed larger than half the usable pool: no error")
	}
}

func TestTeaserCutsPlainTextAtAWord(t *testing.T) {
	cases := []struct {
		in   string
		max  int
		want string
	}{
		{"plain", 10, "plain"},
		{"<p>a &amp; b</p><br/>c", 20, "a & b c"},
		{"one two three four", 12, "one two…"},
		{"abcdefghijklmnop", 5, "abcde…"},
	}
	for _, c := range cases {
		if got := teaser(c.in, c.max); got != c.want {
			t.Errorf("teaser(%q, %d) = %q, want %q", c.in, c.max, got, c.want)
		}
	}
}

func TestFeedServerAnswersConditionalRequests(t *testing.T) {
	dir := t.TempDir()
	body := []byte(`<rss version="2.0"><channel><title>t</title></channel></rss>`)
	if err := os.WriteFile(filepath.Join(dir, "feed-0001.xml"), body, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "odd.json"), []byte(`{}`), 0o644); err != nil {
		t.Fatal(err)
	}
	modified := time.Date(2026, 4, 1, 12, 0, 0, 0, time.UTC)
	fs, err := loadFeedServer(dir, modified)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(fs)
	defer srv.Close()
	etag := fs.files["feed-0001.xml"].etag

	cases := []struct {
		name, path, inm, ims string
		status               int
		encoding, ctype      string
	}{
		{"plain", "/f/feed-0001.xml", "", "", 200, "", "application/rss+xml; charset=utf-8"},
		{"etag matches", "/f/feed-0001.xml", etag, "", 304, "", ""},
		{"etag differs", "/f/feed-0001.xml", `"other"`, "", 200, "", "application/rss+xml; charset=utf-8"},
		{"not modified since", "/f/feed-0001.xml", "", modified.Format(http.TimeFormat), 304, "", ""},
		{"modified since", "/f/feed-0001.xml", "", modified.Add(-time.Hour).Format(http.TimeFormat), 200, "", "application/rss+xml; charset=utf-8"},
		{"gzip", "/gz/feed-0001.xml", "", "", 200, "gzip", "application/rss+xml; charset=utf-8"},
		{"gzip etag is its own", "/gz/feed-0001.xml", etag, "", 200, "gzip", "application/rss+xml; charset=utf-8"},
		{"json", "/f/odd.json", "", "", 200, "", "application/feed+json"},
		{"unknown file", "/f/nope.xml", "", "", 404, "", ""},
		{"unknown prefix", "/feed-0001.xml", "", "", 404, "", ""},
	}
	client := &http.Client{Transport: &http.Transport{DisableCompression: true}}
	for _, c := range cases {
		req, err := http.NewRequestWithContext(context.Background(), http.MethodGet, srv.URL+c.path, nil)
		if err != nil {
			t.Fatal(err)
		}
		if c.inm != "" {
			req.Header.Set("If-None-Match", c.inm)
		}
		if c.ims != "" {
			req.Header.Set("If-Modified-Since", c.ims)
		}
		resp, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		got, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err != nil {
			t.Fatal(err)
		}
		if resp.StatusCode != c.status {
			t.Errorf("%s: status %d, want %d", c.name, resp.StatusCode, c.status)
			continue
		}
		if c.status != 200 {
			continue
		}
		if ct := resp.Header.Get("Content-Type"); ct != c.ctype {
			t.Errorf("%s: content type %q, want %q", c.name, ct, c.ctype)
		}
		if resp.Header.Get("ETag") == "" || resp.Header.Get("Last-Modified") == "" {
			t.Errorf("%s: no validators: %v", c.name, resp.Header)
		}
		if enc := resp.Header.Get("Content-Encoding"); enc != c.encoding {
			t.Errorf("%s: encoding %q, want %q", c.name, enc, c.encoding)
		}
		if c.encoding == "gzip" {
			zr, err := gzip.NewReader(bytes.NewReader(got))
			if err != nil {
				t.Fatalf("%s: %v", c.name, err)
			}
			if got, err = io.ReadAll(zr); err != nil {
				t.Fatalf("%s: %v", c.name, err)
			}
		}
		if c.path == "/f/feed-0001.xml" && !bytes.Equal(got, body) {
			t.Errorf("%s: body %q", c.name, got)
		}
	}
}

// recordStore is a store.Store whose EachArticle replays fixed records;
// verifyStore uses nothing else.
type recordStore struct {
	store.Store
	records []store.ArticleRecord
}

func (s recordStore) EachArticle(_ context.Context, fn func(store.ArticleRecord) error) error {
	for _, r := range s.records {
		if err := fn(r); err != nil {
			return err
		}
	}
	return nil
}

func TestVerifyStoreFindsWhatIsMissingOrExtra(t *testing.T) {
	pool := testPool(t, 200)
	set, err := buildFeeds(pool, 3, 10, 1)
	if err != nil {
		t.Fatal(err)
	}
	urls := []string{"http://127.0.0.1:1/f/a", "http://127.0.0.2:1/f/b", "http://127.0.0.3:1/f/c"}
	want := expect(set, urls)

	// perfect holds what a correct ingest stores: one record per canonical
	// link, with every served (source, GUID) under it.
	byURL := map[string]*store.ArticleRecord{}
	var order []string
	for f, g := range set.Feeds {
		for _, i := range g.Items {
			it := pool[i]
			r, ok := byURL[it.canonical]
			if !ok {
				r = &store.ArticleRecord{}
				r.URL = it.canonical
				byURL[it.canonical] = r
				order = append(order, it.canonical)
			}
			r.Seen = append(r.Seen, store.Sighting{SourceURL: urls[f], GUID: it.GUID, Link: it.Link})
		}
	}
	perfect := func() []store.ArticleRecord {
		var out []store.ArticleRecord
		for _, u := range order {
			r := *byURL[u]
			r.Seen = append([]store.Sighting(nil), r.Seen...)
			out = append(out, r)
		}
		return out
	}

	cases := []struct {
		name   string
		edit   func([]store.ArticleRecord) []store.ArticleRecord
		ok     bool
		report string // a part of the String() expected
	}{
		{"all there", func(r []store.ArticleRecord) []store.ArticleRecord { return r }, true, "ok"},
		{"article lost", func(r []store.ArticleRecord) []store.ArticleRecord { return r[1:] }, false, "missing_articles=1"},
		{"sighting lost", func(r []store.ArticleRecord) []store.ArticleRecord {
			for i := range r {
				if len(r[i].Seen) > 1 {
					r[i].Seen = r[i].Seen[1:]
					return r
				}
			}
			t.Fatal("no article with two sightings in the test set")
			return r
		}, false, "missing_sightings=1"},
		{"sighting twice", func(r []store.ArticleRecord) []store.ArticleRecord {
			r[0].Seen = append(r[0].Seen, r[0].Seen[0])
			return r
		}, false, "duplicate_sightings=1"},
		{"split article", func(r []store.ArticleRecord) []store.ArticleRecord {
			extra := store.ArticleRecord{}
			extra.URL = "https://elsewhere.example/x"
			extra.Seen = []store.Sighting{r[0].Seen[0]}
			r[0].Seen = r[0].Seen[1:]
			return append(r, extra)
		}, false, "unexpected_articles=1"},
	}
	for _, c := range cases {
		a, err := verifyStore(context.Background(), recordStore{records: c.edit(perfect())}, want)
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		if a.ok() != c.ok || !strings.Contains(a.String(), c.report) {
			t.Errorf("%s: ok=%v %q, want ok=%v containing %q", c.name, a.ok(), a.String(), c.ok, c.report)
		}
	}
}

func TestStatusKiBReadsOneField(t *testing.T) {
	status := []byte("Name:\tingest\nVmPeak:\t  900 kB\nVmHWM:\t   88064 kB\nVmRSS:\t 1024 kB\n")
	cases := []struct {
		field   string
		want    int64
		wantErr bool
	}{
		{"VmHWM:", 88064, false},
		{"VmRSS:", 1024, false},
		{"VmSwap:", 0, true},
	}
	for _, c := range cases {
		got, err := statusKiB(status, c.field)
		if (err != nil) != c.wantErr || got != c.want {
			t.Errorf("statusKiB(%s) = %d, %v; want %d, error %v", c.field, got, err, c.want, c.wantErr)
		}
	}
	if _, err := statusKiB([]byte("VmHWM:\tlots kB\n"), "VmHWM:"); err == nil {
		t.Error("a non-number: no error")
	}
	if _, err := readUsage(); err != nil {
		t.Errorf("readUsage on this machine: %v", err)
	}
}
