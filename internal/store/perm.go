package store

import (
	"fmt"
	"os"
)

// stateFileMode is the mode a new state file is created with: it holds
// spend history and alert state, so only the daemon's user may read it.
// SQLite creates the -wal and -shm files with the database file's mode.
const stateFileMode = 0o600

// createPrivate creates the database file at path with stateFileMode when
// it does not exist yet, so SQLite never creates it with the umask's wider
// default. An existing file keeps its mode: the operator may have chosen it.
func createPrivate(path string) error {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_EXCL, stateFileMode)
	if os.IsExist(err) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("create database %q: %w", path, err)
	}
	return f.Close()
}
