package store_test

import (
	"flag"
	"testing"

	"github.com/costbot/costbot/internal/store/pgtest"
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

// pgState returns a PostgreSQL state of its own for the state file path.
func pgState(tb testing.TB, path string) string {
	tb.Helper()
	return pgtest.State(tb, path, *backend == "postgres")
}

// sqliteOnly skips a test of the SQLite file itself on -backend postgres.
func sqliteOnly(tb testing.TB) {
	tb.Helper()
	if *backend == "postgres" {
		tb.Skip("tests the SQLite state file itself")
	}
}
