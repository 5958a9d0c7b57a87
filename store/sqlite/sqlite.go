package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	_ "modernc.org/sqlite" // registers the "sqlite" driver

	"recap/store"
)

// Store is the SQLite backend of store.Store.
//
// It keeps two pools on one file: a single writer connection, so writes queue
// in Go instead of fighting over the file lock, and a pool of read-only
// connections, which WAL mode lets read while the writer writes. SaveFetch
// calls queue for one goroutine that writes the waiting ones together (group
// commit, writer.go). Two more take work off the writer's path: one
// checkpoints the WAL on a connection of its own, one indexes new articles
// for search in bulk (see IndexSearch). Close drains the queue, then stops
// them all.
type Store struct {
	w   *sql.DB // one connection: every write goes through it
	r   *sql.DB // read-only pool
	ck  *sql.DB // one connection for background checkpoints
	now func() time.Time

	// Statements of the SaveFetch hot path, prepared once on the writer.
	stmts saveStmts
	// The queue of SaveFetch calls in front of the group writer.
	gw *groupWriter
	// onGroup, when set (by tests, before any SaveFetch), hears how many
	// fetches each committed transaction held.
	onGroup func(fetches int)

	log       *slog.Logger
	backlog   atomic.Int64  // articles stored since the indexer last ran
	indexWake chan struct{} // wakes the background indexer
	stopIndex context.CancelFunc
	indexDone chan struct{}

	commits  atomic.Int64
	ckptWake chan struct{}
	stopCkpt context.CancelFunc
	ckptDone chan struct{}

	closeOnce sync.Once
	closeErr  error
}

var _ store.Store = (*Store)(nil)

// Option adjusts a Store as Open makes it.
type Option func(*Store)

// WithClock makes the store read the time from now instead of time.Now: the
// dates of changes, and when leases expire. Tests move it to expire a lease
// without waiting for it.
func WithClock(now func() time.Time) Option {
	return func(s *Store) {
		if now != nil {
			s.now = now
		}
	}
}

// Open opens (creating if needed) the database file at path and brings its
// schema up to date. In-memory databases are refused: the writer and the
// readers are separate connections and would each see an empty database.
func Open(ctx context.Context, path string, opts ...Option) (*Store, error) {
	if path == "" || path == ":memory:" || strings.HasPrefix(path, "file::memory:") || strings.Contains(path, "mode=memory") {
		return nil, fmt.Errorf("open sqlite %q: an on-disk file is required", path)
	}
	name := "file:" + escapePath(path)
	common := "?_pragma=busy_timeout(10000)&_pragma=foreign_keys(1)&_pragma=synchronous(NORMAL)" +
		"&_pragma=cache_size(-16000)&_pragma=temp_store(MEMORY)"

	// The writer checkpoints only as a backstop (the default is 1000
	// pages): checkpoints run on their own connection, off the writer's path.
	w, err := sql.Open("sqlite", name+common+"&_txlock=immediate&_pragma=wal_autocheckpoint(8000)")
	if err != nil {
		return nil, fmt.Errorf("open sqlite %s: %w", path, err)
	}
	w.SetMaxOpenConns(1)
	w.SetMaxIdleConns(1)
	w.SetConnMaxLifetime(0)
	w.SetConnMaxIdleTime(0)

	s := &Store{w: w, now: time.Now, log: slog.Default(), indexWake: make(chan struct{}, 1), ckptWake: make(chan struct{}, 1)}
	for _, o := range opts {
		o(s)
	}
	if err := setJournal(ctx, w); err != nil {
		w.Close()
		return nil, fmt.Errorf("open sqlite %s: %w", path, err)
	}
	if err := migrate(ctx, w); err != nil {
		w.Close()
		return nil, fmt.Errorf("open sqlite %s: %w", path, err)
	}

	// Readers open after the writer has switched the file to WAL and created
	// the schema; query_only keeps a bug from writing through them.
	r, err := sql.Open("sqlite", name+common+"&_pragma=query_only(1)")
	if err != nil {
		w.Close()
		return nil, fmt.Errorf("open sqlite %s: %w", path, err)
	}
	n := max(4, runtime.GOMAXPROCS(0))
	r.SetMaxOpenConns(n)
	r.SetMaxIdleConns(n)
	s.r = r
	if err := r.PingContext(ctx); err != nil {
		s.Close()
		return nil, fmt.Errorf("open sqlite %s: %w", path, err)
	}
	ck, err := sql.Open("sqlite", name+common)
	if err != nil {
		s.Close()
		return nil, fmt.Errorf("open sqlite %s: %w", path, err)
	}
	ck.SetMaxOpenConns(1)
	s.ck = ck
	if err := s.stmts.prepare(ctx, w); err != nil {
		s.Close()
		return nil, fmt.Errorf("open sqlite %s: %w", path, err)
	}
	ictx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	s.stopIndex, s.indexDone = cancel, make(chan struct{})
	// Articles a previous run stored but did not index get indexed now.
	s.backlog.Store(1)
	s.indexWake <- struct{}{}
	go s.indexLoop(ictx)
	cctx, ccancel := context.WithCancel(context.WithoutCancel(ctx))
	s.stopCkpt, s.ckptDone = ccancel, make(chan struct{})
	go s.checkpointLoop(cctx)
	// Never cancelled: Close stops the writer by draining its queue.
	s.gw = newGroupWriter()
	go s.writeLoop(context.WithoutCancel(ctx))
	return s, nil
}

