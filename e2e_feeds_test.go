package main

// Helpers of the end-to-end tests: a local feed server built from the shared
// AI news data, and Recap started for real through its command line.

import (
	"bytes"
	"context"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"recap/internal/newsdata"
	"recap/news"
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
	Published time.Time // shifted by e2eLoadReplay
}

// e2eFeed is one feed the local feed server serves.
type e2eFeed struct {
	Name   string // feed name in the data file
	Title  string // the source title Recap is given
	Path   string
	Filter string    // "ai" for a general outlet, "" for every item
	Items  []e2eItem // newest first
}

// e2eReplaySpecs are the outlets replayed from the data: the labs' feeds and
// the aggregators that repost them (one link in two or three of them: one
// article, several outlets), and Hacker News, a general outlet whose AI
// items cluster with the labs' launches.
var e2eReplaySpecs = []struct{ name, title, path, filter string }{
	{"openai_feeds", "OpenAI News", "/openai.xml", ""},
	{"openai_aggregated", "OpenAI Aggregated", "/openai-aggregated.xml", ""},
	{"anthropic_news", "Anthropic News", "/anthropic.xml", ""},
	{"anthropic_aggregated", "Anthropic Aggregated", "/anthropic-aggregated.xml", ""},
	{"google_deepmind_feeds", "Google DeepMind Blog", "/deepmind.xml", ""},
	{"google_aggregated", "Google AI Aggregated", "/google-aggregated.xml", ""},
	{"google_feeds", "Google AI Blog", "/google.xml", ""},
	{"huggingface_daily_papers", "Hugging Face Daily Papers", "/hf-papers.xml", ""},
	{"deepseek_news", "DeepSeek News", "/deepseek.xml", ""},
	{"meta_ai_news", "Meta AI News", "/meta.xml", ""},
	{"microsoft_aggregated", "Microsoft AI Aggregated", "/microsoft-aggregated.xml", ""},
	{"hackernews_best_stories", "Hacker News Best", "/hn-best.xml", "ai"},
}

// e2eReplayGeneralSpan is how much of a general outlet's history is
// replayed: Hacker News has thousands of items a season, the labs a few
// hundred in years, and the test must stay well under a minute on 2 cores.
const e2eReplayGeneralSpan = 8 * 7 * 24 * time.Hour

// e2eReplayEnd is the moment of the data the replay stops at, its "now":
// the week Anthropic's dispute with the US Department of War ran, which
// Hacker News followed in several stories beside Anthropic's own posts
// (the last weeks of the data have few events reported by two outlets in
// different words).
var e2eReplayEnd = time.Date(2026, 3, 6, 0, 0, 0, 0, time.UTC)

// e2eReplayMaxItems is what Recap reads of one feed (the poller's default
// MaxItems): Hacker News' 8 weeks hold about 1,600 items, of which a feed
// served whole would lose the oldest 600 without a word, so the replay
// serves its newest 1,000 (about 5 weeks).
const e2eReplayMaxItems = 1000

// e2eLoadReplay builds the feeds of e2eReplaySpecs from the shared data with
// their real items: the labs' whole history (years: what gives a story its
// timeline) and the last e2eReplayGeneralSpan of the general outlets, each
// feed at most its newest e2eReplayMaxItems. Every date moves by one
// constant, so the newest item is published minutes before now and the
// weeks and months between items stay as they were. The newest item is the
// newest a reader gets: from a feed kept whole or passing the AI filter (a
// general outlet's later items, off topic, would be dated in the future and
// are dropped). Items whose date does not parse are dropped too.
func e2eLoadReplay(t *testing.T, now time.Time) []e2eFeed {
	t.Helper()
	raw, err := newsdata.Load(e2eDataFile(t))
	if err != nil {
		t.Fatal(err)
	}
	index := map[string]int{}
	for i, s := range e2eReplaySpecs {
		index[s.name] = i
	}
	byFeed := make([][]e2eItem, len(e2eReplaySpecs))
	var newest, newestGeneral time.Time
	for _, r := range raw {
		i, ok := index[r.Feed]
		if !ok || r.Title == "" || r.Link == "" {
			continue
		}
		p, ok := r.PublishedTime()
		if !ok || p.After(e2eReplayEnd) {
			continue
		}
		byFeed[i] = append(byFeed[i], e2eItem{Item: r, Published: p})
		if e2eReplaySpecs[i].filter == "" || news.LooksLikeAI(r.Title, r.Summary, nil) {
			newest = later(newest, p)
		}
		if e2eReplaySpecs[i].filter != "" {
			newestGeneral = later(newestGeneral, p)
		}
	}
	cutoff := newestGeneral.Add(-e2eReplayGeneralSpan)
	shift := now.Add(-3 * time.Minute).Sub(newest)
	feeds := make([]e2eFeed, 0, len(e2eReplaySpecs))
	for i, s := range e2eReplaySpecs {
		items := byFeed[i]
		sort.SliceStable(items, func(a, b int) bool { return items[a].Published.After(items[b].Published) })
		seen := map[string]bool{}
		kept := items[:0]
		for _, it := range items {
			key := it.GUID
			if key == "" {
				key = it.Link
			}
			if seen[key] || (s.filter != "" && (it.Published.Before(cutoff) || it.Published.After(newest))) {
				continue
			}
			seen[key] = true
			it.Published = it.Published.Add(shift).Truncate(time.Second)
			kept = append(kept, it)
			if len(kept) == e2eReplayMaxItems {
				break
			}
		}
		if len(kept) == 0 {
			t.Fatalf("news data: no dated item of feed %s", s.name)
		}
		feeds = append(feeds, e2eFeed{Name: s.name, Title: s.title, Path: s.path, Filter: s.filter, Items: kept})
	}
	return feeds
}

