package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"time"

	"recap/news"
	"recap/store"
)

// maxRefEntities bounds the entity keys of one StoryRefs query: each key is
// a range of story_entities_seen, and a story page asks with its first few.
const maxRefEntities = 12

// The queries of the analysis and the insights. Like the story queries, each
// reads a range of an index or probes by key (TestAnalysisQueriesUseIndexes).
const (
	// The analysis queue: the partial index stories_to_analyse holds the
	// stale stories only, in the order they are taken.
	toAnalyseQuery = `SELECT ` + storyColumns + storyFrom + `
		WHERE st.analysed_version < st.version ORDER BY st.first_seen, st.id LIMIT ?`
	// The insight queue: a range of stories_to_insight (outlets at least
	// ?1), sorted by recency. The condition repeats the index's own so
	// that the planner may use it.
	toInsightQuery = `SELECT ` + storyColumns + storyFrom + `
		WHERE st.insight_version < st.version AND st.analysed_outlets IS NOT NULL AND st.analysed_outlets >= ?
		ORDER BY st.updated DESC, st.id DESC LIMIT ?`
	analysisQuery = `SELECT version, analysed, outlets, data FROM story_analysis WHERE story_id = ?`
	insightQuery  = `SELECT version, data FROM story_insights WHERE story_id = ?`
	// The stories naming any of the keys in ?1 (a JSON array), first seen
	// in [?2, ?3), without ?4: per key a range of story_entities_seen, which
	// covers story id and score, so the best ?5 are chosen from the index
	// alone; only they are read from story_analysis, stories and articles.
	// A story's rows all carry its one score: max() merely picks it.
	storyRefsQuery = `SELECT h.story_id, h.score, an.outlets, an.entities, an.topics, st.first_seen, st.updated, a.title
		FROM (SELECT e.story_id, max(e.base_score) AS score FROM json_each(?1) k
			CROSS JOIN story_entities e ON e.entity = k.value AND e.first_seen >= ?2 AND e.first_seen < ?3
			WHERE e.story_id <> ?4
			GROUP BY e.story_id ORDER BY score DESC, e.story_id DESC LIMIT ?5) h
		CROSS JOIN story_analysis an ON an.story_id = h.story_id
		CROSS JOIN stories st ON st.id = h.story_id
		CROSS JOIN articles a ON a.id = st.lead_article_id
		ORDER BY h.score DESC, h.story_id DESC`
	// A story's entity rows, found by the keys its stored analysis lists
	// (primary-key probes; there is no index on story_id alone).
	deleteEntitiesQuery = `DELETE FROM story_entities WHERE story_id = ?1 AND entity IN
		(SELECT value FROM json_each((SELECT entities FROM story_analysis WHERE story_id = ?1)))`
)

// The JSON of a story's analysis and insight, written and read here only.
func encodeAnalysis(a news.Analysis) (string, error) {
	b, err := json.Marshal(a)
	return string(b), err
}

func decodeAnalysis(storyID int64, data string) (news.Analysis, error) {
	var a news.Analysis
	if err := json.Unmarshal([]byte(data), &a); err != nil {
		return news.Analysis{}, fmt.Errorf("story %d: stored analysis: %w", storyID, err)
	}
	return a, nil
}

func encodeInsight(in news.Insight) (string, error) {
	if !in.Created.IsZero() {
		in.Created = in.Created.UTC() // every time the store returns is UTC
	}
	b, err := json.Marshal(in)
	return string(b), err
}

func decodeInsight(storyID int64, data string) (news.Insight, error) {
	var in news.Insight
	if err := json.Unmarshal([]byte(data), &in); err != nil {
		return news.Insight{}, fmt.Errorf("story %d: stored insight: %w", storyID, err)
	}
	return in, nil
}

// entityKeys lists an analysis's entity keys in its order, without empty
// or repeated keys: what story_analysis.entities and story_entities hold.
func entityKeys(a news.Analysis) []string {
	keys := make([]string, 0, len(a.Entities))
	seen := make(map[string]bool, len(a.Entities))
	for _, e := range a.Entities {
		if e.Key == "" || seen[e.Key] {
			continue
		}
		seen[e.Key] = true
		keys = append(keys, e.Key)
	}
	return keys
}

func jsonText(v any) (string, error) {
	b, err := json.Marshal(v)
	return string(b), err
}

