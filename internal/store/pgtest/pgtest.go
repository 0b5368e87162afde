// Package pgtest gives tests a PostgreSQL schema of their own on the
// server named by COSTBOT_TEST_POSTGRES (a postgres:// URL; .ci/run starts
// Debian's postgresql and sets it). Without it the tests that need one
// skip and say so.
package pgtest

import (
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"net/url"
	"os"
	"sync"
	"testing"

	_ "github.com/jackc/pgx/v5/stdlib" // registers the "pgx" driver for schema setup
)

// Env names the variable holding the test server's URL.
const Env = "COSTBOT_TEST_POSTGRES"

// DSN returns the test server's URL. Without one it skips tb, or, when
// required, fails it: a run that asked for PostgreSQL must not pass by
// skipping.
func DSN(tb testing.TB, required bool) string {
	tb.Helper()
	dsn := os.Getenv(Env)
	if dsn == "" {
		if required {
			tb.Fatalf("this run needs PostgreSQL: set %s to a postgres:// URL of a server the tests may create schemas on", Env)
		}
		tb.Skipf("no PostgreSQL server: set %s=postgres://user:pass@127.0.0.1:5432/db to run this test (.ci/run starts Debian's postgresql and sets it)", Env)
	}
	return dsn
}

var schemas sync.Map // key -> created

// State returns a URL for a schema of its own for key (e.g. a state file
// path): created empty on first use in tb, dropped when tb ends, the same
// schema for the same key meanwhile, so a test that reopens its state
// reopens its schema.
func State(tb testing.TB, key string, required bool) string {
	tb.Helper()
	dsn := DSN(tb, required)
	sum := sha256.Sum256([]byte(key))
	schema := "t_" + hex.EncodeToString(sum[:10])
	if _, loaded := schemas.LoadOrStore(key, true); !loaded {
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
			schemas.Delete(key)
		})
	}
	u, err := url.Parse(dsn)
	if err != nil {
		tb.Fatalf("%s: %v", Env, err)
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String()
}
