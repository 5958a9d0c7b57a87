package sqlite

import (
	"context"
	"database/sql"
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

// TestDigestQueriesUseIndexes: the digest's and the topic pages' reads are
// index ranges or key probes, never a walk over stories or articles.
func TestDigestQueriesUseIndexes(t *testing.T) {
	s := open(t, filepath.Join(t.TempDir(), "recap.db"))
	defer s.Close()
	queries := []struct {
		name  string
		query string
		args  []any
		uses  []string
	}{
		{"active", activeStoriesQuery, []any{0, 100, 50, 2, 10},
			[]string{"stories_updated (updated>? AND updated<?)", "SEARCH an USING INTEGER PRIMARY KEY"}},
		{"count", countBetweenQuery, []any{0, 100},
			[]string{"INDEX articles_published (published>? AND published<?)", "COVERING INDEX sightings_article (article_id=?)"}},
		{"topic", topicStoriesQuery, []any{"chips", 10}, []string{"COVERING INDEX story_topics_updated (topic=?)"}},
		{"topic before", topicStoriesBeforeQuery, []any{"chips", 5, 5, 10},
			[]string{"COVERING INDEX story_topics_updated (topic=? AND (updated,story_id)<(?,?))"}},
		{"delete topics", deleteTopicsQuery, []any{1}, []string{"story_topics USING PRIMARY KEY (topic=? AND story_id=?)"}},
	}
	for _, q := range queries {
		checkPlan(t, s.r, q.name, q.query, q.args, q.uses...)
	}
	// Neither page sorts: the index gives the order.
	for _, q := range []string{topicStoriesQuery, topicStoriesBeforeQuery} {
		if plan := strings.Join(queryPlan(t, s.r, q, "chips", 5, 5, 10), "; "); strings.Contains(plan, "TEMP B-TREE") {
			t.Errorf("topic page sorts: %s", plan)
		}
	}
}

// topicRows returns story_topics as "topic story updated" lines, and the
// stories' updated by id.
func topicRows(t *testing.T, db *sql.DB) ([]string, map[int64]int64) {
	t.Helper()
	rows, err := db.Query(`SELECT t.topic, t.story_id, t.updated, st.updated FROM story_topics t
		LEFT JOIN stories st ON st.id = t.story_id ORDER BY t.topic, t.story_id`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []string
	updated := map[int64]int64{}
	for rows.Next() {
		var (
			topic  string
			id, up int64
			stUp   sql.NullInt64
		)
		if err := rows.Scan(&topic, &id, &up, &stUp); err != nil {
			t.Fatal(err)
		}
		if stUp.Valid {
			updated[id] = stUp.Int64
		}
		out = append(out, fmt.Sprint(topic, " ", id, " ", up))
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out, updated
}

// TestTopicRowsInStep: story_topics holds exactly each live story's
// analysed topics, dated by the story's updated, through re-analysis, a
// moved update and a merge; no read through the Store would show a row
// left behind by a merged story, since its join to stories drops it.
func TestTopicRowsInStep(t *testing.T) {
	s := open(t, filepath.Join(t.TempDir(), "recap.db"))
	defer s.Close()
	ctx := context.Background()
	l := store.Lease{Name: "stories", Holder: "test"}
	ids := analysedStories(t, s, l, func(int) []string { return []string{"openai"} })
	topics := [][]news.Topic{{news.TopicChips, news.TopicPolicy}, {news.TopicChips}, {news.TopicSafety, "", news.TopicSafety}}
	var recs []store.AnalysisRecord
	for i, id := range ids {
		recs = append(recs, store.AnalysisRecord{StoryID: id, Version: 1, Outlets: 1, Analysis: news.Analysis{Topics: topics[i]}})
	}
	if err := s.SaveAnalyses(ctx, l, recs); err != nil {
		t.Fatal(err)
	}
	check := func(what string, want ...string) {
		t.Helper()
		got, updated := topicRows(t, s.r)
		if !slices.Equal(got, want) {
			t.Errorf("%s: story_topics =\n%q\nwant\n%q", what, got, want)
		}
		for _, row := range got {
			var topic string
			var id, up int64
			if _, err := fmt.Sscan(row, &topic, &id, &up); err != nil {
				t.Fatalf("row %q: %v", row, err)
			}
			if stUp, ok := updated[id]; !ok || stUp != up {
				t.Errorf("%s: row %q: story's updated %d (stored: %v), want the row's", what, row, stUp, ok)
			}
		}
	}
	row := func(topic news.Topic, id int64, up time.Time) string {
		return fmt.Sprint(topic, " ", id, " ", up.UnixMilli())
	}
	// analysedStories publishes story i at i hours after at.
	upd := func(i int) time.Time { return at.Add(time.Duration(i) * time.Hour) }
	check("first analyses",
		row(news.TopicChips, ids[0], upd(0)), row(news.TopicChips, ids[1], upd(1)),
		row(news.TopicPolicy, ids[0], upd(0)), row(news.TopicSafety, ids[2], upd(2)))

	// Story 1 updated later by the clusterer: its row follows at once.
	later := at.Add(10 * time.Hour)
	if err := s.SaveStories(ctx, l, nil, []news.Story{{ID: ids[1], Lead: ids[1], FirstSeen: upd(1), Updated: later, Articles: ids[1:2]}}); err != nil {
		t.Fatal(err)
	}
	check("story 1 moved",
		row(news.TopicChips, ids[0], upd(0)), row(news.TopicChips, ids[1], later),
		row(news.TopicPolicy, ids[0], upd(0)), row(news.TopicSafety, ids[2], upd(2)))

	// Story 0 re-analysed: policy only.
	recs[0].Topics = []news.Topic{news.TopicPolicy}
	if err := s.SaveAnalyses(ctx, l, recs[:1]); err != nil {
		t.Fatal(err)
	}
	check("story 0 re-analysed",
		row(news.TopicChips, ids[1], later), row(news.TopicPolicy, ids[0], upd(0)), row(news.TopicSafety, ids[2], upd(2)))

	// Story 2 merges into story 0, which is updated by it.
	merged := news.Story{ID: ids[0], Lead: ids[0], FirstSeen: upd(0), Updated: upd(2), Articles: []int64{ids[0], ids[2]}}
	if err := s.SaveStories(ctx, l, []store.Assignment{{ArticleID: ids[2], StoryID: ids[0]}}, []news.Story{merged}); err != nil {
		t.Fatal(err)
	}
	check("story 2 merged", row(news.TopicChips, ids[1], later), row(news.TopicPolicy, ids[0], upd(2)))
}

// TestMigrationBackfillsDigest: a schema-4 database's analysed stories are
// in their topics and among the active stories, scored, after migration.
func TestMigrationBackfillsDigest(t *testing.T) {
	path, db, _ := openAtSchema(t, 4)
	if _, err := db.Exec(`PRAGMA user_version = 4;
		INSERT INTO sources (id, url, created) VALUES (1, 'https://a.example/feed', 0);
		INSERT INTO articles (id, url, title, published, collected, source_id, content_hash, story_id, clustered_at) VALUES
			(1, 'https://a.example/1', 'one', 3000, 0, 1, x'00', 1, 5000),
			(2, 'https://a.example/2', 'two', 1000, 0, 1, x'00', 2, 5000),
			(3, 'https://a.example/3', 'three', 2000, 0, 1, x'00', 3, 5000);
		INSERT INTO sightings (source_id, key_hash, item_key, article_id, content_hash, first_seen, last_seen) VALUES
			(1, 1, 'k1', 1, x'00', 0, 0), (1, 2, 'k2', 2, x'00', 0, 0), (1, 3, 'k3', 3, x'00', 0, 0);
		INSERT INTO stories (id, lead_article_id, first_seen, updated, article_count, version, analysed_version, analysed_outlets) VALUES
			(1, 1, 3000, 3000, 1, 1, 1, 1), (2, 2, 1000, 1000, 1, 1, 1, 1), (3, 3, 2000, 2000, 1, 1, 0, NULL);
		INSERT INTO story_analysis (story_id, version, analysed, base_score, outlets, entities, topics, data) VALUES
			(1, 1, 0, 2.5, 1, '[]', '["chips-hardware","policy-regulation"]', '{"Topics":["chips-hardware","policy-regulation"]}'),
			(2, 1, 0, 4.0, 1, '[]', '["chips-hardware"]', '{"Topics":["chips-hardware"]}')`); err != nil {
		t.Fatal(err)
	}
	db.Close()

	s := open(t, path)
	defer s.Close()
	ctx := context.Background()
	for _, c := range []struct {
		topic news.Topic
		want  []int64
	}{{news.TopicChips, []int64{1, 2}}, {news.TopicPolicy, []int64{1}}, {news.TopicSafety, []int64{}}} {
		recs, err := s.TopicStories(ctx, store.TopicQuery{Topic: c.topic})
		if err != nil {
			t.Fatal(err)
		}
		got := []int64{}
		for _, r := range recs {
			got = append(got, r.ID)
		}
		if !slices.Equal(got, c.want) {
			t.Errorf("TopicStories(%s) after migration = %v, want %v", c.topic, got, c.want)
		}
	}
	active, err := s.ActiveStories(ctx, time.UnixMilli(0), time.UnixMilli(10_000), 1, 10)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, r := range active {
		got = append(got, fmt.Sprint(r.ID, ":", r.Analysis.Outlets, ":", r.Analysis.Topics))
	}
	if want := []string{"2:1:[chips-hardware]", "1:1:[chips-hardware policy-regulation]"}; !slices.Equal(got, want) {
		t.Errorf("ActiveStories after migration = %v, want %v (best backfilled score first)", got, want)
	}
}

// BenchmarkDigestReads reads what the weekly digest and a topic page ask
// of a store of 100,000 articles over ten weeks (10,000 a week, about half
// a million a year) from 200 sources, a fifth of them also carried by a
// second source, in 50,000 stories, each analysed with a 3 KB analysis and
// one or two of the seven topics. The rows are written with SQL, as the
// stages would leave them, to build the store quickly.
func BenchmarkDigestReads(b *testing.B) {
	const (
		articles = 100_000
		sources  = 200
		weeks    = 10
	)
	s, _ := benchStore(b, sources)
	ctx := context.Background()
	rng := rand.New(rand.NewPCG(3, 4))
	week := int64(7 * 24 * time.Hour / time.Millisecond)
	start := at.UnixMilli() - weeks*week
	step := weeks * week / articles
	body := strings.Repeat("Researchers released a model that improves reasoning on long documents. ", 20)
	data, err := encodeAnalysis(news.Analysis{TLDR: []news.Sentence{{Text: strings.Repeat("x", 3000), Article: 1}}})
	if err != nil {
		b.Fatal(err)
	}
	topics := []news.Topic{news.TopicModels, news.TopicChips, news.TopicPolicy, news.TopicBusiness,
		news.TopicProducts, news.TopicOpenSource, news.TopicSafety}
	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		b.Fatal(err)
	}
	stmts := []string{
		`INSERT INTO articles (id, url, title, summary, text, published, collected, source_id, content_hash, story_id, clustered_at)
			VALUES (?1, 'https://example.com/' || ?1, 'Story title ' || ?1, substr(?4, 1, 250), ?4, ?2, ?2, ?3, x'00', ?5, ?2)`,
		`INSERT INTO sightings (source_id, key_hash, item_key, article_id, content_hash, first_seen, last_seen)
			VALUES (?1, ?2, 'key ' || ?2, ?3, x'00', ?4, ?4)`,
		`INSERT INTO stories (id, lead_article_id, first_seen, updated, article_count, version, analysed_version,
			analysed_outlets, analysed_score) VALUES (?1, ?1, ?2, ?3, ?4, 1, 1, ?5, ?6)`,
		`INSERT INTO story_analysis (story_id, version, analysed, base_score, outlets, entities, topics, data)
			VALUES (?1, 1, ?2, ?3, ?4, '[]', ?5, ?6)`,
		`INSERT INTO story_topics (topic, story_id, updated) VALUES (?, ?, ?)`,
	}
	prepared := make([]*sql.Stmt, len(stmts))
	for i, q := range stmts {
		if prepared[i], err = tx.Prepare(q); err != nil {
			b.Fatal(err)
		}
	}
	insertArticle, insertSighting, insertStory, insertAnalysis, insertTopic :=
		prepared[0], prepared[1], prepared[2], prepared[3], prepared[4]
	var key int64
	// Stories of two articles published an hour apart, each article from
	// its own source, one in five also carried by another.
	for id := int64(1); id <= articles; id += 2 {
		first := start + id*step
		last := first + int64(time.Hour/time.Millisecond)
		outlets := 0
		for i, pub := range []int64{first, last} {
			art := id + int64(i)
			src := 1 + rng.Int64N(sources)
			if _, err := insertArticle.Exec(art, pub, src, body, id); err != nil {
				b.Fatal(err)
			}
			carriers := []int64{src}
			if rng.IntN(5) == 0 {
				carriers = append(carriers, 1+(src%sources))
			}
			for _, c := range carriers {
				key++
				if _, err := insertSighting.Exec(c, key, art, pub); err != nil {
					b.Fatal(err)
				}
			}
			outlets += len(carriers)
		}
		score := rng.Float64() * 10
		tp := []news.Topic{topics[rng.IntN(len(topics))]}
		if rng.IntN(2) == 0 {
			if other := topics[rng.IntN(len(topics))]; other != tp[0] {
				tp = append(tp, other)
			}
		}
		tpJSON, _ := jsonText(tp)
		if _, err := insertStory.Exec(id, first, last, 2, outlets, score); err != nil {
			b.Fatal(err)
		}
		if _, err := insertAnalysis.Exec(id, last, score, outlets, tpJSON, data); err != nil {
			b.Fatal(err)
		}
		for _, x := range tp {
			if _, err := insertTopic.Exec(string(x), id, last); err != nil {
				b.Fatal(err)
			}
		}
	}
	if err := tx.Commit(); err != nil {
		b.Fatal(err)
	}
	for _, p := range prepared {
		p.Close()
	}
	if _, err := s.w.Exec(`ANALYZE`); err != nil {
		b.Fatal(err)
	}
	// The digest's week: the last full week of the store.
	to := time.UnixMilli(start + weeks*week).UTC()
	from := to.Add(-7 * 24 * time.Hour)

	b.Run("CountBetween/week", func(b *testing.B) {
		var c store.Counts
		for b.Loop() {
			if c, err = s.CountBetween(ctx, from, to); err != nil {
				b.Fatal(err)
			}
		}
		if c.Articles < 9_000 || c.Stories < 4_500 || c.Sources != sources {
			b.Fatalf("CountBetween = %+v, want about 10,000 articles in 5,000 stories from all %d sources", c, sources)
		}
	})
	b.Run("ActiveStories/week", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			recs, err := s.ActiveStories(ctx, from, to, 3, 30)
			if err != nil {
				b.Fatal(err)
			}
			if len(recs) != 30 || len(recs[0].Members) != 2 {
				b.Fatalf("ActiveStories = %d stories, the first of %d members; want 30 of 2", len(recs), len(recs[0].Members))
			}
		}
	})
	b.Run("TopicStories/first", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			recs, err := s.TopicStories(ctx, store.TopicQuery{Topic: news.TopicChips, Limit: 30})
			if err != nil {
				b.Fatal(err)
			}
			if len(recs) != 30 {
				b.Fatalf("TopicStories = %d stories, want 30", len(recs))
			}
		}
	})
	b.Run("TopicStories/deep", func(b *testing.B) {
		// A page from a cursor five weeks back.
		before := store.StoryCursor{Updated: from.Add(-4 * 7 * 24 * time.Hour), ID: articles}
		b.ReportAllocs()
		for b.Loop() {
			recs, err := s.TopicStories(ctx, store.TopicQuery{Topic: news.TopicChips, Limit: 30, Before: before})
			if err != nil {
				b.Fatal(err)
			}
			if len(recs) != 30 || !recs[0].Updated.Before(before.Updated) {
				b.Fatalf("TopicStories from a cursor = %d stories; want 30 before it", len(recs))
			}
		}
	})
}
