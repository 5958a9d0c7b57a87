package feeds

import (
	"context"
	"fmt"
	"log/slog"
	"math"
	"math/rand/v2"
	"net/url"
	"runtime"
	"slices"
	"sync"
	"time"

	"recap/news"
	"recap/store"
)

// Polling rhythm limits (the issue: clamped to 5 min–24 h).
const (
	MinInterval     = 5 * time.Minute
	MaxInterval     = 24 * time.Hour
	DefaultInterval = time.Hour
	// errorBackoffBase is the wait after the first failure; it doubles per
	// consecutive failure up to MaxInterval, and a source is never disabled.
	errorBackoffBase = 5 * time.Minute
	// saveTimeout bounds a store write that runs after shutdown began, so a
	// fetched batch is saved rather than lost, but a stuck store can't hang exit.
	saveTimeout = 30 * time.Second
)

// PollerConfig holds what a Poller needs; zero values get defaults.
type PollerConfig struct {
	Store      store.Store
	Fetcher    *Fetcher
	Normalizer *Normalizer
	Workers    int // default 8
	MaxItems   int // per feed, default 1000
	// ParseTimeout bounds parsing and normalizing one feed (default 20 s).
	ParseTimeout time.Duration
	// Parsers is how many feeds are parsed at once (default GOMAXPROCS).
	// Parsing is CPU work, so more would not be faster, and it is where a
	// hostile feed costs memory: this bounds the peak, while all Workers
	// can still wait on the network.
	Parsers int
	Now     func() time.Time
	// Jitter returns a number in [0,1); injected so tests are repeatable.
	Jitter func() float64
	// IsAI decides which items of a source with filter "ai" are kept.
	IsAI   func(title, text string, categories []string) bool
	Logger *slog.Logger
}

// Poller fetches sources, stores what is new and schedules the next check.
type Poller struct {
	cfg PollerConfig

	parsing chan struct{} // a slot per feed being parsed

	mu       sync.Mutex
	inflight map[int64]bool // sources handed to workers and not finished
}

// NewPoller fills in defaults; Store and Fetcher are required.
func NewPoller(cfg PollerConfig) *Poller {
	if cfg.Workers <= 0 {
		cfg.Workers = 8
	}
	if cfg.MaxItems <= 0 {
		cfg.MaxItems = 1000
	}
	if cfg.Parsers <= 0 {
		cfg.Parsers = runtime.GOMAXPROCS(0)
	}
	if cfg.ParseTimeout <= 0 {
		cfg.ParseTimeout = 20 * time.Second
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Jitter == nil {
		cfg.Jitter = rand.Float64
	}
	if cfg.IsAI == nil {
		cfg.IsAI = news.LooksLikeAI
	}
	if cfg.Normalizer == nil {
		cfg.Normalizer = NewNormalizer()
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	return &Poller{cfg: cfg, inflight: map[int64]bool{}, parsing: make(chan struct{}, cfg.Parsers)}
}

// Result is what one poll of one source did.
type Result struct {
	Source      store.Source
	Status      int
	NotModified bool
	Items       int // items in the feed (after the per-feed cap)
	Filtered    int // items dropped by the source's "ai" filter
	Skipped     int // items that could not be normalized
	New         int
	Updated     int
	Sightings   int // already stored articles seen again under a new item or source
	Bytes       int64
	Duration    time.Duration
	NextCheck   time.Time
	MovedTo     string // permanent redirect target, now the source's URL
	Err         error
}

// QueueDepth is the number of sources handed to workers and not finished.
func (p *Poller) QueueDepth() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.inflight)
}

// PollAll polls the given sources with the worker pool and calls onResult
// (from one goroutine at a time) as each finishes. It returns when all are
// done or ctx is cancelled.
func (p *Poller) PollAll(ctx context.Context, sources []store.Source, onResult func(Result)) {
	jobs := make(chan store.Source)
	var wg sync.WaitGroup
	var resMu sync.Mutex
	for range min(p.cfg.Workers, max(len(sources), 1)) {
		wg.Go(func() {
			for src := range jobs {
				r := p.PollSource(ctx, src)
				if onResult != nil {
					resMu.Lock()
					onResult(r)
					resMu.Unlock()
				}
			}
		})
	}
feed:
	for _, s := range sources {
		select {
		case jobs <- s:
		case <-ctx.Done():
			break feed
		}
	}
	close(jobs)
	wg.Wait()
}

