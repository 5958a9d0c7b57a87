package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"

	"recap/store"
)

// Group commit. The pollers' workers call SaveFetch at the same time, and
// the one writer connection could serve them one transaction each; most of a
// small transaction's cost is its commit, which writes again every b-tree
// page the transaction touched. So one goroutine, the group writer, takes
// every fetch waiting when it is free and writes them in one transaction,
// each fetch inside its own SAVEPOINT.
//
// The rule "all items of one fetch in one transaction" holds: a
// fetch is written whole inside its savepoint, or rolled back to it whole,
// and a transaction holding several whole fetches keeps each all-or-nothing.
// A fetch that fails is rolled back alone and its caller gets its error;
// the others commit. No caller hears "stored" before the commit.
//
// The writer never waits for a group to fill: it takes what is queued the
// moment it is free, so a lone caller pays no added latency.
const (
	groupFetches  = 64   // at most this many fetches in one transaction
	groupArticles = 5000 // and about this many articles: the transaction stays short for readers and checkpoints
)

// errClosed answers SaveFetch calls made after Close.
var errClosed = errors.New("sqlite store closed")

// Request states: the caller and the writer race to move a queued request
// out of stateQueued, so exactly one of them decides its fate.
const (
	stateQueued    int32 = iota
	stateTaken           // the writer writes it; the caller waits for the commit
	stateAbandoned       // the caller's ctx ended first; the writer skips it
)

type saveReq struct {
	r     store.FetchResult
	state atomic.Int32
	done  chan saveResp // buffered: the writer never blocks on a caller
}

type saveResp struct {
	stats store.SaveStats
	err   error
}

// groupWriter is the queue in front of the writer goroutine.
type groupWriter struct {
	mu     sync.Mutex
	queue  []*saveReq
	closed bool
	wake   chan struct{} // capacity 1: "the queue may have work"
	done   chan struct{} // closed when the writer goroutine ends
}

func newGroupWriter() *groupWriter {
	return &groupWriter{wake: make(chan struct{}, 1), done: make(chan struct{})}
}

func (g *groupWriter) signal() {
	select {
	case g.wake <- struct{}{}:
	default:
	}
}

// enqueue adds a request, or says the store is closed.
func (g *groupWriter) enqueue(q *saveReq) bool {
	g.mu.Lock()
	if g.closed {
		g.mu.Unlock()
		return false
	}
	g.queue = append(g.queue, q)
	g.mu.Unlock()
	g.signal()
	return true
}

// next waits for work and takes one group: every request queued now, up to
// the bounds. ok is false once the store is closed and the queue drained.
func (g *groupWriter) next() (group []*saveReq, ok bool) {
	for {
		g.mu.Lock()
		if len(g.queue) > 0 {
			articles := 0
			n := 0
			for n < len(g.queue) && n < groupFetches && (n == 0 || articles+len(g.queue[n].r.Articles) <= groupArticles) {
				articles += len(g.queue[n].r.Articles)
				n++
			}
			group = append(group, g.queue[:n]...)
			// Shift rather than reslice, so the backing array does not
			// grow for as long as the store runs.
			rest := copy(g.queue, g.queue[n:])
			clear(g.queue[rest:])
			g.queue = g.queue[:rest]
			g.mu.Unlock()
			return group, true
		}
		if g.closed {
			g.mu.Unlock()
			return nil, false
		}
		g.mu.Unlock()
		<-g.wake
	}
}

// close refuses new requests and waits until the writer has written every
// queued one.
func (g *groupWriter) close() {
	g.mu.Lock()
	g.closed = true
	g.mu.Unlock()
	g.signal()
	<-g.done
}

