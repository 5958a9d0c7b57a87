package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"recap/store"
)

// storySpanBound bounds how long after its first seen a story can have been
// updated: a story's members span at most the clusterer's MaxSpan (24 h by
// default; a merge keeps that), and updated is its latest member's date.
// ActiveStories reads the stories updated before to plus this bound, a range
// of stories_updated, rather than every story first seen before to: that
// condition is unbounded on the other side and would walk the whole table.
// Twice the default span leaves room for a tuned one.
const storySpanBound = 48 * time.Hour

// The queries of the weekly digest and the topic pages. Each reads a range
// of an index, or probes by key (TestDigestQueriesUseIndexes).
const (
	// The stories active in [?1, ?3) with at least ?4 outlets as analysed:
	// a range of stories_updated, [?1, ?2) where ?2 = ?3 + storySpanBound,
	// and a probe of each candidate's small stories row, where the exact
	// conditions and the score are; only the best ?5 are then read from
	// story_analysis, whose rows hold kilobytes of JSON.
	activeStoriesQuery = `SELECT ` + storyColumns + `, an.version, an.analysed, an.outlets, an.data
		FROM (SELECT st.id, st.analysed_score AS score FROM stories st
			WHERE st.updated >= ?1 AND st.updated < ?2 AND st.first_seen < ?3
				AND st.analysed_outlets IS NOT NULL AND st.analysed_outlets >= ?4
			ORDER BY score DESC, st.id LIMIT ?5) h
		CROSS JOIN stories st ON st.id = h.id
		CROSS JOIN story_analysis an ON an.story_id = h.id
		CROSS JOIN articles a ON a.id = st.lead_article_id
		LEFT JOIN sources src ON src.id = a.source_id
		ORDER BY h.score DESC, h.id`
	// What Recap read in [?1, ?2): the articles, a range of
	// articles_published; the stories they are in, which needs each
	// article's row (story_id is not in the index); and the sources that
	// carried them, every sighting counting, from sightings_article, which
	// holds source_id as part of the table's key.
	countBetweenQuery = `SELECT count(*), count(DISTINCT a.story_id),
		(SELECT count(DISTINCT g.source_id) FROM articles b
			CROSS JOIN sightings g ON g.article_id = b.id
			WHERE b.published >= ?1 AND b.published < ?2)
		FROM articles a WHERE a.published >= ?1 AND a.published < ?2`
	// A page of a topic: a backward range of story_topics_updated, from
	// the top or from an (updated, id) cursor, then each story by key.
	topicStoriesQuery = `SELECT ` + storyColumns + `, an.version, an.analysed, an.outlets, an.data
		FROM story_topics t
		CROSS JOIN stories st ON st.id = t.story_id
		CROSS JOIN story_analysis an ON an.story_id = t.story_id
		CROSS JOIN articles a ON a.id = st.lead_article_id
		LEFT JOIN sources src ON src.id = a.source_id
		WHERE t.topic = ?1
		ORDER BY t.updated DESC, t.story_id DESC LIMIT ?2`
	topicStoriesBeforeQuery = `SELECT ` + storyColumns + `, an.version, an.analysed, an.outlets, an.data
		FROM story_topics t
		CROSS JOIN stories st ON st.id = t.story_id
		CROSS JOIN story_analysis an ON an.story_id = t.story_id
		CROSS JOIN articles a ON a.id = st.lead_article_id
		LEFT JOIN sources src ON src.id = a.source_id
		WHERE t.topic = ?1 AND (t.updated, t.story_id) < (?2, ?3)
		ORDER BY t.updated DESC, t.story_id DESC LIMIT ?4`
	// A story's topic rows, found by the topics its stored analysis lists
	// (primary-key probes), as deleteEntitiesQuery finds its entity rows.
	deleteTopicsQuery = `DELETE FROM story_topics WHERE story_id = ?1 AND topic IN
		(SELECT value FROM json_each((SELECT topics FROM story_analysis WHERE story_id = ?1)))`
)

// suffixScanner scans the columns after those given to Scan into suffix,
// so scanStory reads a story whose row ends with its analysis.
type suffixScanner struct {
	row    rowScanner
	suffix []any
}

func (s suffixScanner) Scan(dest ...any) error {
	return s.row.Scan(append(dest, s.suffix...)...)
}

