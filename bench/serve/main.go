// Command serve is Recap's serving benchmark: a SQLite store of a million
// articles generated from the real AI news items, served by Recap's server
// in a process of its own, and loaded from this one over 127.0.0.1 by
// keep-alive connections sending requests back to back.
//
// Run from the repository root:
//
//	go run ./bench/serve                              # generates bench/out/serve-1m.db once, then reuses it
//	go run ./bench/serve -routes home,search -conns 32 -duration 5s
//	go run ./bench/serve -cpuprofile /tmp/serve.pprof && go tool pprof -top /tmp/serve.pprof
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/url"
	"os"
	"os/signal"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode"
)

func main() {
	if err := run(context.Background(), os.Args[1:], os.Stdin, os.Stdout, os.Stderr); err != nil {
		if !errors.Is(err, flag.ErrHelp) {
			fmt.Fprintln(os.Stderr, "serve bench:", err)
		}
		os.Exit(1)
	}
}

// options are the bench's flags.
type options struct {
	db         string
	data       string
	articles   int
	sources    int
	span       time.Duration
	seed       uint64
	batch      int
	inFlight   int
	genOnly    bool
	conns      []int
	duration   time.Duration
	warmup     time.Duration
	gzip       bool
	routes     []string
	articleIDs int
	queries    []string
	tail       int // distinct searches of the search-tail route
	cpuProfile string
	client     string
	rates      []float64 // 0: closed loop
}

var allRoutes = []string{"home", "story", "article", "hot", "feed", "api", "search", "search-tail"}

func newFlagSet(name string, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	return fs
}

func parseOptions(args []string, stderr io.Writer) (options, error) {
	var (
		o                      options
		conns, routes, queries string
		rates                  string
	)
	fs := newFlagSet("serve", stderr)
	fs.StringVar(&o.db, "db", "bench/out/serve-1m.db", "the store; generated when it does not hold -articles articles, else reused")
	fs.StringVar(&o.data, "data", "../shared/data/ai-news-items.jsonl.gz", "the real AI news items the articles copy")
	fs.IntVar(&o.articles, "articles", 1_000_000, "articles in the store")
	fs.IntVar(&o.sources, "sources", 200, "sources in the store")
	fs.DurationVar(&o.span, "span", 2*365*24*time.Hour, "published dates spread over this long, up to now")
	fs.Uint64Var(&o.seed, "seed", 1, "seed of the generated store and of the requests' choices")
	fs.IntVar(&o.batch, "batch", 500, "articles per SaveFetch when generating")
	fs.IntVar(&o.inFlight, "inflight", 16, "concurrent SaveFetch calls when generating")
	fs.BoolVar(&o.genOnly, "generate-only", false, "make sure the store exists and is clustered into stories, then stop")
	fs.StringVar(&conns, "conns", "32,128", "connections of each run, comma-separated")
	fs.DurationVar(&o.duration, "duration", 20*time.Second, "measured time per route and connection count")
	fs.DurationVar(&o.warmup, "warmup", 2*time.Second, "unmeasured load before each measured run")
	fs.BoolVar(&o.gzip, "gzip", true, "send Accept-Encoding: gzip, as browsers do")
	fs.StringVar(&routes, "routes", strings.Join(allRoutes, ","), "routes to load: "+strings.Join(allRoutes, ", "))
	fs.IntVar(&o.articleIDs, "article-ids", 1000, "distinct random pages the article route (articles in a story) and the story route (stories) each rotate over")
	fs.StringVar(&queries, "queries", "openai,llama model,nvidia gpu,claude code,reasoning,hugging face dataset,gemini,rust", "searches the search route rotates over, comma-separated")
	fs.StringVar(&rates, "rate", "max", "request rates of each run, comma-separated: max sends back to back on every connection (closed loop); a number is a fixed total rate in requests/s (open loop, latency counted from when each request was due)")
	fs.IntVar(&o.tail, "tail-queries", 2000, "distinct searches the search-tail route rotates over, made of words of the real titles")
	fs.StringVar(&o.client, "client", "raw", "load generator's HTTP client: raw (lean, like wrk) or net/http")
	fs.StringVar(&o.cpuProfile, "cpuprofile", "", "write a CPU profile of the server process, over every run, to this file")
	if err := fs.Parse(args); err != nil {
		return o, err
	}
	if fs.NArg() > 0 {
		return o, fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	for _, c := range strings.Split(conns, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(c))
		if err != nil || n <= 0 {
			return o, fmt.Errorf("-conns: %q is not a positive number", c)
		}
		o.conns = append(o.conns, n)
	}
	for _, r := range strings.Split(rates, ",") {
		r = strings.TrimSpace(r)
		if r == "max" {
			o.rates = append(o.rates, 0)
			continue
		}
		n, err := strconv.ParseFloat(r, 64)
		if err != nil || n <= 0 {
			return o, fmt.Errorf("-rate: %q is neither max nor a positive number", r)
		}
		o.rates = append(o.rates, n)
	}
	for _, r := range strings.Split(routes, ",") {
		r = strings.TrimSpace(r)
		if !slices.Contains(allRoutes, r) {
			return o, fmt.Errorf("-routes: unknown route %q (know %s)", r, strings.Join(allRoutes, ", "))
		}
		o.routes = append(o.routes, r)
	}
	for _, q := range strings.Split(queries, ",") {
		if q = strings.TrimSpace(q); q != "" {
			o.queries = append(o.queries, q)
		}
	}
	if o.client != "raw" && o.client != "net/http" {
		return o, fmt.Errorf("-client: %q is neither raw nor net/http", o.client)
	}
	if len(o.queries) == 0 {
		return o, errors.New("-queries: none")
	}
	if o.articles <= 0 || o.sources <= 0 || o.articleIDs <= 0 || o.duration <= 0 || o.warmup < 0 {
		return o, errors.New("-articles, -sources, -article-ids and -duration must be positive, -warmup not negative")
	}
	return o, nil
}