// StoriesToAnalyse returns up to limit stale stories (no analysis, or one
// made at an older version), earliest first seen first, with everything;
// limit <= 0 means store.DefaultLimit.
func (s *Store) StoriesToAnalyse(ctx context.Context, limit int) ([]store.StoryRecord, error) {
	if limit <= 0 {
		limit = store.DefaultLimit
	}
	recs, err := s.storiesWithAll(ctx, toAnalyseQuery, limit)
	if err != nil {
		return nil, fmt.Errorf("stories to analyse: %w", err)
	}
	return recs, nil
}

// StoriesForInsight returns up to limit analysed stories of at least
// minOutlets outlets (by their analysis) whose insight is missing or older
// than the story, most recently updated first, with everything; limit <= 0
// means store.DefaultLimit.
func (s *Store) StoriesForInsight(ctx context.Context, minOutlets, limit int) ([]store.StoryRecord, error) {
	if limit <= 0 {
		limit = store.DefaultLimit
	}
	recs, err := s.storiesWithAll(ctx, toInsightQuery, minOutlets, limit)
	if err != nil {
		return nil, fmt.Errorf("stories for insight: %w", err)
	}
	return recs, nil
}

// storiesWithAll reads the stories query selects and fills them as Story
// does, in one read transaction.
func (s *Store) storiesWithAll(ctx context.Context, query string, args ...any) ([]store.StoryRecord, error) {
	tx, err := s.r.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return nil, err
	}
	defer tx.Rollback()
	recs, err := queryStories(ctx, tx, query, args...)
	if err != nil {
		return nil, err
	}
	if err := fillStories(ctx, tx, recs); err != nil {
		return nil, err
	}
	return recs, nil
}

// analysisRow is one analysis ready to write: encoded before the
// transaction begins, so a record that cannot be stored fails the batch
// before anything is written.
type analysisRow struct {
	store.AnalysisRecord
	data, entities, topics string
	keys                   []string
	analysed               int64 // unix ms; 0 for the zero time
}

func encodeAnalysisRecord(rec store.AnalysisRecord) (analysisRow, error) {
	if rec.StoryID <= 0 || rec.Version < 0 || rec.Outlets < 0 {
		return analysisRow{}, fmt.Errorf("story %d: id must be positive, version (%d) and outlets (%d) not negative",
			rec.StoryID, rec.Version, rec.Outlets)
	}
	if math.IsNaN(rec.Rank.Base) || math.IsInf(rec.Rank.Base, 0) {
		return analysisRow{}, fmt.Errorf("story %d: base score %v", rec.StoryID, rec.Rank.Base)
	}
	row := analysisRow{AnalysisRecord: rec, keys: entityKeys(rec.Analysis)}
	var err error
	if row.data, err = encodeAnalysis(rec.Analysis); err != nil {
		return analysisRow{}, fmt.Errorf("story %d: encode analysis: %w", rec.StoryID, err)
	}
	if row.entities, err = jsonText(row.keys); err != nil {
		return analysisRow{}, fmt.Errorf("story %d: encode entities: %w", rec.StoryID, err)
	}
	topics := rec.Topics
	if topics == nil {
		topics = []news.Topic{}
	}
	if row.topics, err = jsonText(topics); err != nil {
		return analysisRow{}, fmt.Errorf("story %d: encode topics: %w", rec.StoryID, err)
	}
	if !rec.Analysed.IsZero() {
		row.analysed = rec.Analysed.UnixMilli()
	}
	return row, nil
}

