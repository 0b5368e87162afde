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

// TxForTest runs fn inside one of the store's write transactions (fenced
// when ctx carries a fence).
func (db *DB) TxForTest(ctx context.Context, fn func() error) error {
	return db.tx(ctx, func(*sql.Tx) error { return fn() })
}

// ColumnsForTest lists each table's columns in order.
func (db *DB) ColumnsForTest(ctx context.Context) (map[string][]string, error) {
	q := `SELECT m.name, p.name FROM sqlite_master m, pragma_table_info(m.name) p
		WHERE m.type = 'table' ORDER BY m.name, p.cid`
	if db.pg {
		q = `SELECT table_name, column_name FROM information_schema.columns
			WHERE table_schema = current_schema() ORDER BY table_name, ordinal_position`
	}
	rows, err := db.db.QueryContext(ctx, q)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[string][]string{}
	for rows.Next() {
		var t, c string
		if err := rows.Scan(&t, &c); err != nil {
			return nil, err
		}
		out[t] = append(out[t], c)
	}
	return out, rows.Err()
}
