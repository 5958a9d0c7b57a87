package sqlite

import (
	"bytes"
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"io"
	"math/bits"
	"strings"
	"time"

	"recap/news"
	"recap/store"
)

// saveStmts are the statements of SaveFetch, prepared once on the writer's
// only connection, so each transaction reuses them instead of compiling SQL.
type saveStmts struct {
	known, knownURLs, insertArticle, articleByURL, insertSighting,
	updateArticle, updateSighting, touchSightings, insertFetch, updateSource,
	moveSource, bumpChanges *sql.Stmt
	// insertSightings[i] inserts 1<<i sightings in one statement: a fetch's
	// new sightings go in a few statements, not one each, which halved the
	// CPU time of writing them.
	insertSightings [sightingChunks]*sql.Stmt
}

// sightingChunks: statements for 1, 2, 4, ... 32 rows; any count is a sum of them.
const sightingChunks = 6

const sightingCols = 9

func insertSightingsSQL(rows int) string {
	var b strings.Builder
	b.WriteString(`INSERT INTO sightings
		(source_id, key_hash, item_key, article_id, guid, link, content_hash, first_seen, last_seen) VALUES `)
	for i := range rows {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString("(?, ?, ?, ?, ?, ?, ?, ?, ?)")
	}
	b.WriteString(" ON CONFLICT(source_id, key_hash) DO NOTHING")
	return b.String()
}

func (st *saveStmts) prepare(ctx context.Context, db *sql.DB) error {
	for _, p := range []struct {
		dst   **sql.Stmt
		query string
	}{
		// CROSS JOIN keeps the batch's keys as the outer loop: one primary-key
		// probe per item, however many sightings the source has piled up.
		{&st.known, `SELECT g.key_hash, g.article_id, g.content_hash, coalesce(a.source_id, 0)
			FROM json_each(?2) j
			CROSS JOIN sightings g ON g.source_id = ?1 AND g.key_hash = j.value
			JOIN articles a ON a.id = g.article_id`},
		// The same for canonical URLs: most items of a busy feed set are
		// articles another feed brought first.
		{&st.knownURLs, `SELECT a.url, a.id, coalesce(a.source_id, 0)
			FROM json_each(?) j CROSS JOIN articles a ON a.url = j.value`},
		{&st.insertArticle, `INSERT INTO articles
			(url, title, summary, content_html, text, author, categories, image_url,
			 published, updated, collected, source_id, content_hash)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
			ON CONFLICT(url) DO NOTHING`},
		{&st.articleByURL, `SELECT id, coalesce(source_id, 0) FROM articles WHERE url = ?`},
		// The URL follows an edited link only when no other article holds
		// the new one; published stays as first seen, because feeds without
		// dates get "now" on every fetch.
		{&st.updateArticle, `UPDATE articles SET
			title = ?1, summary = ?2, content_html = ?3, text = ?4, author = ?5, categories = ?6,
			image_url = ?7, updated = ?8, content_hash = ?9,
			url = CASE
				WHEN ?10 IS NULL OR ?10 IS url THEN url
				WHEN EXISTS (SELECT 1 FROM articles o WHERE o.url = ?10) THEN url
				ELSE ?10 END
			WHERE id = ?11`},
		{&st.updateSighting, `UPDATE sightings SET content_hash = ?, last_seen = ?, guid = ?, link = ?
			WHERE source_id = ? AND key_hash = ?`},
		{&st.touchSightings, `UPDATE sightings SET last_seen = ?1
			WHERE source_id = ?2 AND key_hash IN (SELECT value FROM json_each(?3))`},
		{&st.insertFetch, `INSERT INTO fetches
			(source_id, at, status, duration_ms, bytes, items, new_items, updated_items, error)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`},
		{&st.updateSource, `UPDATE sources SET
			etag = CASE WHEN ?1 THEN etag ELSE ?2 END,
			last_modified = CASE WHEN ?1 THEN last_modified ELSE ?3 END,
			last_check = ?4, next_check = ?5, last_status = ?6, last_error = ?7, error_count = ?8,
			last_items = CASE WHEN ?9 THEN ?10 ELSE last_items END,
			title = CASE WHEN title = '' THEN ?11 ELSE title END,
			site_url = CASE WHEN site_url = '' THEN ?12 ELSE site_url END
			WHERE id = ?13`},
		// OR IGNORE: a redirect onto a feed that is already another source
		// leaves this source's URL alone instead of failing the whole fetch.
		{&st.moveSource, `UPDATE OR IGNORE sources SET url = ? WHERE id = ?`},
		// A fetch always changes its source's state; articles only when
		// ?2 says so.
		{&st.bumpChanges, bumpChangesSQL},
	} {
		stmt, err := db.PrepareContext(ctx, p.query)
		if err != nil {
			st.close()
			return fmt.Errorf("prepare %q: %w", p.query, err)
		}
		*p.dst = stmt
	}
	for i := range st.insertSightings {
		q := insertSightingsSQL(1 << i)
		stmt, err := db.PrepareContext(ctx, q)
		if err != nil {
			st.close()
			return fmt.Errorf("prepare %q: %w", q, err)
		}
		st.insertSightings[i] = stmt
	}
	return nil
}

