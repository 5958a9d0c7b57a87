package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"time"

	"recap/feeds"
	"recap/server"
	"recap/store"
)

// Time limits of the admin API's work, chosen so an add (discovery, then the
// first poll) answers within the web server's write timeout.
const (
	adminDiscoverTimeout = 20 * time.Second
	adminPollTimeout     = 30 * time.Second
)

// sourceAdmin is what the admin API does with the feeds stage: it finds,
// adds, polls and imports sources. It implements server.SourceAdmin.
type sourceAdmin struct {
	store  store.Store
	poller *feeds.Poller
	log    *slog.Logger
	now    func() time.Time

	discoverTimeout, pollTimeout time.Duration
}

var (
	_ server.SourceAdmin = (*sourceAdmin)(nil)
)

// newSourceAdmin builds the admin over the store and the poller serve runs,
// so a source added through the API is fetched like every other.
func newSourceAdmin(a *app, s store.Store, p *feeds.Poller) *sourceAdmin {
	log := a.log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &sourceAdmin{
		store: s, poller: p, log: log, now: time.Now,
		discoverTimeout: adminDiscoverTimeout, pollTimeout: adminPollTimeout,
	}
}

// adminInputError is an error about what the client sent: its message is
// for them, and kind (server.ErrBadInput, server.ErrNoFeed,
// store.ErrExists) chooses the status.
type adminInputError struct {
	kind, err error
}

func (e *adminInputError) Error() string   { return e.err.Error() }
func (e *adminInputError) Unwrap() []error { return []error{e.kind, e.err} }

// Add finds the feed ns.URL means, stores it as a source and
// polls it once. A failed first poll is not an error: the source stays and
// the result says what went wrong.
func (sa *sourceAdmin) Add(ctx context.Context, ns server.NewSource) (server.AddResult, error) {
	o := feeds.OPMLSource{URL: ns.URL, Title: ns.Title, Filter: ns.Filter, Weight: ns.Weight}
	if err := o.Check(); err != nil {
		return server.AddResult{}, &adminInputError{server.ErrBadInput, err}
	}

	dctx, cancel := context.WithTimeout(ctx, sa.discoverTimeout)
	found, err := sa.poller.Discover(dctx, o.URL)
	cancel()
	switch {
	case errors.Is(err, feeds.ErrInvalidURL), errors.Is(err, feeds.ErrPrivateNetwork):
		return server.AddResult{}, &adminInputError{server.ErrBadInput, err}
	case err != nil:
		return server.AddResult{}, &adminInputError{server.ErrNoFeed, err}
	}
	o.URL = found.FeedURL
	if o.Title == "" {
		o.Title = found.Title
	}

	src := o.StoreSource()
	// Due only after the first poll below would have ended, so the
	// scheduler does not fetch it at the same time; should that poll be cut
	// short, the scheduler takes the source up then.
	src.NextCheck = sa.now().Add(2 * sa.pollTimeout)
	src, err = sa.store.AddSource(ctx, src)
	if errors.Is(err, store.ErrExists) {
		return server.AddResult{}, &adminInputError{store.ErrExists, sa.existsError(ctx, o.URL)}
	}
	if err != nil {
		return server.AddResult{}, fmt.Errorf("add source %s: %w", o.URL, err)
	}
	sa.log.Info("source added through the API", "id", src.ID, "url", src.URL, "found_from", found.Page)

	res := server.AddResult{Source: src, FoundFrom: found.Page}
	res.Poll = sa.poll(ctx, src)
	if after, err := sa.store.Source(ctx, src.ID); err == nil {
		res.Source = after
	}
	return res, nil
}

// existsError names the source that already has the feed.
func (sa *sourceAdmin) existsError(ctx context.Context, feedURL string) error {
	if srcs, err := sa.store.Sources(ctx); err == nil {
		for _, s := range srcs {
			if s.URL == feedURL {
				return fmt.Errorf("the feed %s is already source %d", feedURL, s.ID)
			}
		}
	}
	return fmt.Errorf("the feed %s is already a source", feedURL)
}

// Refresh polls one source now.
func (sa *sourceAdmin) Refresh(ctx context.Context, src store.Source) (server.PollResult, error) {
	return sa.poll(ctx, src), nil
}

// poll polls src once within pollTimeout.
func (sa *sourceAdmin) poll(ctx context.Context, src store.Source) server.PollResult {
	pctx, cancel := context.WithTimeout(ctx, sa.pollTimeout)
	defer cancel()
	r := sa.poller.PollSource(pctx, src)
	out := server.PollResult{Status: r.Status, Items: r.Items, New: r.New, Updated: r.Updated, NotModified: r.NotModified}
	if r.Err != nil {
		out.Error = r.Err.Error()
	}
	return out
}

// Import adds the sources of an OPML document, skipping those present. They
// are due at once, so the scheduler polls them.
func (sa *sourceAdmin) Import(ctx context.Context, opml io.Reader) (server.ImportResult, error) {
	list, err := feeds.ParseOPML(opml)
	if err != nil {
		return server.ImportResult{}, &adminInputError{server.ErrBadInput, err}
	}
	added, present, err := addSources(ctx, sa.store, list)
	res := server.ImportResult{Added: added, Skipped: present}
	if err != nil {
		return res, fmt.Errorf("import: %w (%d added before it)", err, added)
	}
	sa.log.Info("sources imported through the API", "added", added, "present", present)
	return res, nil
}
