package main

import (
	"context"
	"fmt"
	"strings"
	"time"

	"recap/feeds"
	"recap/news"
	"recap/store"
	"recap/stories"
)

// newPoller wires the one shared fetcher and the poller from the settings.
func (a *app) newPoller(s store.Store) *feeds.Poller {
	f := feeds.NewFetcher(feeds.FetcherConfig{
		UserAgent:            a.cfg.UserAgent,
		AllowPrivateNetworks: a.cfg.AllowPrivateNetworks,
		PerHostLimit:         a.cfg.PerHostLimit,
		RequestTimeout:       a.cfg.FetchTimeout,
	})
	return feeds.NewPoller(feeds.PollerConfig{
		Store:   s,
		Fetcher: f,
		Workers: a.cfg.Workers,
		IsAI:    news.LooksLikeAI,
		Logger:  a.log,
	})
}

// openSeeded opens the store and, when it has no sources yet, adds the
// bundled default list.
func (a *app) openSeeded(ctx context.Context) (store.Store, error) {
	s, err := a.openStore(ctx)
	if err != nil {
		return nil, err
	}
	if err := a.seedDefaults(ctx, s); err != nil {
		s.Close()
		return nil, err
	}
	return s, nil
}

// seedDefaults adds the bundled sources when the store has none yet.
func (a *app) seedDefaults(ctx context.Context, s store.Store) error {
	srcs, err := s.Sources(ctx)
	if err != nil {
		return fmt.Errorf("list sources: %w", err)
	}
	if len(srcs) > 0 {
		return nil
	}
	defs, err := feeds.DefaultSources()
	if err != nil {
		return fmt.Errorf("bundled sources: %w", err)
	}
	added, _, err := addSources(ctx, s, defs)
	if err != nil {
		return err
	}
	a.log.Info("no sources yet: added the bundled default list", "sources", added)
	return nil
}

func (a *app) poll(ctx context.Context, args []string) error {
	fs := a.flagSet("poll")
	once := fs.Bool("once", false, "fetch every enabled source now, print a summary and exit")
	if err := a.parseCommand(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(a.stderr, "recap poll: unexpected argument %q\n", fs.Arg(0))
		return errUsage
	}
	if !*once {
		return a.serve(ctx, nil)
	}
	s, err := a.openSeeded(ctx)
	if err != nil {
		return err
	}
	defer s.Close()
	all, err := s.Sources(ctx)
	if err != nil {
		return fmt.Errorf("list sources: %w", err)
	}
	var srcs []store.Source
	for _, src := range all {
		if src.Enabled {
			srcs = append(srcs, src)
		}
	}
	sum := pollOnce(ctx, a.newPoller(s), srcs, a)
	fmt.Fprintln(a.stdout, sum)
	if ctx.Err() != nil {
		return fmt.Errorf("interrupted after %d of %d sources", sum.done, len(srcs))
	}
	// What was stored joins its stories before the command returns.
	stage := stories.New(s, a.log)
	run, err := stage.Run(ctx)
	if err != nil {
		return err
	}
	fmt.Fprintln(a.stdout, run)
	if run.Held {
		if err := stage.Release(ctx); err != nil {
			return fmt.Errorf("stories: release lease: %w", err)
		}
	}
	return nil
}

type pollSummary struct {
	done, ok, notModified, failed int
	items, new, updated, seen     int
	filtered                      int
	took                          time.Duration
}

func (s pollSummary) String() string {
	return fmt.Sprintf("total: %d sources: %d ok (%d not modified), %d errors; %d items: %d new, %d updated, %d seen in another source, %d filtered out; %s",
		s.done, s.ok, s.notModified, s.failed, s.items, s.new, s.updated, s.seen, s.filtered, s.took.Round(time.Millisecond))
}

// pollOnce polls srcs, printing a line per source on stdout and, with many
// sources, progress on stderr.
func pollOnce(ctx context.Context, p *feeds.Poller, srcs []store.Source, a *app) pollSummary {
	start := time.Now()
	var sum pollSummary
	step := max(1, len(srcs)/20)
	p.PollAll(ctx, srcs, func(r feeds.Result) {
		sum.done++
		sum.items += r.Items
		sum.new += r.New
		sum.updated += r.Updated
		sum.seen += r.Sightings
		sum.filtered += r.Filtered
		switch {
		case r.Err != nil:
			sum.failed++
			// The error names the URL already; the line shows it once.
			reason := strings.TrimPrefix(r.Err.Error(), "fetch "+r.Source.URL+": ")
			reason = strings.TrimPrefix(reason, "parse "+r.Source.URL+": ")
			fmt.Fprintf(a.stdout, "error      %4d  %s: %s\n", r.Source.ID, r.Source.URL, reason)
		case r.NotModified:
			sum.ok++
			sum.notModified++
			fmt.Fprintf(a.stdout, "unchanged  %4d  %s: 304 not modified\n", r.Source.ID, r.Source.URL)
		default:
			sum.ok++
			word := "unchanged"
			switch {
			case r.New > 0:
				word = "new"
			case r.Updated > 0:
				word = "updated"
			}
			fmt.Fprintf(a.stdout, "%-9s  %4d  %s: %d items, %d new, %d updated", word, r.Source.ID, r.Source.URL, r.Items, r.New, r.Updated)
			if r.Filtered > 0 {
				fmt.Fprintf(a.stdout, ", %d not AI news", r.Filtered)
			}
			if r.Skipped > 0 {
				fmt.Fprintf(a.stdout, ", %d unusable", r.Skipped)
			}
			if r.MovedTo != "" {
				fmt.Fprintf(a.stdout, ", moved to %s", r.MovedTo)
			}
			fmt.Fprintln(a.stdout)
		}
		if len(srcs) >= 10 && (sum.done%step == 0 || sum.done == len(srcs)) {
			fmt.Fprintf(a.stderr, "progress: %d/%d sources, %d new articles, %s\n", sum.done, len(srcs), sum.new, time.Since(start).Round(time.Second))
		}
	})
	sum.took = time.Since(start)
	return sum
}
