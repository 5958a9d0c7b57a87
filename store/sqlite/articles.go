package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"recap/store"
)

// articlePageSize bounds how many articles EachArticle holds in memory at once.
const articlePageSize = 500

const articleColumns = `a.id, a.url, a.title, a.summary, a.content_html, a.text, a.author, a.categories,
	a.image_url, a.published, a.updated, a.collected, a.source_id, a.story_id, a.duplicate_of,
	coalesce(nullif(src.title, ''), src.url, ''), coalesce(src.url, '')`

func scanArticle(row rowScanner) (store.ArticleRecord, error) {
	var (
		rec                            store.ArticleRecord
		url, cats                      sql.NullString
		published, updated, collected  sql.NullInt64
		sourceID, storyID, duplicateOf sql.NullInt64
	)
	a := &rec.Article
	if err := row.Scan(&a.ID, &url, &a.Title, &a.Summary, &a.ContentHTML, &a.Text, &a.Author, &cats,
		&a.ImageURL, &published, &updated, &collected, &sourceID, &storyID, &duplicateOf,
		&rec.Source, &rec.SourceURL); err != nil {
		return rec, err
	}
	a.URL = url.String
	if cats.Valid && cats.String != "" {
		if err := json.Unmarshal([]byte(cats.String), &a.Categories); err != nil {
			return rec, fmt.Errorf("article %d: categories: %w", a.ID, err)
		}
	}
	a.Published, a.Updated, a.Collected = fromMS(published), fromMS(updated), fromMS(collected)
	a.SourceID, a.StoryID, a.DuplicateOf = sourceID.Int64, storyID.Int64, duplicateOf.Int64
	return rec, nil
}

// sightingsQuery lists the sightings of a range of article ids, each
// article's earliest first.
const sightingsQuery = `SELECT g.article_id, g.source_id, coalesce(nullif(src.title, ''), src.url), src.url,
	g.item_key, g.guid, g.link, g.first_seen
	FROM sightings g JOIN sources src ON src.id = g.source_id
	WHERE g.article_id BETWEEN ? AND ?
	ORDER BY g.article_id, g.first_seen, g.source_id`

// attachSightings fills Seen of recs (sorted by id) and the item identity of
// each article, taken from its first source's earliest sighting.
func attachSightings(ctx context.Context, tx *sql.Tx, recs []store.ArticleRecord) error {
	if len(recs) == 0 {
		return nil
	}
	return attachSightingsFrom(ctx, tx, recs, sightingsQuery, recs[0].ID, recs[len(recs)-1].ID)
}

// attachSightingsFrom does attachSightings' work with another query of the
// same columns and order, for sets of articles whose ids are not a dense
// range (a story's members): a range between their lowest and highest id
// could cover most of the table.
func attachSightingsFrom(ctx context.Context, tx *sql.Tx, recs []store.ArticleRecord, query string, args ...any) error {
	if len(recs) == 0 {
		return nil
	}
	index := make(map[int64]int, len(recs))
	for i := range recs {
		index[recs[i].ID] = i
	}
	rows, err := tx.QueryContext(ctx, query, args...)
	if err != nil {
		return fmt.Errorf("sightings: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var (
			articleID int64
			key       string
			first     sql.NullInt64
			g         store.Sighting
		)
		if err := rows.Scan(&articleID, &g.SourceID, &g.Source, &g.SourceURL, &key, &g.GUID, &g.Link, &first); err != nil {
			return fmt.Errorf("sightings: %w", err)
		}
		g.FirstSeen = fromMS(first)
		i, ok := index[articleID]
		if !ok {
			continue
		}
		rec := &recs[i]
		if rec.ItemKey == "" && (g.SourceID == rec.SourceID || rec.SourceID == 0) {
			rec.ItemKey, rec.GUID, rec.Link = key, g.GUID, g.Link
		}
		rec.Seen = append(rec.Seen, g)
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("sightings: %w", err)
	}
	return nil
}

