package feeds

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"recap/news"
	"recap/store"
	"recap/store/sqlite"
)

func TestBackoffDoublesPerErrorAndHonoursRetryAfter(t *testing.T) {
	p := NewPoller(PollerConfig{Jitter: func() float64 { return 0.5 }}) // 0.5: no jitter
	cases := []struct {
		errors int
		retry  time.Duration
		want   time.Duration
	}{
		{1, 0, 5 * time.Minute},
		{2, 0, 10 * time.Minute},
		{3, 0, 20 * time.Minute},
		{6, 0, 160 * time.Minute},
		{9, 0, 1280 * time.Minute},
		{10, 0, MaxInterval},
		{500, 0, MaxInterval},
		{1, 2 * time.Hour, 2 * time.Hour},
		{1, 72 * time.Hour, MaxInterval},
		{6, time.Minute, 160 * time.Minute},
	}
	for _, c := range cases {
		if got := p.backoff(c.errors, c.retry); got != c.want {
			t.Errorf("backoff(%d errors, retry %s) = %s, want %s", c.errors, c.retry, got, c.want)
		}
	}
	lo := NewPoller(PollerConfig{Jitter: func() float64 { return 0 }}).backoff(3, 0)
	hi := NewPoller(PollerConfig{Jitter: func() float64 { return 0.999 }}).backoff(3, 0)
	if lo != 16*time.Minute || hi < 23*time.Minute || hi > 24*time.Minute {
		t.Errorf("jitter range for 20m: %s..%s, want 16m..24m", lo, hi)
	}
}

func TestPublishRhythmHalvesTheMedianGapWithinLimits(t *testing.T) {
	every := func(n int, gap time.Duration) []news.Article {
		base := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
		var out []news.Article
		for i := range n {
			out = append(out, news.Article{Published: base.Add(-time.Duration(i) * gap)})
		}
		return out
	}
	cases := []struct {
		name string
		arts []news.Article
		want time.Duration
	}{
		{"hourly", every(20, time.Hour), 30 * time.Minute},
		{"every minute: floor", every(20, time.Minute), MinInterval},
		{"every three days: ceiling", every(10, 72*time.Hour), MaxInterval},
		{"two items: default", every(2, time.Hour), DefaultInterval},
		{"undated: default", make([]news.Article, 10), DefaultInterval},
	}
	for _, c := range cases {
		if got := publishRhythm(c.arts); got != c.want {
			t.Errorf("%s: %s, want %s", c.name, got, c.want)
		}
	}
}

func openTestStore(t *testing.T) store.Store {
	t.Helper()
	s, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "t.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func testPoller(s store.Store, now func() time.Time) *Poller {
	return NewPoller(PollerConfig{
		Store:   s,
		Fetcher: NewFetcher(FetcherConfig{AllowPrivateNetworks: true, RequestTimeout: 5 * time.Second}),
		Now:     now,
		Jitter:  func() float64 { return 0.5 },
		Workers: 4,
	})
}

func hourlyRSS(ttl string) string {
	items := ""
	for i := range 6 {
		items += fmt.Sprintf("<item><title>Model release %d</title><link>https://lab.example/p/%d</link><pubDate>%s</pubDate></item>",
			i, i, time.Date(2026, 3, 1, 12-i, 0, 0, 0, time.UTC).Format(time.RFC1123Z))
	}
	return `<rss version="2.0"><channel><title>Lab</title><link>https://lab.example/</link>` + ttl + items + `</channel></rss>`
}

func TestNextCheckFollowsRhythmTTLMaxAgeAndSourceInterval(t *testing.T) {
	mux := http.NewServeMux()
	mux.HandleFunc("/plain", func(w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, hourlyRSS("")) })
	mux.HandleFunc("/ttl", func(w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, hourlyRSS("<ttl>180</ttl>")) })
	mux.HandleFunc("/maxage", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "public, max-age=7200")
		fmt.Fprint(w, hourlyRSS(""))
	})
	mux.HandleFunc("/fixed", func(w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, hourlyRSS("")) })
	srv := httptest.NewServer(mux)
	defer srv.Close()

	now := time.Date(2026, 3, 1, 13, 0, 0, 0, time.UTC)
	s := openTestStore(t)
	p := testPoller(s, func() time.Time { return now })
	cases := []struct {
		path     string
		interval time.Duration
		want     time.Duration
	}{
		{"/plain", 0, 30 * time.Minute}, // hourly feed: half its rhythm
		{"/ttl", 0, 3 * time.Hour},
		{"/maxage", 0, 2 * time.Hour},
		{"/fixed", 6 * time.Hour, 6 * time.Hour},
	}
	for _, c := range cases {
		src, err := s.AddSource(context.Background(), store.Source{URL: srv.URL + c.path, Interval: c.interval, Enabled: true})
		if err != nil {
			t.Fatal(err)
		}
		r := p.PollSource(context.Background(), src)
		if r.Err != nil {
			t.Fatalf("%s: %v", c.path, r.Err)
		}
		if got := r.NextCheck.Sub(now); got != c.want {
			t.Errorf("%s: next check in %s, want %s", c.path, got, c.want)
		}
		// The four feeds carry the same six links: one article each, seen four times.
		if r.New+r.Sightings != 6 {
			t.Errorf("%s: %d new articles and %d sightings, want 6 in all", c.path, r.New, r.Sightings)
		}
	}
}

