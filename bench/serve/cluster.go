package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"time"

	"recap/store"
	"recap/store/sqlite"
	recapstories "recap/stories"
)

// clusterStore places every article of the store at path that is in no
// story yet, with the product's story stage (package stories). It returns
// how long that took and how many stories the store then holds; (0, 0)
// when no article was waiting, so a clustered store is reused as it is.
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
	stage := recapstories.New(st, slog.New(slog.NewTextHandler(log, nil)))
	run, err := stage.Run(ctx)
	if err != nil {
		return 0, 0, fmt.Errorf("cluster %s: %w", path, err)
	}
	if !run.Held {
		return 0, 0, fmt.Errorf("cluster %s: another process holds the stories lease: try again in %s", path, recapstories.LeaseTTL)
	}
	d = time.Since(start)
	if err := stage.Release(ctx); err != nil {
		return 0, 0, fmt.Errorf("cluster %s: %w", path, err)
	}
	stories, err = countStories(ctx, st)
	if err != nil {
		return 0, 0, fmt.Errorf("cluster %s: %w", path, err)
	}
	fmt.Fprintf(log, "clustered %d articles into %d stories (%d near-copies, %d merges) in %s (%.0f articles/s)\n",
		run.Placed, stories, run.Duplicates, run.Merged, d.Round(time.Millisecond), float64(run.Placed)/d.Seconds())
	return d, stories, nil
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