// SaveFetch stores one fetch: the articles (dedupe level 1 by the sightings'
// primary key, level 2 by the unique URL), the fetch record and the source's
// new state, all or nothing, committed before it returns. Concurrent calls
// share one transaction (see group commit above). store.ErrNotFound when the
// source is gone.
//
// A caller whose ctx ends while its fetch waits in the queue gets ctx.Err()
// and nothing is written; once the writer has started on its fetch, it waits
// for the commit, because the fetch can no longer be taken back alone.
//
// State rules beyond the interface: after an error, or a 304 that repeats no
// validators, the stored ETag and Last-Modified stay (they still describe the
// last good body), and so does LastItems.
func (s *Store) SaveFetch(ctx context.Context, r store.FetchResult) (store.SaveStats, error) {
	if err := ctx.Err(); err != nil {
		return store.SaveStats{}, fmt.Errorf("save fetch of source %d: %w", r.Fetch.SourceID, err)
	}
	if r.Fetch.At.IsZero() {
		r.Fetch.At = s.now()
	}
	q := &saveReq{r: r, done: make(chan saveResp, 1)}
	if !s.gw.enqueue(q) {
		return store.SaveStats{}, fmt.Errorf("save fetch of source %d: %w", r.Fetch.SourceID, errClosed)
	}
	select {
	case resp := <-q.done:
		return resp.stats, resp.err
	case <-ctx.Done():
		if q.state.CompareAndSwap(stateQueued, stateAbandoned) {
			return store.SaveStats{}, fmt.Errorf("save fetch of source %d: %w", r.Fetch.SourceID, ctx.Err())
		}
		resp := <-q.done
		return resp.stats, resp.err
	}
}

// writeLoop is the group writer; it ends when Close has closed the queue and
// every queued fetch is answered.
//
// Statements run under ctx, the store's own context, never a caller's:
// SQLite answers an interrupted write inside a transaction by rolling back
// the whole transaction, which would take the other callers' fetches with it.
func (s *Store) writeLoop(ctx context.Context) {
	defer close(s.gw.done)
	var pending []*saveReq
	for {
		if len(pending) == 0 {
			group, ok := s.gw.next()
			if !ok {
				return
			}
			pending = group
		}
		pending = s.writeGroup(ctx, pending)
	}
}

// writeGroup writes the group in one transaction and answers every request
// it took, except those it returns to be written again (see loseGroup).
func (s *Store) writeGroup(ctx context.Context, group []*saveReq) []*saveReq {
	var live []*saveReq
	for _, q := range group {
		// A request already taken is a retry of a lost transaction; its
		// caller is waiting for it.
		if q.state.Load() == stateTaken || q.state.CompareAndSwap(stateQueued, stateTaken) {
			live = append(live, q)
		}
	}
	if len(live) == 0 {
		return nil
	}
	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		for _, q := range live {
			q.done <- saveResp{err: fmt.Errorf("save fetch of source %d: begin: %w", q.r.Fetch.SourceID, err)}
		}
		return nil
	}
	defer tx.Rollback()

	type written struct {
		q  *saveReq
		st store.SaveStats
	}
	var (
		ok       = make([]written, 0, len(live))
		newCount int
	)
	held := len(live)
	if len(live) == 1 {
		// Alone, the fetch needs no savepoint: the transaction is its own.
		q := live[0]
		st, err := s.saveOne(ctx, tx, q.r)
		if err != nil {
			q.done <- saveResp{err: err}
			return nil
		}
		ok = append(ok, written{q, st})
		newCount = st.New
		live = live[:0]
	}
	for i, q := range live {
		if _, err := tx.ExecContext(ctx, "SAVEPOINT fetch"); err != nil {
			return s.loseGroup(live, i, fmt.Errorf("save fetch of source %d: savepoint: %w", q.r.Fetch.SourceID, err))
		}
		st, ferr := s.saveOne(ctx, tx, q.r)
		if ferr != nil {
			if _, err := tx.ExecContext(ctx, "ROLLBACK TO fetch"); err != nil {
				return s.loseGroup(live, i, ferr)
			}
			if _, err := tx.ExecContext(ctx, "RELEASE fetch"); err != nil {
				return s.loseGroup(live, i, ferr)
			}
			q.done <- saveResp{err: ferr}
			continue
		}
		if _, err := tx.ExecContext(ctx, "RELEASE fetch"); err != nil {
			return s.loseGroup(live, i, fmt.Errorf("save fetch of source %d: release: %w", q.r.Fetch.SourceID, err))
		}
		ok = append(ok, written{q, st})
		newCount += st.New
	}
	if err := tx.Commit(); err != nil {
		for _, w := range ok {
			w.q.done <- saveResp{err: fmt.Errorf("save fetch of source %d: commit: %w", w.q.r.Fetch.SourceID, err)}
		}
		return nil
	}
	if s.onGroup != nil {
		s.onGroup(held)
	}
	if len(ok) > 0 {
		s.committed()
		s.noteNew(newCount)
	}
	for _, w := range ok {
		w.q.done <- saveResp{stats: w.st}
	}
	return nil
}

