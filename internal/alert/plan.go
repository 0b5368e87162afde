// Package alert turns findings into alerts: it gives each finding a stable
// fingerprint, moves alerts through firing, resolved, superseded and closed,
// and decides per notifier what to send and why.
//
// The alert stage is pure. Plan takes the stored state (a Snapshot), this
// cycle's findings, what data was fresh and the cycle's instant, and returns
// the state changes to save and every decision; it does no I/O and reads no
// clock. The caller loads the snapshot, saves the changes in one transaction
// and records each send (SendOf) only after the notifier succeeded, so an
// unsent alert is offered again next cycle (reason "retry"). Plan assumes the
// snapshot holds nothing recorded after now: a cycle at an earlier instant
// runs on a throwaway copy of the state.
//
// Identity is the account id: scopes hash cost.Scope.Account (an id, or a
// pattern for a scope over several accounts) and never the account's name,
// which is only rendered, so renaming an account re-fires nothing.
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
//   - Every kind but the digest ends with a resolved message that says why
//     (State.Why, cost.Alert.Why), sent in the alert's thread to the
//     notifiers that got it firing. Unknown data never resolves anything:
//     each rule below needs the alert's account fresh this cycle.
//   - Forecast, anomaly, stale and rule_problem alerts resolve when fresh data
//     no longer produces them; a forecast whose period ended resolves with
//     the period's closing figure.
//   - Budget alerts do not resolve by absence while their period runs (spend
//     only grows). Once the period is over and the alert is no longer found,
//     it resolves with a closing notice: "period ended: closed at $2,612.00,
//     104% of budget".
//   - Card-expiry alerts resolve when the account's card was read this cycle
//     and no stage of their group (the same card's expiry month) is found:
//     the card was replaced. While any stage of the group is found, the
//     earlier stages keep firing (unrepeated), so each one resolves with the
//     group.
//   - Digests close silently once their period is over. Closed is final for
//     that fingerprint.
//   - Thresholds of a group rank by severity, then Finding.Limit, then fewer
//     card days left, then the threshold name.
//   - A finding with Clear set resolves its firing alert at once, whatever
//     the kind, with that finding as the resolved message and Clear as the
//     reason (revised data no longer shows an anomaly); it never fires
//     anything.
//   - A resolved alert found again fires again as a new episode; a forecast
//     or anomaly does so only from fresh data.
//   - A snooze holds an alert's firing messages (first, retry, repeat) until
//     its Until, together with every equal or lower threshold of its group.
//     An escalation to a higher threshold breaks through the snooze. Resolved
//     messages are not held by snoozes, silences or inhibition.
//   - Acknowledging (or marking expected) stops repeats for the current
//     episode.
//   - Silences (Silence), inhibition rules (InhibitRule) and routes' time
//     intervals (Route) hold firing messages the same way, each with its own
//     reason: silenced, inhibited, muted. Nothing is recorded as sent, so the
//     alert goes out ("retry") at the first cycle after the hold ends if it
//     still fires. Superseding comes first, then inhibition, silences,
//     snoozes and time intervals.
//   - Time intervals hold resolved messages too: a resolved message due to a
//     notifier whose route is in a quiet window (or outside its active
//     window) waits, reason muted, and goes out at the first cycle after
//     the window, still saying when and why the alert resolved. A notifier
//     that never got the firing message (it was held until the alert
//     resolved) gets no resolved message either, as in Alertmanager, which
//     sends no resolved notification to a receiver it never notified.
//     Alertmanager drops a resolved notification that falls in a mute
//     window (its muted flush counts as delivered, grafana/grafana#87007);
//     costbot keeps it owed instead, so a receiver never keeps an incident
//     open for a cost alert that ended during quiet hours.
//   - Routes choose each alert's notifiers and repeat interval by matchers
//     on its labels (Labels).
package alert

import (
	"cmp"
	"fmt"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/prometheus/alertmanager/timeinterval"

	"github.com/costbot/costbot/internal/cost"
)

// Snapshot is the stored alert state one Plan starts from: the alerts a
// cycle can touch with their sends and actions. The store loads it for the
// groups of the cycle's findings (Groups): every firing alert, every resolved
// alert whose resolved message is still owed to a notifier that got it
// firing, and every alert of any status in those groups or in the group of
// one of the former. A larger snapshot (every alert) plans the same.
type Snapshot struct {
	Alerts  []State
	Sends   []Send   // of the alerts above, every episode
	Actions []Action // on the alerts above, oldest first
}

