package slackcmd

import (
	"errors"
	"log/slog"
	"maps"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Observer receives the handler's request figures (internal/metrics
// implements it).
type Observer interface {
	SlackRequest(endpoint string, d time.Duration)
	SlackRefused(reason string)
}

// refusalReason is the short, stable name of why a request was refused:
// a metric label and a log field, never the request's content.
func refusalReason(err error) string {
	for _, r := range []struct {
		err  error
		name string
	}{
		{errMissingHeaders, "missing_headers"}, {errBadTimestamp, "bad_timestamp"}, {errStale, "stale"},
		{errBadSignature, "signature"}, {errReplay, "replay"}, {errTooLarge, "too_large"},
		{errReadBody, "read_body"}, {errNoSecret, "no_secret"},
	} {
		if errors.Is(err, r.err) {
			return r.name
		}
	}
	return "other"
}

// refusalLog rate-limits refusal logs: the first refusal of a minute is
// logged at once; the rest of that minute are counted and logged as one
// summary line when the minute ends. An unsigned flood at 1,000 requests a
// second then writes two lines a minute, not 60,000.
type refusalLog struct {
	log    *slog.Logger
	window time.Duration

	mu     sync.Mutex
	open   bool           // a window is running
	counts map[string]int // refusals after the first, by reason
	timer  *time.Timer
}

func (l *refusalLog) note(reason string, err error, path, remote string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if !l.open {
		l.open = true
		l.counts = map[string]int{}
		l.timer = time.AfterFunc(l.window, l.flush)
		l.log.Warn("slack request refused", "path", path, "reason", reason, "remote", remote, "error", err)
		return
	}
	l.counts[reason]++
}

func (l *refusalLog) flush() {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.open = false
	n := 0
	var parts []string
	for _, r := range slices.Sorted(maps.Keys(l.counts)) {
		n += l.counts[r]
		parts = append(parts, r+"="+strconv.Itoa(l.counts[r]))
	}
	if n > 0 {
		l.log.Warn("slack requests refused", "count", n, "window", l.window.String(), "reasons", strings.Join(parts, " "))
	}
}

// stop flushes a running window now.
func (l *refusalLog) stop() {
	l.mu.Lock()
	t := l.timer
	open := l.open
	l.mu.Unlock()
	if open && t != nil && t.Stop() {
		l.flush()
	}
}
