// Package sqlite is the embedded Store: one SQLite file (modernc.org/sqlite, no cgo).
package sqlite