// Article returns one article with its sightings; store.ErrNotFound when absent.
func (s *Store) Article(ctx context.Context, id int64) (store.ArticleRecord, error) {
	tx, err := s.r.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return store.ArticleRecord{}, fmt.Errorf("article %d: %w", id, err)
	}
	defer tx.Rollback()
	rec, err := scanArticle(tx.QueryRowContext(ctx, `SELECT `+articleColumns+`
		FROM articles a LEFT JOIN sources src ON src.id = a.source_id WHERE a.id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return store.ArticleRecord{}, fmt.Errorf("article %d: %w", id, store.ErrNotFound)
	}
	if err != nil {
		return store.ArticleRecord{}, fmt.Errorf("article %d: %w", id, err)
	}
	recs := []store.ArticleRecord{rec}
	if err := attachSightings(ctx, tx, recs); err != nil {
		return store.ArticleRecord{}, fmt.Errorf("article %d: %w", id, err)
	}
	return recs[0], nil
}

// EachArticle calls fn for every article in id order, with its sightings.
// It reads a page at a time and holds no transaction while fn runs, so a
// slow consumer never pins the WAL. Articles stored meanwhile with higher ids
// are visited too. The first error of fn stops the walk and is returned.
func (s *Store) EachArticle(ctx context.Context, fn func(store.ArticleRecord) error) error {
	return walkByID(func(after int64) ([]store.ArticleRecord, error) { return s.articlePage(ctx, after) },
		func(r store.ArticleRecord) int64 { return r.ID }, fn)
}

// walkByID calls fn for every row that page returns, page after page in id
// order, until a page is empty; no transaction is open while fn runs.
func walkByID[T any](page func(after int64) ([]T, error), id func(T) int64, fn func(T) error) error {
	var after int64
	for {
		rows, err := page(after)
		if err != nil {
			return err
		}
		if len(rows) == 0 {
			return nil
		}
		for _, r := range rows {
			if err := fn(r); err != nil {
				return err
			}
		}
		after = id(rows[len(rows)-1])
	}
}

func (s *Store) articlePage(ctx context.Context, after int64) ([]store.ArticleRecord, error) {
	tx, err := s.r.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return nil, fmt.Errorf("articles after %d: %w", after, err)
	}
	defer tx.Rollback()
	rows, err := tx.QueryContext(ctx, `SELECT `+articleColumns+`
		FROM articles a LEFT JOIN sources src ON src.id = a.source_id
		WHERE a.id > ? ORDER BY a.id LIMIT ?`, after, articlePageSize)
	if err != nil {
		return nil, fmt.Errorf("articles after %d: %w", after, err)
	}
	defer rows.Close()
	page := make([]store.ArticleRecord, 0, articlePageSize)
	for rows.Next() {
		rec, err := scanArticle(rows)
		if err != nil {
			return nil, fmt.Errorf("articles after %d: %w", after, err)
		}
		page = append(page, rec)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("articles after %d: %w", after, err)
	}
	rows.Close()
	if err := attachSightings(ctx, tx, page); err != nil {
		return nil, fmt.Errorf("articles after %d: %w", after, err)
	}
	return page, nil
}

// CountArticles returns the number of stored articles.
func (s *Store) CountArticles(ctx context.Context) (int, error) {
	var n int
	if err := s.r.QueryRowContext(ctx, `SELECT count(*) FROM articles`).Scan(&n); err != nil {
		return 0, fmt.Errorf("count articles: %w", err)
	}
	return n, nil
}

// Fetches returns a source's latest fetch records, newest first; limit <= 0
// means all of them.
func (s *Store) Fetches(ctx context.Context, sourceID int64, limit int) ([]store.Fetch, error) {
	if limit <= 0 {
		limit = -1
	}
	rows, err := s.r.QueryContext(ctx, `SELECT source_id, at, status, duration_ms, bytes, items,
		new_items, updated_items, error
		FROM fetches WHERE source_id = ? ORDER BY at DESC, id DESC LIMIT ?`, sourceID, limit)
	if err != nil {
		return nil, fmt.Errorf("fetches of source %d: %w", sourceID, err)
	}
	defer rows.Close()
	var out []store.Fetch
	for rows.Next() {
		var (
			f          store.Fetch
			at         sql.NullInt64
			durationMS int64
		)
		if err := rows.Scan(&f.SourceID, &at, &f.Status, &durationMS, &f.Bytes, &f.Items,
			&f.New, &f.Updated, &f.Err); err != nil {
			return nil, fmt.Errorf("fetches of source %d: %w", sourceID, err)
		}
		f.At = fromMS(at)
		f.Duration = msDuration(durationMS)
		out = append(out, f)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("fetches of source %d: %w", sourceID, err)
	}
	return out, nil
}

// Articles returns a page of articles, newest published first, by a backward
// range scan of the articles_published index from the cursor.
func (s *Store) Articles(ctx context.Context, q store.ArticleQuery) ([]store.ArticleRecord, error) {
	limit := q.Limit
	if limit <= 0 {
		limit = store.DefaultLimit
	}
	where, args := []string{}, []any{}
	if !q.Before.IsZero() {
		where = append(where, `(a.published, a.id) < (?, ?)`)
		args = append(args, q.Before.Published.UnixMilli(), q.Before.ID)
	}
	if q.SourceID != 0 {
		where = append(where, `a.source_id = ?`)
		args = append(args, q.SourceID)
	}
	query := `SELECT ` + articleColumns + ` FROM articles a LEFT JOIN sources src ON src.id = a.source_id`
	if len(where) > 0 {
		query += ` WHERE ` + strings.Join(where, ` AND `)
	}
	query += ` ORDER BY a.published DESC, a.id DESC LIMIT ?`
	args = append(args, limit)
	recs, err := s.queryArticles(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("articles: %w", err)
	}
	return recs, nil
}

func (s *Store) queryArticles(ctx context.Context, query string, args ...any) ([]store.ArticleRecord, error) {
	rows, err := s.r.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []store.ArticleRecord
	for rows.Next() {
		rec, err := scanArticle(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, rec)
	}
	return out, rows.Err()
}
