// Package store keeps costbot's state in one SQLite file (modernc.org/sqlite,
// pure Go), or in a PostgreSQL database shared by several replicas (pgx; see
// pg.go and lease.go): usage history, payment cards, the fetch log, alert
// state, the per-notifier send log and user actions. The schema lives in
// embedded migrations applied in order and tracked by PRAGMA user_version
// (SQLite) or the costbot_schema table (PostgreSQL).
//
// Charge days are stored as unix milliseconds (UTC) for indexed range scans;
// every other timestamp is UTC RFC 3339 text with nanoseconds. Floats are
// stored as 8-byte REALs, so they round-trip exactly.
package store

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"path"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/costbot/costbot/internal/alert"

	_ "modernc.org/sqlite" // registers the "sqlite" driver
)

// ErrNotFound is returned (wrapped) when a requested record does not exist.
// It is alert.ErrNotFound, so errors.Is works with either name.
var ErrNotFound = alert.ErrNotFound

// ErrEmptyFile is returned (wrapped) by Open for a state file that exists
// but holds nothing: a truncated or zeroed file, not a new state.
var ErrEmptyFile = errors.New("state file is empty")

//go:embed migrations/*.sql migrations/postgres/*.sql
var migrations embed.FS

// maxOpenConns bounds the pool: WAL lets readers (slash commands) run beside
// the one writer (the cycle); writers queue on the busy timeout.
const maxOpenConns = 4

// DB is an open costbot database. It is safe for concurrent use.
type DB struct {
	db   *sql.DB
	lock *lockFile // SQLite only: one process per state file
	pg   bool      // PostgreSQL: shared by replicas, one leads (lease.go)
}

// Shared reports whether several costbot processes may share this state
// (PostgreSQL): one of them leads, elected with Lease.
func (db *DB) Shared() bool { return db.pg }

// Open opens the state: a PostgreSQL URL (postgres://…, see pg.go), or
// the SQLite database at path (creating it with mode 0600 if
// needed; an existing file keeps its mode; an existing empty file is refused
// with ErrEmptyFile), in WAL mode
// with a 5 s busy timeout and foreign keys on, and applies pending
// migrations. It holds an exclusive lock on path+".lock" until Close: a
// second process (or a second Open) on the same state fails with ErrLocked. Write transactions begin IMMEDIATE so concurrent writers wait
// instead of failing to upgrade a read lock.
func Open(ctx context.Context, path string) (*DB, error) {
	if IsPostgres(path) {
		return openPostgres(ctx, path)
	}
	if path == "" {
		return nil, errors.New("open database: empty path")
	}
	lock, err := acquireLock(path)
	if err != nil {
		return nil, err
	}
	if err := refuseEmpty(path); err != nil {
		lock.release()
		return nil, err
	}
	if err := createPrivate(path); err != nil {
		lock.release()
		return nil, err
	}
	dsn := "file:" + (&url.URL{Path: path}).EscapedPath() +
		"?_txlock=immediate&_busy_timeout=5000&_journal_mode=WAL&_foreign_keys=1&_synchronous=NORMAL"
	sqldb, err := sql.Open("sqlite", dsn)
	if err != nil {
		lock.release()
		return nil, fmt.Errorf("open database %q: %w", path, err)
	}
	sqldb.SetMaxOpenConns(maxOpenConns)
	sqldb.SetMaxIdleConns(maxOpenConns)
	db := &DB{db: sqldb, lock: lock}
	if err := sqldb.PingContext(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("open database %q: %w", path, err)
	}
	if err := db.migrate(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("migrate database %q: %w", path, err)
	}
	return db, nil
}

// refuseEmpty fails for an existing zero-length file with no write-ahead
// log beside it: SQLite would take it for a new database, and the alert
// state would start over and re-send every open alert. A fresh state is
// created only where no file exists.
func refuseEmpty(path string) error {
	fi, err := os.Stat(path)
	if err != nil || !fi.Mode().IsRegular() || fi.Size() > 0 {
		return nil // a missing file is created; other errors surface in sql.Open
	}
	if wal, err := os.Stat(path + "-wal"); err == nil && wal.Size() > 0 {
		return nil // the log holds the data; SQLite recovers it
	}
	return fmt.Errorf("open database %q: %w (0 bytes): refusing to start over and re-send every alert; "+
		"restore the file from a backup, or delete it to start with a new state", path, ErrEmptyFile)
}

// Close closes the database and releases its lock.
func (db *DB) Close() error {
	return errors.Join(db.db.Close(), db.lock.release())
}

