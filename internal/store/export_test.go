package store

import (
	"context"
	"database/sql"

	"github.com/costbot/costbot/internal/cost"
)

// ExecForTest runs a statement directly, for tests that tamper with the file.
func (db *DB) ExecForTest(ctx context.Context, query string, args ...any) (sql.Result, error) {
	return db.db.ExecContext(ctx, query, args...)
}

// PragmaForTest reads a pragma on a pooled connection.
func (db *DB) PragmaForTest(ctx context.Context, name string) (string, error) {
	var v string
	err := db.db.QueryRowContext(ctx, "PRAGMA "+name).Scan(&v)
	return v, err
}

// OpenRawForTest opens path with the driver alone: no migrations, for tests
// that build a state file as an older costbot wrote it.
func OpenRawForTest(path string) (*sql.DB, error) {
	return sql.Open("sqlite", "file:"+path+"?_foreign_keys=1")
}

// MigrationForTest returns an embedded migration script, e.g. "0002_alerts.sql".
func MigrationForTest(name string) (string, error) {
	b, err := migrations.ReadFile("migrations/" + name)
	return string(b), err
}

// EncodeFindingForTest is the stored JSON form of a finding.
func EncodeFindingForTest(f cost.Finding) (string, error) {
	b, err := encodeFinding(f)
	return string(b), err
}
