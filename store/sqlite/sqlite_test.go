package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"recap/news"
	"recap/store"
	"recap/store/storetest"
)

func open(t testing.TB, path string) *Store {
	t.Helper()
	s, err := Open(context.Background(), path)
	if err != nil {
		t.Fatalf("Open(%s): %v", path, err)
	}
	return s
}

func TestConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T, now func() time.Time) store.Store {
		s, err := Open(t.Context(), filepath.Join(t.TempDir(), "recap.db"), WithClock(now))
		if err != nil {
			t.Fatalf("Open: %v", err)
		}
		return s
	})
}

var at = time.Date(2026, 4, 1, 12, 0, 0, 0, time.UTC)

func article(prefix string, n int) news.Article {
	url := fmt.Sprintf("https://example.com/%s/%d", prefix, n)
	title := fmt.Sprintf("Story %s %d", prefix, n)
	return news.Article{
		ItemKey: news.ItemKey("", url, title, at), Link: url, URL: url,
		Title: title, Summary: "A summary.", Text: "Some text.", Published: at, Collected: at,
	}
}

func addSource(t testing.TB, s *Store, url string) store.Source {
	t.Helper()
	src, err := s.AddSource(context.Background(), store.Source{URL: url})
	if err != nil {
		t.Fatalf("AddSource: %v", err)
	}
	return src
}

func saveArticles(t testing.TB, s *Store, src store.Source, arts ...news.Article) store.SaveStats {
	t.Helper()
	st, err := s.SaveFetch(context.Background(), store.FetchResult{
		Fetch:    store.Fetch{SourceID: src.ID, At: at, Status: 200, Items: len(arts)},
		Articles: arts,
	})
	if err != nil {
		t.Fatalf("SaveFetch: %v", err)
	}
	return st
}

func pragma(t *testing.T, db *sql.DB, name string) string {
	t.Helper()
	var v string
	if err := db.QueryRow("PRAGMA " + name).Scan(&v); err != nil {
		t.Fatalf("PRAGMA %s: %v", name, err)
	}
	return v
}

func schemaObjects(t *testing.T, db *sql.DB) []string {
	t.Helper()
	rows, err := db.Query(`SELECT type || ' ' || name FROM sqlite_schema ORDER BY 1`)
	if err != nil {
		t.Fatalf("list schema: %v", err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			t.Fatalf("list schema: %v", err)
		}
		out = append(out, s)
	}
	if err := rows.Err(); err != nil {
		t.Fatalf("list schema: %v", err)
	}
	return out
}

func TestMigrationsIdempotent(t *testing.T) {
	path := filepath.Join(t.TempDir(), "recap.db")
	s := open(t, path)
	src := addSource(t, s, "https://example.com/feed")
	saveArticles(t, s, src, article("a", 1))
	objects := schemaObjects(t, s.r)
	ms, err := migrations()
	if err != nil {
		t.Fatalf("migrations: %v", err)
	}
	if got, want := pragma(t, s.r, "user_version"), fmt.Sprint(len(ms)); got != want {
		t.Errorf("user_version = %s, want %s", got, want)
	}
	if err := s.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}

	for range 2 {
		s = open(t, path)
		if got := schemaObjects(t, s.r); !slices.Equal(got, objects) {
			t.Errorf("schema after re-open = %v, want %v", got, objects)
		}
		if got, want := pragma(t, s.r, "user_version"), fmt.Sprint(len(ms)); got != want {
			t.Errorf("user_version after re-open = %s, want %s", got, want)
		}
		if n, err := s.CountArticles(context.Background()); err != nil || n != 1 {
			t.Errorf("CountArticles after re-open = %d, %v; want 1", n, err)
		}
		if err := s.Close(); err != nil {
			t.Fatalf("Close: %v", err)
		}
	}
	for _, want := range []string{"table sources", "table articles", "table sightings", "table fetches",
		"table articles_fts", "index sources_due", "index articles_unclustered", "index sightings_article",
		"index fetches_source_at", "trigger articles_fts_update"} {
		if !slices.Contains(objects, want) {
			t.Errorf("schema lacks %s", want)
		}
	}
}