func later(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}

// e2eItemCount is the number of items the feeds serve.
func e2eItemCount(feeds []e2eFeed) int {
	n := 0
	for _, f := range feeds {
		n += len(f.Items)
	}
	return n
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
	Base    string    // http://127.0.0.1:PORT
	DB      string    // the SQLite file serve uses, for other commands to read
	Started time.Time // when serve was started
	client  *http.Client
	stop    context.CancelFunc
	done    chan error
	stderr  *e2eBuffer
}

// e2eStartRecap adds the feeds as sources with the command line (a general
// outlet with --filter ai), then serves with the poller on a free port, and
// waits (bounded) until it is ready. Stop ends it.
func e2eStartRecap(t *testing.T, feedSrv *httptest.Server, feeds []e2eFeed) *e2eRecap {
	t.Helper()
	return e2eStartRecapEnv(t, feedSrv, feeds, nil)
}

// e2eStartRecapEnv is e2eStartRecap with environment variables (such as
// RECAP_TIMEZONE) that every command sees, as a deployment sets them.
func e2eStartRecapEnv(t *testing.T, feedSrv *httptest.Server, feeds []e2eFeed, vars map[string]string) *e2eRecap {
	t.Helper()
	db := filepath.Join(t.TempDir(), "recap.db")
	env := func(k string) string { return vars[k] }
	for _, f := range feeds {
		var out, errb bytes.Buffer
		args := []string{"--db", db, "sources", "add", feedSrv.URL + f.Path, "--title", f.Title}
		if f.Filter != "" {
			args = append(args, "--filter", f.Filter)
		}
		if err := run(context.Background(), args, env, strings.NewReader(""), &out, &errb); err != nil {
			t.Fatalf("recap %s: %v\n%s", strings.Join(args, " "), err, errb.String())
		}
	}

	addr := e2eFreeAddr(t)
	r := &e2eRecap{Base: "http://" + addr, DB: db, client: &http.Client{Timeout: 30 * time.Second},
		done: make(chan error, 1), stderr: &e2eBuffer{}}
	ctx, cancel := context.WithCancel(context.Background())
	r.stop = cancel
	args := []string{"--db", db, "--allow-private-networks", "--log-level", "info",
		"serve", "--addr", addr, "--base-url", r.Base}
	r.Started = time.Now()
	go func() {
		r.done <- run(ctx, args, env, strings.NewReader(""), &e2eBuffer{}, r.stderr)
	}()
	t.Cleanup(func() { r.Stop(t) })
	r.waitFor(t, "GET /readyz 200", 60*time.Second, func() (bool, string) {
		code, body := r.get("/readyz")
		return code == http.StatusOK, fmt.Sprintf("%d %s", code, body)
	})
	return r
}

// get fetches a path of the site: its status (0 when the request failed)
// and body.
func (r *e2eRecap) get(path string) (int, string) {
	resp, err := r.client.Get(r.Base + path)
	if err != nil {
		return 0, err.Error()
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 16<<20))
	return resp.StatusCode, string(b)
}

// getJSON decodes the API's answer at path into v. The API is rate-limited
// per client, and a test reads a lot of it: a 429 is waited out (bounded).
func (r *e2eRecap) getJSON(path string, v any) error {
	deadline := time.Now().Add(90 * time.Second)
	for {
		code, body := r.get(path)
		if code == http.StatusTooManyRequests && time.Now().Before(deadline) {
			time.Sleep(2 * time.Second)
			continue
		}
		if code != http.StatusOK {
			return fmt.Errorf("GET %s: %d %.300s", path, code, body)
		}
		if err := json.Unmarshal([]byte(body), v); err != nil {
			return fmt.Errorf("GET %s: %w", path, err)
		}
		return nil
	}
}

// waitFor polls ok until it holds, and fails the test when serve ends first
// or limit passes. The limit bounds the wait; how long it took is no
// assertion.
func (r *e2eRecap) waitFor(t *testing.T, what string, limit time.Duration, ok func() (bool, string)) {
	t.Helper()
	deadline := time.Now().Add(limit)
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
		time.Sleep(time.Second)
	}
	t.Fatalf("recap never showed %s within %s: last answer: %.2000s\nstderr:\n%.4000s", what, limit, last, r.stderr.String())
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