// run is the whole bench, or the server child when args start with childFlag.
func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	if len(args) > 0 && args[0] == childFlag {
		return runChild(args[1:], stdin, stdout, stderr)
	}
	// The child's stderr is copied in by a goroutine of os/exec while the
	// bench writes its own lines.
	stdout, stderr = &syncWriter{w: stdout}, &syncWriter{w: stderr}
	o, err := parseOptions(args, stderr)
	if err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(ctx, os.Interrupt)
	defer stop()

	if err := os.MkdirAll(filepath.Dir(o.db), 0o755); err != nil {
		return err
	}
	gen, err := ensureStore(ctx, genConfig{
		path: o.db, articles: o.articles, sources: o.sources, span: o.span, seed: o.seed,
		batch: o.batch, inFlight: o.inFlight, log: stderr,
	}, o.data)
	if err != nil {
		return err
	}
	if gen > 0 {
		fmt.Fprintf(stdout, "generation_s=%.1f articles=%d\n", gen.Seconds(), o.articles)
	}
	clu, stories, err := clusterStore(ctx, o.db, stderr)
	if err != nil {
		return err
	}
	if clu > 0 {
		fmt.Fprintf(stdout, "clustering_s=%.1f stories=%d\n", clu.Seconds(), stories)
	}
	if o.genOnly {
		return nil
	}
	exe, err := os.Executable()
	if err != nil {
		return fmt.Errorf("find own executable: %w", err)
	}
	return bench(ctx, exe, o, stdout, stderr)
}

