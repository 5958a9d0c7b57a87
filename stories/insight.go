package stories

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"recap/llm"
	"recap/store"
)

// The insight stage asks a language model for the "What changed / Why it
// matters / What to do next" analysis of the stories that enough outlets
// covered. It runs beside the story stage, never in its way: a slow or
// failing model delays only insights. One instance at a time calls the
// model (the "insights" lease), within a budget of calls per hour, and
// backs off after failures.

// InsightLease is the name of the lease the insight stage holds.
const InsightLease = "insights"

const (
	insightTick = time.Minute
	// insightBatch bounds the stories one round considers; the budget
	// bounds the calls.
	insightBatch = 20
	// A story whose answers keep failing validation is not asked again at
	// the same version.
	maxTriesPerVersion = 2
)

// InsightConfig is what the insight stage needs.
type InsightConfig struct {
	Client     *llm.Client
	MinOutlets int // stories with fewer outlets get no insight
	PerHour    int // at most this many model calls per rolling hour
	Now        func() time.Time
}

// Insights is the insight stage.
type Insights struct {
	store   store.Store
	cfg     InsightConfig
	lease   store.Lease
	log     *slog.Logger
	budget  *llm.Budget
	backoff *llm.Backoff
	// tries counts failed calls per story at one version, so a story the
	// model cannot answer well does not eat the budget.
	tries map[int64]storyTries
}

type storyTries struct {
	version int64
	n       int
}

// NewInsights returns the insight stage for the store s.
func NewInsights(s store.Store, cfg InsightConfig, log *slog.Logger) *Insights {
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.MinOutlets < 1 {
		cfg.MinOutlets = 1
	}
	return &Insights{
		store:   s,
		cfg:     cfg,
		lease:   store.Lease{Name: InsightLease, Holder: holderID()},
		log:     log,
		budget:  llm.NewBudget(cfg.PerHour, cfg.Now),
		backoff: llm.NewBackoff(cfg.Now),
		tries:   map[int64]storyTries{},
	}
}

// InsightResult says what one round did.
type InsightResult struct {
	Written, Failed int
	// Budget is true when the round stopped because the hour's budget
	// was spent; Backoff when it did not call because of recent failures.
	Budget, Backoff, Held bool
}

// Run asks for the insights due now, within the budget. A model error is
// counted and logged, not returned: only the store's errors are.
func (in *Insights) Run(ctx context.Context) (InsightResult, error) {
	var res InsightResult
	ok, err := in.store.AcquireLease(ctx, in.lease, LeaseTTL)
	if err != nil {
		return res, fmt.Errorf("insights: lease: %w", err)
	}
	if !ok {
		return res, nil
	}
	res.Held = true
	if !in.backoff.Ready() {
		res.Backoff = true
		return res, nil
	}
	recs, err := in.store.StoriesForInsight(ctx, in.cfg.MinOutlets, insightBatch)
	if err != nil {
		return res, fmt.Errorf("insights: queue: %w", err)
	}
	for _, rec := range recs {
		if ctx.Err() != nil {
			return res, ctx.Err()
		}
		if t := in.tries[rec.ID]; t.version == rec.Version && t.n >= maxTriesPerVersion {
			continue
		}
		if !in.budget.Allow() {
			res.Budget = true
			return res, nil
		}
		ins, err := in.cfg.Client.Analyse(ctx, InsightRequest(rec))
		// A call may take as long as its timeout: keep the lease, or let
		// the instance that took it over carry on alone.
		if ok, lerr := in.store.AcquireLease(ctx, in.lease, LeaseTTL); lerr != nil || !ok {
			return res, lerr
		}
		if err != nil {
			if ctx.Err() != nil {
				return res, ctx.Err()
			}
			res.Failed++
			t := in.tries[rec.ID]
			if t.version != rec.Version {
				t = storyTries{version: rec.Version}
			}
			t.n++
			in.tries[rec.ID] = t
			in.log.Warn("insights: model call failed", "story", rec.ID, "err", err)
			// A bad answer is the story's problem; anything else (the
			// model down, slow or refusing) is the model's: back off.
			if !errors.Is(err, llm.ErrNoValidClaims) {
				var se *llm.StatusError
				if errors.As(err, &se) && se.RetryAfter > 0 {
					in.backoff.FailedAtLeast(se.RetryAfter)
				} else {
					in.backoff.Failed()
				}
				res.Backoff = true
				return res, nil
			}
			continue
		}
		in.backoff.Succeeded()
		delete(in.tries, rec.ID)
		if err := in.store.SaveInsight(ctx, store.InsightRecord{StoryID: rec.ID, Version: rec.Version, Insight: ins}); err != nil {
			return res, fmt.Errorf("insights: save story %d: %w", rec.ID, err)
		}
		res.Written++
	}
	return res, nil
}

// InsightRequest is what the model is shown of a story: its members, each
// with the number it is cited by.
func InsightRequest(rec store.StoryRecord) llm.Request {
	r := llm.Request{Title: rec.Title}
	for i, m := range Members(rec) {
		outlet := rec.Members[i].Source
		r.Members = append(r.Members, llm.Member{
			N: i + 1, Article: m.Article, Outlet: outlet,
			Title: m.Title, Text: m.Text, Published: m.Published,
		})
	}
	return r
}

// Loop runs a round every minute and whenever kick fires, until ctx ends;
// changed is called after a round that wrote insights.
func (in *Insights) Loop(ctx context.Context, kick <-chan struct{}, changed func()) {
	t := time.NewTicker(insightTick)
	defer t.Stop()
	for {
		res, err := in.Run(ctx)
		if err != nil && ctx.Err() == nil {
			in.log.Error("insights", "err", err)
		}
		if res.Written > 0 {
			changed()
			in.log.Info("insights", "written", res.Written, "failed", res.Failed, "budget_left", in.budget.Remaining())
		}
		select {
		case <-ctx.Done():
			rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
			defer cancel()
			if err := in.store.ReleaseLease(rctx, in.lease); err != nil {
				in.log.Warn("insights: release lease", "err", err)
			}
			return
		case <-kick:
		case <-t.C:
		}
	}
}
