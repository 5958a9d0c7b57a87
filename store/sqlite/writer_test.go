package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"recap/news"
	"recap/store"
)

// waitFor polls cond, a bounded number of times, for state another
// goroutine moves to; it asserts nothing about how long that takes.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for range 20000 {
		if cond() {
			return
		}
		time.Sleep(time.Millisecond)
	}
	t.Fatalf("gave up waiting for %s", what)
}

func queued(s *Store) int {
	s.gw.mu.Lock()
	defer s.gw.mu.Unlock()
	return len(s.gw.queue)
}

// holdWriter takes the writer's only connection, so the group writer blocks
// in BeginTx with the group it took, and later SaveFetch calls pile up in
// the queue. The returned func lets the writer go.
func holdWriter(t *testing.T, s *Store) func() {
	t.Helper()
	conn, err := s.w.Conn(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return func() { conn.Close() }
}

// takeFirst queues r, the first fetch after holdWriter, and waits until
// the writer has taken it, so the fetches queued after it wait in the queue.
func takeFirst(t *testing.T, s *Store, r store.FetchResult) <-chan saveResp {
	t.Helper()
	q := &saveReq{r: r, done: make(chan saveResp, 1)}
	if !s.gw.enqueue(q) {
		t.Fatal("store closed")
	}
	waitFor(t, "the writer to take the first fetch", func() bool { return q.state.Load() == stateTaken })
	return q.done
}

type saveOut struct {
	st  store.SaveStats
	err error
}

// saveAsync runs SaveFetch in its own goroutine.
func saveAsync(ctx context.Context, s *Store, r store.FetchResult) <-chan saveOut {
	out := make(chan saveOut, 1)
	go func() {
		st, err := s.SaveFetch(ctx, r)
		out <- saveOut{st, err}
	}()
	return out
}

func fetchFor(src store.Source, arts ...news.Article) store.FetchResult {
	return store.FetchResult{Fetch: store.Fetch{SourceID: src.ID, At: at, Status: 200, Items: len(arts)}, Articles: arts, ETag: `"v1"`}
}

func countRows(t *testing.T, db *sql.DB, query string, args ...any) int {
	t.Helper()
	var n int
	if err := db.QueryRow(query, args...).Scan(&n); err != nil {
		t.Fatalf("%s: %v", query, err)
	}
	return n
}

// TestGroupFailureAlone: fetches queued together are written in one
// transaction, and a fetch that fails among them leaves nothing while the
// others commit: a statement error (the trigger's ABORT), a source removed
// meanwhile, and an error that takes the whole transaction down (the
// trigger's ROLLBACK), after which the others are written again.
func TestGroupFailureAlone(t *testing.T) {
	for _, tc := range []struct {
		name   string
		bad    func(src store.Source) store.FetchResult
		errHas string
		// groups: the transactions the five queued fetches end in.
		groups []int
	}{
		{"statement error", func(src store.Source) store.FetchResult {
			a := article("bad", 1)
			a.Title = "boom"
			return fetchFor(src, article("bad", 0), a)
		}, "boom", []int{1, 5}},
		{"source gone", func(src store.Source) store.FetchResult {
			r := fetchFor(src, article("bad", 0))
			r.Fetch.SourceID = 999999
			return r
		}, store.ErrNotFound.Error(), []int{1, 5}},
		{"transaction lost", func(src store.Source) store.FetchResult {
			a := article("bad", 1)
			a.Title = "doom"
			return fetchFor(src, article("bad", 0), a)
		}, "doom", []int{1, 4}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := open(t, filepath.Join(t.TempDir(), "recap.db"))
			defer s.Close()
			if _, err := s.w.Exec(`CREATE TRIGGER test_abort BEFORE INSERT ON articles
				WHEN new.title = 'boom' BEGIN SELECT RAISE(ABORT, 'boom'); END;
				CREATE TRIGGER test_rollback BEFORE INSERT ON articles
				WHEN new.title = 'doom' BEGIN SELECT RAISE(ROLLBACK, 'doom'); END`); err != nil {
				t.Fatal(err)
			}
			var (
				mu     sync.Mutex
				groups []int
			)
			s.onGroup = func(n int) { mu.Lock(); groups = append(groups, n); mu.Unlock() }
			var srcs []store.Source
			for i := range 6 {
				srcs = append(srcs, addSource(t, s, fmt.Sprintf("https://example.com/%d", i)))
			}

			release := holdWriter(t, s)
			first := takeFirst(t, s, fetchFor(srcs[0], article("first", 0)))
			var outs []<-chan saveOut
			for i := 1; i <= 5; i++ {
				r := fetchFor(srcs[i], article(fmt.Sprintf("good%d", i), 0), article("shared", 0))
				if i == 3 {
					r = tc.bad(srcs[i])
				}
				outs = append(outs, saveAsync(context.Background(), s, r))
				waitFor(t, "the fetch to queue", func() bool { return queued(s) == i })
			}
			release()

			if o := <-first; o.err != nil || o.stats.New != 1 {
				t.Errorf("first fetch: %+v, %v; want 1 new", o.stats, o.err)
			}
			newCount := 0
			for i, out := range outs {
				o := <-out
				if i+1 == 3 {
					if o.err == nil || !strings.Contains(o.err.Error(), tc.errHas) {
						t.Errorf("failing fetch: err = %v, want %q", o.err, tc.errHas)
					}
					continue
				}
				if o.err != nil {
					t.Errorf("fetch %d: %v", i+1, o.err)
				}
				newCount += o.st.New
			}
			// Four good fetches: four own articles and one shared.
			if newCount != 5 {
				t.Errorf("good fetches reported %d new articles, want 5", newCount)
			}
			if n := countRows(t, s.r, `SELECT count(*) FROM articles WHERE url LIKE '%/bad/%'`); n != 0 {
				t.Errorf("%d articles of the failed fetch stored, want none", n)
			}
			if n := countRows(t, s.r, `SELECT count(*) FROM fetches WHERE source_id = ?`, srcs[3].ID); n != 0 {
				t.Errorf("%d fetch records of the failed fetch, want none", n)
			}
			if got, err := s.Source(context.Background(), srcs[3].ID); err != nil || got.ETag != "" {
				t.Errorf("failed fetch's source = %+v, %v; want it untouched", got, err)
			}
			if n := countRows(t, s.r, `SELECT count(*) FROM articles`); n != 6 {
				t.Errorf("%d articles stored, want 6", n)
			}
			if n := countRows(t, s.r, `SELECT count(*) FROM sightings`); n != 9 {
				t.Errorf("%d sightings stored, want 9", n)
			}
			mu.Lock()
			defer mu.Unlock()
			if fmt.Sprint(groups) != fmt.Sprint(tc.groups) {
				t.Errorf("committed transactions held %v fetches, want %v", groups, tc.groups)
			}
		})
	}
}

