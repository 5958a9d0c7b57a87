package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"recap/news"
	"recap/store"
)

// TestAnalysisQueriesUseIndexes: the queues, the refs and the per-story
// reads of the analysis are index ranges or key probes, at any store size.
func TestAnalysisQueriesUseIndexes(t *testing.T) {
	s := open(t, filepath.Join(t.TempDir(), "recap.db"))
	defer s.Close()
	queries := []struct {
		name  string
		query string
		args  []any
		uses  []string
	}{
		{"to analyse", toAnalyseQuery, []any{10}, []string{"stories_to_analyse"}},
		{"for insight", toInsightQuery, []any{3, 10}, []string{"stories_to_insight (analysed_outlets>?)"}},
		{"refs", storyRefsQuery, []any{`["openai","nvidia"]`, 0, 1 << 62, 5, 20},
			[]string{"COVERING INDEX story_entities_seen (entity=? AND first_seen>? AND first_seen<?)", "SEARCH an USING INTEGER PRIMARY KEY"}},
		{"delete entities", deleteEntitiesQuery, []any{1}, []string{"story_entities USING PRIMARY KEY (entity=? AND story_id=?)"}},
		{"analysis", analysisQuery, []any{1}, []string{"INTEGER PRIMARY KEY"}},
		{"insight", insightQuery, []any{1}, []string{"INTEGER PRIMARY KEY"}},
	}
	for _, q := range queries {
		checkPlan(t, s.r, q.name, q.query, q.args, q.uses...)
	}
}

// analysedStories stores three single-article stories, analysed with the
// keys keys(i) for story i, and returns their ids in published order.
func analysedStories(t *testing.T, s *Store, l store.Lease, keys func(i int) []string) []int64 {
	t.Helper()
	ctx := context.Background()
	src := addSource(t, s, "https://a.example/feed")
	var arts []news.Article
	for i := range 3 {
		a := article("an", i)
		a.Published = at.Add(time.Duration(i) * time.Hour)
		arts = append(arts, a)
	}
	saveArticles(t, s, src, arts...)
	queue, err := s.Unclustered(ctx, 10)
	if err != nil {
		t.Fatal(err)
	}
	var (
		as      []store.Assignment
		stories []news.Story
		ids     []int64
	)
	for _, a := range queue {
		as = append(as, store.Assignment{ArticleID: a.ID, StoryID: a.ID})
		stories = append(stories, news.Story{ID: a.ID, Lead: a.ID, FirstSeen: a.Published, Updated: a.Published, Articles: []int64{a.ID}})
		ids = append(ids, a.ID)
	}
	if ok, err := s.AcquireLease(ctx, l, time.Hour); err != nil || !ok {
		t.Fatalf("AcquireLease = %v, %v", ok, err)
	}
	if err := s.SaveStories(ctx, l, as, stories); err != nil {
		t.Fatal(err)
	}
	var recs []store.AnalysisRecord
	for i, id := range ids {
		var a news.Analysis
		for _, k := range keys(i) {
			a.Entities = append(a.Entities, news.Entity{Key: k, Name: k})
		}
		recs = append(recs, store.AnalysisRecord{StoryID: id, Version: 1, Analysis: a, Outlets: 1, Analysed: at})
	}
	if err := s.SaveAnalyses(ctx, l, recs); err != nil {
		t.Fatal(err)
	}
	return ids
}

func count(t *testing.T, db *sql.DB, query string, args ...any) int {
	t.Helper()
	var n int
	if err := db.QueryRow(query, args...).Scan(&n); err != nil {
		t.Fatalf("%s: %v", query, err)
	}
	return n
}

// TestMergeLeavesNoRows: the rows of a story that ends go with it, the
// entity rows too, which no read of the store would show if they stayed.
func TestMergeLeavesNoRows(t *testing.T) {
	s := open(t, filepath.Join(t.TempDir(), "recap.db"))
	defer s.Close()
	l := store.Lease{Name: "stories", Holder: "test"}
	ids := analysedStories(t, s, l, func(i int) []string { return []string{"openai", fmt.Sprint("key ", i)} })
	ctx := context.Background()
	if err := s.SaveInsight(ctx, store.InsightRecord{StoryID: ids[1], Version: 1}); err != nil {
		t.Fatal(err)
	}
	// Story 1 joins story 0.
	merged := news.Story{ID: ids[0], Lead: ids[0], FirstSeen: at, Updated: at.Add(time.Hour), Articles: ids[:2]}
	if err := s.SaveStories(ctx, l, []store.Assignment{{ArticleID: ids[1], StoryID: ids[0]}}, []news.Story{merged}); err != nil {
		t.Fatal(err)
	}
	for _, table := range []string{"story_entities", "story_analysis", "story_insights"} {
		if n := count(t, s.r, "SELECT count(*) FROM "+table+" WHERE story_id = ?", ids[1]); n != 0 {
			t.Errorf("%s: %d rows of the merged story %d, want none", table, n, ids[1])
		}
	}
	if n := count(t, s.r, "SELECT count(*) FROM story_entities WHERE story_id = ?", ids[0]); n != 2 {
		t.Errorf("story_entities: %d rows of the surviving story, want its 2", n)
	}
}

