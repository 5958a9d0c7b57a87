package main

import (
	"context"
	"fmt"
	"io"
	"math/bits"
	"math/rand/v2"
	"net/http"
	"net/url"
	"sync"
	"time"
)

// hist is a log-linear latency histogram in nanoseconds, HDR style: exact
// below 128 ns, then 64 buckets per power of two, so a bucket is at most
// 1/64 (1.6 %) of its value wide. Fixed size, no allocation per sample.
type hist struct {
	counts [histBuckets]uint64
	n      uint64
	max    int64
}

const (
	histSub     = 7 // 2^7 values exact, then 2^(7-1) buckets per doubling
	histBuckets = 1<<histSub + (64-histSub)*(1<<(histSub-1))
)

func bucketOf(v int64) int {
	if v < 1<<histSub {
		return int(max(v, 0))
	}
	shift := bits.Len64(uint64(v)) - histSub // >= 1
	m := int(uint64(v) >> shift)             // in [64, 128)
	return 1<<histSub + (shift-1)*(1<<(histSub-1)) + m - 1<<(histSub-1)
}

// bucketRange is the values [lo, hi] bucket b holds.
func bucketRange(b int) (lo, hi int64) {
	if b < 1<<histSub {
		return int64(b), int64(b)
	}
	b -= 1 << histSub
	shift := b/(1<<(histSub-1)) + 1
	m := int64(b%(1<<(histSub-1)) + 1<<(histSub-1))
	return m << shift, (m+1)<<shift - 1
}

func (h *hist) record(d time.Duration) {
	v := int64(d)
	h.counts[bucketOf(v)]++
	h.n++
	h.max = max(h.max, v)
}

func (h *hist) merge(o *hist) {
	for i, c := range o.counts {
		h.counts[i] += c
	}
	h.n += o.n
	h.max = max(h.max, o.max)
}

// quantile returns the value at q (0..1): the middle of its bucket, never
// above the largest value seen.
func (h *hist) quantile(q float64) time.Duration {
	if h.n == 0 {
		return 0
	}
	rank := uint64(q*float64(h.n) + 0.5)
	rank = min(max(rank, 1), h.n)
	var seen uint64
	for b, c := range h.counts {
		seen += c
		if seen >= rank {
			lo, hi := bucketRange(b)
			return time.Duration(min(lo+(hi-lo)/2, h.max))
		}
	}
	return time.Duration(h.max)
}

// target is one route under load: the URLs it rotates over.
type target struct {
	name string
	urls []string // paths, each request takes one at random
	// redirect: the route answers 302 (an article in a story), the only
	// answer that counts as success; the redirect is not followed.
	redirect bool
}

// ok says whether status is a successful answer of t: 302 for a redirect
// route, else 2xx or 304.
func (t target) ok(status int) bool {
	if t.redirect {
		return status == http.StatusFound
	}
	return (status >= 200 && status <= 299) || status == http.StatusNotModified
}

// loadConfig is one measured run.
type loadConfig struct {
	base     string // http://127.0.0.1:port
	conns    int
	warmup   time.Duration
	duration time.Duration
	gzip     bool
	seed     uint64
	client   string // "raw" or "net/http", see newRequester
	// rate, when > 0, is a fixed total request rate (open loop): each
	// connection sends on a schedule and a late answer delays the next
	// request, whose latency counts from when it was due, not from when it
	// went (no coordinated omission). 0 sends back to back (closed loop),
	// which measures the most requests/s, at a latency of about
	// conns / (requests/s) by Little's law.
	rate float64
}

// loadResult is what a run measured.
type loadResult struct {
	requests uint64
	errors   uint64
	statuses map[int]uint64 // every status seen, errors or not
	firstErr string
	bytes    uint64
	elapsed  time.Duration
	lat      hist
}

func (r *loadResult) rps() float64 { return float64(r.requests) / r.elapsed.Seconds() }

// requester is one keep-alive connection's way of sending the i-th URL of
// the target and reading the whole answer.
type requester interface {
	do(i int) (status int, bodyBytes int64, err error)
	close()
}

// runLoad drives t with cfg.conns keep-alive connections, each its own
// goroutine sending requests back to back: a warm-up, then the measured
// period. Errors are transport errors and statuses t.ok refuses.
func runLoad(ctx context.Context, t target, cfg loadConfig) (*loadResult, error) {
	if len(t.urls) == 0 || cfg.conns <= 0 {
		return nil, fmt.Errorf("load %s: no URLs or no connections", t.name)
	}
	newReq, closeAll, err := newRequester(ctx, t, cfg)
	if err != nil {
		return nil, err
	}
	defer closeAll()
	if cfg.warmup > 0 {
		if _, err := drive(ctx, newReq, t, cfg, cfg.warmup, cfg.seed^0xa11); err != nil {
			return nil, err
		}
	}
	return drive(ctx, newReq, t, cfg, cfg.duration, cfg.seed)
}

