package sqlite

import (
	"context"
	"database/sql"
	"embed"
	"fmt"
	"io/fs"
	"path"
	"sort"
	"strconv"
	"strings"
)

//go:embed migrations/*.sql
var migrationFS embed.FS

// migration is one numbered schema step; version is the number in its file
// name (0001_init.sql is version 1), kept in PRAGMA user_version once applied.
type migration struct {
	version int
	name    string
	sql     string
}

// migrations returns the embedded steps in order, checking that they are
// numbered 1, 2, 3... without gaps, so a misnamed file fails every test.
func migrations() ([]migration, error) {
	files, err := fs.Glob(migrationFS, "migrations/*.sql")
	if err != nil {
		return nil, fmt.Errorf("list migrations: %w", err)
	}
	var ms []migration
	for _, f := range files {
		base := path.Base(f)
		num, _, ok := strings.Cut(base, "_")
		v, err := strconv.Atoi(num)
		if !ok || err != nil || v <= 0 {
			return nil, fmt.Errorf("migration %s: name must start with a positive number and '_'", base)
		}
		body, err := migrationFS.ReadFile(f)
		if err != nil {
			return nil, fmt.Errorf("read migration %s: %w", base, err)
		}
		ms = append(ms, migration{version: v, name: base, sql: string(body)})
	}
	sort.Slice(ms, func(i, j int) bool { return ms[i].version < ms[j].version })
	for i, m := range ms {
		if m.version != i+1 {
			return nil, fmt.Errorf("migration %s: expected version %d", m.name, i+1)
		}
	}
	return ms, nil
}

// migrate applies the steps the database has not seen yet, each in its own
// transaction together with the new user_version, so a crash leaves the
// schema at a whole step. A database newer than this binary is refused
// rather than written by code that does not know its schema.
func migrate(ctx context.Context, db *sql.DB) error {
	ms, err := migrations()
	if err != nil {
		return err
	}
	latest := len(ms)
	for {
		done, err := migrateStep(ctx, db, ms, latest)
		if err != nil || done {
			return err
		}
	}
}

// migrateStep applies at most one step and reports whether none was left.
// The version is read inside the write transaction, so two processes opening
// the same file at once cannot both apply a step.
func migrateStep(ctx context.Context, db *sql.DB, ms []migration, latest int) (done bool, err error) {
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return false, fmt.Errorf("migrate: begin: %w", err)
	}
	defer tx.Rollback()
	var v int
	if err := tx.QueryRowContext(ctx, "PRAGMA user_version").Scan(&v); err != nil {
		return false, fmt.Errorf("migrate: read schema version: %w", err)
	}
	if v > latest {
		return false, fmt.Errorf("database schema version %d is newer than this program knows (%d): upgrade Recap", v, latest)
	}
	if v == latest {
		return true, nil
	}
	m := ms[v]
	if _, err := tx.ExecContext(ctx, m.sql); err != nil {
		return false, fmt.Errorf("migrate %s: %w", m.name, err)
	}
	// PRAGMA takes no bound parameters; m.version is our own integer.
	if _, err := tx.ExecContext(ctx, "PRAGMA user_version = "+strconv.Itoa(m.version)); err != nil {
		return false, fmt.Errorf("migrate %s: set version: %w", m.name, err)
	}
	if err := tx.Commit(); err != nil {
		return false, fmt.Errorf("migrate %s: commit: %w", m.name, err)
	}
	return false, nil
}
