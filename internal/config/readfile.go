package config

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"strings"
	"syscall"
)

// Size limits for the files costbot reads at start-up.
const (
	// MaxSecretFileSize bounds a *_file secret (64 KiB): a token is a few
	// hundred bytes, so anything larger is the wrong file (/dev/zero grew
	// check to 20 GB).
	MaxSecretFileSize = 64 << 10
	// MaxConfigFileSize bounds the config file (4 MiB).
	MaxConfigFileSize = 4 << 20
)

// ErrFileTooLarge is returned by ReadFile for a file over its limit.
var ErrFileTooLarge = errors.New("file too large")

// ErrNotRegular is returned by ReadFile for anything but a regular file.
var ErrNotRegular = errors.New("not a regular file")

// ReadFile reads the regular file at path, at most limit bytes. It opens
// with O_NONBLOCK, so a named pipe with no writer does not block (open would
// wait forever and ignore SIGTERM), and refuses a pipe, device, socket or
// directory with ErrNotRegular, and a file over limit with ErrFileTooLarge.
// Errors name the path, which is never a secret, and never the contents.
func ReadFile(path string, limit int64) ([]byte, error) {
	f, err := os.OpenFile(path, os.O_RDONLY|syscall.O_NONBLOCK, 0)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if !fi.Mode().IsRegular() {
		return nil, &fs.PathError{Op: "read", Path: path, Err: fmt.Errorf("%w (%s)", ErrNotRegular, kind(fi.Mode()))}
	}
	if fi.Size() > limit {
		return nil, &fs.PathError{Op: "read", Path: path, Err: fmt.Errorf("%w: %d bytes, limit %s", ErrFileTooLarge, fi.Size(), size(limit))}
	}
	b, err := io.ReadAll(io.LimitReader(f, limit+1))
	if err != nil {
		return nil, err
	}
	if int64(len(b)) > limit { // grew since Stat
		return nil, &fs.PathError{Op: "read", Path: path, Err: fmt.Errorf("%w: over the limit of %s", ErrFileTooLarge, size(limit))}
	}
	return b, nil
}

func kind(m fs.FileMode) string {
	switch {
	case m.IsDir():
		return "a directory"
	case m&fs.ModeNamedPipe != 0:
		return "a named pipe"
	case m&fs.ModeCharDevice != 0:
		return "a character device"
	case m&fs.ModeDevice != 0:
		return "a device"
	case m&fs.ModeSocket != 0:
		return "a socket"
	}
	return m.Type().String()
}

func size(n int64) string {
	switch {
	case n >= 1<<20 && n%(1<<20) == 0:
		return fmt.Sprintf("%d MiB", n>>20)
	case n >= 1<<10 && n%(1<<10) == 0:
		return fmt.Sprintf("%d KiB", n>>10)
	}
	return fmt.Sprintf("%d bytes", n)
}

// RedactURL returns raw with its user info replaced by "REDACTED" and the
// values of its query by "REDACTED", for messages: a base_url or api_url
// may carry a password ("https://user:pw@host/") or a token in its query.
// The rest (scheme as written, host, path, fragment, query keys) is kept, so
// the message still shows what is wrong. It works on text, so a value that
// does not parse is redacted too.
func RedactURL(raw string) string {
	scheme, rest := "", raw
	if i := strings.Index(raw, "://"); i >= 0 {
		scheme, rest = raw[:i+3], raw[i+3:]
	}
	auth, tail := rest, ""
	if i := strings.IndexAny(rest, "/?#"); i >= 0 {
		auth, tail = rest[:i], rest[i:]
	}
	if i := strings.LastIndexByte(auth, '@'); i >= 0 {
		auth = "REDACTED" + auth[i:]
	}
	if q := strings.IndexByte(tail, '?'); q >= 0 {
		query, frag := tail[q+1:], ""
		if f := strings.IndexByte(query, '#'); f >= 0 {
			query, frag = query[:f], query[f:]
		}
		parts := strings.Split(query, "&")
		for j, p := range parts {
			if k, _, ok := strings.Cut(p, "="); ok {
				parts[j] = k + "=REDACTED"
			} else if p != "" {
				parts[j] = "REDACTED"
			}
		}
		tail = tail[:q+1] + strings.Join(parts, "&") + frag
	}
	return scheme + auth + tail
}
