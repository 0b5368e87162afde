package store_test

import (
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"flag"
	"net/url"
	"os"
	"sync"
	"testing"

	_ "github.com/jackc/pgx/v5/stdlib" // registers the "pgx" driver for test setup
)

// The store's tests run on SQLite. With -backend postgres they run on
// PostgreSQL instead (the server in COSTBOT_TEST_POSTGRES, a postgres://
// URL): mustOpen maps each state file path to a schema of its own, so a
// test that reopens its path reopens its schema. .ci/run runs both:
//
//	go test ./internal/store -args -backend postgres
//
// Tests that handle the SQLite file itself (locks, modes, empty files,
// raw SQLite statements) call sqliteOnly.
var backend = flag.String("backend", "sqlite", "store backend the tests run on: sqlite or postgres (needs COSTBOT_TEST_POSTGRES)")

// pgDSN returns the test server's URL, skipping tb without one.
func pgDSN(tb testing.TB) string {
	tb.Helper()
	dsn := os.Getenv("COSTBOT_TEST_POSTGRES")
	if dsn == "" {
		if *backend == "postgres" {
			tb.Fatal("-backend postgres needs COSTBOT_TEST_POSTGRES (a postgres:// URL of a server the tests may create schemas on)")
		}
		tb.Skip("no PostgreSQL server: set COSTBOT_TEST_POSTGRES=postgres://user:pass@127.0.0.1:5432/db (.ci/run starts Debian's postgresql and sets it)")
	}
	return dsn
}

var pgSchemas sync.Map // state path -> created

// pgState returns a DSN for a schema of its own for the state file path,
// created on first use and dropped when tb ends.
func pgState(tb testing.TB, path string) string {
	tb.Helper()
	dsn := pgDSN(tb)
	sum := sha256.Sum256([]byte(path))
	schema := "t_" + hex.EncodeToString(sum[:10])
	if _, loaded := pgSchemas.LoadOrStore(path, true); !loaded {
		admin, err := sql.Open("pgx", dsn)
		if err != nil {
			tb.Fatal(err)
		}
		if _, err := admin.Exec("DROP SCHEMA IF EXISTS " + schema + " CASCADE; CREATE SCHEMA " + schema); err != nil {
			admin.Close()
			tb.Fatalf("create test schema: %v", err)
		}
		tb.Cleanup(func() {
			defer admin.Close()
			if _, err := admin.Exec("DROP SCHEMA IF EXISTS " + schema + " CASCADE"); err != nil {
				tb.Errorf("drop test schema: %v", err)
			}
			pgSchemas.Delete(path)
		})
	}
	u, err := url.Parse(dsn)
	if err != nil {
		tb.Fatalf("COSTBOT_TEST_POSTGRES: %v", err)
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String()
}

// sqliteOnly skips a test of the SQLite file itself on -backend postgres.
func sqliteOnly(tb testing.TB) {
	tb.Helper()
	if *backend == "postgres" {
		tb.Skip("tests the SQLite state file itself")
	}
}

