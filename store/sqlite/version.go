package sqlite

import (
	"context"
	"database/sql"
	"fmt"

	"recap/store"
)

// bumpChangesSQL counts one change of the sources and, when ?2 is true, of
// the articles; ?1 is the time of the change.
const bumpChangesSQL = `UPDATE changes SET
	sources = sources + 1, sources_at = ?1,
	articles = articles + ?2, articles_at = CASE WHEN ?2 THEN ?1 ELSE articles_at END
	WHERE id = 1`

type execer interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
}

// bump counts a change outside SaveFetch (whose prepared statement does the
// same in its own transaction).
func (s *Store) bump(ctx context.Context, db execer, articles bool) error {
	if _, err := db.ExecContext(ctx, bumpChangesSQL, s.now().UnixMilli(), articles); err != nil {
		return fmt.Errorf("count change: %w", err)
	}
	return nil
}

// bumpArticles counts a change of the articles alone (the story stage
// changes no source).
func (s *Store) bumpArticles(ctx context.Context, db execer) error {
	if _, err := db.ExecContext(ctx, `UPDATE changes SET articles = articles + 1, articles_at = ? WHERE id = 1`,
		s.now().UnixMilli()); err != nil {
		return fmt.Errorf("count change: %w", err)
	}
	return nil
}

// Version returns the change counters.
func (s *Store) Version(ctx context.Context) (store.Version, error) {
	var (
		v                     store.Version
		articlesAt, sourcesAt sql.NullInt64
	)
	if err := s.r.QueryRowContext(ctx, `SELECT articles, articles_at, sources, sources_at,
		(SELECT indexed_upto FROM search_state WHERE id = 1) FROM changes WHERE id = 1`).
		Scan(&v.Articles, &articlesAt, &v.Sources, &sourcesAt, &v.Searchable); err != nil {
		return store.Version{}, fmt.Errorf("version: %w", err)
	}
	if articlesAt.Int64 > 0 {
		v.ArticlesAt = fromMS(articlesAt)
	}
	if sourcesAt.Int64 > 0 {
		v.SourcesAt = fromMS(sourcesAt)
	}
	return v, nil
}
