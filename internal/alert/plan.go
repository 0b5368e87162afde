// Package alert turns findings into alerts: it gives each finding a stable
// fingerprint, moves alerts through firing, resolved, superseded and closed,
// and decides per notifier what to send and why.
//
// Decisions are pure functions of the findings, the clock and the stored
// state; the tracker keeps nothing in memory, so a restart loses nothing.
// Plan persists state changes but never records a send: a send is recorded by
// Record only after the notifier succeeded, so an unsent alert is offered
// again next cycle (reason "retry").
//
// Lifecycle rules:
//
//   - One alert per threshold per period. A higher threshold of the same group
//     (same kind, rule, scope and period) is an escalation: a new alert,
//     threaded under the group's first message for each notifier. A new
//     period has a new fingerprint and fires again.
//   - If several thresholds of a group fire for the first time in one cycle,
//     only the highest is sent; the others become superseded and are never
//     sent. A new threshold that is not higher than one already firing in its
//     group is superseded too, and a lower firing alert is not retried or
//     repeated while a higher one of its group fires. A superseded alert
//     still found fires once nothing higher in its group fires any more
//     (a forecast back under 100% but still over 80% is news).
//   - A firing alert absent from this cycle's findings resolves only if its
//     kind is resolvable (forecast, anomaly, stale, rule_problem) and its account was
//     evaluated from fresh data this cycle. Budget, card-expiry and digest
//     alerts never resolve by absence; like forecasts they close silently
//     once the clock passes the end of their period and they are no longer
//     found (an expired card's "card-expired" finding, whose period is over,
//     keeps firing while it is found). Closed is final for that fingerprint.
//     Resolved messages go only to the notifiers that got the alert firing,
//     threaded under it.
//   - Thresholds of a group rank by severity, then Finding.Limit, then fewer
//     card days left, then the threshold name.
//   - A finding with Clear set resolves its firing alert at once, whatever
//     the kind, with that finding as the resolved message (revised data no
//     longer shows an anomaly); it never fires anything.
//   - A resolved alert found again fires again as a new episode; a forecast
//     or anomaly does so only from fresh data.
//   - A snooze holds an alert's firing messages (first, retry, repeat) until
//     its Until, together with every equal or lower threshold of its group.
//     An escalation to a higher threshold breaks through the snooze. Resolved
//     messages are not held.
//   - Acknowledging (or marking expected) stops repeats for the current
//     episode.
package alert

import (
	"cmp"
	"context"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/costbot/costbot/internal/cost"
)

// Options configures a Tracker.
type Options struct {
	// Now is the clock; time.Now when nil.
	Now func() time.Time
	// RepeatInterval re-sends a still-firing (found this cycle),
	// unacknowledged, unsnoozed alert to a notifier this long after its last
	// send there. Zero or negative: never repeat. Digests never repeat.
	RepeatInterval time.Duration
	// Logger receives an info line per state change and a debug line per
	// decision; discarded when nil.
	Logger *slog.Logger
}

// Tracker keeps alert state in a Store and decides what to deliver. It is
// safe for concurrent use: decisions are serialized. Still, run one cycle at a
// time: a delivery planned by one cycle and not yet recorded is planned again
// by an overlapping one.
//
// A cycle never rewrites what the store recorded after its now, which
// happens when a cycle runs at an earlier instant than the live state file
// has seen (costbot once --now with an old date). An alert that started or
// was last updated after now is left exactly as stored: it is not
// refreshed, closed, resolved or fired again, and nothing is sent for it
// (reason "nothing"). It still counts in its group, so a lower threshold
// found at the earlier instant is superseded by it and a higher one
// escalates under its message. Sends and actions recorded after now count
// as they stand: a notifier that got an alert later is not sent it again,
// no repeat falls due before the last send, and a later snooze or
// acknowledgement holds. Cycles at or after the latest recorded instant
// behave as usual.
type Tracker struct {
	mu     sync.Mutex // serializes Decide's read-modify-write of the store
	store  Store
	now    func() time.Time
	repeat time.Duration
	log    *slog.Logger
}

