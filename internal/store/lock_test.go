package store_test

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/costbot/costbot/internal/store"
)

// TestOpen_SecondProcessIsRefused opens a state file here and then tries
// the same from a second process (this test binary re-run as a helper):
// the second must fail with a message naming the state and this pid, and
// succeed once the first has closed it.
func TestOpen_SecondProcessIsRefused(t *testing.T) {
	if path := os.Getenv("COSTBOT_LOCK_HELPER"); path != "" {
		db, err := store.Open(context.Background(), path)
		if err != nil {
			os.Stdout.WriteString("ERR " + err.Error())
			os.Exit(3)
		}
		db.Close()
		os.Stdout.WriteString("OK")
		os.Exit(0)
	}
	path := filepath.Join(t.TempDir(), "state.db")
	db, err := store.Open(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	second := func() (string, int) {
		cmd := exec.Command(os.Args[0], "-test.run", "^TestOpen_SecondProcessIsRefused$")
		cmd.Env = append(os.Environ(), "COSTBOT_LOCK_HELPER="+path)
		out, _ := cmd.Output()
		return string(out), cmd.ProcessState.ExitCode()
	}
	out, code := second()
	if code != 3 || !strings.Contains(out, "in use by another costbot process") || !strings.Contains(out, path) ||
		!strings.Contains(out, "pid "+strconv.Itoa(os.Getpid())) {
		t.Errorf("second process while the first holds the state: exit %d, %q; want exit 3 naming the state and pid %d", code, out, os.Getpid())
	}
	if _, err := store.Open(context.Background(), path); !errors.Is(err, store.ErrLocked) {
		t.Errorf("second Open in one process: %v, want ErrLocked", err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	if out, code := second(); code != 0 || out != "OK" {
		t.Errorf("after Close: exit %d, %q; want the state free", code, out)
	}
	if fi, err := os.Stat(path + ".lock"); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("lock file: %v, mode %v; want 0600", err, fi.Mode().Perm())
	}
}