// TestSaveFetchCancelledWhileQueued: a caller whose ctx ends while its fetch
// waits returns at once with ctx's error, and its fetch is never written.
func TestSaveFetchCancelledWhileQueued(t *testing.T) {
	s := open(t, filepath.Join(t.TempDir(), "recap.db"))
	defer s.Close()
	a, b := addSource(t, s, "https://example.com/a"), addSource(t, s, "https://example.com/b")

	release := holdWriter(t, s)
	first := takeFirst(t, s, fetchFor(a, article("a", 0)))
	ctx, cancel := context.WithCancel(context.Background())
	second := saveAsync(ctx, s, fetchFor(b, article("b", 0)))
	waitFor(t, "the second fetch to queue", func() bool { return queued(s) == 1 })
	cancel()
	// The writer is still held: the caller must not wait for it.
	if o := <-second; !errors.Is(o.err, context.Canceled) {
		t.Errorf("cancelled SaveFetch: err = %v, want context.Canceled", o.err)
	}
	release()
	if o := <-first; o.err != nil {
		t.Errorf("first fetch: %v", o.err)
	}
	if n := countRows(t, s.r, `SELECT count(*) FROM fetches WHERE source_id = ?`, b.ID); n != 0 {
		t.Errorf("cancelled fetch wrote %d fetch records, want none", n)
	}
	if n := countRows(t, s.r, `SELECT count(*) FROM articles`); n != 1 {
		t.Errorf("%d articles, want 1", n)
	}
	// A ctx done before the call fails it up front.
	if _, err := s.SaveFetch(ctx, fetchFor(b, article("b", 1))); !errors.Is(err, context.Canceled) {
		t.Errorf("SaveFetch with a done ctx: err = %v, want context.Canceled", err)
	}
}