func TestNewerSchemaRefused(t *testing.T) {
	path := filepath.Join(t.TempDir(), "recap.db")
	s := open(t, path)
	if err := s.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	db, err := sql.Open("sqlite", "file:"+path)
	if err != nil {
		t.Fatalf("sql.Open: %v", err)
	}
	if _, err := db.Exec("PRAGMA user_version = 999"); err != nil {
		t.Fatalf("set user_version: %v", err)
	}
	db.Close()

	s, err = Open(context.Background(), path)
	if err == nil {
		s.Close()
		t.Fatal("Open of a database from a newer version: no error")
	}
	if !strings.Contains(err.Error(), "newer") || !strings.Contains(err.Error(), "999") {
		t.Errorf("error %q does not say the schema is newer", err)
	}
}

func TestMemoryRefused(t *testing.T) {
	for _, p := range []string{"", ":memory:", "file::memory:?cache=shared"} {
		if s, err := Open(context.Background(), p); err == nil {
			s.Close()
			t.Errorf("Open(%q): no error, want an on-disk file required", p)
		}
	}
}

func TestPragmas(t *testing.T) {
	s := open(t, filepath.Join(t.TempDir(), "recap.db"))
	defer s.Close()
	for _, db := range []*sql.DB{s.w, s.r} {
		tests := []struct{ pragma, want string }{
			{"journal_mode", "wal"},
			{"foreign_keys", "1"},
			{"busy_timeout", "10000"},
			{"synchronous", "1"}, // NORMAL
		}
		for _, tc := range tests {
			if got := pragma(t, db, tc.pragma); got != tc.want {
				t.Errorf("PRAGMA %s = %s, want %s", tc.pragma, got, tc.want)
			}
		}
	}
	if got := pragma(t, s.r, "query_only"); got != "1" {
		t.Errorf("readers: query_only = %s, want 1", got)
	}
}

func TestPathEscaping(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "odd?name#with%25")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "recap.db")
	s := open(t, path)
	addSource(t, s, "https://example.com/feed")
	if err := s.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if _, err := os.Stat(path); err != nil {
		t.Errorf("database not at the given path: %v", err)
	}
}

