package main

// Helpers of the end-to-end tests: a local feed server built from the shared
// AI news data, and Recap started for real through its command line.

import (
	"bytes"
	"context"
	"encoding/xml"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"recap/internal/newsdata"
)

// e2eMandatory reports whether CI demands the end-to-end tests (RECAP_E2E=1):
// then a missing program or file fails the test instead of skipping it.
func e2eMandatory() bool { return os.Getenv("RECAP_E2E") == "1" }

// e2eNeed skips the test, or fails it under RECAP_E2E=1, when ok is false.
func e2eNeed(t *testing.T, ok bool, format string, args ...any) {
	t.Helper()
	if ok {
		return
	}
	msg := fmt.Sprintf(format, args...)
	if e2eMandatory() {
		t.Fatalf("%s (required: RECAP_E2E=1)", msg)
	}
	t.Skipf("%s (set RECAP_E2E=1 to make this a failure)", msg)
}

// e2eDataFile is the shared AI news data, beside the repository.
func e2eDataFile(t *testing.T) string {
	t.Helper()
	p, err := filepath.Abs(filepath.Join("..", "shared", "data", "ai-news-items.jsonl.gz"))
	if err != nil {
		t.Fatal(err)
	}
	_, err = os.Stat(p)
	e2eNeed(t, err == nil, "no shared news data at %s: %v", p, err)
	return p
}

// e2eItem is one item of ai-news-items.jsonl.gz with its date as a time.
type e2eItem struct {
	newsdata.Item
	Published time.Time // rewritten by e2eLoadFeeds
}

// e2eFeed is one feed the local feed server serves.
type e2eFeed struct {
	Name  string // feed name in the data file
	Title string // the source title Recap is given
	Path  string
	Items []e2eItem // newest first, dates rewritten to recent times
}

// e2eFeedSpecs are the feeds taken from the data: outlets with real titles
// and summaries, so pages look like what a person would read.
var e2eFeedSpecs = []struct{ name, title, path string }{
	{"openai_feeds", "OpenAI News", "/openai.xml"},
	{"google_deepmind_feeds", "Google DeepMind Blog", "/deepmind.xml"},
	{"huggingface_daily_papers", "Hugging Face Daily Papers", "/hf-papers.xml"},
	{"anthropic_news", "Anthropic News", "/anthropic.xml"},
}

// e2eLoadFeeds reads the newest perFeed distinct items of each feed of
// e2eFeedSpecs and moves their dates to just before now, newest first and
// interleaved across feeds, so pages show "Fresh", "Today" and older entries
// and "collected in" stays short.
func e2eLoadFeeds(t *testing.T, now time.Time, perFeed int) []e2eFeed {
	t.Helper()
	raw, err := newsdata.Load(e2eDataFile(t))
	if err != nil {
		t.Fatal(err)
	}
	byFeed := map[string][]e2eItem{}
	for _, s := range e2eFeedSpecs {
		byFeed[s.name] = nil
	}
	for _, r := range raw {
		if list, ok := byFeed[r.Feed]; ok && r.Title != "" && r.Link != "" {
			// Dates that do not parse sort last; they are rewritten anyway.
			it := e2eItem{Item: r}
			it.Published, _ = r.PublishedTime()
			byFeed[r.Feed] = append(list, it)
		}
	}
	var out []e2eFeed
	for fi, s := range e2eFeedSpecs {
		items := byFeed[s.name]
		sort.SliceStable(items, func(i, j int) bool { return items[i].Published.After(items[j].Published) })
		seen := map[string]bool{}
		var picked []e2eItem
		for _, it := range items {
			if len(picked) == perFeed {
				break
			}
			if seen[it.Link] {
				continue
			}
			seen[it.Link] = true
			// Ages grow quadratically: 4 minutes for the newest, about 8 days
			// for the 40th; each feed is shifted a little to interleave them.
			i := len(picked)
			age := time.Duration(4+8*i*i+13*fi) * time.Minute
			it.Published = now.Add(-age).Truncate(time.Second)
			picked = append(picked, it)
		}
		if len(picked) < perFeed/2 {
			t.Fatalf("news data: feed %s has %d items, want at least %d", s.name, len(picked), perFeed/2)
		}
		out = append(out, e2eFeed{Name: s.name, Title: s.title, Path: s.path, Items: picked})
	}
	return out
}

// e2eRSS writes a feed as RSS 2.0.
func e2eRSS(f e2eFeed) ([]byte, error) {
	type guid struct {
		IsPermaLink string `xml:"isPermaLink,attr"`
		Value       string `xml:",chardata"`
	}
	type item struct {
		Title       string `xml:"title"`
		Link        string `xml:"link"`
		GUID        guid   `xml:"guid"`
		PubDate     string `xml:"pubDate"`
		Description string `xml:"description"`
	}
	type channel struct {
		Title       string `xml:"title"`
		Link        string `xml:"link"`
		Description string `xml:"description"`
		Items       []item `xml:"item"`
	}
	type rss struct {
		XMLName xml.Name `xml:"rss"`
		Version string   `xml:"version,attr"`
		Channel channel  `xml:"channel"`
	}
	doc := rss{Version: "2.0", Channel: channel{Title: f.Title, Link: "https://example.com/" + f.Name, Description: f.Title}}
	for _, it := range f.Items {
		g := it.GUID
		if g == "" {
			g = it.Link
		}
		doc.Channel.Items = append(doc.Channel.Items, item{
			Title: it.Title, Link: it.Link, GUID: guid{"false", g},
			PubDate: it.Published.UTC().Format(time.RFC1123Z), Description: it.Summary,
		})
	}
	var b bytes.Buffer
	b.WriteString(xml.Header)
	enc := xml.NewEncoder(&b)
	if err := enc.Encode(doc); err != nil {
		return nil, fmt.Errorf("rss %s: %w", f.Name, err)
	}
	return b.Bytes(), nil
}