func (st *saveStmts) close() {
	for _, s := range append([]*sql.Stmt{st.known, st.knownURLs, st.insertArticle, st.articleByURL,
		st.updateArticle, st.updateSighting, st.touchSightings, st.insertFetch,
		st.updateSource, st.moveSource, st.bumpChanges}, st.insertSightings[:]...) {
		if s != nil {
			s.Close()
		}
	}
}

// sighting is what the store already knows of one (source, item key).
type sighting struct {
	article int64
	hash    []byte
	owner   int64 // the article's first source; 0 when it has none
	pending int   // 1 + its row in the batch's sightings not yet written; 0 when stored
}

func (s *Store) saveArticles(ctx context.Context, tx *sql.Tx, srcID int64, at time.Time, arts []news.Article) (store.SaveStats, error) {
	var stats store.SaveStats
	keys := make([]string, len(arts))
	for i := range arts {
		keys[i] = arts[i].ItemKey
		if keys[i] == "" {
			keys[i] = news.ItemKey(arts[i].GUID, arts[i].URL, arts[i].Title, arts[i].Published)
		}
	}
	hashes := make([]int64, len(arts))
	for i, k := range keys {
		hashes[i] = keyHash(k)
	}
	known, err := s.knownSightings(ctx, tx, srcID, hashes)
	if err != nil {
		return stats, err
	}
	var urls []string
	for i := range arts {
		if _, ok := known[hashes[i]]; !ok && arts[i].URL != "" {
			urls = append(urls, arts[i].URL)
		}
	}
	stored, err := s.storedArticles(ctx, tx, urls)
	if err != nil {
		return stats, err
	}

	var (
		insArticle, byURL, updArticle, updSighting *sql.Stmt
		unchanged                                  []int64
		newSightings                               []any // sightingCols values a row
		atMS                                       = at.UnixMilli()
	)
	stmt := func(p **sql.Stmt, prepared *sql.Stmt) *sql.Stmt {
		if *p == nil {
			*p = tx.StmtContext(ctx, prepared)
		}
		return *p
	}
	for i := range arts {
		a, key, kh := &arts[i], keys[i], hashes[i]
		h := contentHash(a)
		if k, ok := known[kh]; ok {
			if bytes.Equal(k.hash, h) {
				stats.Unchanged++
				unchanged = append(unchanged, kh)
				continue
			}
			// Only the article's first source may rewrite it; another
			// outlet's edit of its copy must not overwrite the original.
			if k.owner == srcID {
				cats, err := categoriesJSON(a.Categories)
				if err != nil {
					return stats, err
				}
				if _, err := stmt(&updArticle, s.stmts.updateArticle).ExecContext(ctx,
					a.Title, a.Summary, a.ContentHTML, a.Text, a.Author, cats, a.ImageURL,
					ms(a.Updated), h, nullString(a.URL), k.article); err != nil {
					return stats, fmt.Errorf("update article %d: %w", k.article, err)
				}
				stats.Updated++
			} else {
				stats.Unchanged++
			}
			if k.pending > 0 {
				// The key came earlier in this batch and its row is not
				// written yet: the later copy wins, as an UPDATE would.
				row := newSightings[(k.pending-1)*sightingCols:]
				row[4], row[5], row[6] = a.GUID, a.Link, h
			} else if _, err := stmt(&updSighting, s.stmts.updateSighting).ExecContext(ctx,
				h, atMS, a.GUID, a.Link, srcID, kh); err != nil {
				return stats, fmt.Errorf("update sighting %q: %w", key, err)
			}
			k.hash = h
			known[kh] = k
			continue
		}

		collected := a.Collected
		if collected.IsZero() {
			collected = at
		}
		published := a.Published
		if published.IsZero() {
			published = collected
		}
		cats, err := categoriesJSON(a.Categories)
		if err != nil {
			return stats, err
		}
		id, owner, isNew, err := s.insertArticle(ctx, tx, stmt(&insArticle, s.stmts.insertArticle),
			&byURL, srcID, key, a, collected, published, cats, h, stored)
		if err != nil {
			return stats, err
		}
		if isNew {
			stats.New++
		} else {
			stats.Sightings++
		}
		// known, updated below, keeps a key repeated in this batch out
		// of newSightings.
		newSightings = append(newSightings, srcID, kh, key, id, a.GUID, a.Link, h, atMS, atMS)
		known[kh] = sighting{article: id, hash: h, owner: owner, pending: len(newSightings) / sightingCols}
	}

	if err := s.insertSightings(ctx, tx, newSightings); err != nil {
		return stats, err
	}
	if len(unchanged) > 0 {
		list, err := json.Marshal(unchanged)
		if err != nil {
			return stats, fmt.Errorf("touch sightings: %w", err)
		}
		if _, err := tx.StmtContext(ctx, s.stmts.touchSightings).ExecContext(ctx, atMS, srcID, string(list)); err != nil {
			return stats, fmt.Errorf("touch sightings: %w", err)
		}
	}
	return stats, nil
}

