// Package console is a notifier that prints alerts for people to a writer,
// used by `costbot demo` and `--dry-run`.
package console

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"math"
	"os"
	"strings"
	"sync"

	"github.com/costbot/costbot/internal/cost"
	"github.com/costbot/costbot/internal/notify"
)

// Options configures a console Notifier.
type Options struct {
	Name   string    // notifier name; default "console"
	Writer io.Writer // destination; default os.Stdout
	Color  bool      // ANSI colours for the severity and status
}

// Notifier writes one readable block per alert. It is safe for concurrent use.
type Notifier struct {
	name  string
	color bool

	mu sync.Mutex
	w  io.Writer
}

var _ notify.Notifier = (*Notifier)(nil)

// New returns a console notifier.
func New(opts Options) *Notifier {
	if opts.Writer == nil {
		opts.Writer = os.Stdout
	}
	if opts.Name == "" {
		opts.Name = "console"
	}
	return &Notifier{name: opts.Name, color: opts.Color, w: opts.Writer}
}

// Name returns the notifier name.
func (n *Notifier) Name() string { return n.name }

// Notify prints a; it has no message id, so the ref is nil.
func (n *Notifier) Notify(ctx context.Context, a cost.Alert) (*cost.MessageRef, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	text := Format(a, n.color)
	n.mu.Lock()
	defer n.mu.Unlock()
	if _, err := io.WriteString(n.w, text); err != nil {
		return nil, notify.Permanent(fmt.Errorf("write alert: %w", err))
	}
	return nil, nil
}

const (
	ansiReset  = "\x1b[0m"
	ansiBold   = "\x1b[1m"
	ansiRed    = "\x1b[31m"
	ansiYellow = "\x1b[33m"
	ansiBlue   = "\x1b[34m"
	ansiGreen  = "\x1b[32m"
)

// Format renders a as a header line and indented "key: value" lines, ending
// with a blank line. color adds ANSI escapes to the header.
func Format(a cost.Alert, color bool) string {
	var b bytes.Buffer
	sev := strings.ToUpper(a.Severity.String())
	status := strings.ToUpper(a.Status.String())
	if color {
		c := ansiBlue
		switch {
		case a.Status == cost.StatusResolved:
			c = ansiGreen
		case a.Severity == cost.SeverityCritical:
			c = ansiRed
		case a.Severity == cost.SeverityWarning:
			c = ansiYellow
		}
		sev = c + ansiBold + sev + ansiReset
		status = c + status + ansiReset
	}
	fmt.Fprintf(&b, "[%s] %s %s: %s\n", sev, a.Kind, status, oneLine(a.Title))

	var rows [][2]string
	add := func(k, v string) {
		if v != "" {
			rows = append(rows, [2]string{k, v})
		}
	}
	if a.Summary != "" {
		add("summary", oneLine(a.Summary))
	}
	for _, f := range cost.Facts(a) { // the figures every surface shows
		if f.Label != "" {
			add(strings.ToLower(f.Label), f.Text)
		}
	}
	add("rule", a.Rule)
	add("scope", a.Scope.String())
	if !a.Period.IsZero() {
		add("period", cost.FormatPeriod(a.Period))
	}
	if a.Reason != "" {
		add("reason", string(a.Reason))
	}
	if a.Status == cost.StatusResolved {
		add("why", oneLine(a.Why))
	}
	if a.Thread != nil {
		t := fmt.Sprintf("follows %s/%s", a.Thread.Channel, a.Thread.TS)
		if a.Reason == cost.ReasonEscalated {
			t += ", escalation to " + a.Severity.String()
		}
		add("thread", t)
	}
	if !a.StartsAt.IsZero() {
		add("started", cost.InstantText(a.StartsAt))
	}
	if !a.EndsAt.IsZero() {
		add("ended", cost.InstantText(a.EndsAt))
	}
	if c := a.Chart; c != nil && len(c.Values) > 0 {
		add("chart", spark(c.Values))
	}
	add("fingerprint", a.Fingerprint)

	width := 0
	for _, r := range rows {
		width = max(width, len(r[0]))
	}
	for _, r := range rows {
		fmt.Fprintf(&b, "    %-*s  %s\n", width+1, r[0]+":", r[1])
	}
	b.WriteByte('\n')
	return b.String()
}

func oneLine(s string) string {
	return strings.Join(strings.Fields(s), " ")
}

// spark draws the last 20 values as a sparkline; unknown values are blank.
func spark(values []float64) string {
	if len(values) > 20 {
		values = values[len(values)-20:]
	}
	levels := []rune("▁▂▃▄▅▆▇█")
	lo, hi := math.Inf(1), math.Inf(-1)
	for _, v := range values {
		if !math.IsNaN(v) {
			lo, hi = min(lo, v), max(hi, v)
		}
	}
	var b strings.Builder
	for _, v := range values {
		switch {
		case math.IsNaN(v):
			b.WriteRune(' ')
		case hi == lo:
			b.WriteRune(levels[0])
		default:
			b.WriteRune(levels[int((v-lo)/(hi-lo)*float64(len(levels)-1)+0.5)])
		}
	}
	return b.String()
}