// Freshness says which data a cycle evaluated fresh. Missing data is
// unknown, not absent: an alert whose account is not fresh keeps firing.
type Freshness struct {
	// Usage lists the accounts evaluated from fresh usage data this cycle,
	// keyed by account id. A scope over all accounts ("") or a pattern is
	// fresh only when Usage[""] or Usage[pattern] is true, with Usage["*"]
	// standing for any pattern: set them when every account is fresh.
	Usage map[string]bool
	// Cards lists the accounts whose payment card was read this cycle, by
	// account id.
	Cards map[string]bool
}

// Options configures Plan.
type Options struct {
	// Notifiers lists every configured notifier, in configuration order; a
	// finding with no Notifiers goes to all of them.
	Notifiers []string
	// RepeatInterval re-sends a still-firing (found this cycle),
	// unacknowledged, unsnoozed alert to a notifier this long after its last
	// send there. Zero or negative: never repeat. Digests never repeat.
	RepeatInterval time.Duration
	// Silences hold the firing messages of the alerts they match while
	// active (ReasonSilenced); expired and pending ones are ignored.
	Silences []Silence
	// InhibitRules hold the firing messages of alerts a firing alert
	// inhibits (ReasonInhibited). Nil: none beyond the built-in
	// superseding of lower thresholds; the config's default is
	// DefaultInhibitRules.
	InhibitRules []InhibitRule
	// Routes choose notifiers, repeat intervals and time intervals by
	// matchers (see Route); none sends every alert to every notifier.
	Routes []Route
	// TimeIntervals are the named intervals routes refer to.
	TimeIntervals map[string][]timeinterval.TimeInterval
}

// Changes is what Plan changed: the alerts to save, in one transaction.
type Changes struct {
	// Alerts are the new and changed alerts, to insert or replace.
	Alerts []State
	// Moved lists the fingerprints among Alerts that changed status or
	// started an episode (worth a log line).
	Moved []string
	// UnknownNotifiers lists findings' notifier names that are not configured.
	UnknownNotifiers []RuleNotifier
}

// RuleNotifier is a notifier name a rule's finding asked for.
type RuleNotifier struct {
	Rule     string
	Notifier string
}

// Delivery is one alert to send to one notifier. Pass the value Plan
// returned to SendOf; a Delivery built by hand (Notifier and Alert only) is
// recorded under the alert's current episode.
type Delivery struct {
	Notifier string
	// Alert has Fingerprint, Status, StartsAt, EndsAt, Reason and Thread
	// set, LastSentAt on a repeat and Why on a resolved message.
	Alert cost.Alert

	episode int // the alert episode this message belongs to
}

// Decision is what Plan decided for one alert and one notifier.
type Decision struct {
	Fingerprint string
	Notifier    string
	Reason      Reason
	// Delivery is the message to send; nil when nothing is sent.
	Delivery *Delivery
	// SilencedBy lists the ids of the silences holding the message
	// (ReasonSilenced).
	SilencedBy []string
	// InhibitedBy is the fingerprint of the firing alert inhibiting this
	// one (ReasonInhibited).
	InhibitedBy string
	// MutedBy names the time intervals holding the message (ReasonMuted).
	MutedBy []string
}

// Deliveries returns the deliveries among ds, in order.
func Deliveries(ds []Decision) []Delivery {
	var out []Delivery
	for _, d := range ds {
		if d.Delivery != nil {
			out = append(out, *d.Delivery)
		}
	}
	return out
}

