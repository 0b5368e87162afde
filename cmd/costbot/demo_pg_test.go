package main

import (
	"bytes"
	"path/filepath"
	"strings"
	"testing"

	"github.com/costbot/costbot/internal/store/pgtest"
)

// TestDemo_PostgresSameAsSQLite runs the demo's two cycles on a PostgreSQL
// state and on a SQLite file: every alert, figure and line is the same.
func TestDemo_PostgresSameAsSQLite(t *testing.T) {
	dsn := pgtest.State(t, t.Name(), false)
	demo := func(state string) string {
		var out, errb bytes.Buffer
		if code := run([]string{"demo", "--now", "2026-11-25T09:00:00Z", "--state", state}, nil, &out, &errb); code != 0 {
			t.Fatalf("demo --state %s: exit %d: %s", state, code, errb.String())
		}
		_, rest, _ := strings.Cut(out.String(), "\n") // the first line names the fake's port
		return rest
	}
	lite := demo(filepath.Join(t.TempDir(), "costbot.db"))
	pg := demo(dsn)
	if pg != lite {
		t.Errorf("demo on PostgreSQL differs from SQLite:\n--- postgres\n%s\n--- sqlite\n%s", pg, lite)
	}
	if !strings.Contains(lite, "nothing new to post") {
		t.Errorf("demo output lacks its second, quiet cycle:\n%s", lite)
	}
}
