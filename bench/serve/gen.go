package main

import (
	"context"
	"errors"
	"fmt"
	"html"
	"io"
	"math/rand/v2"
	"net/url"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/microcosm-cc/bluemonday"

	"recap/internal/newsdata"
	"recap/news"
	"recap/store"
	"recap/store/sqlite"
)

// dataItem is one line of ai-news-items.jsonl.gz, prepared once: the
// million articles are copies of these 18,061, so sanitizing happens per
// item, not per article.
type dataItem struct {
	newsdata.Item

	contentHTML string // Summary sanitized, as the poller keeps a description-only item
	text        string // its plain text; also the article's summary
	site        string // scheme and host of Link
}

// loadItems reads the real AI news items and sanitizes each once.
func loadItems(path string) ([]dataItem, error) {
	raw, err := newsdata.Load(path)
	if err != nil {
		return nil, fmt.Errorf("load items: %w", err)
	}
	ugc, strict := bluemonday.UGCPolicy(), bluemonday.StrictPolicy()
	items := make([]dataItem, len(raw))
	for i, r := range raw {
		it := dataItem{Item: r}
		it.Title = strings.Join(strings.Fields(html.UnescapeString(strict.Sanitize(it.Title))), " ")
		it.contentHTML = ugc.Sanitize(it.Summary)
		it.text = strings.Join(strings.Fields(html.UnescapeString(strict.Sanitize(it.Summary))), " ")
		if u, err := url.Parse(it.Link); err == nil && (u.Scheme == "http" || u.Scheme == "https") && u.Host != "" {
			it.site = u.Scheme + "://" + u.Host
		}
		if it.Feed == "" {
			it.Feed = "unknown"
		}
		items[i] = it
	}
	return items, nil
}

// genConfig is what the generated store holds.
type genConfig struct {
	path     string
	articles int
	sources  int
	span     time.Duration // published dates spread over this long, ending now
	seed     uint64
	batch    int // articles per SaveFetch
	inFlight int // concurrent SaveFetch calls
	log      io.Writer
}

// Every alsoEvery-th article is carried by a second source too, as a story
// syndicated by another outlet is: the article page then lists two outlets.
const alsoEvery = 10

// ensureStore returns the path of a store holding cfg.articles articles,
// reusing the file at cfg.path when it does, and how long generating took
// (0 when reused).
func ensureStore(ctx context.Context, cfg genConfig, dataPath string) (time.Duration, error) {
	if _, err := os.Stat(cfg.path); err == nil {
		n, err := countArticles(ctx, cfg.path)
		if err == nil && n == cfg.articles {
			fmt.Fprintf(cfg.log, "reusing %s: %d articles\n", cfg.path, n)
			return 0, nil
		}
		fmt.Fprintf(cfg.log, "%s holds %d articles (err %v), want %d: generating it again\n", cfg.path, n, err, cfg.articles)
	}
	items, err := loadItems(dataPath)
	if err != nil {
		return 0, err
	}
	start := time.Now()
	if err := generate(ctx, cfg, items); err != nil {
		return 0, err
	}
	d := time.Since(start)
	fmt.Fprintf(cfg.log, "generated %d articles in %s (%.0f articles/s)\n", cfg.articles, d.Round(time.Millisecond), float64(cfg.articles)/d.Seconds())
	return d, nil
}

// countArticles opens the store at path and counts its articles. Opening
// also lets the store index what an interrupted run left unindexed; Close
// waits for none of that, but the next Open picks it up again.
func countArticles(ctx context.Context, path string) (int, error) {
	st, err := sqlite.Open(ctx, path)
	if err != nil {
		return 0, err
	}
	n, err := st.CountArticles(ctx)
	if err == nil {
		_, err = st.IndexSearch(ctx)
	}
	return n, errors.Join(err, st.Close())
}