// Run polls due sources until ctx is cancelled: a scheduler asks the store
// which sources are due and hands them to the workers; a source being
// fetched is never handed out twice. onResult is called from the workers,
// possibly at the same time.
func (p *Poller) Run(ctx context.Context, onResult func(Result)) error {
	jobs := make(chan store.Source, p.cfg.Workers)
	done := make(chan int64, p.cfg.Workers)
	var wg sync.WaitGroup
	for range p.cfg.Workers {
		wg.Go(func() {
			for src := range jobs {
				r := p.PollSource(ctx, src)
				if onResult != nil {
					onResult(r)
				}
				done <- src.ID
			}
		})
	}
	defer func() {
		close(jobs)
		// Drain completions so workers finishing their last source don't block.
		go func() {
			for range done {
			}
		}()
		wg.Wait()
		close(done)
	}()

	const idle = 15 * time.Second
	timer := time.NewTimer(0)
	defer timer.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case id := <-done:
			p.finish(id)
		case <-timer.C:
		}
		// Only ask for as many as there are free workers.
		free := p.cfg.Workers - p.QueueDepth()
		wait := idle
		if free > 0 {
			due, err := p.cfg.Store.DueSources(ctx, p.cfg.Now(), free+p.QueueDepth())
			if err != nil {
				if ctx.Err() != nil {
					return nil
				}
				p.cfg.Logger.Error("scheduler: due sources", "err", err)
			}
			for _, s := range due {
				if !p.start(s.ID) {
					continue
				}
				select {
				case jobs <- s:
				case <-ctx.Done():
					return nil
				}
			}
			if len(due) > 0 && p.QueueDepth() < p.cfg.Workers {
				// More may be due right away.
				wait = time.Second
			}
		}
		if !timer.Stop() {
			select {
			case <-timer.C:
			default:
			}
		}
		timer.Reset(wait)
	}
}

func (p *Poller) start(id int64) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.inflight[id] {
		return false
	}
	p.inflight[id] = true
	return true
}

func (p *Poller) finish(id int64) {
	p.mu.Lock()
	defer p.mu.Unlock()
	delete(p.inflight, id)
}

// PollSource fetches one source, stores what is new and records the fetch.
func (p *Poller) PollSource(ctx context.Context, src store.Source) Result {
	start := p.cfg.Now()
	res := Result{Source: src}
	fr := store.FetchResult{}

	resp, err := p.cfg.Fetcher.Fetch(ctx, FetchRequest{URL: src.URL, ETag: src.ETag, LastModified: src.LastModified})
	if resp != nil {
		res.Status = resp.Status
		res.Bytes = resp.WireBytes
		fr.ETag, fr.LastModified = resp.ETag, resp.LastModified
	}
	var interval time.Duration
	switch {
	case err != nil:
		res.Err = err
	case resp.NotModified:
		res.NotModified = true
		interval = p.previousInterval(src)
	default:
		interval, err = p.ingest(ctx, src, resp, &fr, &res)
		if err != nil {
			res.Err = err
		}
	}
	if res.Err != nil && ctx.Err() != nil {
		// Shutdown interrupted this poll: that says nothing of the source,
		// so nothing is recorded; it is still due and runs on next start.
		res.Err = fmt.Errorf("poll %s: interrupted: %w", src.URL, context.Cause(ctx))
		return res
	}
	if resp != nil && resp.PermanentURL != "" && resp.PermanentURL != src.URL && res.Err == nil {
		fr.NewURL = resp.PermanentURL
		res.MovedTo = resp.PermanentURL
	}
	if res.Err != nil {
		// Keep the validators of the last good fetch: an error page's ETag
		// would make the next conditional GET wrong.
		fr.ETag, fr.LastModified = src.ETag, src.LastModified
		fr.ErrorCount = src.ErrorCount + 1
		var retry time.Duration
		if resp != nil {
			retry = resp.RetryAfter
		}
		interval = p.backoff(fr.ErrorCount, retry)
	} else {
		maxAge := time.Duration(0)
		if resp != nil {
			maxAge = resp.MaxAge
		}
		interval = clampInterval(max(interval, maxAge))
		if src.Interval > 0 {
			interval = clampInterval(max(src.Interval, maxAge))
		}
	}
	now := p.cfg.Now()
	res.Duration = now.Sub(start)
	res.NextCheck = now.Add(interval)
	fr.NextCheck = res.NextCheck
	fr.Fetch = store.Fetch{
		SourceID: src.ID,
		At:       start,
		Status:   res.Status,
		Duration: res.Duration,
		Bytes:    res.Bytes,
		Items:    res.Items,
	}
	if res.Err != nil {
		fr.Fetch.Err = res.Err.Error()
	}

	// The fetch is done: save it even if shutdown began meanwhile, so the
	// work is not lost (bounded, so a stuck store cannot hang the exit).
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), saveTimeout)
	defer cancel()
	stats, err := p.cfg.Store.SaveFetch(sctx, fr)
	if err != nil {
		err = fmt.Errorf("save %s: %w", src.URL, err)
		if res.Err == nil {
			res.Err = err
		}
		p.cfg.Logger.Error("poll: save", "source", src.URL, "err", err)
		return res
	}
	res.New, res.Updated, res.Sightings = stats.New, stats.Updated, stats.Sightings
	p.cfg.Logger.Debug("polled", "source", src.URL, "status", res.Status, "items", res.Items,
		"new", res.New, "updated", res.Updated, "next", res.NextCheck, "err", res.Err)
	return res
}