func TestAIFilterDropsOffTopicItemsOfGeneralSources(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, `<rss version="2.0"><channel><title>General</title>`+
			`<item><title>OpenAI releases a new large language model</title><link>https://g.example/1</link></item>`+
			`<item><title>Local football club wins the cup</title><link>https://g.example/2</link></item>`+
			`</channel></rss>`)
	}))
	defer srv.Close()
	s := openTestStore(t)
	p := testPoller(s, time.Now)
	for _, c := range []struct {
		filter       string
		new, dropped int
	}{{store.FilterAI, 1, 1}, {store.FilterAll, 1, 0}} {
		// The second source sees the same two links: the AI one is already stored.
		src, err := s.AddSource(context.Background(), store.Source{URL: srv.URL + "/" + c.filter, Filter: c.filter, Enabled: true})
		if err != nil {
			t.Fatal(err)
		}
		r := p.PollSource(context.Background(), src)
		if r.Err != nil || r.New != c.new || r.Filtered != c.dropped {
			t.Errorf("filter %s: new %d, filtered %d, err %v; want %d new, %d filtered", c.filter, r.New, r.Filtered, r.Err, c.new, c.dropped)
		}
	}
}

func TestRunPollsOnlyDueSourcesUntilCancelled(t *testing.T) {
	var mu sync.Mutex
	hits := map[string]int{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		hits[r.URL.Path]++
		mu.Unlock()
		fmt.Fprint(w, hourlyRSS(""))
	}))
	defer srv.Close()
	s := openTestStore(t)
	ctx := context.Background()
	for _, p := range []string{"/due1", "/due2", "/later", "/disabled"} {
		src, err := s.AddSource(ctx, store.Source{URL: srv.URL + p})
		if err != nil {
			t.Fatal(err)
		}
		if p == "/disabled" {
			if err := s.SetSourceEnabled(ctx, src.ID, false); err != nil {
				t.Fatal(err)
			}
		}
		if p == "/later" {
			// A fetch record that schedules the next check an hour from now.
			if _, err := s.SaveFetch(ctx, store.FetchResult{Fetch: store.Fetch{SourceID: src.ID, At: time.Now(), Status: 304}, NextCheck: time.Now().Add(time.Hour)}); err != nil {
				t.Fatal(err)
			}
		}
	}
	p := testPoller(s, time.Now)
	rctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	results := make(chan Result, 10)
	errc := make(chan error, 1)
	go func() { errc <- p.Run(rctx, func(r Result) { results <- r }) }()
	seen := map[string]bool{}
	for len(seen) < 2 {
		select {
		case r := <-results:
			if r.Err != nil {
				t.Errorf("%s: %v", r.Source.URL, r.Err)
			}
			seen[r.Source.URL] = true
		case <-rctx.Done():
			t.Fatalf("only %d due sources polled before the deadline", len(seen))
		}
	}
	// Both due sources are now scheduled 30 minutes ahead: nothing else runs.
	time.Sleep(1500 * time.Millisecond)
	cancel()
	if err := <-errc; err != nil {
		t.Fatalf("Run: %v", err)
	}
	mu.Lock()
	defer mu.Unlock()
	if hits["/due1"] != 1 || hits["/due2"] != 1 || hits["/later"] != 0 || hits["/disabled"] != 0 {
		t.Errorf("fetches per path: %v; want due1 and due2 once each, nothing else", hits)
	}
}

func TestShutdownDuringAFetchRecordsNothing(t *testing.T) {
	started := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		close(started)
		<-r.Context().Done()
	}))
	defer srv.Close()
	s := openTestStore(t)
	src, err := s.AddSource(context.Background(), store.Source{URL: srv.URL + "/feed"})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	go func() {
		<-started
		cancel()
	}()
	r := testPoller(s, time.Now).PollSource(ctx, src)
	if r.Err == nil || !strings.Contains(r.Err.Error(), "interrupted") {
		t.Fatalf("result error %v, want an interruption", r.Err)
	}
	after, err := s.Source(context.Background(), src.ID)
	if err != nil {
		t.Fatal(err)
	}
	fetches, err := s.Fetches(context.Background(), src.ID, 10)
	if err != nil {
		t.Fatal(err)
	}
	if after.ErrorCount != 0 || !after.NextCheck.IsZero() || len(fetches) != 0 {
		t.Errorf("an interrupted poll was recorded: %d errors, next check %v, %d fetch records", after.ErrorCount, after.NextCheck, len(fetches))
	}
}