// NewTracker returns a tracker over s.
func NewTracker(s Store, o Options) *Tracker {
	t := &Tracker{store: s, now: o.Now, repeat: o.RepeatInterval, log: o.Logger}
	if t.now == nil {
		t.now = time.Now
	}
	if t.log == nil {
		t.log = slog.New(slog.DiscardHandler)
	}
	return t
}

// Delivery is one alert to send to one notifier. Pass the value Plan
// returned to Record; a Delivery built by hand (Notifier and Alert only) is
// recorded under the alert's current episode.
type Delivery struct {
	Notifier string
	// Alert has Fingerprint, Status, StartsAt, EndsAt, Reason and Thread
	// set, and LastSentAt on a repeat.
	Alert cost.Alert

	episode int // the alert episode this message belongs to
}

// Decision is what the tracker decided for one alert and one notifier.
type Decision struct {
	Fingerprint string
	Notifier    string
	Reason      Reason
	// Delivery is the message to send; nil when nothing is sent.
	Delivery *Delivery
}

// Plan decides what to send this cycle and returns only the deliveries;
// see Decide.
func (t *Tracker) Plan(ctx context.Context, findings []cost.Finding, evaluated map[string]bool, notifiers []string) ([]Delivery, error) {
	ds, err := t.Decide(ctx, findings, evaluated, notifiers)
	if err != nil {
		return nil, err
	}
	var out []Delivery
	for _, d := range ds {
		if d.Delivery != nil {
			out = append(out, *d.Delivery)
		}
	}
	return out, nil
}

// Decide applies this cycle's findings to the stored state and returns every
// decision, sent or not, each with its reason.
//
// evaluated says which accounts were evaluated from fresh data this cycle,
// keyed like cost.Scope.Account (account id or name); a missing key means not
// fresh. A scope over all accounts ("") or a pattern is fresh only when
// evaluated[""] or evaluated[pattern] is true, with evaluated["*"] standing
// for any pattern: set them when every account is fresh. A nil map (a
// partial cycle such as a card check) resolves nothing.
//
// notifiers lists every configured notifier; a finding with no Notifiers
// goes to all of them. State changes (new, resolved, superseded and closed
// alerts) are saved before Decide returns; sends are not recorded.
func (t *Tracker) Decide(ctx context.Context, findings []cost.Finding, evaluated map[string]bool, notifiers []string) ([]Decision, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	now := t.now().UTC()

	// This cycle's findings by fingerprint; duplicates keep the most severe.
	cur := make(map[string]cost.Finding, len(findings))
	var groups []string
	for _, f := range findings {
		fp := Fingerprint(f)
		if old, ok := cur[fp]; ok && old.Severity >= f.Severity {
			continue
		} else if !ok {
			groups = append(groups, Group(f))
		}
		cur[fp] = f
	}
	slices.Sort(groups)
	groups = slices.Compact(groups)

	states, err := t.store.Alerts(ctx, groups)
	if err != nil {
		return nil, err
	}
	c := &cycle{
		t:         t,
		now:       now,
		cur:       cur,
		byFP:      make(map[string]*State, len(states)),
		byGroup:   make(map[string][]*State),
		fresh:     make(map[string]bool),
		changed:   make(map[string]bool),
		moved:     make(map[string]bool),
		notifiers: notifiers,
	}
	for i := range states {
		c.add(&states[i])
	}
	if err := c.load(ctx); err != nil {
		return nil, err
	}

	c.closeAndResolve(evaluated)
	c.fire(groups, evaluated)

	var save []State
	for _, st := range c.sorted() {
		if c.changed[st.Fingerprint] {
			save = append(save, *st)
		}
	}
	if len(save) > 0 {
		if err := t.store.SaveAlerts(ctx, save); err != nil {
			return nil, err
		}
	}
	for _, st := range save {
		if c.moved[st.Fingerprint] {
			t.log.InfoContext(ctx, "alert "+st.Status.String(), "fingerprint", st.Fingerprint, "rule", st.Finding.Rule,
				"scope", st.Finding.Scope.String(), "threshold", st.Finding.Threshold, "reason", string(st.Reason))
		}
	}

	ds := c.decide(ctx)
	for _, d := range ds {
		t.log.DebugContext(ctx, "alert decision", "fingerprint", d.Fingerprint, "notifier", d.Notifier,
			"reason", string(d.Reason), "send", d.Delivery != nil)
	}
	return ds, nil
}