// ingest parses and normalizes a fetched body into fr and returns the
// interval the feed's own rhythm asks for.
func (p *Poller) ingest(ctx context.Context, src store.Source, resp *FetchResponse, fr *store.FetchResult, res *Result) (time.Duration, error) {
	select {
	case p.parsing <- struct{}{}:
	case <-ctx.Done():
		return 0, fmt.Errorf("parse %s: %w", src.URL, ctx.Err())
	}
	feedURL := src.URL
	if resp.FinalURL != "" {
		feedURL = resp.FinalURL
	}
	pf, arts, errs, err := p.parse(ctx, feedURL, resp)
	<-p.parsing
	if err != nil {
		return 0, err
	}
	res.Skipped = len(errs)
	res.Items = len(arts) + len(errs)
	if len(arts) == 0 && len(errs) > 0 {
		// A feed whose every item is unusable is broken, not quiet: say so
		// on its health record rather than store nothing silently.
		return 0, fmt.Errorf("parse %s: all %d items unusable, first: %w", feedURL, len(errs), errs[0])
	}
	if src.Filter == store.FilterAI {
		kept := arts[:0]
		for _, a := range arts {
			if p.cfg.IsAI(a.Title, a.Text, a.Categories) {
				kept = append(kept, a)
			}
		}
		res.Filtered = len(arts) - len(kept)
		arts = kept
	}
	for i := range arts {
		arts[i].SourceID = src.ID
	}
	fr.Articles = arts
	if pf.Feed != nil {
		fr.Title = pf.Feed.Title
		fr.SiteURL = siteURL(pf.Feed.Link, feedURL)
	}
	interval := publishRhythm(arts)
	if pf.TTL > 0 {
		interval = max(interval, pf.TTL)
	}
	return interval, nil
}

// parse parses and normalizes a body; the caller holds a parsing slot.
func (p *Poller) parse(ctx context.Context, feedURL string, resp *FetchResponse) (*ParsedFeed, []news.Article, []error, error) {
	pctx, cancel := context.WithTimeout(ctx, p.cfg.ParseTimeout)
	defer cancel()
	pf, err := Parse(pctx, resp.Body, resp.ContentType, p.cfg.MaxItems)
	if err != nil {
		return nil, nil, nil, fmt.Errorf("parse %s: %w", feedURL, err)
	}
	arts, errs := p.cfg.Normalizer.Feed(pf, feedURL, p.cfg.Now())
	return pf, arts, errs, nil
}

func siteURL(link, feedURL string) string {
	base, err := url.Parse(feedURL)
	if err != nil {
		return ""
	}
	u, err := news.CanonicalURL(link, base)
	if err != nil {
		return ""
	}
	return u
}

// publishRhythm turns how often a feed publishes into a polling interval:
// half the median gap between its latest items, so a new item waits on
// average a quarter of its feed's rhythm. Too few dated items: the default.
func publishRhythm(arts []news.Article) time.Duration {
	times := make([]time.Time, 0, len(arts))
	for _, a := range arts {
		if !a.Published.IsZero() {
			times = append(times, a.Published)
		}
	}
	if len(times) < 3 {
		return DefaultInterval
	}
	slices.SortFunc(times, func(a, b time.Time) int { return b.Compare(a) })
	times = times[:min(len(times), 11)]
	gaps := make([]time.Duration, 0, len(times)-1)
	for i := 1; i < len(times); i++ {
		gaps = append(gaps, times[i-1].Sub(times[i]))
	}
	slices.Sort(gaps)
	return clampInterval(gaps[len(gaps)/2] / 2)
}

// previousInterval keeps the rhythm across a 304: the gap the last
// successful fetch set, or the default after errors or on a first fetch.
func (p *Poller) previousInterval(src store.Source) time.Duration {
	if src.ErrorCount > 0 || src.LastCheck.IsZero() || !src.NextCheck.After(src.LastCheck) {
		return DefaultInterval
	}
	return src.NextCheck.Sub(src.LastCheck)
}

// backoff doubles the wait per consecutive error, with ±20% jitter so
// sources failing together don't retry together, capped at MaxInterval; a
// server's Retry-After is honoured when it asks for longer.
func (p *Poller) backoff(errors int, retryAfter time.Duration) time.Duration {
	d := float64(errorBackoffBase) * math.Pow(2, float64(min(errors, 20)-1))
	d = min(d, float64(MaxInterval))
	d *= 0.8 + 0.4*p.cfg.Jitter()
	wait := time.Duration(d)
	if retryAfter > wait {
		wait = retryAfter
	}
	return min(max(wait, time.Minute), MaxInterval)
}

func clampInterval(d time.Duration) time.Duration {
	return min(max(d, MinInterval), MaxInterval)
}
