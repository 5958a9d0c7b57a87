package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"recap/news"
	"recap/store"
)

// TestLeaseAcrossProcesses: two stores on one file stand for two processes
// (each has its own connections, so only SQLite's file lock orders them).
// Holders racing for a free lease through both get exactly one winner, and
// only the winner can save.
func TestLeaseAcrossProcesses(t *testing.T) {
	path := filepath.Join(t.TempDir(), "recap.db")
	stores := []*Store{open(t, path), open(t, path)}
	for _, s := range stores {
		t.Cleanup(func() { s.Close() })
	}
	ctx := context.Background()
	const holders = 8
	for round := range 5 {
		name := fmt.Sprintf("stories-%d", round)
		won := make([]bool, holders)
		var wg sync.WaitGroup
		for h := range holders {
			wg.Go(func() {
				ok, err := stores[h%2].AcquireLease(ctx, store.Lease{Name: name, Holder: fmt.Sprint("h", h)}, time.Minute)
				if err != nil {
					t.Errorf("round %d: AcquireLease by h%d: %v", round, h, err)
				}
				won[h] = ok
			})
		}
		wg.Wait()
		var winners []int
		for h, ok := range won {
			if ok {
				winners = append(winners, h)
			}
		}
		if len(winners) != 1 {
			t.Fatalf("round %d: winners %v, want exactly one", round, winners)
		}
		for h := range holders {
			err := stores[(h+1)%2].SaveStories(ctx, store.Lease{Name: name, Holder: fmt.Sprint("h", h)}, nil, nil)
			if h == winners[0] && err != nil {
				t.Errorf("round %d: the winner h%d cannot save through the other store: %v", round, h, err)
			}
			if h != winners[0] && !errors.Is(err, store.ErrLeaseLost) {
				t.Errorf("round %d: loser h%d saved: err = %v, want ErrLeaseLost", round, h, err)
			}
		}
	}
}

// TestStoryQueriesUseIndexes: every query of the story stage and pages reads
// an index range or probes by key, never a whole table: at a million
// articles a scan is a second per page.
func TestStoryQueriesUseIndexes(t *testing.T) {
	s := open(t, filepath.Join(t.TempDir(), "recap.db"))
	defer s.Close()
	queries := []struct {
		name  string
		query string
		args  []any
		uses  string // the index the plan must name
	}{
		{"unclustered", unclusteredQuery, []any{10}, "articles_unclustered"},
		{"clustered", clusteredQuery, []any{0, 0, 10}, "articles_published"},
		{"stories", storiesQuery, []any{10}, "stories_updated"},
		{"stories before", storiesBeforeQuery, []any{0, 0, 10}, "stories_updated"},
		{"story", storyQuery, []any{1}, "INTEGER PRIMARY KEY"},
		{"story page", storyPageQuery, []any{0, 10}, "INTEGER PRIMARY KEY"},
		{"outlet counts", outletCountsQuery, []any{"[1,2]"}, "sightings_article"},
		{"members", storyMembersQuery, []any{"[1,2]"}, "articles_story"},
		{"member sightings", storySightingsQuery, []any{"[1,2]"}, "sightings_article"},
	}
	for _, q := range queries {
		checkPlan(t, s.r, q.name, q.query, q.args, q.uses)
	}
}

// queryPlan returns the steps of EXPLAIN QUERY PLAN of query.
func queryPlan(t *testing.T, db *sql.DB, query string, args ...any) []string {
	t.Helper()
	rows, err := db.Query("EXPLAIN QUERY PLAN "+query, args...)
	if err != nil {
		t.Fatalf("explain %s: %v", query, err)
	}
	defer rows.Close()
	var plan []string
	for rows.Next() {
		var id, parent, notused int
		var detail string
		if err := rows.Scan(&id, &parent, &notused, &detail); err != nil {
			t.Fatalf("explain: %v", err)
		}
		plan = append(plan, detail)
	}
	if err := rows.Err(); err != nil {
		t.Fatalf("explain: %v", err)
	}
	return plan
}

