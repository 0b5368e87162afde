package app

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"time"

	"github.com/costbot/costbot/internal/billing"
	"github.com/costbot/costbot/internal/config"
	"github.com/costbot/costbot/internal/cost"
	"github.com/costbot/costbot/internal/notify"
	"github.com/costbot/costbot/internal/rules"
)

// Event is one alert message the replayed cycles would have sent: one per
// alert transition (first, escalated, repeat, resolved), not per notifier.
type Event struct {
	At          time.Time `json:"at"`     // the evaluation instant of the cycle that sent it (UTC)
	Kind        string    `json:"kind"`   // budget, forecast, anomaly, card_expiry, stale, rule_problem
	Status      string    `json:"status"` // firing or resolved
	Reason      string    `json:"reason"` // first, escalated, repeat, resolved, retry
	Rule        string    `json:"rule"`
	Account     string    `json:"account"`
	Service     string    `json:"service,omitempty"`
	Family      string    `json:"family,omitempty"`
	Zone        string    `json:"zone,omitempty"`
	Day         string    `json:"day,omitempty"` // YYYY-MM-DD the finding is about
	Severity    string    `json:"severity"`
	Threshold   string    `json:"threshold"`
	Title       string    `json:"title"`
	Why         string    `json:"why,omitempty"` // why a resolved alert resolved
	Fingerprint string    `json:"fingerprint"`
}

// ReplayOptions configures Replay.
type ReplayOptions struct {
	// Config gives the accounts and alert settings; its notifiers are
	// replaced by recorders and its state file is never opened.
	Config *config.Config
	Rules  *rules.Set
	// Usage is the whole history. A cycle at instant t sees the rows whose
	// charge day is before t's UTC day, as a live fetch at t would.
	Usage []cost.Usage
	// Cards holds each account's card (at most one per account).
	Cards []cost.Card
	// Instants are the evaluation instants, ascending.
	Instants []time.Time
	// Progress, when set, gets a line every 30 replayed cycles.
	Progress io.Writer
	Logger   *slog.Logger
}

// EvalInstant is the instant a backtest evaluates charge day d: noon UTC of
// the next day, when Cloudflare normally has the day's usage.
func EvalInstant(d time.Time) time.Time { return cost.Day(d).Add(36 * time.Hour) }

// Replay runs the live cycle (fetch, evaluate, alert state, notify) once
// per instant over o.Usage, on a throwaway state file, and returns every
// alert message it would have sent. Nothing leaves the process.
func Replay(ctx context.Context, o ReplayOptions) ([]Event, error) {
	if o.Config == nil {
		return nil, fmt.Errorf("replay: no config")
	}
	if !slices.IsSortedFunc(o.Instants, func(a, b time.Time) int { return a.Compare(b) }) {
		return nil, fmt.Errorf("replay: instants are not in ascending order")
	}
	dir, err := os.MkdirTemp("", "costbot-replay-")
	if err != nil {
		return nil, fmt.Errorf("replay: %w", err)
	}
	defer os.RemoveAll(dir)

	cfg := *o.Config
	cfg.State = filepath.Join(dir, "replay.db")
	var cur time.Time
	clock := func() time.Time { return cur }
	rec := &recorder{}
	names := map[string]bool{}
	var ns []notify.Notifier
	add := func(n string) {
		if !names[n] {
			names[n] = true
			ns = append(ns, &recording{name: n, rec: rec})
		}
	}
	for _, n := range cfg.Notifiers {
		add(n.Name)
	}
	if o.Rules != nil {
		for _, n := range o.Rules.Notifiers() {
			add(n)
		}
	}
	if len(ns) == 0 {
		add("replay")
	}
	a, err := New(ctx, Options{
		Config: &cfg, Rules: o.Rules, Notifiers: ns, Logger: o.Logger, Now: clock,
		StatePath: cfg.State, Billing: newMemBilling(o.Usage, o.Cards), RetryWait: time.Millisecond,
	})
	if err != nil {
		return nil, fmt.Errorf("replay: %w", err)
	}
	defer a.Close()
	a.replay = true
	for i, t := range o.Instants {
		cur = t.UTC()
		rep, err := a.Cycle(ctx, cur)
		if err != nil {
			return rec.events, fmt.Errorf("replay cycle at %s: %w", cur.Format(time.RFC3339), err)
		}
		rec.take(cur, rep.Deliveries)
		if o.Progress != nil && (i+1)%30 == 0 {
			fmt.Fprintf(o.Progress, "replayed %d of %d cycles (up to %s), %d alert events\n", i+1, len(o.Instants), cur.Format(time.DateOnly), len(rec.events))
		}
	}
	return rec.events, nil
}

