package main

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"math/rand/v2"
	"os"
	"slices"
	"time"

	"recap/news"
	"recap/store"
	"recap/store/sqlite"
)

// The story stage's constants, as the product's (stories.go in package
// main, which this program cannot import).
const (
	storyLeaseName = "stories"
	storyLeaseTTL  = 2 * time.Minute
	storyBatch     = 2000
)

// clusterStore places every article of the store at path that is in no
// story yet, the way the product's story stage does: the queue in
// published order, batch by batch, each batch saved under the stories
// lease. It returns how long that took and how many stories the store then
// holds; (0, 0) when no article was waiting, so a clustered store is
// reused as it is.
func clusterStore(ctx context.Context, path string, log io.Writer) (d time.Duration, stories int, err error) {
	st, err := sqlite.Open(ctx, path)
	if err != nil {
		return 0, 0, fmt.Errorf("cluster %s: %w", path, err)
	}
	defer func() { err = errors.Join(err, st.Close()) }()
	first, err := st.Unclustered(ctx, 1)
	if err != nil {
		return 0, 0, fmt.Errorf("cluster %s: %w", path, err)
	}
	if len(first) == 0 {
		return 0, 0, nil
	}
	start := time.Now()
	lease := store.Lease{Name: storyLeaseName, Holder: fmt.Sprintf("bench-serve-%d", os.Getpid())}
	if ok, err := st.AcquireLease(ctx, lease, storyLeaseTTL); err != nil || !ok {
		return 0, 0, fmt.Errorf("cluster %s: lease held by another process (%v): try again in %s", path, err, storyLeaseTTL)
	}
	defer func() {
		rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		defer cancel()
		err = errors.Join(err, st.ReleaseLease(rctx, lease))
	}()

	srcs, err := st.Sources(ctx)
	if err != nil {
		return 0, 0, fmt.Errorf("cluster %s: %w", path, err)
	}
	weights := make(map[int64]float64, len(srcs))
	for _, s := range srcs {
		weights[s.ID] = s.Weight
	}
	p := news.DefaultClusterParams()
	c := news.NewClusterer(p)
	// A run interrupted halfway left stories that are still open: learn
	// them, as the stage does on start.
	err = st.EachClustered(ctx, first[0].Published.Add(-p.MaxSpan-p.Window), func(a news.Article) error {
		c.Restore(docOf(a, 0), a.StoryID, a.DuplicateOf)
		return nil
	})
	if err != nil {
		return 0, 0, fmt.Errorf("cluster %s: learn the open stories: %w", path, err)
	}

	placed, copies, merges, lastLog := 0, 0, 0, start
	for {
		batch, err := st.Unclustered(ctx, storyBatch)
		if err != nil {
			return 0, 0, fmt.Errorf("cluster %s: %w", path, err)
		}
		if len(batch) == 0 {
			break
		}
		cp, mg, err := placeBatch(ctx, st, lease, c, batch, weights)
		if err != nil {
			return 0, 0, fmt.Errorf("cluster %s: %w", path, err)
		}
		copies, merges = copies+cp, merges+mg
		if ok, err := st.AcquireLease(ctx, lease, storyLeaseTTL); err != nil || !ok {
			return 0, 0, fmt.Errorf("cluster %s: lease lost (%v)", path, err)
		}
		placed += len(batch)
		if time.Since(lastLog) >= 5*time.Second {
			lastLog = time.Now()
			fmt.Fprintf(log, "clustering: %d articles placed, %.0f articles/s; open stories %d\n",
				placed, float64(placed)/time.Since(start).Seconds(), c.State().Open)
		}
	}
	d = time.Since(start)
	stories, err = countStories(ctx, st)
	if err != nil {
		return 0, 0, fmt.Errorf("cluster %s: %w", path, err)
	}
	fmt.Fprintf(log, "clustered %d articles into %d stories (%d near-copies, %d merges) in %s (%.0f articles/s)\n",
		placed, stories, copies, merges, d.Round(time.Millisecond), float64(placed)/d.Seconds())
	return d, stories, nil
}

func docOf(a news.Article, weight float64) news.Doc {
	return news.Doc{ID: a.ID, Title: a.Title, Summary: a.Summary, URL: a.URL, Source: a.SourceID, Weight: weight, Published: a.Published}
}