// checkPlan fails when the plan of query does not name each of uses or
// reads a whole table: a SCAN of a table rather than of an index. A scan of
// json_each reads only its argument, and one of a subquery's co-routine
// only the rows the subquery made (its own steps are checked too).
func checkPlan(t *testing.T, db *sql.DB, name, query string, args []any, uses ...string) {
	t.Helper()
	plan := queryPlan(t, db, query, args...)
	text := strings.Join(plan, "; ")
	for _, u := range uses {
		if !strings.Contains(text, u) {
			t.Errorf("%s: plan %q does not use %s", name, text, u)
		}
	}
	coroutines := map[string]bool{}
	for _, step := range plan {
		if c, ok := strings.CutPrefix(step, "CO-ROUTINE "); ok {
			coroutines[c] = true
		}
	}
	for _, step := range plan {
		scanned, ok := strings.CutPrefix(step, "SCAN ")
		if !ok || strings.Contains(step, "INDEX") || strings.Contains(step, "VIRTUAL TABLE") || coroutines[scanned] {
			continue
		}
		t.Errorf("%s: plan step %q reads a whole table", name, step)
	}
}

// openAtSchema creates a database file with the first n migrations only,
// as an older Recap left it; it returns its path, the open database and
// every migration.
func openAtSchema(t *testing.T, n int) (string, *sql.DB, []migration) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "recap.db")
	db, err := sql.Open("sqlite", "file:"+path)
	if err != nil {
		t.Fatal(err)
	}
	ms, err := migrations()
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range ms[:n] {
		if _, err := db.Exec(m.sql); err != nil {
			t.Fatalf("%s: %v", m.name, err)
		}
	}
	return path, db, ms
}

// TestMigrationKeepsQueue: a database of schema 2 with articles gets the
// story tables, and its articles, none clustered yet, are the queue in
// published order.
func TestMigrationKeepsQueue(t *testing.T) {
	path, db, ms := openAtSchema(t, 2)
	if _, err := db.Exec(`PRAGMA user_version = 2;
		INSERT INTO sources (id, url, created) VALUES (1, 'https://a.example/feed', 0);
		INSERT INTO articles (id, url, title, published, collected, source_id, content_hash) VALUES
			(1, 'https://a.example/1', 'one', 3000, 0, 1, x'00'),
			(2, 'https://a.example/2', 'two', 1000, 0, 1, x'00'),
			(3, 'https://a.example/3', 'three', 2000, 0, 1, x'00')`); err != nil {
		t.Fatal(err)
	}
	db.Close()

	s := open(t, path)
	defer s.Close()
	if got := pragma(t, s.r, "user_version"); got != fmt.Sprint(len(ms)) {
		t.Errorf("user_version = %s, want %d", got, len(ms))
	}
	arts, err := s.Unclustered(context.Background(), 10)
	if err != nil {
		t.Fatal(err)
	}
	var ids []int64
	for _, a := range arts {
		ids = append(ids, a.ID)
	}
	if !slices.Equal(ids, []int64{2, 3, 1}) {
		t.Errorf("queue after migration = %v, want [2 3 1] (published order)", ids)
	}
	objects := schemaObjects(t, s.r)
	for _, want := range []string{"table stories", "index stories_updated", "table leases", "index articles_unclustered"} {
		if !slices.Contains(objects, want) {
			t.Errorf("schema lacks %s", want)
		}
	}
}

