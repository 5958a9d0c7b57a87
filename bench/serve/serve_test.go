package main

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"recap/store"
	"recap/store/sqlite"
)

// TestMain lets the test binary be the server child too: the bench
// re-executes os.Executable() with childFlag first, as it does its own
// binary outside tests.
func TestMain(m *testing.M) {
	if len(os.Args) > 1 && os.Args[1] == childFlag {
		if err := runChild(os.Args[2:], os.Stdin, os.Stdout, os.Stderr); err != nil {
			fmt.Fprintln(os.Stderr, "serve child:", err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

func TestHistBuckets(t *testing.T) {
	// Every value falls inside its bucket's range, and a bucket is at most
	// 1/64 of its values wide.
	for _, v := range []int64{0, 1, 127, 128, 129, 255, 256, 1000, 12345, 999_999, 1 << 40, 1<<62 + 12345} {
		b := bucketOf(v)
		lo, hi := bucketRange(b)
		if v < lo || v > hi {
			t.Errorf("value %d in bucket %d = [%d, %d]", v, b, lo, hi)
		}
		if b >= histBuckets {
			t.Errorf("value %d: bucket %d out of %d", v, b, histBuckets)
		}
		if float64(hi-lo+1) > float64(lo)/64+1 {
			t.Errorf("value %d: bucket [%d, %d] wider than 1/64", v, lo, hi)
		}
	}
	// Buckets tile the values without gaps.
	for b := 1; b < 2000; b++ {
		_, prevHi := bucketRange(b - 1)
		lo, _ := bucketRange(b)
		if lo != prevHi+1 {
			t.Fatalf("bucket %d starts at %d, previous ends at %d", b, lo, prevHi)
		}
	}
}

func TestHistQuantiles(t *testing.T) {
	tests := []struct {
		name    string
		samples []time.Duration
		q       float64
		want    time.Duration
	}{
		{"empty", nil, 0.5, 0},
		{"one", []time.Duration{3 * time.Millisecond}, 0.99, 3 * time.Millisecond},
		{"median of 1..100 ms", seq(100, time.Millisecond), 0.5, 50 * time.Millisecond},
		{"p99 of 1..100 ms", seq(100, time.Millisecond), 0.99, 99 * time.Millisecond},
		{"p99 of 1..1000 µs", seq(1000, time.Microsecond), 0.99, 990 * time.Microsecond},
		{"never above the max", []time.Duration{100, 5 * time.Second}, 1, 5 * time.Second},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var h hist
			for _, s := range tc.samples {
				h.record(s)
			}
			got := h.quantile(tc.q)
			if diff := float64(got-tc.want) / float64(max(tc.want, 1)); diff > 0.02 || diff < -0.02 {
				t.Errorf("quantile(%v) = %v, want %v within 2%%", tc.q, got, tc.want)
			}
		})
	}
}

func seq(n int, unit time.Duration) []time.Duration {
	out := make([]time.Duration, n)
	for i := range out {
		out[i] = time.Duration(i+1) * unit
	}
	return out
}

func TestUniqueURL(t *testing.T) {
	tests := []struct {
		link string
		n    int
		want string
	}{
		{"https://lab.example/posts/a", 7, "https://lab.example/posts/a/r/7"},
		{"https://lab.example/posts/a/", 7, "https://lab.example/posts/a/r/7"},
		{"https://lab.example/p?id=3#top", 12, "https://lab.example/p/r/12?id=3"},
		{"https://lab.example", 1, "https://lab.example/r/1"},
		{"not a url", 5, "https://bench.recap.invalid/items/5"},
		{"javascript:alert(1)", 6, "https://bench.recap.invalid/items/6"},
	}
	for _, tc := range tests {
		if got := uniqueURL(tc.link, tc.n); got != tc.want {
			t.Errorf("uniqueURL(%q, %d) = %q, want %q", tc.link, tc.n, got, tc.want)
		}
	}
}

func TestLoadItemsSanitizes(t *testing.T) {
	items, err := loadItems(filepath.Join("testdata", "items.jsonl.gz"))
	if err != nil {
		t.Fatal(err)
	}
	if len(items) != 40 {
		t.Fatalf("%d items, want 40", len(items))
	}
	tests := []struct {
		i                  int
		title, text, site  string
		contentHasNoScript bool
	}{
		{0, "OpenAI update & news 0", "Plain summary of OpenAI 0.", "https://lab0.example", true},
		{1, "Llama model update & news 1", "The Llama model story number 1. Second sentence link.", "https://lab1.example", true},
		{4, "reasoning update & news 4", "", "https://lab1.example", true},
		{7, "", "The Rust story number 7. Second sentence link.", "https://lab1.example", true},
	}
	for _, tc := range tests {
		it := items[tc.i]
		if it.Title != tc.title || it.text != tc.text || it.site != tc.site {
			t.Errorf("item %d: title %q text %q site %q, want %q %q %q", tc.i, it.Title, it.text, it.site, tc.title, tc.text, tc.site)
		}
		if strings.Contains(it.contentHTML, "script") {
			t.Errorf("item %d: content kept a script: %q", tc.i, it.contentHTML)
		}
	}
}

func TestMissesAim(t *testing.T) {
	res := func(rps float64, p99 time.Duration, errs uint64) *loadResult {
		r := &loadResult{requests: uint64(rps), errors: errs, elapsed: time.Second}
		r.lat.record(p99)
		return r
	}
	tests := []struct {
		route string
		rate  float64
		res   *loadResult
		want  string
	}{
		{"home", 0, res(6000, 5*time.Millisecond, 0), ""},
		{"home", 0, res(4000, 5*time.Millisecond, 0), "4000 rps < 5000"},
		{"feed", 0, res(6000, 25*time.Millisecond, 0), "ms >= 20"},
		{"api", 0, res(6000, 5*time.Millisecond, 3), "3 errors"},
		{"home", 5000, res(4990, 5*time.Millisecond, 0), ""},
		{"home", 5000, res(4000, 5*time.Millisecond, 0), "did not keep up"},
		{"home", 2000, res(2000, 5*time.Millisecond, 0), "below the aim"},
		{"search", 0, res(100, 60*time.Millisecond, 0), ""},
		{"search", 0, res(100, 150*time.Millisecond, 0), "ms >= 100"},
	}
	for _, tc := range tests {
		// Latencies come back as bucket middles, so only the verdict is compared.
		if got := missesAim(tc.route, tc.rate, tc.res); !strings.Contains(got, tc.want) || (tc.want == "") != (got == "") {
			t.Errorf("%s: %q, want %q", tc.route, got, tc.want)
		}
	}
}

func TestProcReaders(t *testing.T) {
	if _, err := os.Stat("/proc/self/status"); err != nil {
		t.Skip("no /proc")
	}
	st, err := procStatus(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	if st["VmHWM"] <= 0 || st["VmRSS"] <= 0 {
		t.Errorf("VmHWM %d kB, VmRSS %d kB", st["VmHWM"], st["VmRSS"])
	}
	if _, err := procCPU(os.Getpid()); err != nil {
		t.Error(err)
	}
}

var lineRE = regexp.MustCompile(`^route=(\S+) conns=(\d+) rps=(\S+) p50_ms=(\S+) p99_ms=(\S+) errors=(\d+) requests=(\d+) rate=(\S+) `)

// TestBenchSmall runs the whole bench on a small store: generation, the
// server child, every route, the report; then again, reusing the store.
func TestBenchSmall(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a server process and loads it for several seconds")
	}
	db := filepath.Join(t.TempDir(), "small.db")
	args := []string{
		"-db", db, "-data", filepath.Join("testdata", "items.jsonl.gz"),
		// Two days: the 40 items' copies make stories of many articles
		// and near-copies, in one batch that spans more than the window.
		"-articles", "2000", "-sources", "20", "-span", "48h", "-conns", "4", "-duration", "1s", "-warmup", "100ms",
		"-article-ids", "50", "-queries", "openai,llama model", "-tail-queries", "20", "-rate", "max,200",
	}
	ctx := context.Background()
	everyRoute := []string{"/", "/stories/{id}", "/articles/{id}", "/articles/2000", "/feed.xml", "/api/v1/articles?limit=50", "/search?q=", "/search?q=(20_distinct)"}
	clusteredRE := regexp.MustCompile(`(?m)^clustering_s=\d+\.\d stories=(\d+)$`)
	for round, tc := range []struct {
		args     []string
		wantLog  string
		clusters bool // the store is clustered in this round, not reused clustered
		routes   []string
	}{
		{args, "generated 2000 articles", true, everyRoute},
		{append(slices.Clone(args), "-routes", "home,story,article", "-rate", "max"), "reusing", false, []string{"/", "/stories/{id}", "/articles/{id}"}},
	} {
		var stdout, stderr bytes.Buffer
		if err := run(ctx, tc.args, strings.NewReader(""), &stdout, &stderr); err != nil {
			t.Fatalf("round %d: %v\nstdout:\n%s\nstderr:\n%s", round, err, &stdout, &stderr)
		}
		if !strings.Contains(stderr.String(), tc.wantLog) {
			t.Errorf("round %d: stderr does not say %q:\n%s", round, tc.wantLog, &stderr)
		}
		m := clusteredRE.FindStringSubmatch(stdout.String())
		if (m != nil) != tc.clusters {
			t.Errorf("round %d: clustering line %q, want one: %v\n%s", round, m, tc.clusters, &stdout)
		}
		if m != nil {
			if n, _ := strconv.Atoi(m[1]); n != checkClustered(t, db) {
				t.Errorf("round %d: says %d stories, the store holds %d", round, n, checkClustered(t, db))
			}
		}
		routes := map[string]bool{}
		for _, line := range strings.Split(stdout.String(), "\n") {
			m := lineRE.FindStringSubmatch(line)
			if m == nil {
				continue
			}
			routes[m[1]] = true
			if m[6] != "0" {
				t.Errorf("round %d: %s", round, line)
			}
			if n, _ := strconv.Atoi(m[7]); n == 0 {
				t.Errorf("round %d: no request done: %s", round, line)
			}
		}
		for _, r := range tc.routes {
			if !routes[r] {
				t.Errorf("round %d: no line for route %s:\n%s", round, r, &stdout)
			}
		}
		if !regexp.MustCompile(`(?m)^server_peak_rss_mib=[1-9]\d* server_rss_mib=\d+$`).MatchString(stdout.String()) {
			t.Errorf("round %d: no peak memory line:\n%s", round, &stdout)
		}
		if !strings.Contains(stdout.String(), "GOMAXPROCS=") {
			t.Errorf("round %d: no machine line:\n%s", round, &stdout)
		}
	}
}

func TestReadAnswer(t *testing.T) {
	tests := []struct {
		name   string
		in     string
		status int
		n      int64
		keep   bool
		err    bool
	}{
		{"length", "HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Type: text/html\r\n\r\nhello", 200, 5, true, false},
		{"length, lower case", "HTTP/1.1 200 OK\r\ncontent-length: 3\r\n\r\nabc", 200, 3, true, false},
		{"not modified", "HTTP/1.1 304 Not Modified\r\nETag: \"x\"\r\n\r\n", 304, 0, true, false},
		{"chunked", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n3;ext=1\r\nabc\r\n0\r\nX-Trailer: y\r\n\r\n", 200, 8, true, false},
		{"connection close", "HTTP/1.1 503 Service Unavailable\r\nConnection: close\r\nContent-Length: 2\r\n\r\nno", 503, 2, false, false},
		{"HTTP/1.0", "HTTP/1.0 200 OK\r\nContent-Length: 2\r\n\r\nok", 200, 2, false, false},
		{"to the end", "HTTP/1.1 200 OK\r\n\r\nall of it", 200, 9, false, false},
		{"short body", "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc", 200, 3, false, true},
		{"garbage", "SSH-2.0-OpenSSH\r\n", 0, 0, false, true},
		{"bad length", "HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n", 200, 0, false, true},
		{"bad chunk", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", 200, 0, false, true},
		{"no header end", "HTTP/1.1 200 OK\r\nContent-Length: 1\r\n", 200, 0, false, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			status, n, keep, err := readAnswer(bufio.NewReader(strings.NewReader(tc.in)))
			if (err != nil) != tc.err {
				t.Fatalf("err %v, want error %v", err, tc.err)
			}
			if status != tc.status || n != tc.n || (!tc.err && keep != tc.keep) {
				t.Errorf("status %d, %d bytes, keep %v; want %d, %d, %v", status, n, keep, tc.status, tc.n, tc.keep)
			}
		})
	}
}

// checkClustered checks that every article of the store at path is in a
// story that exists and lists it, and that every story lists only articles
// placed in it (a story that took in another must hold the other's
// members, and the other be gone); it returns the number of stories.
func checkClustered(t *testing.T, path string) int {
	t.Helper()
	ctx := context.Background()
	st, err := sqlite.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	storyOf := map[int64]int64{}
	err = st.EachArticle(ctx, func(a store.ArticleRecord) error {
		if a.StoryID == 0 {
			return fmt.Errorf("article %d is in no story", a.ID)
		}
		storyOf[a.ID] = a.StoryID
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	stories, members := 0, 0
	err = st.EachStory(ctx, func(s store.StoryRecord) error {
		stories++
		members += len(s.Articles)
		for _, id := range s.Articles {
			if storyOf[id] != s.ID {
				return fmt.Errorf("story %d lists article %d, which is in story %d", s.ID, id, storyOf[id])
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if members != len(storyOf) || stories == 0 {
		t.Fatalf("%d stories list %d members of %d articles", stories, members, len(storyOf))
	}
	return stories
}

func TestTargetStatuses(t *testing.T) {
	tests := []struct {
		redirect bool
		status   int
		ok       bool
	}{
		{false, 200, true},
		{false, 204, true},
		{false, 304, true},
		{false, 302, false},
		{false, 404, false},
		{false, 503, false},
		{true, 302, true},
		{true, 200, false},
		{true, 301, false},
		{true, 304, false},
		{true, 404, false},
	}
	for _, tc := range tests {
		if got := (target{redirect: tc.redirect}).ok(tc.status); got != tc.ok {
			t.Errorf("redirect route %v, status %d: ok %v, want %v", tc.redirect, tc.status, got, tc.ok)
		}
	}
}

// TestClientsAgree loads one server with both clients, at full speed and at
// a fixed rate, and checks they count the same answers (a redirect is an
// answer of its own, not followed).
func TestClientsAgree(t *testing.T) {
	var hits atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		switch r.URL.Path {
		case "/gone":
			http.Error(w, "gone", http.StatusGone)
		case "/moved":
			w.Header().Set("Location", "/ok")
			w.WriteHeader(http.StatusFound)
			w.Write([]byte("moved"))
		case "/chunked":
			w.Write([]byte("part one "))
			w.(http.Flusher).Flush()
			w.Write([]byte("part two"))
		default:
			if r.Header.Get("Accept-Encoding") != "gzip" {
				http.Error(w, "no gzip asked", http.StatusBadRequest)
				return
			}
			w.Write([]byte(strings.Repeat("x", 1000)))
		}
	}))
	defer srv.Close()
	for _, client := range []string{"raw", "net/http"} {
		for _, rate := range []float64{0, 400} {
			for _, tc := range []struct {
				path      string
				redirect  bool
				errors    bool
				bodyBytes int
			}{
				{"/ok", false, false, 1000}, {"/chunked", false, false, 17}, {"/gone", false, true, 5},
				{"/moved", true, false, 5}, {"/moved", false, true, 5}, {"/ok", true, true, 1000},
			} {
				t.Run(fmt.Sprintf("%s rate %v %s redirect %v", client, rate, tc.path, tc.redirect), func(t *testing.T) {
					hits.Store(0)
					res, err := runLoad(context.Background(), target{name: tc.path, urls: []string{tc.path}, redirect: tc.redirect},
						loadConfig{base: srv.URL, conns: 3, duration: 300 * time.Millisecond, gzip: true, seed: 1, client: client, rate: rate})
					if err != nil {
						t.Fatal(err)
					}
					if res.requests == 0 || int64(res.requests) != hits.Load() {
						t.Errorf("%d requests counted, %d served", res.requests, hits.Load())
					}
					if tc.errors != (res.errors == res.requests) || (!tc.errors && res.errors != 0) {
						t.Errorf("%d errors of %d requests (%v; %s)", res.errors, res.requests, res.statuses, res.firstErr)
					}
					if got := res.bytes / res.requests; got != uint64(tc.bodyBytes) {
						t.Errorf("%d body bytes a request, want %d", got, tc.bodyBytes)
					}
					if rate > 0 && res.requests > uint64(rate) {
						t.Errorf("%d requests in 0.3 s at %v/s", res.requests, rate)
					}
				})
			}
		}
	}
}