// SchemaVersion returns the applied migration count (PRAGMA user_version,
// or costbot_schema on PostgreSQL).
func (db *DB) SchemaVersion(ctx context.Context) (int, error) {
	v, err := db.schemaVersion(ctx, db.db)
	if err != nil {
		return 0, fmt.Errorf("read schema version: %w", err)
	}
	return v, nil
}

// migrationLock is the PostgreSQL advisory lock key replicas take while
// migrating, so two starting at once apply each migration once.
const migrationLock = 0x636f737462 // "costb"

// schemaVersion reads the applied migration count (through a
// transaction or the pool).
func (db *DB) schemaVersion(ctx context.Context, tx interface {
	QueryRowContext(context.Context, string, ...any) *sql.Row
}) (int, error) {
	q := "PRAGMA user_version"
	if db.pg {
		q = "SELECT version FROM costbot_schema"
	}
	var v int
	err := tx.QueryRowContext(ctx, q).Scan(&v)
	return v, err
}

// prepareMigration, on PostgreSQL, takes the migration lock for tx (two
// replicas starting at once apply each migration once) and creates the
// version table of a new database.
func (db *DB) prepareMigration(ctx context.Context, tx *sql.Tx) error {
	if !db.pg {
		return nil
	}
	for _, q := range []string{
		"SELECT pg_advisory_xact_lock(" + strconv.Itoa(migrationLock) + ")",
		"CREATE TABLE IF NOT EXISTS costbot_schema (version BIGINT NOT NULL)",
		"INSERT INTO costbot_schema (version) SELECT 0 WHERE NOT EXISTS (SELECT 1 FROM costbot_schema)",
	} {
		if _, err := tx.ExecContext(ctx, q); err != nil {
			return err
		}
	}
	return nil
}

func (db *DB) setSchemaVersion(ctx context.Context, tx *sql.Tx, v int) error {
	var err error
	if db.pg {
		_, err = tx.ExecContext(ctx, "UPDATE costbot_schema SET version = ?", v)
	} else {
		// PRAGMA takes no bind parameters; the number is ours.
		_, err = tx.ExecContext(ctx, "PRAGMA user_version = "+strconv.Itoa(v))
	}
	return err
}

// migrate applies every migration newer than user_version in one
// transaction. Migration files are named NNNN_what.sql, numbered from 1
// without gaps.
func (db *DB) migrate(ctx context.Context) error {
	dir := "migrations"
	if db.pg {
		dir = "migrations/postgres"
	}
	names, err := fs.Glob(migrations, dir+"/*.sql")
	if err != nil {
		return err
	}
	slices.Sort(names)
	for i, name := range names {
		num, _, _ := strings.Cut(path.Base(name), "_")
		if n, err := strconv.Atoi(num); err != nil || n != i+1 {
			return fmt.Errorf("migration %q: want number %04d", name, i+1)
		}
	}
	return db.tx(ctx, func(tx *sql.Tx) error {
		if err := db.prepareMigration(ctx, tx); err != nil {
			return fmt.Errorf("prepare migrations: %w", err)
		}
		v, err := db.schemaVersion(ctx, tx)
		if err != nil {
			return fmt.Errorf("read schema version: %w", err)
		}
		if v > len(names) {
			return fmt.Errorf("schema version %d is newer than this binary knows (%d)", v, len(names))
		}
		for _, name := range names[v:] {
			script, err := migrations.ReadFile(name)
			if err != nil {
				return err
			}
			if _, err := tx.ExecContext(ctx, string(script)); err != nil {
				return fmt.Errorf("apply %q: %w", path.Base(name), err)
			}
		}
		if v == len(names) {
			return nil
		}
		if err := db.setSchemaVersion(ctx, tx, len(names)); err != nil {
			return fmt.Errorf("set schema version: %w", err)
		}
		return nil
	})
}

// tx runs fn in a transaction and commits if fn returns nil. When ctx
// carries a fence (WithFence) on a shared state, the transaction first
// proves the lease is still held and keeps another replica from taking it
// until it ends (lease.go); otherwise it fails with ErrNotLeader and
// writes nothing.
func (db *DB) tx(ctx context.Context, fn func(*sql.Tx) error) error {
	tx, err := db.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("begin: %w", err)
	}
	if err := db.checkFence(ctx, tx); err != nil {
		_ = tx.Rollback()
		return err
	}
	if err := fn(tx); err != nil {
		_ = tx.Rollback()
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("commit: %w", err)
	}
	return nil
}

// Time encodings.

func fmtTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.RFC3339Nano)
}

func parseTime(s string) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return time.Time{}, fmt.Errorf("parse time %q: %w", s, err)
	}
	return t.UTC(), nil
}

func toMS(t time.Time) int64 { return t.UnixMilli() }

func fromMS(ms int64) time.Time { return time.UnixMilli(ms).UTC() }
