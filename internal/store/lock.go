package store

import (
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
)

// ErrLocked is returned (wrapped) by Open when another process holds the
// state file: two daemons on one state would deliver every alert twice.
var ErrLocked = errors.New("state is in use by another costbot process")

// lockFile holds an exclusive advisory lock on path+".lock" for as long as
// the database is open. The lock file records the holder's pid so the
// error can name it; the kernel releases the lock when the process exits,
// even on kill -9, so a stale file never blocks a restart.
type lockFile struct {
	f *os.File
}

func acquireLock(dbPath string) (*lockFile, error) {
	name := dbPath + ".lock"
	f, err := os.OpenFile(name, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("open lock file %q: %w", name, err)
	}
	if err := flock(f); err != nil {
		holder := ""
		if b, rerr := os.ReadFile(name); rerr == nil {
			if pid, perr := strconv.Atoi(strings.TrimSpace(string(b))); perr == nil {
				holder = fmt.Sprintf(" (pid %d)", pid)
			}
		}
		f.Close()
		if errors.Is(err, errWouldBlock) {
			return nil, fmt.Errorf("%w%s: %s is locked; stop the other process, or give this one its own state file", ErrLocked, holder, dbPath)
		}
		return nil, fmt.Errorf("lock %q: %w", name, err)
	}
	if err := f.Truncate(0); err == nil {
		_, _ = f.WriteAt([]byte(strconv.Itoa(os.Getpid())+"\n"), 0)
	}
	return &lockFile{f: f}, nil
}

func (l *lockFile) release() error {
	if l == nil {
		return nil
	}
	return l.f.Close() // closing the descriptor drops the lock
}