// cycle is the working set of one Decide call.
type cycle struct {
	t         *Tracker
	now       time.Time
	cur       map[string]cost.Finding
	byFP      map[string]*State
	byGroup   map[string][]*State
	sends     map[string][]Send   // by fingerprint
	actions   map[string][]Action // by fingerprint
	fresh     map[string]bool     // fingerprints that started an episode this cycle
	changed   map[string]bool     // to save
	moved     map[string]bool     // changed status or started an episode
	notifiers []string
}

func (c *cycle) add(st *State) {
	c.byFP[st.Fingerprint] = st
	c.byGroup[st.Group] = append(c.byGroup[st.Group], st)
}

func (c *cycle) load(ctx context.Context) error {
	c.sends = make(map[string][]Send)
	c.actions = make(map[string][]Action)
	if len(c.byFP) == 0 {
		return nil
	}
	fps := make([]string, 0, len(c.byFP))
	for fp := range c.byFP {
		fps = append(fps, fp)
	}
	slices.Sort(fps)
	sends, err := c.t.store.Sends(ctx, fps)
	if err != nil {
		return err
	}
	for _, s := range sends {
		c.sends[s.Fingerprint] = append(c.sends[s.Fingerprint], s)
	}
	actions, err := c.t.store.Actions(ctx, ActionFilter{Fingerprints: fps})
	if err != nil {
		return err
	}
	for _, a := range actions {
		c.actions[a.Fingerprint] = append(c.actions[a.Fingerprint], a)
	}
	return nil
}

// later reports whether st was recorded after the cycle's now; such a state
// is left as stored (see Tracker).
func (c *cycle) later(st *State) bool {
	return st.StartsAt.After(c.now) || st.UpdatedAt.After(c.now)
}

// closeAndResolve refreshes the finding of firing alerts still present,
// closes absent ones whose period ended, and resolves absent resolvable ones
// whose account has fresh data.
func (c *cycle) closeAndResolve(evaluated map[string]bool) {
	for _, st := range c.sorted() {
		if st.Status != StatusFiring || c.later(st) {
			continue
		}
		f, present := c.cur[st.Fingerprint]
		switch {
		case present && f.Clear != "":
			// Known to have cleared (revised data): resolve, saying why.
			st.Finding = f
			st.Status, st.EndsAt = StatusResolved, c.now
		case present:
			st.Finding = f
		case closesAtPeriodEnd(st.Finding.Kind) && !c.now.Before(st.Finding.Period.End):
			st.Status, st.EndsAt = StatusClosed, c.now
		case resolvable(st.Finding.Kind) && accountFresh(st.Finding.Scope.Account, evaluated):
			st.Status, st.EndsAt = StatusResolved, c.now
		default:
			continue // unknown: keep firing, keep what we had
		}
		st.UpdatedAt = c.now
		c.changed[st.Fingerprint] = true
		c.moved[st.Fingerprint] = st.Status != StatusFiring
	}
}