// TestConcurrentSaveFetch16: 16 callers at once, with half their items
// shared, each answered with its own stats; the stats add up to what is
// stored, and each caller's fetch was all-or-nothing.
func TestConcurrentSaveFetch16(t *testing.T) {
	s := open(t, filepath.Join(t.TempDir(), "recap.db"))
	defer s.Close()
	var (
		mu      sync.Mutex
		fetches int
	)
	s.onGroup = func(n int) { mu.Lock(); fetches += n; mu.Unlock() }
	const callers, rounds, perRound = 16, 5, 10
	srcs := make([]store.Source, callers)
	for i := range srcs {
		srcs[i] = addSource(t, s, fmt.Sprintf("https://example.com/%d", i))
	}
	var (
		wg                 sync.WaitGroup
		totalNew, totalSee int
		errs               []error
	)
	for c := range callers {
		wg.Go(func() {
			for r := range rounds {
				arts := racingRound(fmt.Sprintf("c%d", c), r, perRound)
				st, err := s.SaveFetch(context.Background(), fetchFor(srcs[c], arts...))
				mu.Lock()
				if err != nil {
					errs = append(errs, err)
				}
				totalNew += st.New
				totalSee += st.Sightings
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	for _, err := range errs {
		t.Error(err)
	}
	wantArticles := rounds*perRound/2 + callers*rounds*perRound/2
	if n := countRows(t, s.r, `SELECT count(*) FROM articles`); n != wantArticles || totalNew != wantArticles {
		t.Errorf("articles = %d, reported new = %d; want %d", n, totalNew, wantArticles)
	}
	if want := callers*rounds*perRound - wantArticles; totalSee != want {
		t.Errorf("reported sightings of stored articles = %d, want %d", totalSee, want)
	}
	if n := countRows(t, s.r, `SELECT count(*) FROM sightings`); n != callers*rounds*perRound {
		t.Errorf("sightings = %d, want %d", n, callers*rounds*perRound)
	}
	if n := countRows(t, s.r, `SELECT count(*) FROM fetches WHERE new_items + items > 0`); n != callers*rounds {
		t.Errorf("fetch records = %d, want %d", n, callers*rounds)
	}
	mu.Lock()
	defer mu.Unlock()
	if fetches != callers*rounds {
		t.Errorf("transactions held %d fetches in all, want %d", fetches, callers*rounds)
	}
}

// TestCloseDrainsQueue: Close writes every fetch queued before it, answers
// every caller, refuses later calls, and leaves no goroutine behind.
func TestCloseDrainsQueue(t *testing.T) {
	before := runtime.NumGoroutine()
	path := filepath.Join(t.TempDir(), "recap.db")
	s := open(t, path)
	var srcs []store.Source
	for i := range 4 {
		srcs = append(srcs, addSource(t, s, fmt.Sprintf("https://example.com/%d", i)))
	}
	release := holdWriter(t, s)
	first := takeFirst(t, s, fetchFor(srcs[0], article("0", 0)))
	var outs []<-chan saveOut
	for i, src := range srcs[1:] {
		outs = append(outs, saveAsync(context.Background(), s, fetchFor(src, article(fmt.Sprint(i+1), 0))))
		waitFor(t, "the fetch to queue", func() bool { return queued(s) == i+1 })
	}
	closed := make(chan error, 1)
	go func() { closed <- s.Close() }()
	waitFor(t, "Close to shut the queue", func() bool {
		s.gw.mu.Lock()
		defer s.gw.mu.Unlock()
		return s.gw.closed
	})
	if _, err := s.SaveFetch(context.Background(), fetchFor(srcs[0], article("late", 0))); !errors.Is(err, errClosed) {
		t.Errorf("SaveFetch during Close: err = %v, want errClosed", err)
	}
	release()
	if o := <-first; o.err != nil || o.stats.New != 1 {
		t.Errorf("first fetch: %+v, %v; want 1 new", o.stats, o.err)
	}
	for i, out := range outs {
		if o := <-out; o.err != nil || o.st.New != 1 {
			t.Errorf("queued fetch %d: %+v, %v; want 1 new", i, o.st, o.err)
		}
	}
	if err := <-closed; err != nil {
		t.Fatalf("Close: %v", err)
	}
	if _, err := s.SaveFetch(context.Background(), fetchFor(srcs[0], article("late", 1))); !errors.Is(err, errClosed) {
		t.Errorf("SaveFetch after Close: err = %v, want errClosed", err)
	}
	db, err := sql.Open("sqlite", "file:"+path+"?mode=ro")
	if err != nil {
		t.Fatal(err)
	}
	n := countRows(t, db, `SELECT count(*) FROM articles`)
	db.Close()
	if n != 4 {
		t.Errorf("articles after Close = %d, want 4", n)
	}
	waitFor(t, "the store's goroutines to end", func() bool { return runtime.NumGoroutine() <= before })
}

// TestRepeatedKeyInBatch: an item twice in one fetch, edited in between, is
// one article and one sighting, both carrying the later copy, as when the
// copies come in two fetches.
func TestRepeatedKeyInBatch(t *testing.T) {
	s := open(t, filepath.Join(t.TempDir(), "recap.db"))
	defer s.Close()
	src := addSource(t, s, "https://example.com/feed")
	first := article("a", 1)
	first.GUID = "guid-1"
	first.ItemKey = "g:guid-1"
	later := first
	later.Title, later.Link = "Edited", first.Link+"?v=2"
	var arts []news.Article
	for i := range 40 { // enough rows that the sightings go in several chunks
		arts = append(arts, article("b", i))
	}
	arts = append(arts, first, article("c", 1), later)
	st := saveArticles(t, s, src, arts...)
	if st.New != 42 || st.Updated != 1 {
		t.Errorf("stats %+v, want 42 new and 1 updated", st)
	}
	var title, guid, link string
	if err := s.r.QueryRow(`SELECT a.title, g.guid, g.link FROM sightings g JOIN articles a ON a.id = g.article_id
		WHERE g.item_key = 'g:guid-1'`).Scan(&title, &guid, &link); err != nil {
		t.Fatal(err)
	}
	if title != "Edited" || guid != "guid-1" || link != later.Link {
		t.Errorf("stored %q, %q, %q; want the later copy", title, guid, link)
	}
	if n := countRows(t, s.r, `SELECT count(*) FROM sightings`); n != 42 {
		t.Errorf("sightings = %d, want 42", n)
	}
}