// BenchmarkSaveStories writes what one run of the clusterer hands over
// while it catches up: 10,000 assignments of new articles over 2,000 stories
// of five members, each with a new lead, a third of the members near-copies.
// Each op first stores 10,000 new articles (untimed, and indexed for search,
// so the background indexer does not run in the timed part), as polling
// would: the store grows by 10,000 articles an op.
func BenchmarkSaveStories(b *testing.B) {
	const (
		batch   = 10_000
		members = 5
	)
	sources := batch / benchItems
	s, srcs := benchStore(b, sources)
	ctx := context.Background()
	l := store.Lease{Name: "stories", Holder: "bench"}
	if ok, err := s.AcquireLease(ctx, l, 24*time.Hour); err != nil || !ok {
		b.Fatalf("AcquireLease = %v, %v", ok, err)
	}
	b.ReportAllocs()
	var cpu time.Duration
	n := 0
	for b.Loop() {
		b.StopTimer()
		for i, src := range srcs {
			if _, err := s.SaveFetch(ctx, fetchOf(src, benchBatch(i, n))); err != nil {
				b.Fatal(err)
			}
		}
		if _, err := s.IndexSearch(ctx); err != nil {
			b.Fatal(err)
		}
		arts, err := s.Unclustered(ctx, batch)
		if err != nil || len(arts) != batch {
			b.Fatalf("Unclustered = %d, %v; want %d", len(arts), err, batch)
		}
		as := make([]store.Assignment, 0, batch)
		stories := make([]news.Story, 0, batch/members)
		for first := 0; first < batch; first += members {
			group := arts[first : first+members]
			st := news.Story{ID: group[0].ID, Lead: group[1].ID, FirstSeen: group[0].Published, Updated: group[members-1].Published}
			for j, a := range group {
				st.Articles = append(st.Articles, a.ID)
				var dup int64
				if j%3 == 2 {
					dup = group[0].ID
				}
				as = append(as, store.Assignment{ArticleID: a.ID, StoryID: st.ID, DuplicateOf: dup})
			}
			stories = append(stories, st)
		}
		b.StartTimer()
		cpu0 := cpuTime()
		if err := s.SaveStories(ctx, l, as, stories); err != nil {
			b.Fatal(err)
		}
		cpu += cpuTime() - cpu0
		n++
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(n*batch), "ns/assignment")
	b.ReportMetric(float64(cpu.Nanoseconds())/float64(n*batch), "cpu-ns/assignment")
}

// BenchmarkStories reads the first page of the list (50 stories, their
// leads and outlet counts) from a store of 10,000 articles in 2,000 stories.
func BenchmarkStories(b *testing.B) {
	s, srcs := benchStore(b, 200)
	ctx := context.Background()
	for i, src := range srcs {
		if _, err := s.SaveFetch(ctx, fetchOf(src, benchBatch(i, 0))); err != nil {
			b.Fatal(err)
		}
	}
	var ids []int64
	if err := s.EachArticle(ctx, func(r store.ArticleRecord) error {
		ids = append(ids, r.ID)
		return nil
	}); err != nil {
		b.Fatal(err)
	}
	l := store.Lease{Name: "stories", Holder: "bench"}
	if ok, err := s.AcquireLease(ctx, l, time.Hour); err != nil || !ok {
		b.Fatalf("AcquireLease = %v, %v", ok, err)
	}
	var (
		as      []store.Assignment
		stories []news.Story
	)
	for first := 0; first+5 <= len(ids); first += 5 {
		st := news.Story{ID: ids[first], Lead: ids[first], FirstSeen: at, Updated: at.Add(time.Duration(first) * time.Second), Articles: ids[first : first+5]}
		for _, id := range st.Articles {
			as = append(as, store.Assignment{ArticleID: id, StoryID: st.ID})
		}
		stories = append(stories, st)
	}
	if err := s.SaveStories(ctx, l, as, stories); err != nil {
		b.Fatal(err)
	}
	// Index now, so the background indexer does not write during the loop.
	if _, err := s.IndexSearch(ctx); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		page, err := s.Stories(ctx, store.StoryQuery{})
		if err != nil {
			b.Fatal(err)
		}
		if len(page) != store.DefaultLimit {
			b.Fatalf("%d stories, want %d", len(page), store.DefaultLimit)
		}
	}
}