// SaveAnalyses replaces each story's analysis, entity rows and topic rows
// in one transaction under the lease (holdsLease, as SaveStories), and
// records the version, outlet count and base score on the story, which
// takes it out of the analysis queue when the version is current. A record of a story that is
// no longer stored is skipped.
func (s *Store) SaveAnalyses(ctx context.Context, l store.Lease, recs []store.AnalysisRecord) error {
	if err := checkLease(l); err != nil {
		return fmt.Errorf("save analyses: %w", err)
	}
	rows := make([]analysisRow, 0, len(recs))
	for _, rec := range recs {
		row, err := encodeAnalysisRecord(rec)
		if err != nil {
			return fmt.Errorf("save analyses: %w", err)
		}
		rows = append(rows, row)
	}
	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("save analyses: begin: %w", err)
	}
	defer tx.Rollback()
	if err := holdsLease(ctx, tx, l, s.now().UnixMilli()); err != nil {
		return fmt.Errorf("save analyses: %w", err)
	}
	stmts := []string{
		// The story's row first: it says whether the story is still
		// stored, and gives the first seen its entity rows are dated by.
		`UPDATE stories SET analysed_version = ?2, analysed_outlets = ?3, analysed_score = ?4 WHERE id = ?1
			RETURNING first_seen, updated`,
		deleteEntitiesQuery,
		deleteTopicsQuery,
		`INSERT INTO story_analysis (story_id, version, analysed, base_score, outlets, entities, topics, data)
			VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)
			ON CONFLICT(story_id) DO UPDATE SET version = ?2, analysed = ?3, base_score = ?4, outlets = ?5,
				entities = ?6, topics = ?7, data = ?8`,
		`INSERT OR IGNORE INTO story_entities (entity, story_id, first_seen, base_score) VALUES (?, ?, ?, ?)`,
		// Dated by the story's updated, as the trigger stories_topics_updated
		// (0005) keeps them when SaveStories moves it.
		`INSERT OR IGNORE INTO story_topics (topic, story_id, updated) VALUES (?, ?, ?)`,
	}
	prepared := make([]*sql.Stmt, len(stmts))
	for i, q := range stmts {
		if prepared[i], err = tx.PrepareContext(ctx, q); err != nil {
			return fmt.Errorf("save analyses: %w", err)
		}
		defer prepared[i].Close()
	}
	story, deleteEntities, deleteTopics, upsert, insertEntity, insertTopic :=
		prepared[0], prepared[1], prepared[2], prepared[3], prepared[4], prepared[5]
	written := 0
	for _, r := range rows {
		var firstSeen, updated int64
		err := story.QueryRowContext(ctx, r.StoryID, r.Version, r.Outlets, r.Rank.Base).Scan(&firstSeen, &updated)
		if errors.Is(err, sql.ErrNoRows) {
			continue
		}
		if err != nil {
			return fmt.Errorf("save analyses: story %d: %w", r.StoryID, err)
		}
		if _, err := deleteEntities.ExecContext(ctx, r.StoryID); err != nil {
			return fmt.Errorf("save analyses: story %d: old entities: %w", r.StoryID, err)
		}
		if _, err := deleteTopics.ExecContext(ctx, r.StoryID); err != nil {
			return fmt.Errorf("save analyses: story %d: old topics: %w", r.StoryID, err)
		}
		if _, err := upsert.ExecContext(ctx, r.StoryID, r.Version, r.analysed, r.Rank.Base, r.Outlets,
			r.entities, r.topics, r.data); err != nil {
			return fmt.Errorf("save analyses: story %d: %w", r.StoryID, err)
		}
		for _, k := range r.keys {
			if _, err := insertEntity.ExecContext(ctx, k, r.StoryID, firstSeen, r.Rank.Base); err != nil {
				return fmt.Errorf("save analyses: story %d: entity %q: %w", r.StoryID, k, err)
			}
		}
		for _, tp := range r.Topics {
			if tp == "" {
				continue
			}
			if _, err := insertTopic.ExecContext(ctx, string(tp), r.StoryID, updated); err != nil {
				return fmt.Errorf("save analyses: story %d: topic %q: %w", r.StoryID, tp, err)
			}
		}
		written++
	}
	if written > 0 {
		if err := s.bumpArticles(ctx, tx); err != nil {
			return fmt.Errorf("save analyses: %w", err)
		}
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("save analyses: commit: %w", err)
	}
	s.committed()
	return nil
}

// Analysis returns a story's stored analysis.
func (s *Store) Analysis(ctx context.Context, storyID int64) (store.AnalysisRecord, error) {
	var (
		rec      = store.AnalysisRecord{StoryID: storyID}
		analysed int64
		data     string
	)
	err := s.r.QueryRowContext(ctx, analysisQuery, storyID).Scan(&rec.Version, &analysed, &rec.Outlets, &data)
	if errors.Is(err, sql.ErrNoRows) {
		return store.AnalysisRecord{}, fmt.Errorf("analysis of story %d: %w", storyID, store.ErrNotFound)
	}
	if err != nil {
		return store.AnalysisRecord{}, fmt.Errorf("analysis of story %d: %w", storyID, err)
	}
	if rec.Analysis, err = decodeAnalysis(storyID, data); err != nil {
		return store.AnalysisRecord{}, err
	}
	if analysed != 0 {
		rec.Analysed = time.UnixMilli(analysed).UTC()
	}
	return rec, nil
}

