package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"recap/store"
)

const sourceColumns = `s.id, s.url, s.title, s.site_url, s.filter, s.weight, s.interval_s, s.enabled, s.created,
	s.etag, s.last_modified, s.last_check, s.next_check, s.last_status, s.last_error, s.error_count, s.last_items`

type rowScanner interface {
	Scan(dest ...any) error
}

// scanSource reads sourceColumns, plus the extra destinations that follow them.
func scanSource(row rowScanner, extra ...any) (store.Source, error) {
	var (
		src                          store.Source
		intervalS                    int64
		created, lastCheck, nextTime sql.NullInt64
	)
	dest := append([]any{&src.ID, &src.URL, &src.Title, &src.SiteURL, &src.Filter, &src.Weight, &intervalS,
		&src.Enabled, &created, &src.ETag, &src.LastModified, &lastCheck, &nextTime, &src.LastStatus,
		&src.LastError, &src.ErrorCount, &src.LastItems}, extra...)
	if err := row.Scan(dest...); err != nil {
		return store.Source{}, err
	}
	src.Interval = time.Duration(intervalS) * time.Second
	src.Created = fromMS(created)
	src.LastCheck = fromMS(lastCheck)
	if nextTime.Int64 != 0 {
		src.NextCheck = fromMS(nextTime)
	}
	return src, nil
}

// AddSource stores a new source. Every new source starts enabled (a bool
// cannot say "not given"); use SetSourceEnabled to pause it. Filter defaults
// to store.FilterAll, Weight to 1, Created to now.
func (s *Store) AddSource(ctx context.Context, src store.Source) (store.Source, error) {
	src.URL = strings.TrimSpace(src.URL)
	if src.URL == "" {
		return store.Source{}, errors.New("add source: empty URL")
	}
	switch src.Filter {
	case "":
		src.Filter = store.FilterAll
	case store.FilterAll, store.FilterAI:
	default:
		return store.Source{}, fmt.Errorf("add source %s: unknown filter %q", src.URL, src.Filter)
	}
	if src.Weight == 0 {
		src.Weight = 1
	}
	if src.Created.IsZero() {
		src.Created = s.now()
	}
	src.Enabled = true
	res, err := s.w.ExecContext(ctx, `INSERT INTO sources
		(url, title, site_url, filter, weight, interval_s, enabled, created, etag, last_modified,
		 last_check, next_check, last_status, last_error, error_count, last_items)
		VALUES (?, ?, ?, ?, ?, ?, 1, ?, ?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT(url) DO NOTHING`,
		src.URL, src.Title, src.SiteURL, src.Filter, src.Weight, int64(src.Interval/time.Second),
		src.Created.UnixMilli(), src.ETag, src.LastModified, ms(src.LastCheck), nextCheck(src.NextCheck),
		src.LastStatus, src.LastError, src.ErrorCount, src.LastItems)
	if err != nil {
		return store.Source{}, fmt.Errorf("add source %s: %w", src.URL, err)
	}
	if n, err := res.RowsAffected(); err != nil {
		return store.Source{}, fmt.Errorf("add source %s: %w", src.URL, err)
	} else if n == 0 {
		return store.Source{}, fmt.Errorf("add source %s: %w", src.URL, store.ErrExists)
	}
	id, err := res.LastInsertId()
	if err != nil {
		return store.Source{}, fmt.Errorf("add source %s: %w", src.URL, err)
	}
	if err := s.bump(ctx, s.w, false); err != nil {
		return store.Source{}, fmt.Errorf("add source %s: %w", src.URL, err)
	}
	// Read back, so the caller sees exactly what a later Source returns
	// (times at the stored precision).
	return s.sourceFrom(ctx, s.w, id)
}

// nextCheck stores a next check time; the zero time is 0, due at once.
func nextCheck(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixMilli()
}