func TestFTS(t *testing.T) {
	s := open(t, filepath.Join(t.TempDir(), "recap.db"))
	defer s.Close()
	// The background indexer would race the checks of what is not indexed
	// yet; this test runs IndexSearch itself.
	s.stopIndex()
	<-s.indexDone
	src := addSource(t, s, "https://example.com/feed")
	a := article("fts", 1)
	a.Title = "Quantum llamas learn chess"
	a.Summary = "A lab trained them."
	a.Text = "Transformers everywhere."
	saveArticles(t, s, src, a, article("fts", 2))
	id := ids(t, s)[0]
	if _, err := s.IndexSearch(context.Background()); err != nil {
		t.Fatalf("IndexSearch: %v", err)
	}

	match := func(q string) []int64 {
		t.Helper()
		rows, err := s.r.Query(`SELECT rowid FROM articles_fts WHERE articles_fts MATCH ?`, q)
		if err != nil {
			t.Fatalf("MATCH %q: %v", q, err)
		}
		defer rows.Close()
		var out []int64
		for rows.Next() {
			var id int64
			if err := rows.Scan(&id); err != nil {
				t.Fatal(err)
			}
			out = append(out, id)
		}
		return out
	}
	tests := []struct {
		q    string
		want []int64
	}{
		{"llamas", []int64{id}},
		{"llama", []int64{id}}, // porter stemming
		{"LLAMAS", []int64{id}},
		{"lab", []int64{id}},          // summary
		{"transformers", []int64{id}}, // text
		{"alpacas", nil},
	}
	for _, tc := range tests {
		if got := match(tc.q); !slices.Equal(got, tc.want) {
			t.Errorf("MATCH %q = %v, want %v", tc.q, got, tc.want)
		}
	}

	// An edit re-indexes: the old word goes, the new one comes.
	a.Title = "Quantum alpacas learn chess"
	if st := saveArticles(t, s, src, a); st.Updated != 1 {
		t.Fatalf("edit: stats %+v", st)
	}
	if got := match("llamas"); got != nil {
		t.Errorf("MATCH llamas after the edit = %v, want none", got)
	}
	if got := match("alpacas"); !slices.Equal(got, []int64{id}) {
		t.Errorf("MATCH alpacas after the edit = %v, want [%d]", got, id)
	}

	// New articles wait for the indexer; IndexSearch brings them in.
	late := article("fts", 3)
	late.Title = "Late llamas"
	saveArticles(t, s, src, late)
	if got := match("late"); got != nil {
		t.Errorf("MATCH late before indexing = %v, want none yet", got)
	}
	if n, err := s.IndexSearch(context.Background()); err != nil || n != 1 {
		t.Errorf("IndexSearch = %d, %v; want 1", n, err)
	}
	lateID := ids(t, s)[2]
	if got := match("late"); !slices.Equal(got, []int64{lateID}) {
		t.Errorf("MATCH late after indexing = %v, want [%d]", got, lateID)
	}
	if n, err := s.IndexSearch(context.Background()); err != nil || n != 0 {
		t.Errorf("IndexSearch with nothing new = %d, %v; want 0", n, err)
	}

	// A deleted article leaves the index; an id SQLite reuses for the next
	// article (it takes max(id)+1) is indexed at once by the trigger.
	if _, err := s.w.Exec(`DELETE FROM articles WHERE id = ?`, lateID); err != nil {
		t.Fatal(err)
	}
	if got := match("late"); got != nil {
		t.Errorf("MATCH late after the delete = %v, want none", got)
	}
	reused := article("fts", 4)
	reused.Title = "Reused ids"
	saveArticles(t, s, src, reused)
	if got := match("reused"); !slices.Equal(got, []int64{lateID}) {
		t.Errorf("MATCH reused = %v, want [%d] without waiting for the indexer", got, lateID)
	}
	if _, err := s.w.Exec(`INSERT INTO articles_fts(articles_fts, rank) VALUES ('integrity-check', 1)`); err != nil {
		t.Errorf("FTS integrity-check: %v", err)
	}

	searches := []struct {
		q    string
		want []int64
	}{
		{"alpaca chess", []int64{id}},
		{"alpaca nothing", nil},
		{`"unbalanced OR NEAR( title:`, nil}, // FTS5 syntax in user input is taken literally
		{"   ", nil},
	}
	for _, tc := range searches {
		recs, err := s.Search(context.Background(), store.SearchQuery{Text: tc.q, Limit: 10})
		if err != nil {
			t.Errorf("Search(%q): %v", tc.q, err)
		}
		var got []int64
		for _, r := range recs {
			got = append(got, r.ID)
		}
		if !slices.Equal(got, tc.want) {
			t.Errorf("Search(%q) = %v, want %v", tc.q, got, tc.want)
		}
	}
}

func ids(t *testing.T, s *Store) []int64 {
	t.Helper()
	var out []int64
	if err := s.EachArticle(context.Background(), func(r store.ArticleRecord) error {
		out = append(out, r.ID)
		return nil
	}); err != nil {
		t.Fatalf("EachArticle: %v", err)
	}
	return out
}

// TestValidatorsOn304 covers the state rule the interface leaves open: a 304
// that repeats no validators keeps the stored ones, and so do errors.
func TestValidatorsOn304(t *testing.T) {
	s := open(t, filepath.Join(t.TempDir(), "recap.db"))
	defer s.Close()
	src := addSource(t, s, "https://example.com/feed")
	tests := []struct {
		name         string
		r            store.FetchResult
		etag, lm     string
		lastItems    int
		lastStatus   int
		lastErrorSet bool
	}{
		{"200 sets", store.FetchResult{Fetch: store.Fetch{Status: 200, Items: 7}, ETag: `"a"`, LastModified: "lm-a"}, `"a"`, "lm-a", 7, 200, false},
		{"304 without validators keeps", store.FetchResult{Fetch: store.Fetch{Status: 304}}, `"a"`, "lm-a", 7, 304, false},
		{"304 with a new ETag takes it", store.FetchResult{Fetch: store.Fetch{Status: 304}, ETag: `"b"`}, `"b"`, "", 7, 304, false},
		{"error keeps", store.FetchResult{Fetch: store.Fetch{Status: 503, Err: "503"}, ETag: `"junk"`}, `"b"`, "", 7, 503, true},
		{"200 without validators clears", store.FetchResult{Fetch: store.Fetch{Status: 200, Items: 2}}, "", "", 2, 200, false},
	}
	for _, tc := range tests {
		tc.r.Fetch.SourceID, tc.r.Fetch.At = src.ID, at
		if _, err := s.SaveFetch(context.Background(), tc.r); err != nil {
			t.Fatalf("%s: SaveFetch: %v", tc.name, err)
		}
		got, err := s.Source(context.Background(), src.ID)
		if err != nil {
			t.Fatal(err)
		}
		if got.ETag != tc.etag || got.LastModified != tc.lm || got.LastItems != tc.lastItems ||
			got.LastStatus != tc.lastStatus || (got.LastError != "") != tc.lastErrorSet {
			t.Errorf("%s: source = %+v", tc.name, got)
		}
	}
}