// newRequester returns a maker of connections for cfg.client:
//
//   - raw (the default): a minimal HTTP/1.1 client on a net.Conn, writing
//     requests built once and skipping the body by its length, as wrk does;
//   - net/http: the standard client, one Transport of cfg.conns connections.
//
// On a machine of two CPUs the load generator takes its CPU from the server
// under test: net/http's client spends about as much CPU per request as
// Recap's server does on a cached page, the raw client a fraction of that.
func newRequester(ctx context.Context, t target, cfg loadConfig) (func() requester, func(), error) {
	switch cfg.client {
	case "raw", "":
		u, err := url.Parse(cfg.base)
		if err != nil || u.Scheme != "http" || u.Host == "" {
			return nil, nil, fmt.Errorf("load %s: raw client needs an http://host:port base, not %q", t.name, cfg.base)
		}
		reqs := make([][]byte, len(t.urls))
		for i, p := range t.urls {
			r := "GET " + p + " HTTP/1.1\r\nHost: " + u.Host + "\r\nUser-Agent: recap-bench-serve\r\n"
			if cfg.gzip {
				r += "Accept-Encoding: gzip\r\n"
			}
			reqs[i] = []byte(r + "\r\n")
		}
		return func() requester { return &rawConn{ctx: ctx, addr: u.Host, reqs: reqs} }, func() {}, nil
	case "net/http":
		tr := &http.Transport{
			MaxConnsPerHost:     cfg.conns,
			MaxIdleConnsPerHost: cfg.conns,
			MaxIdleConns:        cfg.conns,
			IdleConnTimeout:     time.Minute,
			// The Accept-Encoding header is set by hand (or not at all):
			// the bodies are counted as they travel, never decoded.
			DisableCompression: true,
		}
		client := &http.Client{
			Transport: tr,
			// A redirect is the answer measured, as the raw client sees it.
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		}
		reqs := make([]*http.Request, len(t.urls))
		for i, u := range t.urls {
			req, err := http.NewRequestWithContext(ctx, http.MethodGet, cfg.base+u, nil)
			if err != nil {
				return nil, nil, fmt.Errorf("load %s: %w", t.name, err)
			}
			req.Header.Set("User-Agent", "recap-bench-serve")
			if cfg.gzip {
				req.Header.Set("Accept-Encoding", "gzip")
			}
			reqs[i] = req
		}
		return func() requester {
			// Copies of its own: a request is not shared between
			// goroutines in flight.
			own := make([]*http.Request, len(reqs))
			for j, r := range reqs {
				own[j] = r.Clone(ctx)
			}
			return &stdConn{client: client, reqs: own}
		}, tr.CloseIdleConnections, nil
	default:
		return nil, nil, fmt.Errorf("unknown client %q: raw or net/http", cfg.client)
	}
}

type stdConn struct {
	client *http.Client
	reqs   []*http.Request
}

func (c *stdConn) do(i int) (int, int64, error) {
	resp, err := c.client.Do(c.reqs[i])
	if err != nil {
		return 0, 0, err
	}
	n, err := io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode, n, err
}

func (c *stdConn) close() {}

type worker struct {
	lat      hist
	requests uint64
	errors   uint64
	bytes    uint64
	statuses map[int]uint64
	firstErr string
}

func drive(ctx context.Context, newReq func() requester, t target, cfg loadConfig, d time.Duration, seed uint64) (*loadResult, error) {
	workers := make([]*worker, cfg.conns)
	var wg sync.WaitGroup
	start := time.Now()
	deadline := start.Add(d)
	for i := range workers {
		w := &worker{statuses: map[int]uint64{}}
		workers[i] = w
		wg.Add(1)
		go func() {
			defer wg.Done()
			conn := newReq()
			defer conn.close()
			rng := rand.New(rand.NewPCG(seed, uint64(i)))
			var (
				interval time.Duration // between requests of this connection; 0: back to back
				due      = start
				timer    *time.Timer
			)
			if cfg.rate > 0 {
				interval = time.Duration(float64(cfg.conns) / cfg.rate * float64(time.Second))
				// Staggered, so the connections do not send in bursts.
				due = start.Add(interval * time.Duration(i) / time.Duration(cfg.conns))
				timer = time.NewTimer(time.Until(due))
				defer timer.Stop()
			}
			for ctx.Err() == nil {
				j := rng.IntN(len(t.urls))
				t0 := time.Now()
				if interval > 0 {
					if !due.Before(deadline) {
						return // not after sleeping till then: a run would outlast its duration
					}
					if wait := due.Sub(t0); wait > 0 {
						timer.Reset(wait)
						select {
						case <-timer.C:
						case <-ctx.Done():
							return
						}
					}
					t0 = due
					due = due.Add(interval)
				}
				// A connection that fell behind its schedule stops at the
				// deadline too, with the requests still due unsent: the
				// run lasts about its duration, and the rate it kept up
				// shows in requests/s.
				if !t0.Before(deadline) || !time.Now().Before(deadline) {
					return
				}
				status, n, err := conn.do(j)
				w.lat.record(time.Since(t0))
				w.requests++
				w.bytes += uint64(n)
				if err != nil {
					w.errors++
					if w.firstErr == "" {
						w.firstErr = err.Error()
					}
					continue
				}
				w.statuses[status]++
				if !t.ok(status) {
					w.errors++
					if w.firstErr == "" {
						w.firstErr = fmt.Sprintf("%s: status %d", t.urls[j], status)
					}
				}
			}
		}()
	}
	wg.Wait()
	res := &loadResult{elapsed: time.Since(start), statuses: map[int]uint64{}}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	for _, w := range workers {
		res.lat.merge(&w.lat)
		res.requests += w.requests
		res.errors += w.errors
		res.bytes += w.bytes
		for s, c := range w.statuses {
			res.statuses[s] += c
		}
		if res.firstErr == "" {
			res.firstErr = w.firstErr
		}
	}
	return res, nil
}