type querier interface {
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// Source returns one source; store.ErrNotFound when absent.
func (s *Store) Source(ctx context.Context, id int64) (store.Source, error) {
	return s.sourceFrom(ctx, s.r, id)
}

func (s *Store) sourceFrom(ctx context.Context, q querier, id int64) (store.Source, error) {
	var count int
	src, err := scanSource(q.QueryRowContext(ctx, `SELECT `+sourceColumns+`,
		(SELECT count(*) FROM articles a WHERE a.source_id = s.id)
		FROM sources s WHERE s.id = ?`, id), &count)
	src.Articles = count
	if errors.Is(err, sql.ErrNoRows) {
		return store.Source{}, fmt.Errorf("source %d: %w", id, store.ErrNotFound)
	}
	if err != nil {
		return store.Source{}, fmt.Errorf("source %d: %w", id, err)
	}
	return src, nil
}

// Sources returns every source in id order, each with its article count.
func (s *Store) Sources(ctx context.Context) ([]store.Source, error) {
	// The counts come from one grouped scan of the articles_source index
	// rather than one correlated count per source.
	return s.querySources(ctx, `SELECT `+sourceColumns+`, coalesce(c.n, 0)
		FROM sources s LEFT JOIN (
			SELECT source_id, count(*) AS n FROM articles WHERE source_id IS NOT NULL GROUP BY source_id
		) c ON c.source_id = s.id
		ORDER BY s.id`, true)
}

// DueSources returns enabled sources whose next check is at or before now,
// the most overdue first (never scheduled first of all). limit <= 0 means all.
func (s *Store) DueSources(ctx context.Context, now time.Time, limit int) ([]store.Source, error) {
	if limit <= 0 {
		limit = -1
	}
	return s.querySources(ctx, `SELECT `+sourceColumns+`
		FROM sources s WHERE s.enabled = 1 AND s.next_check <= ?
		ORDER BY s.next_check, s.id LIMIT ?`, false, now.UnixMilli(), limit)
}

func (s *Store) querySources(ctx context.Context, query string, withCount bool, args ...any) ([]store.Source, error) {
	rows, err := s.r.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("list sources: %w", err)
	}
	defer rows.Close()
	var out []store.Source
	for rows.Next() {
		var (
			src   store.Source
			count int
			err   error
		)
		if withCount {
			src, err = scanSource(rows, &count)
			src.Articles = count
		} else {
			src, err = scanSource(rows)
		}
		if err != nil {
			return nil, fmt.Errorf("list sources: %w", err)
		}
		out = append(out, src)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list sources: %w", err)
	}
	return out, nil
}

// RemoveSource deletes the source, its fetch records and its sightings.
// Articles stay: those another source also carried pass to the source that
// saw them first after this one, the rest keep no source.
func (s *Store) RemoveSource(ctx context.Context, id int64) error {
	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("remove source %d: %w", id, err)
	}
	defer tx.Rollback()
	if _, err := tx.ExecContext(ctx, `UPDATE articles SET source_id = (
			SELECT g.source_id FROM sightings g
			WHERE g.article_id = articles.id AND g.source_id <> ?1
			ORDER BY g.first_seen, g.source_id LIMIT 1)
		WHERE source_id = ?1`, id); err != nil {
		return fmt.Errorf("remove source %d: hand over articles: %w", id, err)
	}
	res, err := tx.ExecContext(ctx, `DELETE FROM sources WHERE id = ?`, id)
	if err != nil {
		return fmt.Errorf("remove source %d: %w", id, err)
	}
	if n, err := res.RowsAffected(); err != nil {
		return fmt.Errorf("remove source %d: %w", id, err)
	} else if n == 0 {
		return fmt.Errorf("remove source %d: %w", id, store.ErrNotFound)
	}
	if err := s.bump(ctx, tx, true); err != nil {
		return fmt.Errorf("remove source %d: %w", id, err)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("remove source %d: commit: %w", id, err)
	}
	return nil
}

// SetSourceEnabled pauses or resumes polling of a source.
func (s *Store) SetSourceEnabled(ctx context.Context, id int64, enabled bool) error {
	res, err := s.w.ExecContext(ctx, `UPDATE sources SET enabled = ? WHERE id = ?`, enabled, id)
	if err != nil {
		return fmt.Errorf("enable source %d: %w", id, err)
	}
	if n, err := res.RowsAffected(); err != nil {
		return fmt.Errorf("enable source %d: %w", id, err)
	} else if n == 0 {
		return fmt.Errorf("enable source %d: %w", id, store.ErrNotFound)
	}
	if err := s.bump(ctx, s.w, false); err != nil {
		return fmt.Errorf("enable source %d: %w", id, err)
	}
	return nil
}