// TestRemoveSourceHandsOver: the article passes to the next source that
// carried it, so it keeps an owner that may edit it.
func TestRemoveSourceHandsOver(t *testing.T) {
	s := open(t, filepath.Join(t.TempDir(), "recap.db"))
	defer s.Close()
	a := addSource(t, s, "https://a.example/feed")
	b := addSource(t, s, "https://b.example/feed")
	shared, only := article("x", 1), article("x", 2)
	saveArticles(t, s, a, shared, only)
	saveArticles(t, s, b, shared)
	if err := s.RemoveSource(context.Background(), a.ID); err != nil {
		t.Fatal(err)
	}
	got := map[string]int64{}
	if err := s.EachArticle(context.Background(), func(r store.ArticleRecord) error {
		got[r.URL] = r.SourceID
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if got[shared.URL] != b.ID || got[only.URL] != 0 {
		t.Errorf("owners after removal = %v, want %s -> %d and %s -> 0", got, shared.URL, b.ID, only.URL)
	}
	shared.Title = "B may now edit it"
	if st := saveArticles(t, s, b, shared); st.Updated != 1 {
		t.Errorf("edit by the new owner: stats %+v, want Updated 1", st)
	}
}

// TestReadersDuringWrite: with the writer inside an open transaction, reads
// go on and see the last committed state.
func TestReadersDuringWrite(t *testing.T) {
	s := open(t, filepath.Join(t.TempDir(), "recap.db"))
	defer s.Close()
	src := addSource(t, s, "https://example.com/feed")
	saveArticles(t, s, src, article("a", 1))

	tx, err := s.w.Begin()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tx.Exec(`UPDATE articles SET title = 'uncommitted'`); err != nil {
		t.Fatal(err)
	}
	if _, err := tx.Exec(`INSERT INTO articles (url, published, collected, content_hash) VALUES ('u', 0, 0, x'00')`); err != nil {
		t.Fatal(err)
	}
	n, err := s.CountArticles(context.Background())
	if err != nil || n != 1 {
		t.Errorf("CountArticles during a write = %d, %v; want 1", n, err)
	}
	rec, err := s.Article(context.Background(), 1)
	if err != nil || rec.Title != "Story a 1" {
		t.Errorf("Article during a write = %q, %v; want the committed title", rec.Title, err)
	}
	if err := tx.Rollback(); err != nil {
		t.Fatal(err)
	}
}

// TestConcurrentSaves: many pollers saving at once queue on the one writer
// instead of failing with SQLITE_BUSY, while readers keep reading.
func TestConcurrentSaves(t *testing.T) {
	s := open(t, filepath.Join(t.TempDir(), "recap.db"))
	defer s.Close()
	const workers, rounds, perRound = 8, 10, 20
	srcs := make([]store.Source, workers)
	for i := range srcs {
		srcs[i] = addSource(t, s, fmt.Sprintf("https://example.com/%d", i))
	}
	var wg sync.WaitGroup
	errs := make(chan error, workers*rounds+workers)
	for w := range workers {
		wg.Go(func() {
			for r := range rounds {
				arts := racingRound(fmt.Sprintf("w%d", w), r, perRound)
				if _, err := s.SaveFetch(context.Background(), store.FetchResult{
					Fetch: store.Fetch{SourceID: srcs[w].ID, At: at, Status: 200}, Articles: arts}); err != nil {
					errs <- err
				}
			}
		})
		wg.Go(func() {
			for range rounds {
				if err := s.EachArticle(context.Background(), func(store.ArticleRecord) error { return nil }); err != nil {
					errs <- err
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	n, err := s.CountArticles(context.Background())
	if want := rounds*perRound/2 + workers*rounds*perRound/2; err != nil || n != want {
		t.Errorf("CountArticles = %d, %v; want %d", n, err, want)
	}
	var sightings int
	if err := s.r.QueryRow(`SELECT count(*) FROM sightings`).Scan(&sightings); err != nil || sightings != workers*rounds*perRound {
		t.Errorf("sightings = %d, %v; want %d", sightings, err, workers*rounds*perRound)
	}
}

func TestCloseCheckpoints(t *testing.T) {
	path := filepath.Join(t.TempDir(), "recap.db")
	s := open(t, path)
	src := addSource(t, s, "https://example.com/feed")
	saveArticles(t, s, src, article("a", 1), article("a", 2))
	if err := s.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if err := s.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
	if fi, err := os.Stat(path + "-wal"); err == nil && fi.Size() != 0 {
		t.Errorf("WAL holds %d bytes after Close, want it checkpointed", fi.Size())
	}
	if err := s.Ping(context.Background()); err == nil {
		t.Error("Ping after Close: no error")
	}
	// The file alone holds everything.
	db, err := sql.Open("sqlite", "file:"+path+"?mode=ro")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var n int
	if err := db.QueryRow(`SELECT count(*) FROM articles`).Scan(&n); err != nil || n != 2 {
		t.Errorf("articles in the closed file = %d, %v; want 2", n, err)
	}
}

// TestSaveFetchRollsBack: a failure halfway through a batch leaves nothing
// of it: no article, no sighting, no fetch record, no new source state.
func TestSaveFetchRollsBack(t *testing.T) {
	s := open(t, filepath.Join(t.TempDir(), "recap.db"))
	defer s.Close()
	src := addSource(t, s, "https://example.com/feed")
	if _, err := s.w.Exec(`CREATE TRIGGER test_fail BEFORE INSERT ON articles
		WHEN new.title = 'boom' BEGIN SELECT RAISE(ABORT, 'boom'); END`); err != nil {
		t.Fatal(err)
	}
	arts := make([]news.Article, 10)
	for i := range arts {
		arts[i] = article("batch", i)
	}
	arts[6].Title = "boom"
	_, err := s.SaveFetch(context.Background(), store.FetchResult{
		Fetch: store.Fetch{SourceID: src.ID, At: at, Status: 200}, Articles: arts, ETag: `"new"`})
	if err == nil || !strings.Contains(err.Error(), "boom") {
		t.Fatalf("SaveFetch with a failing item: err = %v, want the trigger's error", err)
	}
	var articles, sightings, fetches int
	if err := s.r.QueryRow(`SELECT (SELECT count(*) FROM articles), (SELECT count(*) FROM sightings),
		(SELECT count(*) FROM fetches)`).Scan(&articles, &sightings, &fetches); err != nil {
		t.Fatal(err)
	}
	if articles+sightings+fetches != 0 {
		t.Errorf("after a failed SaveFetch: %d articles, %d sightings, %d fetches; want none", articles, sightings, fetches)
	}
	if got, err := s.Source(context.Background(), src.ID); err != nil || got.ETag != "" || !got.LastCheck.IsZero() {
		t.Errorf("source after a failed SaveFetch = %+v, %v; want it untouched", got, err)
	}
	// The writer is usable again.
	arts[6].Title = "fine"
	if st := saveArticles(t, s, src, arts...); st.New != 10 {
		t.Errorf("retry: stats %+v, want 10 new", st)
	}
}

// racingRound is one writer's batch for round r: half of it is shared by all
// writers, so the same URLs race for the unique constraint, half its own.
func racingRound(own string, r, perRound int) []news.Article {
	var arts []news.Article
	for i := range perRound {
		if i%2 == 0 {
			arts = append(arts, article("shared", r*perRound+i))
		} else {
			arts = append(arts, article(own, r*perRound+i))
		}
	}
	return arts
}