// fire starts new alerts and re-fires resolved ones, group by group, and
// superseded ones once no firing threshold of their group outranks them (the
// higher alert resolved while this one still holds). A resolved or superseded
// forecast or anomaly re-fires only from fresh data; an alert recorded after
// now never re-fires.
func (c *cycle) fire(groups []string, evaluated map[string]bool) {
	byGroup := make(map[string][]cost.Finding)
	for fp, f := range c.cur {
		st := c.byFP[fp]
		if f.Clear != "" || (st != nil && c.later(st)) {
			continue
		}
		again := st != nil && (st.Status == StatusResolved || st.Status == StatusSuperseded)
		if again && dataDerived(f.Kind) && !accountFresh(f.Scope.Account, evaluated) {
			continue
		}
		if st == nil || again {
			g := Group(f)
			byGroup[g] = append(byGroup[g], f)
		}
	}
	for _, g := range groups {
		cands := byGroup[g]
		slices.SortFunc(cands, func(a, b cost.Finding) int { return -compareRank(a, b) })
		var top *cost.Finding // highest firing alert of the group
		for _, st := range c.byGroup[g] {
			if st.Status == StatusFiring && (top == nil || compareRank(st.Finding, *top) > 0) {
				top = &st.Finding
			}
		}
		sent := false
		for _, f := range cands {
			fp := Fingerprint(f)
			prev := c.byFP[fp]
			below := sent || (top != nil && compareRank(f, *top) <= 0)
			if below && prev != nil && prev.Status == StatusSuperseded {
				continue // still below a firing or new higher threshold: leave it as it was
			}
			st := &State{Fingerprint: fp, Group: g, Episode: 1}
			if prev != nil {
				st = prev
				st.Episode++
			} else {
				c.add(st)
			}
			st.Finding, st.StartsAt, st.EndsAt, st.UpdatedAt = f, c.now, time.Time{}, c.now
			c.changed[fp], c.moved[fp] = true, true
			switch {
			case below:
				st.Status, st.Reason, st.EndsAt = StatusSuperseded, ReasonSuperseded, c.now
			default:
				st.Status, st.Reason = StatusFiring, c.firstReason(st)
				c.fresh[fp] = true
				sent = true
			}
		}
	}
}

// firstReason is "escalated" when st ranks above every other alert its group
// had in this period (at least one; superseded ones never count), else "first".
func (c *cycle) firstReason(st *State) Reason {
	others := 0
	for _, o := range c.byGroup[st.Group] {
		if o == st || o.Status == StatusSuperseded {
			continue
		}
		if compareRank(o.Finding, st.Finding) >= 0 {
			return ReasonFirst
		}
		others++
	}
	if others > 0 {
		return ReasonEscalated
	}
	return ReasonFirst
}

func (c *cycle) decide(ctx context.Context) []Decision {
	var ds []Decision
	for _, st := range c.sorted() {
		_, present := c.cur[st.Fingerprint]
		if c.later(st) {
			// Recorded after now: nothing to send, whatever its status.
			if present || st.Status == StatusFiring {
				for _, n := range c.t.targets(ctx, st.Finding, c.notifiers) {
					ds = append(ds, Decision{Fingerprint: st.Fingerprint, Notifier: n, Reason: ReasonNothing})
				}
			}
			continue
		}
		switch st.Status {
		case StatusFiring:
			ds = append(ds, c.decideFiring(ctx, st, present)...)
		case StatusResolved:
			ds = append(ds, c.decideResolved(st)...)
			if present && !c.fresh[st.Fingerprint] && c.cur[st.Fingerprint].Clear == "" {
				// Found again, but from stale data: it stays resolved.
				for _, n := range c.t.targets(ctx, st.Finding, c.notifiers) {
					ds = append(ds, Decision{Fingerprint: st.Fingerprint, Notifier: n, Reason: ReasonNothing})
				}
			}
		case StatusSuperseded, StatusClosed:
			if !present {
				continue
			}
			r := ReasonNothing
			if st.Status == StatusSuperseded {
				r = ReasonSuperseded
			}
			for _, n := range c.t.targets(ctx, st.Finding, c.notifiers) {
				ds = append(ds, Decision{Fingerprint: st.Fingerprint, Notifier: n, Reason: r})
			}
		}
	}
	return ds
}