// placeBatch is stories.go's place, with one difference: place asks the
// clusterer for the batch's stories and merges after the whole batch, but
// the clusterer forgets a story once it closes (every 2,000 articles it
// sweeps those out of the window, and their merges with them), so a batch
// spanning more than the window (2,000 articles of this store span 35 h)
// lost them: their articles pointed at stories never written. Here each
// story's state, its merges and, for a story that took in another, its
// members are taken right after the article that changed them.
func placeBatch(ctx context.Context, st store.Store, lease store.Lease, c *news.Clusterer, batch []news.Article, weights map[int64]float64) (copies, merges int, err error) {
	var as []store.Assignment
	final := map[int64]news.Story{}           // each story the batch changed, as it last stood
	into := map[int64]int64{}                 // the batch's merges: folded story -> the story that took it
	remerge := map[int64][]store.Assignment{} // a story that took in another: all its members move
	for _, a := range batch {
		pl := c.Add(docOf(a, weights[a.SourceID]))
		as = append(as, store.Assignment{ArticleID: a.ID, StoryID: pl.Story, DuplicateOf: pl.DuplicateOf})
		if pl.DuplicateOf != 0 {
			copies++
		}
		merges += len(pl.Merged)
		for _, m := range pl.Merged {
			into[m] = pl.Story
			delete(final, m)
			delete(remerge, m)
		}
		s, ok := c.Story(pl.Story)
		if !ok {
			return 0, 0, fmt.Errorf("article %d: story %d closed as it was placed", a.ID, pl.Story)
		}
		final[pl.Story] = s
		if len(pl.Merged) > 0 {
			ids, dups := c.Members(pl.Story)
			ms := make([]store.Assignment, len(ids))
			for i, m := range ids {
				ms[i] = store.Assignment{ArticleID: m, StoryID: pl.Story, DuplicateOf: dups[i]}
			}
			remerge[pl.Story] = ms
		}
	}
	// A story merged later in the batch may hold articles placed earlier.
	for i := range as {
		for to, ok := into[as[i].StoryID]; ok; to, ok = into[to] {
			as[i].StoryID = to
		}
	}
	for _, ms := range remerge {
		as = append(as, ms...)
	}
	stories := slices.SortedFunc(maps.Values(final), func(a, b news.Story) int { return cmp.Compare(a.ID, b.ID) })
	if err := st.SaveStories(ctx, lease, as, stories); err != nil {
		return 0, 0, fmt.Errorf("save stories: %w", err)
	}
	return copies, merges, nil
}

// countStories pages through the list of stories: the store has no count
// of them.
func countStories(ctx context.Context, st store.Store) (int, error) {
	n := 0
	var cur store.StoryCursor
	for {
		page, err := st.Stories(ctx, store.StoryQuery{Limit: 5000, Before: cur})
		if err != nil {
			return n, fmt.Errorf("count stories: %w", err)
		}
		n += len(page)
		if len(page) == 0 {
			return n, nil
		}
		last := page[len(page)-1]
		cur = store.StoryCursor{Updated: last.Updated, ID: last.ID}
	}
}

// clusteredPages picks up to n distinct random articles of the store that
// are in a story, and returns their ids and, separately drawn, up to n
// distinct story ids, each the story of a random article (so a story is
// drawn in proportion to its members, as links to it are). Ids of a
// generated store run from 1 to articles.
func clusteredPages(ctx context.Context, path string, articles, n int, seed uint64) (articleIDs, storyIDs []int64, err error) {
	st, err := sqlite.Open(ctx, path)
	if err != nil {
		return nil, nil, fmt.Errorf("pick pages of %s: %w", path, err)
	}
	defer func() { err = errors.Join(err, st.Close()) }()
	pick := func(stream uint64, story bool) ([]int64, error) {
		rng := rand.New(rand.NewPCG(seed, stream))
		seen := map[int64]bool{}
		var out []int64
		for tries := 0; len(out) < n && tries < 4*n; tries++ {
			rec, err := st.Article(ctx, 1+rng.Int64N(int64(articles)))
			if errors.Is(err, store.ErrNotFound) {
				continue
			}
			if err != nil {
				return nil, err
			}
			id := rec.ID
			if story {
				id = rec.StoryID
			}
			if rec.StoryID != 0 && !seen[id] {
				seen[id] = true
				out = append(out, id)
			}
		}
		if len(out) == 0 {
			return nil, errors.New("no clustered article found")
		}
		return out, nil
	}
	if articleIDs, err = pick(0xa271, false); err != nil {
		return nil, nil, fmt.Errorf("pick pages of %s: %w", path, err)
	}
	if storyIDs, err = pick(0x5707, true); err != nil {
		return nil, nil, fmt.Errorf("pick pages of %s: %w", path, err)
	}
	return articleIDs, storyIDs, nil
}
