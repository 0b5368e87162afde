package store

import (
	"context"
	"os"
	"path/filepath"
	"syscall"
	"testing"
)

// TestOpen_FileMode: a new state file and the WAL files SQLite creates next
// to it are readable by the owner only, whatever the umask; an existing
// file keeps the mode the operator gave it.
func TestOpen_FileMode(t *testing.T) {
	old := syscall.Umask(0) // the widest umask: any 0644 default shows
	defer syscall.Umask(old)
	tests := []struct {
		name     string
		existing os.FileMode // 0: no file before Open
		want     os.FileMode
	}{
		{"OK new file", 0, 0o600},
		{"OK existing file keeps its mode", 0o640, 0o640},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "state.db")
			if tt.existing != 0 {
				// An existing state (an empty file is refused: ErrEmptyFile).
				db, err := Open(context.Background(), path)
				if err != nil {
					t.Fatal(err)
				}
				db.Close()
				for _, name := range []string{path, path + "-wal", path + "-shm"} {
					if err := os.Chmod(name, tt.existing); err != nil && !os.IsNotExist(err) {
						t.Fatal(err)
					}
				}
			}
			db, err := Open(context.Background(), path)
			if err != nil {
				t.Fatal(err)
			}
			defer db.Close()
			if _, err := db.SchemaVersion(context.Background()); err != nil {
				t.Fatal(err)
			}
			for _, name := range []string{path, path + "-wal", path + "-shm", path + ".lock"} {
				fi, err := os.Stat(name)
				if err != nil {
					t.Fatal(err)
				}
				want := tt.want
				if name == path+".lock" {
					want = 0o600
				}
				if got := fi.Mode().Perm(); got != want {
					t.Errorf("%s: mode %#o, want %#o", filepath.Base(name), got, want)
				}
			}
		})
	}
}
