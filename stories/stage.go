// Package stories is the story stage: it places the articles the store
// holds in no story yet into stories, with news.Clusterer, under a lease
// in the store so that one instance at a time does it. The command runs
// it after polls; bench/serve runs it on its generated store.
package stories

import (
	"cmp"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"slices"
	"time"

	"recap/news"
	"recap/store"
)

// The stage takes the articles the store holds that are in no
// story yet, in published order, places each with news.Clusterer, and
// saves the placements batch by batch, each batch in one transaction. A
// crash loses at most the batch in progress, which stays in the queue: the
// next run places it, and nothing is placed twice. With several instances
// on one store, only the holder of the "stories" lease clusters.

// LeaseName is the name of the lease the story stage holds.
const LeaseName = "stories"

// Stage timings: the lease outlives a run's batches by far, and the serve
// loop renews it every tick.
const (
	LeaseTTL  = 2 * time.Minute
	tick      = 30 * time.Second
	batchSize = 2000
	// A long backlog (a first poll of many feeds) reports its progress.
	reportEvery = 20_000
)

type Stage struct {
	store  store.Store
	params news.ClusterParams
	lease  store.Lease
	log    *slog.Logger

	// c holds the open stories while the stage holds the lease; nil when
	// they must be learned again from the store (at start, or after the
	// lease was lost and another instance may have clustered meanwhile).
	c *news.Clusterer
	// bp removes each source's summary template before clustering; it is
	// learned again with the open stories.
	bp *news.Boilerplate
	// now is the clock of the ranking scores the analysis stores.
	now func() time.Time
}

// New returns the stage for the store s, with the tuned clustering
// constants and a lease holder name unique to this process.
func New(s store.Store, log *slog.Logger) *Stage {
	return &Stage{
		store:  s,
		params: news.DefaultClusterParams(),
		lease:  store.Lease{Name: LeaseName, Holder: holderID()},
		log:    log,
		now:    time.Now,
	}
}

// holderID names this process among the instances sharing a store.
func holderID() string {
	host, _ := os.Hostname()
	b := make([]byte, 6)
	rand.Read(b)
	return fmt.Sprintf("%s-%d-%s", host, os.Getpid(), hex.EncodeToString(b))
}

// Result says what one run did.
type Result struct {
	Placed, New, Duplicates, Merged int
	Stories                         int // stories written
	Analysed                        int // stories analysed
	Held                            bool
}

// Run places every article waiting for a story, unless another instance
// holds the lease (then Held is false and nothing is done).
func (st *Stage) Run(ctx context.Context) (Result, error) {
	var run Result
	ok, err := st.store.AcquireLease(ctx, st.lease, LeaseTTL)
	if err != nil {
		return run, fmt.Errorf("stories: lease: %w", err)
	}
	if !ok {
		st.c = nil
		return run, nil
	}
	run.Held = true
	// Weights choose lead articles; a source added meanwhile weighs 1
	// until the next run.
	weights, err := st.weights(ctx)
	if err != nil {
		return run, err
	}
	nextReport := reportEvery
	for ctx.Err() == nil {
		batch, err := st.store.Unclustered(ctx, batchSize)
		if err != nil {
			return run, fmt.Errorf("stories: queue: %w", err)
		}
		if len(batch) == 0 {
			break
		}
		if st.c == nil {
			if err := st.learn(ctx, batch[0].Published); err != nil {
				return run, err
			}
		}
		if err := st.place(ctx, batch, weights, &run); err != nil {
			st.c = nil // the store did not take the batch: learn it again
			if errors.Is(err, store.ErrLeaseLost) {
				st.log.Warn("stories: lease lost to another instance", "holder", st.lease.Holder)
				return run, nil
			}
			return run, err
		}
		if run.Placed >= nextReport {
			st.log.Info("stories: progress", "placed", run.Placed, "new", run.New, "near_copies", run.Duplicates, "merges", run.Merged)
			nextReport += reportEvery
		}
		if ok, err := st.store.AcquireLease(ctx, st.lease, LeaseTTL); err != nil || !ok {
			st.c = nil
			return run, err
		}
	}
	if ctx.Err() != nil {
		return run, ctx.Err()
	}
	if err := st.analyse(ctx, weights, &run); err != nil {
		if errors.Is(err, store.ErrLeaseLost) {
			st.c = nil
			st.log.Warn("stories: lease lost to another instance", "holder", st.lease.Holder)
			return run, nil
		}
		return run, err
	}
	return run, nil
}

// learn builds a clusterer that knows the stories open around from: the
// articles placed since a little more than a story can span before it.
func (st *Stage) learn(ctx context.Context, from time.Time) error {
	c, bp := news.NewClusterer(st.params), news.NewBoilerplate()
	since := from.Add(-st.params.MaxSpan - st.params.Window)
	// An article published long before the newest stories (a feed's
	// backlog) must not make a restart read years of them.
	if latest, err := st.store.Stories(ctx, store.StoryQuery{Limit: 1}); err != nil {
		return fmt.Errorf("stories: latest: %w", err)
	} else if len(latest) > 0 {
		since = later(since, latest[0].Updated.Add(-st.params.MaxSpan-st.params.Window))
	}
	n := 0
	err := st.store.EachClustered(ctx, since, func(a news.Article) error {
		n++
		c.Restore(docOf(a, 0, bp), a.StoryID, a.DuplicateOf)
		return nil
	})
	if err != nil {
		return fmt.Errorf("stories: learn the open stories: %w", err)
	}
	st.log.Debug("stories: learned the open stories", "articles", n, "since", since.Format(time.RFC3339), "open", c.State().Open)
	st.c, st.bp = c, bp
	return nil
}