// insertSightings writes the rows, sightingCols values each, in as few
// statements as the chunk sizes allow.
func (s *Store) insertSightings(ctx context.Context, tx *sql.Tx, rows []any) error {
	for len(rows) > 0 {
		n := len(rows) / sightingCols
		i := min(bits.Len(uint(n))-1, sightingChunks-1)
		chunk := (1 << i) * sightingCols
		if _, err := tx.StmtContext(ctx, s.stmts.insertSightings[i]).ExecContext(ctx, rows[:chunk]...); err != nil {
			return fmt.Errorf("insert sightings %q...: %w", rows[2], err)
		}
		rows = rows[chunk:]
	}
	return nil
}

// articleRef is a stored article as dedupe level 2 finds it by its URL.
type articleRef struct{ id, owner int64 }

// insertArticle stores a if its URL is new and returns its id; else the id
// of the article holding the URL. stored, the URLs read before, spares most
// lookups; the unique URL still decides, so a URL stored meanwhile (another
// instance, another item of this batch) ends in the same article.
func (s *Store) insertArticle(ctx context.Context, tx *sql.Tx, ins *sql.Stmt, byURL **sql.Stmt, srcID int64, key string,
	a *news.Article, collected, published time.Time, cats any, h []byte, stored map[string]articleRef) (id, owner int64, isNew bool, err error) {
	if ref, ok := stored[a.URL]; ok && a.URL != "" {
		return ref.id, ref.owner, false, nil
	}
	// Exec rather than RETURNING: RETURNING builds a temporary table per
	// row, which cost more than the insert itself.
	res, err := ins.ExecContext(ctx,
		nullString(a.URL), a.Title, a.Summary, a.ContentHTML, a.Text, a.Author, cats, a.ImageURL,
		published.UnixMilli(), ms(a.Updated), collected.UnixMilli(), srcID, h)
	if err != nil {
		return 0, 0, false, fmt.Errorf("insert article %q: %w", key, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return 0, 0, false, fmt.Errorf("insert article %q: %w", key, err)
	}
	if n == 1 {
		if id, err = res.LastInsertId(); err != nil {
			return 0, 0, false, fmt.Errorf("insert article %q: %w", key, err)
		}
		if a.URL != "" {
			stored[a.URL] = articleRef{id, srcID}
		}
		return id, srcID, true, nil
	}
	if *byURL == nil {
		*byURL = tx.StmtContext(ctx, s.stmts.articleByURL)
	}
	if err := (*byURL).QueryRowContext(ctx, a.URL).Scan(&id, &owner); err != nil {
		return 0, 0, false, fmt.Errorf("find article %s: %w", a.URL, err)
	}
	stored[a.URL] = articleRef{id, owner}
	return id, owner, false, nil
}

// storedArticles reads the articles already stored under these URLs, in one
// query.
func (s *Store) storedArticles(ctx context.Context, tx *sql.Tx, urls []string) (map[string]articleRef, error) {
	stored := make(map[string]articleRef, len(urls))
	if len(urls) == 0 {
		return stored, nil
	}
	list, err := json.Marshal(urls)
	if err != nil {
		return nil, fmt.Errorf("stored articles: %w", err)
	}
	rows, err := tx.StmtContext(ctx, s.stmts.knownURLs).QueryContext(ctx, string(list))
	if err != nil {
		return nil, fmt.Errorf("stored articles: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var (
			url string
			ref articleRef
		)
		if err := rows.Scan(&url, &ref.id, &ref.owner); err != nil {
			return nil, fmt.Errorf("stored articles: %w", err)
		}
		stored[url] = ref
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("stored articles: %w", err)
	}
	return stored, nil
}

// knownSightings reads what the source already carried of these item keys,
// in one query, so unchanged items cost no write.
func (s *Store) knownSightings(ctx context.Context, tx *sql.Tx, srcID int64, keys []int64) (map[int64]sighting, error) {
	list, err := json.Marshal(keys)
	if err != nil {
		return nil, fmt.Errorf("known items: %w", err)
	}
	rows, err := tx.StmtContext(ctx, s.stmts.known).QueryContext(ctx, srcID, string(list))
	if err != nil {
		return nil, fmt.Errorf("known items: %w", err)
	}
	defer rows.Close()
	known := make(map[int64]sighting, len(keys))
	for rows.Next() {
		var (
			key int64
			k   sighting
		)
		if err := rows.Scan(&key, &k.article, &k.hash, &k.owner); err != nil {
			return nil, fmt.Errorf("known items: %w", err)
		}
		known[key] = k
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("known items: %w", err)
	}
	return known, nil
}

// keyHash is the sightings' key for an item key (see the sightings table in
// 0001_init.sql for why a hash, and its collision odds).
func keyHash(key string) int64 {
	sum := sha256.Sum256([]byte(key))
	return int64(binary.BigEndian.Uint64(sum[:8]))
}

// contentHash tells whether an item changed. It covers what a reader sees:
// the canonical URL rather than the raw link, so rotating tracking
// parameters do not count as edits.
func contentHash(a *news.Article) []byte {
	h := sha256.New()
	for _, f := range []string{a.Title, a.Summary, a.ContentHTML, a.URL} {
		io.WriteString(h, f)
		h.Write([]byte{0})
	}
	return h.Sum(nil)[:16]
}

func categoriesJSON(c []string) (any, error) {
	if len(c) == 0 {
		return nil, nil
	}
	b, err := json.Marshal(c)
	if err != nil {
		return nil, fmt.Errorf("encode categories: %w", err)
	}
	return string(b), nil
}

// nullString stores "" as NULL: articles without a link must not collide on
// the unique URL.
func nullString(s string) any {
	if s == "" {
		return nil
	}
	return s
}