// Groups returns the sorted, distinct groups of findings: the groups a
// Snapshot for them must cover.
func Groups(findings []cost.Finding) []string {
	var out []string
	for _, f := range findings {
		out = append(out, Group(f))
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// Plan applies this cycle's findings to the snapshot as of now and returns
// the state changes (new, resolved, superseded and closed alerts) and every
// decision, sent or not, each with its reason. It modifies nothing it is
// given; sends are not recorded.
func Plan(snap Snapshot, findings []cost.Finding, fresh Freshness, now time.Time, o Options) (Changes, []Decision) {
	now = now.UTC()
	// This cycle's findings by fingerprint; duplicates keep the most severe.
	cur := make(map[string]cost.Finding, len(findings))
	for _, f := range findings {
		fp := Fingerprint(f)
		if old, ok := cur[fp]; ok && old.Severity >= f.Severity {
			continue
		}
		cur[fp] = f
	}
	c := &cycle{
		now:       now,
		o:         o,
		fresh:     fresh,
		cur:       cur,
		found:     make(map[string]bool),
		byFP:      make(map[string]*State, len(snap.Alerts)),
		byGroup:   make(map[string][]*State),
		sends:     make(map[string][]Send),
		actions:   make(map[string][]Action),
		started:   make(map[string]bool),
		changed:   make(map[string]bool),
		moved:     make(map[string]bool),
		unknownNs: make(map[RuleNotifier]bool),
		lbls:      make(map[string]map[string]string),
	}
	for _, f := range cur {
		c.found[Group(f)] = true
	}
	for _, st := range snap.Alerts {
		st := st
		c.add(&st)
	}
	for _, s := range snap.Sends {
		c.sends[s.Fingerprint] = append(c.sends[s.Fingerprint], s)
	}
	for _, a := range snap.Actions {
		c.actions[a.Fingerprint] = append(c.actions[a.Fingerprint], a)
	}

	c.closeAndResolve()
	c.fire(Groups(findings))

	var ch Changes
	for _, st := range c.sorted() {
		if c.changed[st.Fingerprint] {
			ch.Alerts = append(ch.Alerts, *st)
			if c.moved[st.Fingerprint] {
				ch.Moved = append(ch.Moved, st.Fingerprint)
			}
		}
	}
	ds := c.decide()
	for k := range c.unknownNs {
		ch.UnknownNotifiers = append(ch.UnknownNotifiers, k)
	}
	slices.SortFunc(ch.UnknownNotifiers, func(a, b RuleNotifier) int {
		return cmp.Or(strings.Compare(a.Rule, b.Rule), strings.Compare(a.Notifier, b.Notifier))
	})
	return ch, ds
}

// cycle is the working set of one Plan call.
type cycle struct {
	now       time.Time
	o         Options
	fresh     Freshness
	cur       map[string]cost.Finding
	found     map[string]bool // groups with a finding this cycle
	byFP      map[string]*State
	byGroup   map[string][]*State
	sends     map[string][]Send   // by fingerprint
	actions   map[string][]Action // by fingerprint
	started   map[string]bool     // fingerprints that started an episode this cycle
	changed   map[string]bool     // to save
	moved     map[string]bool     // changed status or started an episode
	unknownNs map[RuleNotifier]bool
	lbls      map[string]map[string]string // Labels by fingerprint
	sources   []map[string][]string        // per inhibit rule: equal-label key -> firing source fingerprints
}

// labels returns Labels(st.Finding), computed once per alert.
func (c *cycle) labels(st *State) map[string]string {
	l, ok := c.lbls[st.Fingerprint]
	if !ok {
		l = Labels(st.Finding)
		c.lbls[st.Fingerprint] = l
	}
	return l
}

func (c *cycle) add(st *State) {
	c.byFP[st.Fingerprint] = st
	c.byGroup[st.Group] = append(c.byGroup[st.Group], st)
}

// closeAndResolve refreshes the finding of firing alerts still present and
// ends absent ones as the package documentation describes.
func (c *cycle) closeAndResolve() {
	for _, st := range c.sorted() {
		if st.Status != StatusFiring {
			continue
		}
		f, present := c.cur[st.Fingerprint]
		switch {
		case present && f.Clear != "":
			// Known to have cleared (revised data): resolve, saying why.
			st.Finding = f
			c.resolve(st, f.Clear)
		case present:
			st.Finding = f
		default:
			ended, why := c.absent(st)
			if !ended {
				continue // unknown or still holding: keep firing, keep what we had
			}
			if st.Finding.Kind == cost.KindDigest {
				st.Status, st.EndsAt, st.Why = StatusClosed, c.now, why
			} else {
				c.resolve(st, why)
			}
		}
		st.UpdatedAt = c.now
		c.changed[st.Fingerprint] = true
		c.moved[st.Fingerprint] = st.Status != StatusFiring
	}
}

func (c *cycle) resolve(st *State, why string) {
	st.Status, st.EndsAt, st.Why = StatusResolved, c.now, why
}

// absent reports whether a firing alert not found this cycle ends, and why.
func (c *cycle) absent(st *State) (bool, string) {
	f := st.Finding
	usage := accountFresh(f.Scope.Account, c.fresh.Usage)
	ended := !c.now.Before(f.Period.End) && !f.Period.End.IsZero()
	switch f.Kind {
	case cost.KindDigest:
		return ended, "period ended"
	case cost.KindBudget:
		return ended && usage, closingWhy(f)
	case cost.KindForecast:
		if ended {
			return usage, closingWhy(f)
		}
		return usage, fmt.Sprintf("forecast back under %s (threshold %s)", cost.Money(f.Limit, f.Currency), f.Threshold)
	case cost.KindCardExpiry:
		replaced := c.fresh.Cards[f.Scope.Account] && !c.found[st.Group]
		return replaced, "card replaced: the billing profile no longer shows the card expiring " + f.Period.Start.Format("01/2006")
	case cost.KindAnomaly:
		return usage, "fresh data no longer shows it"
	case cost.KindStale:
		return usage, "billing data is fresh again"
	case cost.KindRuleProblem:
		return usage, "fresh data no longer shows the problem"
	}
	return false, ""
}

// closingWhy is the closing notice of a budget or forecast alert whose period
// ended, from its latest finding.
func closingWhy(f cost.Finding) string {
	s := "period ended: closed at " + cost.Money(f.Actual, f.Currency)
	if f.Budget > 0 {
		s += fmt.Sprintf(", %.0f%% of budget", 100*f.Actual/f.Budget)
	}
	return s
}

// fire starts new alerts and re-fires resolved ones, group by group, and
// superseded ones once no firing threshold of their group outranks them (the
// higher alert resolved while this one still holds). A resolved or superseded
// forecast or anomaly re-fires only from fresh data.
func (c *cycle) fire(groups []string) {
	byGroup := make(map[string][]cost.Finding)
	for fp, f := range c.cur {
		st := c.byFP[fp]
		if f.Clear != "" {
			continue
		}
		again := st != nil && (st.Status == StatusResolved || st.Status == StatusSuperseded)
		if again && dataDerived(f.Kind) && !accountFresh(f.Scope.Account, c.fresh.Usage) {
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
			st.Finding, st.StartsAt, st.EndsAt, st.UpdatedAt, st.Why = f, c.now, time.Time{}, c.now, ""
			c.changed[fp], c.moved[fp] = true, true
			switch {
			case below:
				st.Status, st.Reason, st.EndsAt = StatusSuperseded, ReasonSuperseded, c.now
			default:
				st.Status, st.Reason = StatusFiring, c.firstReason(st)
				c.started[fp] = true
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

func (c *cycle) decide() []Decision {
	var ds []Decision
	for _, st := range c.sorted() {
		_, present := c.cur[st.Fingerprint]
		switch st.Status {
		case StatusFiring:
			ds = append(ds, c.decideFiring(st, present)...)
		case StatusResolved:
			ds = append(ds, c.decideResolved(st)...)
			if present && !c.started[st.Fingerprint] && c.cur[st.Fingerprint].Clear == "" {
				// Found again, but from stale data: it stays resolved.
				for _, n := range c.targets(st) {
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
			for _, n := range c.targets(st) {
				ds = append(ds, Decision{Fingerprint: st.Fingerprint, Notifier: n, Reason: r})
			}
		}
	}
	return ds
}

func (c *cycle) decideFiring(st *State, present bool) []Decision {
	var ds []Decision
	outranked := c.outranked(st)
	snoozed := c.snoozed(st)
	inhibitor := c.inhibitedBy(st)
	silences := silencedBy(c.o.Silences, c.labels(st), c.now)
	for _, t := range c.routes(st) {
		n, repeat := t.Notifier, t.RepeatInterval
		d := Decision{Fingerprint: st.Fingerprint, Notifier: n, Reason: ReasonNothing}
		last := c.send(st, n, cost.StatusFiring)
		var r Reason
		switch {
		case last == nil && c.started[st.Fingerprint]:
			r = st.Reason
		case last == nil:
			r = ReasonRetry
		case present && repeat > 0 && st.Finding.Kind != cost.KindDigest && c.now.Sub(last.SentAt) >= repeat &&
			!c.acked(st):
			r = ReasonRepeat
		}
		switch {
		case r == "":
		case outranked:
			d.Reason = ReasonSuperseded
		case inhibitor != "":
			d.Reason, d.InhibitedBy = ReasonInhibited, inhibitor
		case len(silences) > 0:
			d.Reason, d.SilencedBy = ReasonSilenced, silences
		case snoozed:
			d.Reason = ReasonSnoozed
		default:
			if muted, names := t.Muted(c.o.TimeIntervals, c.now); muted {
				d.Reason, d.MutedBy = ReasonMuted, names
				break
			}
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

// decideResolved sends st's resolved message to each notifier that got its
// firing message this episode, unless the notifier's route (Target) is in a
// quiet window (or outside its active window): then it waits, ReasonMuted,
// until the first cycle after the window. A notifier that never got the
// firing message gets no resolved one, as in Alertmanager (its DedupStage
// sends nothing for resolved alerts the receiver was never notified of).
func (c *cycle) decideResolved(st *State) []Decision {
	var ds []Decision
	var targets []Target // computed on the first send that needs them
	for _, s := range c.sends[st.Fingerprint] {
		if s.Episode != st.Episode || s.Status != cost.StatusFiring || !slices.Contains(c.o.Notifiers, s.Notifier) {
			continue
		}
		if c.send(st, s.Notifier, cost.StatusResolved) != nil {
			continue // delivered earlier; nothing worth a decision
		}
		if targets == nil {
			targets = c.routes(st)
		}
		// A notifier no route takes any more (the config changed since the
		// firing message) gets its resolved message at once.
		if i := slices.IndexFunc(targets, func(t Target) bool { return t.Notifier == s.Notifier }); i >= 0 {
			if muted, names := targets[i].Muted(c.o.TimeIntervals, c.now); muted {
				ds = append(ds, Decision{Fingerprint: st.Fingerprint, Notifier: s.Notifier, Reason: ReasonMuted, MutedBy: names})
				continue
			}
		}
		ds = append(ds, Decision{Fingerprint: st.Fingerprint, Notifier: s.Notifier, Reason: ReasonResolved,
			Delivery: &Delivery{Notifier: s.Notifier, Alert: c.alert(st, cost.StatusResolved, ReasonResolved, ref(s)),
				episode: st.Episode}})
	}
	return ds
}

func (c *cycle) alert(st *State, status cost.Status, r Reason, thread *cost.MessageRef) cost.Alert {
	a := cost.Alert{
		Finding:     st.Finding,
		Fingerprint: st.Fingerprint,
		Status:      status,
		StartsAt:    st.StartsAt,
		EndsAt:      st.EndsAt,
		Reason:      r,
		Thread:      thread,
	}
	if status == cost.StatusResolved {
		a.Why = st.Why
	}
	return a
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

// targets returns the names of the configured notifiers st goes to (see
// routes).
func (c *cycle) targets(st *State) []string {
	var out []string
	for _, t := range c.routes(st) {
		out = append(out, t.Notifier)
	}
	return out
}

// routes returns where st goes (RoutesFor, as Routes) and notes the names
// its rule asks for that are not configured.
func (c *cycle) routes(st *State) []Target {
	f := st.Finding
	var l map[string]string
	if len(f.Notifiers) == 0 {
		l = c.labels(st)
	}
	ts, unknown := RoutesFor(l, f.Notifiers, c.o)
	for _, n := range unknown {
		c.unknownNs[RuleNotifier{Rule: f.Rule, Notifier: n}] = true
	}
	return ts
}

// compareRank orders thresholds of one group: severity, then the threshold
// amount, then fewer days left on a card (an expired card, threshold
// "card-expired", before any stage: the last stage can have 0 days left
// too), then the threshold name.
func compareRank(a, b cost.Finding) int {
	var cardA, cardB int
	if a.Card != nil && b.Card != nil {
		cardA, cardB = cardDays(a), cardDays(b)
	}
	return cmp.Or(
		cmp.Compare(a.Severity, b.Severity),
		cmp.Compare(a.Limit, b.Limit),
		cmp.Compare(cardB, cardA),
		strings.Compare(a.Threshold, b.Threshold),
	)
}

// cardDays is the days a card finding has left, lowest for an expired card.
func cardDays(f cost.Finding) int {
	if f.Threshold == "card-expired" {
		return math.MinInt
	}
	return f.Card.DaysLeft
}

// dataDerived kinds come from usage data, so stale data must not re-fire them.
func dataDerived(k cost.Kind) bool {
	return k == cost.KindForecast || k == cost.KindAnomaly || k == cost.KindRuleProblem
}

// accountFresh reports whether the scope's account was evaluated from fresh
// data: fresh[account], or for a pattern not listed itself, fresh["*"].
func accountFresh(account string, fresh map[string]bool) bool {
	if ok, listed := fresh[account]; listed || !strings.ContainsAny(account, "*?[") {
		return ok
	}
	return fresh["*"]
}