func (c *cycle) decideFiring(ctx context.Context, st *State, present bool) []Decision {
	var ds []Decision
	outranked := c.outranked(st)
	snoozed := c.snoozed(st)
	for _, n := range c.t.targets(ctx, st.Finding, c.notifiers) {
		d := Decision{Fingerprint: st.Fingerprint, Notifier: n, Reason: ReasonNothing}
		last := c.send(st, n, cost.StatusFiring)
		var r Reason
		switch {
		case last == nil && c.fresh[st.Fingerprint]:
			r = st.Reason
		case last == nil:
			r = ReasonRetry
		case present && c.t.repeat > 0 && st.Finding.Kind != cost.KindDigest && c.now.Sub(last.SentAt) >= c.t.repeat &&
			!c.acked(st):
			r = ReasonRepeat
		}
		switch {
		case r == "":
		case outranked:
			d.Reason = ReasonSuperseded
		case snoozed:
			d.Reason = ReasonSnoozed
		default:
			d.Reason = r
			d.Delivery = &Delivery{Notifier: n, Alert: c.alert(st, cost.StatusFiring, r, c.groupThread(st.Group, n)),
				episode: st.Episode}
			if r == ReasonRepeat {
				d.Delivery.Alert.LastSentAt = last.SentAt
			}
		}
		ds = append(ds, d)
	}
	return ds
}

func (c *cycle) decideResolved(st *State) []Decision {
	var ds []Decision
	for _, s := range c.sends[st.Fingerprint] {
		if s.Episode != st.Episode || s.Status != cost.StatusFiring || !slices.Contains(c.notifiers, s.Notifier) {
			continue
		}
		if c.send(st, s.Notifier, cost.StatusResolved) != nil {
			continue // delivered earlier; nothing worth a decision
		}
		ds = append(ds, Decision{Fingerprint: st.Fingerprint, Notifier: s.Notifier, Reason: ReasonResolved,
			Delivery: &Delivery{Notifier: s.Notifier, Alert: c.alert(st, cost.StatusResolved, ReasonResolved, ref(s)),
				episode: st.Episode}})
	}
	return ds
}

func (c *cycle) alert(st *State, status cost.Status, r Reason, thread *cost.MessageRef) cost.Alert {
	return cost.Alert{
		Finding:     st.Finding,
		Fingerprint: st.Fingerprint,
		Status:      status,
		StartsAt:    st.StartsAt,
		EndsAt:      st.EndsAt,
		Reason:      string(r),
		Thread:      thread,
	}
}

// send returns the current episode's send of st to notifier n, or nil.
func (c *cycle) send(st *State, n string, status cost.Status) *Send {
	for i, s := range c.sends[st.Fingerprint] {
		if s.Episode == st.Episode && s.Notifier == n && s.Status == status {
			return &c.sends[st.Fingerprint][i]
		}
	}
	return nil
}

// groupThread returns the group's first firing message posted to notifier n.
func (c *cycle) groupThread(group, n string) *cost.MessageRef {
	var first *Send
	for _, st := range c.byGroup[group] {
		for i, s := range c.sends[st.Fingerprint] {
			if s.Notifier != n || s.Status != cost.StatusFiring || s.TS == "" {
				continue
			}
			if first == nil || s.FirstSentAt.Before(first.FirstSentAt) {
				first = &c.sends[st.Fingerprint][i]
			}
		}
	}
	if first == nil {
		return nil
	}
	return ref(*first)
}

func ref(s Send) *cost.MessageRef {
	if s.TS == "" && s.Channel == "" {
		return nil
	}
	return &cost.MessageRef{Notifier: s.Notifier, Channel: s.Channel, TS: s.TS}
}

