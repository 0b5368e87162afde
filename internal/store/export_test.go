package store

import (
	"context"
	"database/sql"
)

// ExecForTest runs a statement directly, for tests that tamper with the file.
func (db *DB) ExecForTest(ctx context.Context, query string, args ...any) (sql.Result, error) {
	return db.db.ExecContext(ctx, query, args...)
}
