package store

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"net/url"
	"os"
	"strconv"
	"strings"
	"sync"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"
)

// The PostgreSQL backend runs the same queries as SQLite. They are written
// with SQLite's "?" placeholders; a thin driver.Conn around pgx's
// database/sql connection rewrites them to PostgreSQL's "$1, $2, ..." and
// binds Go bools as 0/1, the way SQLite stores them, so one store serves
// both. The PostgreSQL schema (migrations/postgres) mirrors the SQLite one
// file for file: BIGINT for INTEGER, DOUBLE PRECISION for REAL, TEXT in
// the "C" collation so ORDER BY sorts bytes as SQLite does, and a rowid
// column where queries order by SQLite's rowid (the outbox; usage numbers
// its rows itself, in seq, on both).

// IsPostgres reports whether state names a PostgreSQL database (a
// postgres:// or postgresql:// URL) rather than a SQLite file.
func IsPostgres(state string) bool {
	return strings.HasPrefix(state, "postgres://") || strings.HasPrefix(state, "postgresql://")
}

// openPostgres connects to the PostgreSQL database at dsn and applies
// pending migrations. Several processes may share it; Lease elects the
// one that runs cycles.
func openPostgres(ctx context.Context, dsn string) (*DB, error) {
	cfg, err := pgx.ParseConfig(dsn)
	if err != nil {
		return nil, fmt.Errorf("open database: state is not a valid PostgreSQL URL: %s", redactErr(err, dsn))
	}
	name := fmt.Sprintf("postgres %s@%s:%d/%s", cfg.User, cfg.Host, cfg.Port, cfg.Database)
	sqldb := sql.OpenDB(rebindConnector{stdlib.GetConnector(*cfg)})
	sqldb.SetMaxOpenConns(maxOpenConns * 2)
	sqldb.SetMaxIdleConns(maxOpenConns)
	db := &DB{db: sqldb, pg: true}
	if err := sqldb.PingContext(ctx); err != nil {
		sqldb.Close()
		return nil, fmt.Errorf("open database %s: %s", name, redactErr(err, dsn))
	}
	if err := db.migrate(ctx); err != nil {
		sqldb.Close()
		return nil, fmt.Errorf("migrate database %s: %w", name, err)
	}
	return db, nil
}

// redactErr is err's text with dsn's password, if any, replaced: pgx
// redacts its own parse errors, but a caller's wrapping must not leak it.
func redactErr(err error, dsn string) string {
	s := err.Error()
	if u, perr := url.Parse(dsn); perr == nil && u.User != nil {
		if pw, ok := u.User.Password(); ok && pw != "" {
			s = strings.ReplaceAll(s, pw, "xxxxx")
		}
	}
	return s
}

// idioms are the SQLite constructs the store's queries use that
// PostgreSQL spells differently: a JSON array of strings as a set.
var idioms = strings.NewReplacer(
	"SELECT value FROM json_each(?)", "SELECT json_array_elements_text(CAST(? AS json))",
)