// setJournal switches the file to WAL mode, which is persistent: the readers
// find the file in WAL mode. Done here rather than in the DSN so a file
// system that cannot do WAL fails Open instead of silently keeping a
// rollback journal (where readers and the writer block each other).
func setJournal(ctx context.Context, w *sql.DB) error {
	var mode string
	if err := w.QueryRowContext(ctx, "PRAGMA journal_mode = WAL").Scan(&mode); err != nil {
		return fmt.Errorf("set WAL mode: %w", err)
	}
	if !strings.EqualFold(mode, "wal") {
		return fmt.Errorf("set WAL mode: the file stays in %q mode", mode)
	}
	return nil
}

// escapePath makes a file name safe inside an SQLite URI, where '?' starts
// the parameters, '#' a fragment and '%' an escape.
func escapePath(p string) string {
	return strings.NewReplacer("%", "%25", "?", "%3f", "#", "%23").Replace(p)
}

// Ping checks that both pools can reach the database.
func (s *Store) Ping(ctx context.Context) error {
	if err := s.w.PingContext(ctx); err != nil {
		return fmt.Errorf("ping sqlite writer: %w", err)
	}
	if err := s.r.PingContext(ctx); err != nil {
		return fmt.Errorf("ping sqlite readers: %w", err)
	}
	return nil
}

// Close checkpoints the WAL into the main file, so the file is complete on
// its own, and closes both pools. Calling it again returns the first result.
func (s *Store) Close() error {
	s.closeOnce.Do(func() {
		// Every fetch queued before Close is written and answered first.
		if s.gw != nil {
			s.gw.close()
		}
		// The indexer stops mid-chunk if it must; what it leaves is indexed
		// at the next Open.
		if s.stopIndex != nil {
			s.stopIndex()
			<-s.indexDone
		}
		if s.stopCkpt != nil {
			s.stopCkpt()
			<-s.ckptDone
		}
		var errs []error
		if s.ck != nil {
			errs = append(errs, s.ck.Close())
		}
		if s.r != nil {
			errs = append(errs, s.r.Close())
		}
		s.stmts.close()
		// The readers are closed, so a TRUNCATE checkpoint can complete.
		if _, err := s.w.Exec("PRAGMA wal_checkpoint(TRUNCATE)"); err != nil {
			errs = append(errs, fmt.Errorf("checkpoint: %w", err))
		}
		errs = append(errs, s.w.Close())
		if err := errors.Join(errs...); err != nil {
			s.closeErr = fmt.Errorf("close sqlite: %w", err)
		}
	})
	return s.closeErr
}

// ms stores a time as unix milliseconds; the zero time is NULL.
func ms(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return t.UnixMilli()
}

// fromMS reads a time stored by ms, in UTC.
func fromMS(v sql.NullInt64) time.Time {
	if !v.Valid {
		return time.Time{}
	}
	return time.UnixMilli(v.Int64).UTC()
}

func msDuration(v int64) time.Duration { return time.Duration(v) * time.Millisecond }

// ckptEvery is how many commits pass between background checkpoints. The
// checkpointer copies pages while the writer goes on, which took a quarter
// off the ingest benchmark's wall time (4.8 s to 3.7 s) against SQLite's
// default of checkpointing inside the commit that fills 1000 pages. With
// group commit a commit holds two or three fetches; 16 (rather than 8) lets a
// checkpoint copy a hot page once for more of them: ingest 4.02 s to 3.97 s,
// 3 of 3 runs faster. wal_autocheckpoint still bounds the WAL.
const ckptEvery = 16

// committed counts a write transaction and wakes the checkpointer now and
// then.
func (s *Store) committed() {
	if s.commits.Add(1)%ckptEvery == 0 {
		select {
		case s.ckptWake <- struct{}{}:
		default:
		}
	}
}

// checkpointLoop copies committed pages from the WAL into the database file
// on its own connection, concurrently with the writer (a PASSIVE checkpoint
// waits for no one), so commits do not pay for it.
func (s *Store) checkpointLoop(ctx context.Context) {
	defer close(s.ckptDone)
	for {
		select {
		case <-ctx.Done():
			return
		case <-s.ckptWake:
		}
		if _, err := s.ck.ExecContext(ctx, "PRAGMA wal_checkpoint(PASSIVE)"); err != nil && ctx.Err() == nil {
			s.log.Error("sqlite: checkpoint", "err", err)
		}
	}
}