// EventOf describes one delivered alert as an Event sent at at.
func EventOf(at time.Time, al cost.Alert) Event {
	return Event{
		At: at.UTC(), Kind: al.Kind.String(), Status: al.Status.String(), Reason: string(al.Reason),
		Rule: al.Rule, Account: al.Scope.AccountLabel(), Service: al.Scope.Service, Family: al.Scope.Family, Zone: al.Scope.Zone,
		Day: findingDay(al.Finding), Severity: al.Severity.String(), Threshold: al.Threshold, Title: al.Title,
		Why: al.Why, Fingerprint: al.Fingerprint,
	}
}

// findingDay is the day a finding is about: the first day of an anomalous
// episode, the last complete day an actual threshold is found crossed on,
// the day a forecast threshold will be crossed, else its period's first day.
func findingDay(f cost.Finding) string {
	switch {
	case f.Anomaly != nil && !f.Anomaly.Since.IsZero():
		return f.Anomaly.Since.Format(time.DateOnly)
	case f.Kind == cost.KindBudget && f.Chart != nil && len(f.Chart.Days) > 0:
		return f.Chart.Days[len(f.Chart.Days)-1].Format(time.DateOnly)
	case !f.CrossDate.IsZero():
		return f.CrossDate.UTC().Format(time.DateOnly)
	case !f.Period.Start.IsZero():
		return f.Period.Start.UTC().Format(time.DateOnly)
	}
	return ""
}

// recorder collects what the recording notifiers got, once per alert
// transition.
type recorder struct {
	events []Event
}

func (r *recorder) take(at time.Time, res []notify.Result) {
	type key struct{ fp, status, reason string }
	seen := map[key]bool{}
	for _, d := range res {
		if !d.Sent {
			continue
		}
		al := d.Job.Alert
		k := key{al.Fingerprint, al.Status.String(), string(al.Reason)}
		if seen[k] {
			continue
		}
		seen[k] = true
		r.events = append(r.events, EventOf(at, al))
	}
}

// recording is a notifier that always succeeds and sends nothing.
type recording struct {
	name string
	rec  *recorder
}

func (n *recording) Name() string { return n.name }

func (n *recording) Notify(context.Context, cost.Alert) (*cost.MessageRef, error) { return nil, nil }

var _ notify.Notifier = (*recording)(nil)

// memBilling serves a fixed history as the billing API would.
type memBilling struct {
	usage map[string][]cost.Usage // by account id, ordered by day
	cards map[string]cost.Card
}

func newMemBilling(usage []cost.Usage, cards []cost.Card) *memBilling {
	m := &memBilling{usage: map[string][]cost.Usage{}, cards: map[string]cost.Card{}}
	for _, u := range usage {
		m.usage[u.Account] = append(m.usage[u.Account], u)
	}
	for _, rows := range m.usage {
		sort.SliceStable(rows, func(i, j int) bool { return rows[i].Day.Before(rows[j].Day) })
	}
	for _, c := range cards {
		m.cards[c.Account] = c
	}
	return m
}

func (m *memBilling) Fetch(_ context.Context, acct cost.Account, _ billing.Source, days cost.Period) (cost.Snapshot, error) {
	rows := m.usage[acct.ID]
	lo := sort.Search(len(rows), func(i int) bool { return !rows[i].Day.Before(days.Start) })
	hi := sort.Search(len(rows), func(i int) bool { return !rows[i].Day.Before(days.End) })
	snap := cost.Snapshot{Account: acct, Range: days, Usage: slices.Clone(rows[lo:hi])}
	if c, ok := m.cards[acct.ID]; ok {
		snap.Card = &c
	}
	return snap, nil
}

func (m *memBilling) Card(_ context.Context, acct cost.Account) (*cost.Card, error) {
	if c, ok := m.cards[acct.ID]; ok {
		return &c, nil
	}
	return nil, nil
}

var _ Billing = (*memBilling)(nil)