// outranked reports whether a higher threshold of st's group is firing.
func (c *cycle) outranked(st *State) bool {
	for _, o := range c.byGroup[st.Group] {
		if o != st && o.Status == StatusFiring && compareRank(o.Finding, st.Finding) > 0 {
			return true
		}
	}
	return false
}

// snoozed reports whether an active snooze covers st: one on st itself or on
// an equal or higher threshold of its group.
func (c *cycle) snoozed(st *State) bool {
	for _, o := range c.byGroup[st.Group] {
		if o != st && compareRank(o.Finding, st.Finding) < 0 {
			continue
		}
		for _, a := range c.actions[o.Fingerprint] {
			if a.Kind == ActionSnooze && c.now.Before(a.Until) {
				return true
			}
		}
	}
	return false
}

// acked reports whether st was acknowledged (or marked expected) during its
// current episode.
func (c *cycle) acked(st *State) bool {
	for _, a := range c.actions[st.Fingerprint] {
		if (a.Kind == ActionAck || a.Kind == ActionExpected) && !a.At.Before(st.StartsAt) {
			return true
		}
	}
	return false
}

// sorted returns the states ordered by severity (highest first), group, rank
// (highest first) and fingerprint, so decisions come out deterministically.
func (c *cycle) sorted() []*State {
	out := make([]*State, 0, len(c.byFP))
	for _, st := range c.byFP {
		out = append(out, st)
	}
	slices.SortFunc(out, func(a, b *State) int {
		return cmp.Or(
			cmp.Compare(b.Finding.Severity, a.Finding.Severity),
			strings.Compare(a.Group, b.Group),
			-compareRank(a.Finding, b.Finding),
			strings.Compare(a.Fingerprint, b.Fingerprint),
		)
	})
	return out
}

// targets returns the configured notifiers f goes to, in configuration order.
func (t *Tracker) targets(ctx context.Context, f cost.Finding, notifiers []string) []string {
	if len(f.Notifiers) == 0 {
		return notifiers
	}
	var out []string
	for _, n := range notifiers {
		if slices.Contains(f.Notifiers, n) {
			out = append(out, n)
		}
	}
	for _, n := range f.Notifiers {
		if !slices.Contains(notifiers, n) {
			t.log.WarnContext(ctx, "finding names an unknown notifier", "rule", f.Rule, "notifier", n)
		}
	}
	return out
}

// compareRank orders thresholds of one group: severity, then the threshold
// amount, then fewer days left on a card, then the threshold name.
func compareRank(a, b cost.Finding) int {
	var cardA, cardB int
	if a.Card != nil && b.Card != nil {
		cardA, cardB = a.Card.DaysLeft, b.Card.DaysLeft
	}
	return cmp.Or(
		cmp.Compare(a.Severity, b.Severity),
		cmp.Compare(a.Limit, b.Limit),
		cmp.Compare(cardB, cardA),
		strings.Compare(a.Threshold, b.Threshold),
	)
}

// resolvable kinds resolve when fresh data no longer produces them.
func resolvable(k cost.Kind) bool {
	return k == cost.KindForecast || k == cost.KindAnomaly || k == cost.KindStale || k == cost.KindRuleProblem
}

// dataDerived kinds come from usage data, so stale data must not re-fire them.
func dataDerived(k cost.Kind) bool {
	return k == cost.KindForecast || k == cost.KindAnomaly || k == cost.KindRuleProblem
}

// closesAtPeriodEnd kinds close silently once their period is over.
func closesAtPeriodEnd(k cost.Kind) bool {
	return k == cost.KindBudget || k == cost.KindForecast || k == cost.KindCardExpiry || k == cost.KindDigest
}

// accountFresh reports whether the scope's account was evaluated from fresh
// data: evaluated[account], or for a pattern not listed itself, evaluated["*"].
func accountFresh(account string, evaluated map[string]bool) bool {
	if ok, listed := evaluated[account]; listed || !strings.ContainsAny(account, "*?[") {
		return ok
	}
	return evaluated["*"]
}