// TestCorruptRows: a stored row that does not decode is an error naming
// its story, from every read that decodes it, not a panic.
func TestCorruptRows(t *testing.T) {
	s := open(t, filepath.Join(t.TempDir(), "recap.db"))
	defer s.Close()
	l := store.Lease{Name: "stories", Holder: "test"}
	ids := analysedStories(t, s, l, func(int) []string { return []string{"openai"} })
	ctx := context.Background()
	if err := s.SaveInsight(ctx, store.InsightRecord{StoryID: ids[0], Version: 1}); err != nil {
		t.Fatal(err)
	}
	for _, q := range []string{
		`UPDATE story_analysis SET data = '{"Entities": [' WHERE story_id = ?`,
		`UPDATE story_insights SET data = 'not json' WHERE story_id = ?`,
		`UPDATE story_analysis SET topics = '{}' WHERE story_id = ?`,
	} {
		if _, err := s.w.Exec(q, ids[0]); err != nil {
			t.Fatal(err)
		}
	}
	name := fmt.Sprintf("story %d", ids[0])
	_, errA := s.Analysis(ctx, ids[0])
	_, errI := s.Insight(ctx, ids[0])
	_, errR := s.StoryRefs(ctx, store.RefQuery{Entities: []string{"openai"}})
	for what, err := range map[string]error{"Analysis": errA, "Insight": errI, "StoryRefs": errR} {
		if err == nil || !strings.Contains(err.Error(), name) {
			t.Errorf("%s of a corrupt row: err %v, want one naming %s", what, err, name)
		}
	}
	if _, err := s.Analysis(ctx, ids[1]); err != nil {
		t.Errorf("Analysis of a sound row beside a corrupt one: %v", err)
	}
}

// TestMigrationQueuesStories: the stories of a schema-3 database count as
// written once, and all of them wait for their first analysis.
func TestMigrationQueuesStories(t *testing.T) {
	path, db, _ := openAtSchema(t, 3)
	if _, err := db.Exec(`PRAGMA user_version = 3;
		INSERT INTO sources (id, url, created) VALUES (1, 'https://a.example/feed', 0);
		INSERT INTO articles (id, url, title, published, collected, source_id, content_hash, story_id, clustered_at) VALUES
			(1, 'https://a.example/1', 'one', 3000, 0, 1, x'00', 1, 5000),
			(2, 'https://a.example/2', 'two', 1000, 0, 1, x'00', 2, 5000);
		INSERT INTO sightings (source_id, key_hash, item_key, article_id, content_hash, first_seen, last_seen) VALUES
			(1, 1, 'k1', 1, x'00', 0, 0), (1, 2, 'k2', 2, x'00', 0, 0);
		INSERT INTO stories (id, lead_article_id, first_seen, updated, article_count) VALUES
			(1, 1, 3000, 3000, 1), (2, 2, 1000, 1000, 1)`); err != nil {
		t.Fatal(err)
	}
	db.Close()

	s := open(t, path)
	defer s.Close()
	recs, err := s.StoriesToAnalyse(context.Background(), 10)
	if err != nil {
		t.Fatal(err)
	}
	if got := storyIDsOf(recs); !slices.Equal(got, []int64{2, 1}) {
		t.Errorf("analysis queue after migration = %v, want [2 1] (first seen order)", got)
	}
	for _, r := range recs {
		if r.Version != 1 || len(r.Members) != 1 || r.OutletCount != 1 {
			t.Errorf("story %d after migration: version %d, %d members, %d outlets; want 1, 1, 1", r.ID, r.Version, len(r.Members), r.OutletCount)
		}
	}
}