func removeStore(path string) error {
	var errs []error
	for _, p := range []string{path, path + "-wal", path + "-shm"} {
		if err := os.Remove(p); err != nil && !errors.Is(err, os.ErrNotExist) {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// generate writes a fresh store to a temporary file next to cfg.path and
// renames it into place once complete, so an interrupted run never leaves a
// file that looks finished.
func generate(ctx context.Context, cfg genConfig, items []dataItem) (err error) {
	if cfg.articles <= 0 || cfg.sources <= 0 || cfg.batch <= 0 || cfg.inFlight <= 0 {
		return fmt.Errorf("generate: articles, sources, batch and in-flight must be positive")
	}
	tmp := cfg.path + ".tmp"
	if err := removeStore(tmp); err != nil {
		return fmt.Errorf("generate: %w", err)
	}
	st, err := sqlite.Open(ctx, tmp)
	if err != nil {
		return fmt.Errorf("generate: %w", err)
	}
	defer func() {
		if st != nil {
			st.Close()
		}
		if err != nil {
			removeStore(tmp)
		}
	}()

	srcs, byFeed, err := addSources(ctx, st, cfg.sources, items)
	if err != nil {
		return err
	}

	var (
		done     atomic.Int64
		sighted  atomic.Int64
		firstErr error
		errOnce  sync.Once
		wg       sync.WaitGroup
	)
	gctx, cancel := context.WithCancel(ctx)
	defer cancel()
	fail := func(err error) {
		errOnce.Do(func() { firstErr = err; cancel() })
	}
	work := make(chan store.FetchResult, cfg.inFlight)
	for range cfg.inFlight {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for fr := range work {
				stats, err := st.SaveFetch(gctx, fr)
				if err != nil {
					fail(err)
					continue
				}
				done.Add(int64(stats.New))
				sighted.Add(int64(stats.Sightings))
			}
		}()
	}

	start := time.Now()
	stopProgress := progress(cfg.log, start, cfg.articles, &done)
	alsoWanted := produce(gctx, cfg, items, srcs, byFeed, start, work)
	close(work)
	wg.Wait()
	stopProgress()
	if firstErr != nil {
		return fmt.Errorf("generate: %w", firstErr)
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("generate: %w", err)
	}
	if n := done.Load(); n != int64(cfg.articles) {
		return fmt.Errorf("generate: %d new articles stored, want %d (URLs not unique?)", n, cfg.articles)
	}
	if n := sighted.Load(); n != int64(alsoWanted) {
		return fmt.Errorf("generate: %d second sightings stored, want %d", n, alsoWanted)
	}
	saved := time.Since(start)
	fmt.Fprintf(cfg.log, "stored %d articles (%d also from a second source) in %s\n", cfg.articles, alsoWanted, saved.Round(time.Millisecond))

	ixStart := time.Now()
	n, err := st.IndexSearch(ctx)
	if err != nil {
		return fmt.Errorf("generate: %w", err)
	}
	fmt.Fprintf(cfg.log, "search index: the last %d articles indexed in %s (the rest in the background meanwhile)\n", n, time.Since(ixStart).Round(time.Millisecond))
	if err := st.Close(); err != nil {
		st = nil
		return fmt.Errorf("generate: %w", err)
	}
	st = nil
	if err := removeStore(cfg.path); err != nil {
		return fmt.Errorf("generate: %w", err)
	}
	if err := os.Rename(tmp, cfg.path); err != nil {
		return fmt.Errorf("generate: %w", err)
	}
	// Close checkpointed the WAL into the file; what is left of it is empty.
	removeStore(tmp)
	return nil
}

// addSources stores n sources, named after the real feeds of the items so a
// source's articles are that feed's items: source k copies feed k mod F.
// byFeed lists each feed's source ids.
func addSources(ctx context.Context, st *sqlite.Store, n int, items []dataItem) ([]store.Source, map[string][]int64, error) {
	var feeds []string
	site := map[string]string{}
	for _, it := range items {
		if _, ok := site[it.Feed]; !ok {
			feeds = append(feeds, it.Feed)
			site[it.Feed] = it.site
		}
	}
	slices.Sort(feeds)
	if n < len(feeds) {
		feeds = feeds[:n] // items of the other feeds go to these, see pickSource
	}
	srcs := make([]store.Source, 0, n)
	byFeed := map[string][]int64{}
	for k := range n {
		feed := feeds[k%len(feeds)]
		copyNo := k/len(feeds) + 1
		src, err := st.AddSource(ctx, store.Source{
			URL:     fmt.Sprintf("https://bench.recap.invalid/feeds/%s/%d.xml", url.PathEscape(feed), copyNo),
			Title:   fmt.Sprintf("%s %d", feed, copyNo),
			SiteURL: site[feed],
		})
		if err != nil {
			return nil, nil, fmt.Errorf("generate: %w", err)
		}
		srcs = append(srcs, src)
		byFeed[feed] = append(byFeed[feed], src.ID)
	}
	return srcs, byFeed, nil
}

// produce builds the articles in publication order, gathers them per
// source and hands each full batch to work; it returns how many articles it
// also gave to a second source.
func produce(ctx context.Context, cfg genConfig, items []dataItem, srcs []store.Source, byFeed map[string][]int64,
	now time.Time, work chan<- store.FetchResult) (also int) {
	rng := rand.New(rand.NewPCG(cfg.seed, 0x5e7e))
	end := now.Add(-time.Minute)
	begin := end.Add(-cfg.span)
	step := cfg.span / time.Duration(cfg.articles)
	bufs := map[int64][]news.Article{}
	send := func(srcID int64, arts []news.Article) bool {
		at := arts[0].Collected
		for _, a := range arts {
			if a.Collected.After(at) {
				at = a.Collected
			}
		}
		fr := store.FetchResult{
			Fetch:    store.Fetch{SourceID: srcID, At: at, Status: 200, Duration: 120 * time.Millisecond, Items: len(arts), Bytes: int64(len(arts)) * 1500},
			Articles: arts,
			// Far off: no poller runs, but a source due now would look
			// overdue on the sources page.
			NextCheck: now.Add(time.Hour),
		}
		select {
		case work <- fr:
			return true
		case <-ctx.Done():
			return false
		}
	}
	add := func(srcID int64, a news.Article) bool {
		bufs[srcID] = append(bufs[srcID], a)
		if len(bufs[srcID]) < cfg.batch {
			return true
		}
		arts := bufs[srcID]
		bufs[srcID] = make([]news.Article, 0, cfg.batch)
		return send(srcID, arts)
	}
	for i := range cfg.articles {
		it := &items[rng.IntN(len(items))]
		// Publication order with some jitter, as feeds deliver it.
		pub := begin.Add(time.Duration(i)*step + time.Duration(rng.Int64N(int64(30*time.Minute))))
		if pub.After(end) {
			pub = end
		}
		lag := time.Duration(rng.ExpFloat64() * float64(20*time.Minute))
		collected := pub.Add(min(lag, 6*time.Hour)).Truncate(time.Millisecond)
		if collected.After(now) {
			collected = now.Truncate(time.Millisecond)
		}
		pub = pub.Truncate(time.Millisecond)
		a := articleOf(it, i, pub, collected)
		owners := byFeed[it.Feed]
		if len(owners) == 0 {
			owners = []int64{srcs[rng.IntN(len(srcs))].ID}
		}
		src := owners[rng.IntN(len(owners))]
		if !add(src, a) {
			return also
		}
		if i%alsoEvery == alsoEvery-1 && len(srcs) > 1 {
			other := srcs[rng.IntN(len(srcs))].ID
			for other == src {
				other = srcs[rng.IntN(len(srcs))].ID
			}
			b := a
			b.GUID += "-syndicated"
			b.ItemKey = news.ItemKey(b.GUID, b.URL, b.Title, b.Published)
			b.Collected = b.Collected.Add(7 * time.Minute)
			if b.Collected.After(now) {
				b.Collected = now.Truncate(time.Millisecond)
			}
			if !add(other, b) {
				return also
			}
			also++
		}
	}
	// Sorted, so the same seed writes the same store.
	ids := make([]int64, 0, len(bufs))
	for id := range bufs {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	for _, id := range ids {
		if len(bufs[id]) > 0 && !send(id, bufs[id]) {
			return also
		}
	}
	return also
}

// articleOf is article number n, a copy of it with a URL and GUID of its own.
func articleOf(it *dataItem, n int, published, collected time.Time) news.Article {
	u := uniqueURL(it.Link, n)
	guid := it.GUID
	if guid == "" {
		guid = it.Link
	}
	guid += "-" + strconv.Itoa(n)
	return news.Article{
		ItemKey:     news.ItemKey(guid, u, it.Title, published),
		GUID:        guid,
		Link:        u,
		URL:         u,
		Title:       it.Title,
		Summary:     it.text,
		ContentHTML: it.contentHTML,
		Text:        it.text,
		Published:   published,
		Collected:   collected,
	}
}

// uniqueURL makes link unique to article n with a path suffix (not a
// fragment or a query parameter, which canonical URLs drop or may drop).
func uniqueURL(link string, n int) string {
	u, err := url.Parse(link)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return "https://bench.recap.invalid/items/" + strconv.Itoa(n)
	}
	u.Fragment, u.RawFragment = "", ""
	u.Path = strings.TrimRight(u.Path, "/") + "/r/" + strconv.Itoa(n)
	u.RawPath = ""
	return u.String()
}

// progress prints articles/s on w every few seconds until stopped.
func progress(w io.Writer, start time.Time, total int, done *atomic.Int64) (stop func()) {
	quit := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		t := time.NewTicker(3 * time.Second)
		defer t.Stop()
		last, lastAt := int64(0), start
		for {
			select {
			case <-quit:
				return
			case now := <-t.C:
				n := done.Load()
				fmt.Fprintf(w, "generating: %d/%d articles, %.0f articles/s now, %.0f on average\n",
					n, total, float64(n-last)/now.Sub(lastAt).Seconds(), float64(n)/now.Sub(start).Seconds())
				last, lastAt = n, now
			}
		}
	}()
	return func() { close(quit); wg.Wait() }
}