// queryAnalysedStories reads the stories of query, each row a story
// (storyColumns) followed by its analysis's version, analysed time, outlets
// and data.
func queryAnalysedStories(ctx context.Context, tx *sql.Tx, query string, args ...any) ([]store.AnalysedStory, error) {
	rows, err := tx.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []store.AnalysedStory
	for rows.Next() {
		var (
			an       store.AnalysisRecord
			analysed int64
			data     string
		)
		rec, err := scanStory(suffixScanner{rows, []any{&an.Version, &analysed, &an.Outlets, &data}})
		if err != nil {
			return nil, err
		}
		an.StoryID = rec.ID
		if an.Analysis, err = decodeAnalysis(rec.ID, data); err != nil {
			return nil, err
		}
		if analysed != 0 {
			an.Analysed = time.UnixMilli(analysed).UTC()
		}
		out = append(out, store.AnalysedStory{StoryRecord: rec, Analysis: an})
	}
	return out, rows.Err()
}

// storyRecords returns the StoryRecords of recs, in order, to hand to the
// helpers that fill stories; fillFrom copies what they filled back.
func storyRecords(recs []store.AnalysedStory) []store.StoryRecord {
	out := make([]store.StoryRecord, len(recs))
	for i := range recs {
		out[i] = recs[i].StoryRecord
	}
	return out
}

func fillFrom(recs []store.AnalysedStory, filled []store.StoryRecord) {
	for i := range recs {
		recs[i].StoryRecord = filled[i]
	}
}

// ActiveStories returns the analysed stories of at least minOutlets outlets
// (as analysed) first seen before to and updated at or after from, best
// base score first (ties by id, lower first), with everything and their
// analysis, in one read transaction. The bounds are compared at the store's
// precision, milliseconds, as StoryRefs compares them.
func (s *Store) ActiveStories(ctx context.Context, from, to time.Time, minOutlets, limit int) ([]store.AnalysedStory, error) {
	if limit <= 0 {
		limit = store.DefaultLimit
	}
	tx, err := s.r.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return nil, fmt.Errorf("active stories: %w", err)
	}
	defer tx.Rollback()
	toMS := to.UnixMilli()
	recs, err := queryAnalysedStories(ctx, tx, activeStoriesQuery,
		from.UnixMilli(), toMS+storySpanBound.Milliseconds(), toMS, minOutlets, limit)
	if err != nil {
		return nil, fmt.Errorf("active stories: %w", err)
	}
	filled := storyRecords(recs)
	if err := fillStories(ctx, tx, filled); err != nil {
		return nil, fmt.Errorf("active stories: %w", err)
	}
	fillFrom(recs, filled)
	return recs, nil
}

// CountBetween counts the articles published in [from, to) (at the store's
// millisecond precision), the distinct sources that carried any of them
// and the distinct stories they are in, in one query.
func (s *Store) CountBetween(ctx context.Context, from, to time.Time) (store.Counts, error) {
	var c store.Counts
	if err := s.r.QueryRowContext(ctx, countBetweenQuery, from.UnixMilli(), to.UnixMilli()).
		Scan(&c.Articles, &c.Stories, &c.Sources); err != nil {
		return store.Counts{}, fmt.Errorf("count between %s and %s: %w",
			from.Format(time.RFC3339), to.Format(time.RFC3339), err)
	}
	return c, nil
}

// TopicStories returns a page of q.Topic's analysed stories, most recently
// updated first (ties by id, higher first), with Title, LeadArticle, Count,
// OutletCount and their analysis, in two queries in one read transaction.
func (s *Store) TopicStories(ctx context.Context, q store.TopicQuery) ([]store.AnalysedStory, error) {
	limit := q.Limit
	if limit <= 0 {
		limit = store.DefaultLimit
	}
	query, args := topicStoriesQuery, []any{string(q.Topic), limit}
	if !q.Before.IsZero() {
		query, args = topicStoriesBeforeQuery, []any{string(q.Topic), q.Before.Updated.UnixMilli(), q.Before.ID, limit}
	}
	tx, err := s.r.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return nil, fmt.Errorf("topic %s: %w", q.Topic, err)
	}
	defer tx.Rollback()
	recs, err := queryAnalysedStories(ctx, tx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("topic %s: %w", q.Topic, err)
	}
	filled := storyRecords(recs)
	if err := countOutlets(ctx, tx, filled); err != nil {
		return nil, fmt.Errorf("topic %s: %w", q.Topic, err)
	}
	fillFrom(recs, filled)
	return recs, nil
}