// StoryRefs returns the analysed stories that name any of q.Entities (the
// first maxRefEntities of them), first seen in [q.From, q.To), best base
// score first (ties by id, higher first).
func (s *Store) StoryRefs(ctx context.Context, q store.RefQuery) ([]news.StoryRef, error) {
	limit := q.Limit
	if limit <= 0 {
		limit = store.DefaultLimit
	}
	keys := q.Entities[:min(len(q.Entities), maxRefEntities)]
	if len(keys) == 0 {
		return nil, nil
	}
	keysJSON, err := jsonText(keys)
	if err != nil {
		return nil, fmt.Errorf("story refs: %w", err)
	}
	// The bounds are compared at the store's precision, milliseconds, so
	// a bound equal to a story's first seen as read back from the store
	// takes it in (From) or leaves it out (To). The zero times are open.
	from, to := q.From.UnixMilli(), int64(math.MaxInt64)
	if q.From.IsZero() {
		from = math.MinInt64
	}
	if !q.To.IsZero() {
		to = q.To.UnixMilli()
	}
	rows, err := s.r.QueryContext(ctx, storyRefsQuery, keysJSON, from, to, q.Exclude, limit)
	if err != nil {
		return nil, fmt.Errorf("story refs: %w", err)
	}
	defer rows.Close()
	var out []news.StoryRef
	for rows.Next() {
		var (
			ref              news.StoryRef
			entities, topics string
			first, updated   sql.NullInt64
		)
		if err := rows.Scan(&ref.ID, &ref.Score, &ref.Outlets, &entities, &topics, &first, &updated, &ref.Title); err != nil {
			return nil, fmt.Errorf("story refs: %w", err)
		}
		if err := json.Unmarshal([]byte(entities), &ref.Entities); err != nil {
			return nil, fmt.Errorf("story refs: story %d: stored entities: %w", ref.ID, err)
		}
		if err := json.Unmarshal([]byte(topics), &ref.Topics); err != nil {
			return nil, fmt.Errorf("story refs: story %d: stored topics: %w", ref.ID, err)
		}
		ref.FirstSeen, ref.Updated = fromMS(first), fromMS(updated)
		out = append(out, ref)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("story refs: %w", err)
	}
	return out, nil
}

// SaveInsight replaces a story's insight and records its version on the
// story, which takes it out of the insight queue when it is current. An
// insight of a story that is no longer stored is skipped.
func (s *Store) SaveInsight(ctx context.Context, rec store.InsightRecord) error {
	if rec.StoryID <= 0 || rec.Version < 0 {
		return fmt.Errorf("save insight: story %d version %d: id must be positive, version not negative", rec.StoryID, rec.Version)
	}
	data, err := encodeInsight(rec.Insight)
	if err != nil {
		return fmt.Errorf("save insight: story %d: encode: %w", rec.StoryID, err)
	}
	var created int64
	if !rec.Created.IsZero() {
		created = rec.Created.UnixMilli()
	}
	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("save insight: begin: %w", err)
	}
	defer tx.Rollback()
	res, err := tx.ExecContext(ctx, `UPDATE stories SET insight_version = ? WHERE id = ?`, rec.Version, rec.StoryID)
	if err != nil {
		return fmt.Errorf("save insight: story %d: %w", rec.StoryID, err)
	}
	if n, err := res.RowsAffected(); err != nil {
		return fmt.Errorf("save insight: story %d: %w", rec.StoryID, err)
	} else if n == 0 {
		return nil
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO story_insights (story_id, version, created, data) VALUES (?1, ?2, ?3, ?4)
		ON CONFLICT(story_id) DO UPDATE SET version = ?2, created = ?3, data = ?4`,
		rec.StoryID, rec.Version, created, data); err != nil {
		return fmt.Errorf("save insight: story %d: %w", rec.StoryID, err)
	}
	if err := s.bumpArticles(ctx, tx); err != nil {
		return fmt.Errorf("save insight: %w", err)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("save insight: commit: %w", err)
	}
	s.committed()
	return nil
}

// Insight returns a story's stored insight.
func (s *Store) Insight(ctx context.Context, storyID int64) (store.InsightRecord, error) {
	var (
		rec  = store.InsightRecord{StoryID: storyID}
		data string
	)
	err := s.r.QueryRowContext(ctx, insightQuery, storyID).Scan(&rec.Version, &data)
	if errors.Is(err, sql.ErrNoRows) {
		return store.InsightRecord{}, fmt.Errorf("insight of story %d: %w", storyID, store.ErrNotFound)
	}
	if err != nil {
		return store.InsightRecord{}, fmt.Errorf("insight of story %d: %w", storyID, err)
	}
	if rec.Insight, err = decodeInsight(storyID, data); err != nil {
		return store.InsightRecord{}, err
	}
	return rec, nil
}