// bench starts the server child on the store and loads every route.
func bench(ctx context.Context, exe string, o options, stdout, stderr io.Writer) error {
	fmt.Fprintf(stdout, "machine: %s, %d CPUs, GOMAXPROCS=%d, %s %s/%s, load average %s\n",
		cpuModel(), runtime.NumCPU(), runtime.GOMAXPROCS(0), runtime.Version(), runtime.GOOS, runtime.GOARCH, loadAvg())
	fmt.Fprintf(stdout, "store: %s, %d articles, %d sources; client=%s gzip=%v warmup=%s duration=%s\n",
		o.db, o.articles, o.sources, o.client, o.gzip, o.warmup, o.duration)

	var pages clustered
	if slices.Contains(o.routes, "article") || slices.Contains(o.routes, "story") {
		// Before the child opens the store: the bench reads it alone.
		var err error
		if pages.articles, pages.stories, err = clusteredPages(ctx, o.db, o.articles, o.articleIDs, o.seed); err != nil {
			return err
		}
	}
	c, err := startChild(ctx, exe, o.db, o.cpuProfile, stderr)
	if err != nil {
		return err
	}
	stopped := false
	defer func() {
		if !stopped {
			c.stop()
		}
	}()
	base := "http://" + c.addr
	if err := ready(ctx, base); err != nil {
		return err
	}

	var tail []string
	if slices.Contains(o.routes, "search-tail") {
		items, err := loadItems(o.data)
		if err != nil {
			return err
		}
		tail = tailQueries(items, o.tail, o.seed)
	}
	var missed []string
	for _, name := range o.routes {
		t := targetOf(name, o, tail, pages)
		for _, n := range o.conns {
			for _, rate := range o.rates {
				res, err := measure(ctx, c, t, loadConfig{base: base, conns: n, warmup: o.warmup, duration: o.duration,
					gzip: o.gzip, seed: o.seed, client: o.client, rate: rate}, stdout, stderr)
				if err != nil {
					return err
				}
				if m := missesAim(name, rate, res); m != "" {
					missed = append(missed, fmt.Sprintf("%s conns=%d rate=%s: %s", t.name, n, rateLabel(rate), m))
				}
			}
		}
	}

	status, err := procStatus(c.cmd.Process.Pid)
	if err != nil {
		return fmt.Errorf("server memory: %w", err)
	}
	stopped = true
	if err := c.stop(); err != nil {
		return err
	}
	peak := float64(status["VmHWM"]) / 1024
	fmt.Fprintf(stdout, "server_peak_rss_mib=%.0f server_rss_mib=%.0f\n", peak, float64(status["VmRSS"])/1024)
	if peak >= 300 {
		missed = append(missed, fmt.Sprintf("server peak memory %.0f MiB >= 300", peak))
	}
	fmt.Fprintf(stdout, "load average after: %s\n", loadAvg())
	if len(missed) == 0 {
		fmt.Fprintln(stdout, "aims: all met")
	} else {
		fmt.Fprintf(stdout, "aims missed: %s\n", strings.Join(missed, "; "))
	}
	return nil
}

// measure runs one load and prints its line.
func measure(ctx context.Context, c *child, t target, cfg loadConfig, stdout, stderr io.Writer) (*loadResult, error) {
	cpu0, _ := procCPU(c.cmd.Process.Pid)
	own0, _ := procCPU(os.Getpid())
	began := time.Now()
	res, err := runLoad(ctx, t, cfg)
	if err != nil {
		return nil, err
	}
	cpu1, _ := procCPU(c.cmd.Process.Pid)
	own1, _ := procCPU(os.Getpid())
	// The CPU times span the warm-up too: they are shares of the machine
	// while loaded (2.00 = two CPUs busy), not costs per request. On a small
	// machine the load generator's share is taken from the server's.
	span := time.Since(began).Seconds()
	fmt.Fprintf(stdout, "route=%s conns=%d rps=%.0f p50_ms=%.2f p99_ms=%.2f errors=%d requests=%d rate=%s max_ms=%.1f kib_per_resp=%.1f server_cpus=%.2f client_cpus=%.2f\n",
		t.name, cfg.conns, res.rps(), ms(res.lat.quantile(0.5)), ms(res.lat.quantile(0.99)), res.errors, res.requests, rateLabel(cfg.rate),
		ms(time.Duration(res.lat.max)), float64(res.bytes)/float64(max(res.requests, 1))/1024,
		(cpu1-cpu0).Seconds()/span, (own1-own0).Seconds()/span)
	if res.errors > 0 {
		fmt.Fprintf(stderr, "route=%s conns=%d: statuses %v, first error: %s\n", t.name, cfg.conns, res.statuses, res.firstErr)
	}
	return res, nil
}

func rateLabel(rate float64) string {
	if rate <= 0 {
		return "max"
	}
	return strconv.FormatFloat(rate, 'f', -1, 64)
}

// aimRPS is the aim for every route but search: at least this many
// requests/s with p99 under 20 ms.
const aimRPS = 5000

// missesAim says how res, run at rate (0: closed loop), misses the issue's
// aim for the route, "" if not. At a fixed rate, the rate must be at least
// the aim's and be kept up (1 % slack: the measured time ends with the last
// answer, after the last request was due).
func missesAim(route string, rate float64, res *loadResult) string {
	var why []string
	p99 := res.lat.quantile(0.99)
	if res.errors > 0 {
		why = append(why, fmt.Sprintf("%d errors", res.errors))
	}
	if strings.HasPrefix(route, "search") {
		if p99 >= 100*time.Millisecond {
			why = append(why, fmt.Sprintf("p99 %.1f ms >= 100", ms(p99)))
		}
	} else {
		switch {
		case rate > 0 && rate < aimRPS:
			why = append(why, fmt.Sprintf("rate %.0f below the aim's %d", rate, aimRPS))
		case rate > 0 && res.rps() < 0.99*rate:
			why = append(why, fmt.Sprintf("%.0f rps did not keep up with %.0f", res.rps(), rate))
		case rate == 0 && res.rps() < aimRPS:
			why = append(why, fmt.Sprintf("%.0f rps < %d", res.rps(), aimRPS))
		}
		if p99 >= 20*time.Millisecond {
			why = append(why, fmt.Sprintf("p99 %.1f ms >= 20", ms(p99)))
		}
	}
	return strings.Join(why, ", ")
}