func storyIDsOf(recs []store.StoryRecord) []int64 {
	out := []int64{}
	for _, r := range recs {
		out = append(out, r.ID)
	}
	return out
}

// BenchmarkStoryRefs reads what a story page asks of a store of 50,000
// analysed stories over a year, each naming six of 2,000 entities (the
// first few of them common: "openai" is in one story of five): the
// timeline (six keys, everything before the story) and the related stories
// (six keys, the 30 days around it), 20 refs each. The rows are written
// with SQL, as SaveAnalyses would leave them, to build the store quickly.
func BenchmarkStoryRefs(b *testing.B) {
	const (
		stories  = 50_000
		entities = 2_000
		perStory = 6
	)
	s, _ := benchStore(b, 1)
	ctx := context.Background()
	rng := rand.New(rand.NewPCG(1, 2))
	zipf := rand.NewZipf(rng, 1.1, 4, entities-1)
	key := func(k uint64) string { return fmt.Sprintf("entity %d", k) }
	// A real analysis is a few kilobytes of JSON: rows that size decide
	// how many pages a probe of story_analysis touches.
	data := `{"TLDR":"` + strings.Repeat("x", 3000) + `"}`
	year := int64(365 * 24 * time.Hour / time.Millisecond)
	start := at.UnixMilli() - year
	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		b.Fatal(err)
	}
	stmts := []string{
		`INSERT INTO articles (id, url, title, published, collected, content_hash, story_id, clustered_at)
			VALUES (?1, 'https://example.com/' || ?1, 'Story title ' || ?1, ?2, ?2, x'00', ?1, ?2)`,
		`INSERT INTO stories (id, lead_article_id, first_seen, updated, article_count, version, analysed_version, analysed_outlets)
			VALUES (?1, ?1, ?2, ?2, 1, 1, 1, ?3)`,
		`INSERT INTO story_analysis (story_id, version, analysed, base_score, outlets, entities, topics, data)
			VALUES (?1, 1, ?2, ?4, ?3, ?5, '["models-research"]', ?6)`,
		`INSERT OR IGNORE INTO story_entities (entity, story_id, first_seen, base_score) VALUES (?, ?, ?, ?)`,
	}
	prepared := make([]*sql.Stmt, len(stmts))
	for i, q := range stmts {
		if prepared[i], err = tx.Prepare(q); err != nil {
			b.Fatal(err)
		}
	}
	type page struct {
		self int64
		keys []string
	}
	var pages []page
	for id := int64(1); id <= stories; id++ {
		seen := start + id*year/stories
		outlets := 1 + rng.IntN(5)
		var keys []string
		for len(keys) < perStory {
			if k := key(zipf.Uint64()); !slices.Contains(keys, k) {
				keys = append(keys, k)
			}
		}
		keysJSON, _ := json.Marshal(keys)
		score := rng.Float64() * 10
		for i, args := range [][]any{
			{id, seen},
			{id, seen, outlets},
			{id, seen, outlets, score, string(keysJSON), data},
		} {
			if _, err := prepared[i].Exec(args...); err != nil {
				b.Fatal(err)
			}
		}
		for _, k := range keys {
			if _, err := prepared[3].Exec(k, id, seen, score); err != nil {
				b.Fatal(err)
			}
		}
		if id%(stories/100) == 0 {
			pages = append(pages, page{id, keys})
		}
	}
	if err := tx.Commit(); err != nil {
		b.Fatal(err)
	}
	for _, p := range prepared {
		p.Close()
	}
	firstSeen := func(id int64) time.Time { return time.UnixMilli(start + id*year/stories).UTC() }
	for _, bc := range []struct {
		name  string
		query func(p page) store.RefQuery
	}{
		{"timeline", func(p page) store.RefQuery {
			return store.RefQuery{Entities: p.keys, To: firstSeen(p.self), Exclude: p.self, Limit: 20}
		}},
		{"related", func(p page) store.RefQuery {
			fs := firstSeen(p.self)
			return store.RefQuery{Entities: p.keys, From: fs.Add(-15 * 24 * time.Hour), To: fs.Add(15 * 24 * time.Hour), Exclude: p.self, Limit: 20}
		}},
	} {
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			i, refs := 0, 0
			for b.Loop() {
				got, err := s.StoryRefs(ctx, bc.query(pages[i%len(pages)]))
				if err != nil {
					b.Fatal(err)
				}
				refs += len(got)
				i++
			}
			b.ReportMetric(float64(refs)/float64(i), "refs/op")
		})
	}
}