// loseGroup handles a transaction that can no longer commit (an I/O error,
// a trigger's RAISE(ROLLBACK)): live[i], at which it broke, gets err, and the
// others go again in a new transaction, the fetches written before live[i]
// being lost with it through no fault of their own. Each loss answers one
// request, so a group cannot be retried forever.
func (s *Store) loseGroup(live []*saveReq, i int, err error) []*saveReq {
	s.log.Warn("sqlite: a fetch broke its group's transaction; the others go again", "err", err)
	live[i].done <- saveResp{err: err}
	return append(slices.Clone(live[:i]), live[i+1:]...)
}

// saveOne writes one fetch inside the group's transaction. Its statements
// run inside the fetch's savepoint, so an error leaves nothing of it once the
// caller rolls back to that savepoint.
func (s *Store) saveOne(ctx context.Context, tx *sql.Tx, r store.FetchResult) (store.SaveStats, error) {
	var stats store.SaveStats
	srcID := r.Fetch.SourceID
	at := r.Fetch.At

	// The source's state first: its row count tells whether the source is
	// still there, before any article is written for it.
	f := r.Fetch
	failed := f.Err != ""
	notModified := f.Status == 304
	keepValidators := failed || (notModified && r.ETag == "" && r.LastModified == "")
	res, err := tx.StmtContext(ctx, s.stmts.updateSource).ExecContext(ctx,
		keepValidators, r.ETag, r.LastModified,
		at.UnixMilli(), nextCheck(r.NextCheck), f.Status, f.Err, r.ErrorCount,
		!failed && !notModified, f.Items,
		r.Title, r.SiteURL, srcID)
	if err != nil {
		return stats, fmt.Errorf("save fetch of source %d: state: %w", srcID, err)
	}
	if n, err := res.RowsAffected(); err != nil {
		return stats, fmt.Errorf("save fetch of source %d: state: %w", srcID, err)
	} else if n == 0 {
		return stats, fmt.Errorf("save fetch of source %d: %w", srcID, store.ErrNotFound)
	}
	if r.NewURL != "" {
		if _, err := tx.StmtContext(ctx, s.stmts.moveSource).ExecContext(ctx, r.NewURL, srcID); err != nil {
			return stats, fmt.Errorf("save fetch of source %d: move to %s: %w", srcID, r.NewURL, err)
		}
	}

	if len(r.Articles) > 0 {
		if stats, err = s.saveArticles(ctx, tx, srcID, at, r.Articles); err != nil {
			return store.SaveStats{}, fmt.Errorf("save fetch of source %d: %w", srcID, err)
		}
	}

	if _, err := tx.StmtContext(ctx, s.stmts.insertFetch).ExecContext(ctx, srcID, at.UnixMilli(), f.Status,
		f.Duration.Milliseconds(), f.Bytes, f.Items, stats.New, stats.Updated, f.Err); err != nil {
		return store.SaveStats{}, fmt.Errorf("save fetch of source %d: record: %w", srcID, err)
	}
	articlesChanged := stats.New+stats.Updated+stats.Sightings > 0
	if _, err := tx.StmtContext(ctx, s.stmts.bumpChanges).ExecContext(ctx, s.now().UnixMilli(), articlesChanged); err != nil {
		return store.SaveStats{}, fmt.Errorf("save fetch of source %d: %w", srcID, err)
	}
	return stats, nil
}