// clustered are the random pages of the article and story routes.
type clustered struct {
	articles []int64 // articles in a story: each page redirects to it
	stories  []int64
}

// targetOf is the route called name, with the URLs it rotates over; tail
// are the searches of search-tail, pages the ids of article and story.
func targetOf(name string, o options, tail []string, pages clustered) target {
	paths := func(prefix string, ids []int64) []string {
		urls := make([]string, len(ids))
		for i, id := range ids {
			urls[i] = prefix + strconv.FormatInt(id, 10)
		}
		return urls
	}
	switch name {
	case "home":
		return target{name: "/", urls: []string{"/"}}
	case "story":
		return target{name: "/stories/{id}", urls: paths("/stories/", pages.stories)}
	case "article":
		// The store is clustered, so every article page answers 302 to
		// its story.
		return target{name: "/articles/{id}", urls: paths("/articles/", pages.articles), redirect: true}
	case "hot":
		p := "/articles/" + strconv.Itoa(o.articles)
		return target{name: p, urls: []string{p}, redirect: true}
	case "feed":
		return target{name: "/feed.xml", urls: []string{"/feed.xml"}}
	case "api":
		return target{name: "/api/v1/articles?limit=50", urls: []string{"/api/v1/articles?limit=50"}}
	case "search-tail":
		urls := make([]string, len(tail))
		for i, q := range tail {
			urls[i] = "/search?q=" + url.QueryEscape(q)
		}
		return target{name: fmt.Sprintf("/search?q=(%d_distinct)", len(tail)), urls: urls}
	default: // search
		urls := make([]string, len(o.queries))
		for i, q := range o.queries {
			urls[i] = "/search?q=" + url.QueryEscape(q)
		}
		return target{name: "/search?q=", urls: urls}
	}
}

// tailQueries makes up to n distinct searches of one word or two adjacent
// words of real titles, as the long tail of what people search: each
// matches at least the articles copied from its title.
func tailQueries(items []dataItem, n int, seed uint64) []string {
	rng := rand.New(rand.NewPCG(seed, 0x7a11))
	seen := map[string]bool{}
	var out []string
	for tries := 0; len(out) < n && tries < 50*n; tries++ {
		words := strings.FieldsFunc(strings.ToLower(items[rng.IntN(len(items))].Title), func(r rune) bool {
			return !unicode.IsLetter(r) && !unicode.IsDigit(r)
		})
		words = slices.DeleteFunc(words, func(w string) bool { return len(w) < 3 || isStopWord(w) })
		if len(words) == 0 {
			continue
		}
		i := rng.IntN(len(words))
		q := words[i]
		if i+1 < len(words) && rng.IntN(2) == 0 {
			q += " " + words[i+1]
		}
		if !seen[q] {
			seen[q] = true
			out = append(out, q)
		}
	}
	return out
}

func isStopWord(w string) bool {
	switch w {
	case "the", "and", "for", "with", "from", "how", "you", "are", "that", "this", "your", "our", "its", "not", "into":
		return true
	}
	return false
}

// ready waits for the server to answer /readyz.
func ready(ctx context.Context, base string) error {
	client := &http.Client{Timeout: 5 * time.Second}
	var last error
	for range 100 {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, base+"/readyz", nil)
		if err != nil {
			return err
		}
		resp, err := client.Do(req)
		if err == nil {
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
			err = fmt.Errorf("status %d", resp.StatusCode)
		}
		last = err
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
	return fmt.Errorf("server not ready: %w", last)
}

// syncWriter serializes writes to w.
type syncWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (s *syncWriter) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.w.Write(p)
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

func cpuModel() string {
	b, err := os.ReadFile("/proc/cpuinfo")
	if err != nil {
		return "unknown CPU"
	}
	for _, line := range strings.Split(string(b), "\n") {
		if k, v, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(k) == "model name" {
			return strings.TrimSpace(v)
		}
	}
	return "unknown CPU"
}

func loadAvg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "unknown"
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return "unknown"
	}
	return strings.Join(f[:3], " ")
}