// e2eFeedServer serves feeds on 127.0.0.1.
func e2eFeedServer(t *testing.T, feeds []e2eFeed) *httptest.Server {
	t.Helper()
	mux := http.NewServeMux()
	for _, f := range feeds {
		body, err := e2eRSS(f)
		if err != nil {
			t.Fatal(err)
		}
		mux.HandleFunc("GET "+f.Path, func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/rss+xml; charset=utf-8")
			w.Write(body)
		})
	}
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv
}

// e2eFreeAddr returns a 127.0.0.1 address with a port free at the time.
func e2eFreeAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	return addr
}

// e2eBuffer is an io.Writer that goroutines may share.
type e2eBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *e2eBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *e2eBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}

// e2eRecap is Recap serving for real, started through run.
type e2eRecap struct {
	Base   string // http://127.0.0.1:PORT
	stop   context.CancelFunc
	done   chan error
	stderr *e2eBuffer
}

// e2eStartRecap adds the feeds as sources with the command line, then serves
// with the poller on a free port, and waits (bounded) until the home page
// lists articles of every source and search finds searchWord. Stop ends it.
func e2eStartRecap(t *testing.T, feedSrv *httptest.Server, feeds []e2eFeed, searchWord string) *e2eRecap {
	t.Helper()
	db := filepath.Join(t.TempDir(), "recap.db")
	env := func(string) string { return "" }
	for _, f := range feeds {
		var out, errb bytes.Buffer
		args := []string{"--db", db, "sources", "add", feedSrv.URL + f.Path, "--title", f.Title}
		if err := run(context.Background(), args, env, strings.NewReader(""), &out, &errb); err != nil {
			t.Fatalf("recap %s: %v\n%s", strings.Join(args, " "), err, errb.String())
		}
	}

	addr := e2eFreeAddr(t)
	r := &e2eRecap{Base: "http://" + addr, done: make(chan error, 1), stderr: &e2eBuffer{}}
	ctx, cancel := context.WithCancel(context.Background())
	r.stop = cancel
	args := []string{"--db", db, "--allow-private-networks", "--log-level", "warn",
		"serve", "--addr", addr, "--base-url", r.Base}
	go func() {
		r.done <- run(ctx, args, env, strings.NewReader(""), &e2eBuffer{}, r.stderr)
	}()
	t.Cleanup(func() { r.Stop(t) })

	// Polls the site until it shows what the test needs; every wait is
	// bounded by the deadline, not by an assertion on how long it took.
	deadline := time.Now().Add(90 * time.Second)
	client := &http.Client{Timeout: 10 * time.Second}
	get := func(path string) (int, string) {
		resp, err := client.Get(r.Base + path)
		if err != nil {
			return 0, err.Error()
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 8<<20))
		return resp.StatusCode, string(b)
	}
	waitFor := func(what string, ok func() (bool, string)) {
		t.Helper()
		var last string
		for time.Now().Before(deadline) {
			select {
			case err := <-r.done:
				r.done <- err
				t.Fatalf("recap serve ended while waiting for %s: %v\nstderr:\n%s", what, err, r.stderr.String())
			default:
			}
			var done bool
			if done, last = ok(); done {
				return
			}
			time.Sleep(200 * time.Millisecond)
		}
		t.Fatalf("recap never showed %s: last answer: %.500s\nstderr:\n%s", what, last, r.stderr.String())
	}
	waitFor("GET /readyz 200", func() (bool, string) {
		code, body := get("/readyz")
		return code == http.StatusOK, fmt.Sprintf("%d %s", code, body)
	})
	waitFor("articles of every source on /", func() (bool, string) {
		code, body := get("/")
		if code != http.StatusOK {
			return false, fmt.Sprintf("%d %s", code, body)
		}
		for _, f := range feeds {
			if !strings.Contains(body, ">"+f.Title+"</a>") {
				return false, "no entry of " + f.Title
			}
		}
		return true, ""
	})
	waitFor("search results for "+searchWord, func() (bool, string) {
		code, body := get("/search?q=" + url.QueryEscape(searchWord))
		return code == http.StatusOK && strings.Contains(body, "<mark>"), fmt.Sprintf("%d %.300s", code, body)
	})
	return r
}

// Stop cancels serve and checks that it ends cleanly; it runs once.
func (r *e2eRecap) Stop(t *testing.T) {
	t.Helper()
	if r.stop == nil {
		return
	}
	r.stop()
	r.stop = nil
	select {
	case err := <-r.done:
		if err != nil {
			t.Errorf("recap serve returned %v after cancel, want nil\nstderr:\n%s", err, r.stderr.String())
		}
	case <-time.After(60 * time.Second):
		t.Errorf("recap serve did not stop within 60s of cancel\nstderr:\n%s", r.stderr.String())
	}
}