func later(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

// weights returns each source's weight, for choosing lead articles.
func (st *Stage) weights(ctx context.Context) (map[int64]float64, error) {
	srcs, err := st.store.Sources(ctx)
	if err != nil {
		return nil, fmt.Errorf("stories: sources: %w", err)
	}
	w := make(map[int64]float64, len(srcs))
	for _, s := range srcs {
		w[s.ID] = s.Weight
	}
	return w, nil
}

// docOf is what the clusterer reads of a, its summary without its
// source's boilerplate.
func docOf(a news.Article, weight float64, bp *news.Boilerplate) news.Doc {
	return news.Doc{ID: a.ID, Title: a.Title, Summary: bp.Clean(a.SourceID, a.Summary), URL: a.URL,
		Source: a.SourceID, Weight: weight, Published: a.Published}
}

// place clusters one batch and saves it. A batch may span more than the
// window: stories close while it is placed, and merges resolve, so what
// the batch changed is gathered article by article, not asked of the
// clusterer at the end.
func (st *Stage) place(ctx context.Context, batch []news.Article, weights map[int64]float64, run *Result) error {
	var (
		as      []store.Assignment
		r       Result
		touched = map[int64]bool{}
		into    = map[int64]int64{}      // story merged away -> the story that took it in
		closed  = map[int64]news.Story{} // touched stories that closed during the batch
	)
	for _, a := range batch {
		pl := st.c.Add(docOf(a, weights[a.SourceID], st.bp))
		for _, s := range pl.Closed {
			if touched[s.ID] {
				closed[s.ID] = s
			}
		}
		as = append(as, store.Assignment{ArticleID: a.ID, StoryID: pl.Story, DuplicateOf: pl.DuplicateOf})
		touched[pl.Story] = true
		r.Placed++
		if pl.New {
			r.New++
		}
		if pl.DuplicateOf != 0 {
			r.Duplicates++
		}
		if len(pl.Merged) > 0 {
			r.Merged += len(pl.Merged)
			for _, gone := range pl.Merged {
				into[gone] = pl.Story
			}
			// The members of the stories it took in, saved in earlier
			// batches, move now, while the story is open to say who they are.
			ids, dups := st.c.Members(pl.Story)
			for i, m := range ids {
				as = append(as, store.Assignment{ArticleID: m, StoryID: pl.Story, DuplicateOf: dups[i]})
			}
		}
	}
	final := func(id int64) int64 {
		for {
			to, ok := into[id]
			if !ok {
				return id
			}
			id = to
		}
	}
	for i := range as {
		as[i].StoryID = final(as[i].StoryID)
	}
	var stories []news.Story
	done := map[int64]bool{}
	for id := range touched {
		id = final(id)
		if done[id] {
			continue
		}
		done[id] = true
		s, ok := st.c.Story(id)
		if !ok {
			if s, ok = closed[id]; !ok {
				return fmt.Errorf("stories: story %d changed in this batch and is gone from the clusterer", id)
			}
		}
		stories = append(stories, s)
	}
	slices.SortFunc(stories, func(a, b news.Story) int { return cmp.Compare(a.ID, b.ID) })
	if err := st.store.SaveStories(ctx, st.lease, as, stories); err != nil {
		return fmt.Errorf("stories: save: %w", err)
	}
	run.Placed += r.Placed
	run.New += r.New
	run.Duplicates += r.Duplicates
	run.Merged += r.Merged
	run.Stories += len(stories)
	return nil
}

// Release gives the lease up, so another instance need not wait for it to
// expire.
func (st *Stage) Release(ctx context.Context) error {
	return st.store.ReleaseLease(ctx, st.lease)
}

// String is the line poll --once prints.
func (r Result) String() string {
	if !r.Held {
		return "stories: another instance holds the lease and clusters"
	}
	return fmt.Sprintf("stories: %d articles placed: %d new stories, %d near-copies, %d merges; %d stories written; %d analysed",
		r.Placed, r.New, r.Duplicates, r.Merged, r.Stories, r.Analysed)
}

// Loop runs the stage whenever kick fires (the poller stored
// something) and every tick (renewing the lease, or taking it over
// from an instance that stopped), until ctx ends; then it gives the lease
// up.
func (st *Stage) Loop(ctx context.Context, kick <-chan struct{}, changed func()) {
	t := time.NewTicker(tick)
	defer t.Stop()
	for {
		run, err := st.Run(ctx)
		if err != nil && ctx.Err() == nil {
			st.log.Error("stories", "err", err)
		}
		if run.Placed > 0 || run.Analysed > 0 {
			changed()
			st.log.Info("stories", "placed", run.Placed, "new", run.New, "near_copies", run.Duplicates, "merges", run.Merged, "analysed", run.Analysed)
		}
		select {
		case <-ctx.Done():
			rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
			defer cancel()
			if err := st.Release(rctx); err != nil {
				st.log.Warn("stories: release lease", "err", err)
			}
			return
		case <-kick:
		case <-t.C:
		}
	}
}
