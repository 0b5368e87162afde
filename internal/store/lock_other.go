//go:build !unix

package store

import (
	"errors"
	"os"
)

var errWouldBlock = errors.New("would block")

// flock is a no-op where advisory locks are not available.
func flock(*os.File) error { return nil }