// rebind rewrites the store's SQLite idioms for PostgreSQL and "?"
// placeholders outside quoted strings to "$1", "$2", ...: "?NNN" to
// "$NNN", and a bare "?" to one more than the largest number so far, as
// SQLite numbers them. Results are cached: the store's queries are a small
// fixed set (IN lists have a few lengths).
func rebind(q string) string {
	if v, ok := rebound.Load(q); ok {
		return v.(string)
	}
	orig := q
	q = idioms.Replace(q)
	if !strings.Contains(q, "?") {
		rebound.Store(orig, q)
		return q
	}
	var b strings.Builder
	b.Grow(len(q) + 16)
	n := 0
	var quote byte
	for i := 0; i < len(q); i++ {
		c := q[i]
		switch {
		case quote != 0:
			if c == quote {
				quote = 0
			}
		case c == '\'' || c == '"':
			quote = c
		case c == '?':
			j := i + 1
			for j < len(q) && isDigit(q[j]) {
				j++
			}
			num := n + 1
			if j > i+1 {
				num, _ = strconv.Atoi(q[i+1 : j])
			}
			n = max(n, num)
			b.WriteByte('$')
			b.WriteString(strconv.Itoa(num))
			i = j - 1
			continue
		}
		b.WriteByte(c)
	}
	out := b.String()
	rebound.Store(orig, out)
	return out
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

var rebound sync.Map // query -> rebound query

type rebindConnector struct{ c driver.Connector }

func (rc rebindConnector) Connect(ctx context.Context) (driver.Conn, error) {
	c, err := rc.c.Connect(ctx)
	if err != nil {
		return nil, err
	}
	return &rebindConn{c.(*stdlib.Conn)}, nil
}

func (rc rebindConnector) Driver() driver.Driver { return rc.c.Driver() }

// rebindConn is pgx's connection with "?" placeholders and bool values
// translated; everything else is pgx's own.
type rebindConn struct{ *stdlib.Conn }

func (c *rebindConn) Prepare(q string) (driver.Stmt, error) { return c.Conn.Prepare(rebind(q)) }

func (c *rebindConn) PrepareContext(ctx context.Context, q string) (driver.Stmt, error) {
	return c.Conn.PrepareContext(ctx, rebind(q))
}

func (c *rebindConn) ExecContext(ctx context.Context, q string, args []driver.NamedValue) (driver.Result, error) {
	return c.Conn.ExecContext(ctx, rebind(q), args)
}

func (c *rebindConn) QueryContext(ctx context.Context, q string, args []driver.NamedValue) (driver.Rows, error) {
	return c.Conn.QueryContext(ctx, rebind(q), args)
}

// CheckNamedValue binds bools as 0/1: the schema stores flags as BIGINT,
// as SQLite stores them as INTEGER.
func (c *rebindConn) CheckNamedValue(nv *driver.NamedValue) error {
	if b, ok := nv.Value.(bool); ok {
		nv.Value = int64(0)
		if b {
			nv.Value = int64(1)
		}
		return nil
	}
	return c.Conn.CheckNamedValue(nv)
}

// PostgreSQL's text cannot hold NUL, which rules.JudgedKey uses to join a
// rule and a series: judged keys are stored with NUL as `\0` and a
// backslash as `\\` on PostgreSQL (and turned back when read or copied).
var (
	nulEscaper   = strings.NewReplacer(`\`, `\\`, "\x00", `\0`)
	nulUnescaper = strings.NewReplacer(`\\`, `\`, `\0`, "\x00")
)

func pgEscapeNUL(s string) string   { return nulEscaper.Replace(s) }
func pgUnescapeNUL(s string) string { return nulUnescaper.Replace(s) }

// copyTables lists the tables copyToSQLite copies, parents before the
// tables that reference them.
var copyTables = []string{"usage", "cards", "fetches", "alerts", "sends", "actions", "judged", "silences", "outbox"}

// copyToSQLite writes a consistent copy (one repeatable-read snapshot) of a
// PostgreSQL state to a new SQLite file at path, row for row, rowids
// included, so the copy sorts as the original.
func (db *DB) copyToSQLite(ctx context.Context, path string) (err error) {
	if _, serr := os.Stat(path); serr == nil {
		return fmt.Errorf("copy database to %q: the file exists", path)
	}
	dst, err := Open(ctx, path)
	if err != nil {
		return fmt.Errorf("copy database to %q: %w", path, err)
	}
	defer func() { err = errors.Join(err, dst.Close()) }()
	src, err := db.db.BeginTx(ctx, &sql.TxOptions{Isolation: sql.LevelRepeatableRead, ReadOnly: true})
	if err != nil {
		return fmt.Errorf("copy database to %q: %w", path, err)
	}
	defer src.Rollback() //nolint:errcheck // read-only
	return dst.tx(ctx, func(tx *sql.Tx) error {
		for _, table := range copyTables {
			if err := copyTable(ctx, src, tx, table); err != nil {
				return fmt.Errorf("copy database to %q: table %s: %w", path, table, err)
			}
		}
		return nil
	})
}

// copyTable copies every row of table from src to a SQLite dst: the columns
// are the SQLite table's, plus rowid where PostgreSQL has one.
func copyTable(ctx context.Context, src, dst *sql.Tx, table string) error {
	cols, err := sqliteColumns(ctx, dst, table)
	if err != nil {
		return err
	}
	if table == "outbox" {
		cols = append([]string{"rowid"}, cols...)
	}
	list := strings.Join(cols, ", ")
	rows, err := src.QueryContext(ctx, "SELECT "+list+" FROM "+table)
	if err != nil {
		return err
	}
	defer rows.Close()
	ins, err := dst.PrepareContext(ctx, "INSERT INTO "+table+" ("+list+") VALUES (?"+strings.Repeat(", ?", len(cols)-1)+")")
	if err != nil {
		return err
	}
	defer ins.Close()
	vals := make([]any, len(cols))
	ptrs := make([]any, len(cols))
	for i := range vals {
		ptrs[i] = &vals[i]
	}
	for rows.Next() {
		if err := rows.Scan(ptrs...); err != nil {
			return err
		}
		if k, ok := vals[0].(string); ok && table == "judged" && cols[0] == "key" {
			vals[0] = pgUnescapeNUL(k)
		}
		if _, err := ins.ExecContext(ctx, vals...); err != nil {
			return err
		}
	}
	return rows.Err()
}

func sqliteColumns(ctx context.Context, tx *sql.Tx, table string) ([]string, error) {
	rows, err := tx.QueryContext(ctx, "SELECT name FROM pragma_table_info(?) ORDER BY cid", table)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var cols []string
	for rows.Next() {
		var c string
		if err := rows.Scan(&c); err != nil {
			return nil, err
		}
		cols = append(cols, c)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	if len(cols) == 0 {
		return nil, fmt.Errorf("no such table in the SQLite schema")
	}
	return cols, nil
}
