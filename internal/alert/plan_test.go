package alert_test

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/costbot/costbot/internal/alert"
	"github.com/costbot/costbot/internal/cost"
)

const (
	acct  = "0123456789abcdef0123456789abcdef"
	acct2 = "fedcba9876543210fedcba9876543210"
)

var (
	t0        = time.Date(2026, 11, 10, 8, 0, 0, 0, time.UTC)
	day       = 24 * time.Hour
	notifiers = []string{"slack", "hook"}
)

func month(y int, m time.Month) cost.Period {
	return cost.Period{Start: time.Date(y, m, 1, 0, 0, 0, 0, time.UTC), End: time.Date(y, m+1, 1, 0, 0, 0, 0, time.UTC)}
}

// catalogue is every finding the scenarios use, by label.
func catalogue() map[string]cost.Finding {
	budget := func(th string, limit float64, sev cost.Severity) cost.Finding {
		return cost.Finding{Kind: cost.KindBudget, Rule: "monthly", Scope: cost.Scope{Account: acct, AccountName: "production"},
			Period: month(2026, 11), Threshold: th, Severity: sev, Currency: "USD", Budget: 1000, Limit: limit,
			Actual: limit + 1, Title: "spend crossed " + th}
	}
	anomaly := func(th string, sev cost.Severity) cost.Finding {
		return cost.Finding{Kind: cost.KindAnomaly, Rule: "spikes",
			Scope:  cost.Scope{Account: acct, AccountName: "production", Family: "R2", Service: "R2 Storage", Zone: "example.com"},
			Period: cost.Period{Start: t0.Truncate(day).Add(-day), End: t0.Truncate(day)}, Threshold: th,
			Severity: sev, Anomaly: &cost.AnomalyDetail{Expected: 1, Observed: 9, Score: 0.99}}
	}
	card := func(th string, sev cost.Severity, left int) cost.Finding {
		return cost.Finding{Kind: cost.KindCardExpiry, Rule: "card", Scope: cost.Scope{Account: acct},
			Period: month(2026, 12), Threshold: th, Severity: sev, Card: &cost.CardDetail{DaysLeft: left}}
	}
	m := map[string]cost.Finding{
		"b80":   budget("actual>=80%", 800, cost.SeverityWarning),
		"b90":   budget("actual>=90%", 900, cost.SeverityWarning),
		"b100":  budget("actual>=100%", 1000, cost.SeverityCritical),
		"f100":  {Kind: cost.KindForecast, Rule: "monthly", Scope: cost.Scope{Account: acct}, Period: month(2026, 11), Threshold: "forecast>=100%", Severity: cost.SeverityWarning, Currency: "USD", Budget: 1000, Limit: 1000, Actual: 900, Forecast: 1100},
		"fall":  {Kind: cost.KindForecast, Rule: "org", Period: month(2026, 11), Threshold: "forecast>=100%", Severity: cost.SeverityWarning, Limit: 5000},
		"a":     anomaly("score>=0.9", cost.SeverityWarning),
		"acrit": anomaly("score>=0.99", cost.SeverityCritical),
		"c30":   card("card<=30d", cost.SeverityInfo, 30),
		"c7":    card("card<=7d", cost.SeverityWarning, 7),
		"c3":    card("card<=3d", cost.SeverityCritical, 3),
		"c1":    card("card<=1d", cost.SeverityCritical, 0), // less than a day left
		// At the expiry instant: 0 days left, like the last stage.
		"cexp":  card("card-expired", cost.SeverityCritical, 0),
		"stale": {Kind: cost.KindStale, Rule: "stale", Scope: cost.Scope{Account: acct}, Threshold: "stale>=1d", Severity: cost.SeverityWarning},
	}
	b80dec := m["b80"]
	b80dec.Period = month(2026, 12)
	m["b80dec"] = b80dec
	// The same alerts after the account was renamed: the id is the identity.
	b80renamed := m["b80"]
	b80renamed.Scope.AccountName = "prod-renamed"
	m["b80renamed"] = b80renamed
	arenamed := m["a"]
	arenamed.Scope.AccountName = "prod-renamed"
	m["arenamed"] = arenamed
	// A new card: another expiry month, another group.
	c30new := card("card<=30d", cost.SeverityInfo, 30)
	c30new.Period = month(2029, 8)
	m["c30new"] = c30new
	m["digest"] = cost.Finding{Kind: cost.KindDigest, Rule: "digest", Scope: cost.Scope{Account: acct},
		Period: cost.Period{Start: t0.Truncate(day), End: t0.Truncate(day).Add(day)}, Threshold: "daily", Severity: cost.SeverityInfo}
	a2 := m["a"]
	a2.Scope.Account, a2.Scope.AccountName = acct2, "staging"
	m["a2"] = a2
	hookOnly := budget("actual>=50%", 500, cost.SeverityInfo)
	hookOnly.Rule, hookOnly.Notifiers = "hook-only", []string{"hook"}
	m["hookonly"] = hookOnly
	return m
}

type act struct {
	label string
	kind  alert.ActionKind
	until time.Duration // since the step's time
}

// step is one cycle. want lists every decision as "notifier label reason"
// for a delivery (with " ^label" when threaded under label's message) and
// "notifier label (reason)" for a decision that sends nothing.
type step struct {
	at        time.Duration // since t0
	restart   bool          // keep only what the state holds (a restart)
	acts      []act         // user actions taken just before the cycle
	findings  []string
	stale     bool     // acct's usage data is stale this cycle
	staleCard bool     // acct's card was not read this cycle
	fail      []string // notifiers whose sends fail
	want      []string
}

// memory is the alert state a store would hold, kept in memory: Plan's
// changes applied, sends recorded with RecordSend's semantics.
type memory struct {
	Alerts  map[string]alert.State
	Sends   []alert.Send
	Actions []alert.Action
}

func (m *memory) snapshot() alert.Snapshot {
	var snap alert.Snapshot
	for _, st := range m.Alerts {
		snap.Alerts = append(snap.Alerts, st)
	}
	snap.Sends = slices.Clone(m.Sends)
	snap.Actions = slices.Clone(m.Actions)
	return snap
}

func (m *memory) apply(ch alert.Changes) {
	for _, st := range ch.Alerts {
		m.Alerts[st.Fingerprint] = st
	}
}

// record stores s as the SQLite store does: under the alert's current
// episode when s.Episode is zero; a repeat updates SentAt and keeps the
// first message reference.
func (m *memory) record(tb testing.TB, s alert.Send) {
	tb.Helper()
	st, ok := m.Alerts[s.Fingerprint]
	if !ok {
		tb.Fatalf("record send of unknown alert %s", s.Fingerprint)
	}
	if s.Episode == 0 {
		s.Episode = st.Episode
	}
	for i, o := range m.Sends {
		if o.Fingerprint == s.Fingerprint && o.Episode == s.Episode && o.Notifier == s.Notifier && o.Status == s.Status {
			m.Sends[i].SentAt = s.SentAt
			return
		}
	}
	m.Sends = append(m.Sends, s)
}

// roundTrip is a restart: only what the state holds survives.
func (m *memory) roundTrip(tb testing.TB) {
	tb.Helper()
	b, err := json.Marshal(m)
	if err != nil {
		tb.Fatal(err)
	}
	*m = memory{}
	if err := json.Unmarshal(b, m); err != nil {
		tb.Fatal(err)
	}
}

type harness struct {
	tb     testing.TB
	mem    *memory
	now    time.Time
	repeat time.Duration
	labels map[string]string // fingerprint -> label
	opts   alert.Options     // silences, inhibition, routes; Notifiers and RepeatInterval are set per run
	sent   []alert.Delivery  // the last run's deliveries, failed ones included
	last   []alert.Decision  // the last run's decisions
}

func newHarness(tb testing.TB, repeat time.Duration) *harness {
	tb.Helper()
	h := &harness{tb: tb, mem: &memory{Alerts: map[string]alert.State{}}, now: t0, repeat: repeat,
		labels: make(map[string]string)}
	for label, f := range catalogue() {
		if strings.HasSuffix(label, "renamed") {
			continue // same fingerprint as the alert it renames
		}
		h.labels[alert.Fingerprint(f)] = label
	}
	return h
}

// act applies a user action as the app does: checked against the alert,
// then stored.
func (h *harness) act(a alert.Action) error {
	st, ok := h.mem.Alerts[a.Fingerprint]
	if !ok {
		return fmt.Errorf("%s alert %q: %w", a.Kind, a.Fingerprint, alert.ErrNotFound)
	}
	a, err := alert.CheckAction(st, a)
	if err != nil {
		return err
	}
	h.mem.Actions = append(h.mem.Actions, a)
	return nil
}

// run plays one cycle: plan, save the changes, then "send" every delivery
// and record the successful ones. Slack returns a message ref whose TS is the
// alert's label.
func (h *harness) run(s step) []string {
	h.tb.Helper()
	h.now = t0.Add(s.at)
	if s.restart {
		h.mem.roundTrip(h.tb)
	}
	for _, a := range s.acts {
		fp := alert.Fingerprint(catalogue()[a.label])
		var until time.Time
		if a.until > 0 {
			until = h.now.Add(a.until)
		}
		if err := h.act(alert.Action{Fingerprint: fp, Kind: a.kind, User: "U1", At: h.now, Until: until}); err != nil {
			h.tb.Fatalf("act: %v", err)
		}
	}
	var fs []cost.Finding
	for _, l := range s.findings {
		f, ok := catalogue()[l]
		if !ok {
			h.tb.Fatalf("no finding %q", l)
		}
		fs = append(fs, f)
	}
	// Like the app: fresh accounts by id, and "" / "*" only when all are fresh.
	fresh := alert.Freshness{Usage: map[string]bool{acct2: true}, Cards: map[string]bool{}}
	if !s.stale {
		fresh.Usage[acct], fresh.Usage[""], fresh.Usage["*"] = true, true, true
	}
	if !s.staleCard {
		fresh.Cards[acct] = true
	}
	before := h.mem.snapshot()
	o := h.opts
	o.Notifiers, o.RepeatInterval = notifiers, h.repeat
	ch, ds := alert.Plan(before, fs, fresh, h.now, o)
	h.mem.apply(ch)
	h.last = ds
	var got []string
	h.sent = nil
	for _, d := range ds {
		label := h.labels[d.Fingerprint]
		if d.Delivery == nil {
			got = append(got, fmt.Sprintf("%s %s (%s)", d.Notifier, label, d.Reason))
			continue
		}
		a := d.Delivery.Alert
		line := fmt.Sprintf("%s %s %s", d.Notifier, label, a.Reason)
		if a.Thread != nil {
			line += " ^" + a.Thread.TS
		}
		if d.Reason != a.Reason || d.Delivery.Notifier != d.Notifier || a.Fingerprint != d.Fingerprint {
			h.tb.Errorf("inconsistent decision %+v", d)
		}
		if (a.Reason == "resolved") != (a.Status == cost.StatusResolved) {
			h.tb.Errorf("%s: status %v with reason %s", line, a.Status, a.Reason)
		}
		if (a.Status == cost.StatusResolved) == (a.Why == "") {
			h.tb.Errorf("%s: status %v with why %q", line, a.Status, a.Why)
		}
		if (a.Reason == "repeat") == a.LastSentAt.IsZero() {
			h.tb.Errorf("%s: LastSentAt %v with reason %s", line, a.LastSentAt, a.Reason)
		}
		got = append(got, line)
		h.sent = append(h.sent, *d.Delivery)
		if slices.Contains(s.fail, d.Notifier) {
			continue
		}
		var ref *cost.MessageRef
		if d.Notifier == "slack" {
			ref = &cost.MessageRef{Notifier: "slack", Channel: "C1", TS: label}
		}
		snd, err := alert.SendOf(*d.Delivery, ref, h.now)
		if err != nil {
			h.tb.Fatalf("SendOf: %v", err)
		}
		h.mem.record(h.tb, snd)
	}
	slices.Sort(got)
	return got
}

func TestPlan_Scenarios(t *testing.T) {
	tests := []struct {
		name   string
		repeat time.Duration
		steps  []step
	}{
		{name: "FirstThenNothing", steps: []step{
			{findings: []string{"b80"}, want: []string{"hook b80 first", "slack b80 first"}},
			{at: time.Hour, findings: []string{"b80"}, want: []string{"hook b80 (nothing)", "slack b80 (nothing)"}},
		}},
		{name: "EscalationThreadsUnderFirst", steps: []step{
			{findings: []string{"b80"}, want: []string{"hook b80 first", "slack b80 first"}},
			{at: time.Hour, findings: []string{"b80", "b100"}, want: []string{
				"hook b100 escalated", "hook b80 (nothing)", "slack b100 escalated ^b80", "slack b80 (nothing)"}},
			{at: 2 * time.Hour, findings: []string{"b80", "b100"}, want: []string{
				"hook b100 (nothing)", "hook b80 (nothing)", "slack b100 (nothing)", "slack b80 (nothing)"}},
		}},
		{name: "NewPeriodRearms", steps: []step{
			{findings: []string{"b80"}, want: []string{"hook b80 first", "slack b80 first"}},
			// December: November's alert resolves with its closing figure, December's fires afresh.
			{at: 21 * day, findings: []string{"b80dec"}, want: []string{
				"hook b80 resolved", "hook b80dec first", "slack b80 resolved ^b80", "slack b80dec first"}},
			{at: 21*day + time.Hour, findings: []string{"b80dec"}, want: []string{"hook b80dec (nothing)", "slack b80dec (nothing)"}},
		}},
		{name: "FailedNotifierRetriedAlone", steps: []step{
			{findings: []string{"b80"}, fail: []string{"hook"}, want: []string{"hook b80 first", "slack b80 first"}},
			{at: time.Hour, findings: []string{"b80"}, fail: []string{"hook"}, want: []string{"hook b80 retry", "slack b80 (nothing)"}},
			{at: 2 * time.Hour, findings: []string{"b80"}, want: []string{"hook b80 retry", "slack b80 (nothing)"}},
			{at: 3 * time.Hour, findings: []string{"b80"}, want: []string{"hook b80 (nothing)", "slack b80 (nothing)"}},
		}},
		{name: "RestartLosesNothing", steps: []step{
			{findings: []string{"b80", "f100"}, fail: []string{"hook"}, want: []string{
				"hook b80 first", "hook f100 first", "slack b80 first", "slack f100 first"}},
			{at: time.Hour, restart: true, findings: []string{"b80", "f100"}, fail: []string{"hook"}, want: []string{
				"hook b80 retry", "hook f100 retry", "slack b80 (nothing)", "slack f100 (nothing)"}},
			// Even with no findings at all (e.g. the cycle failed), the undelivered budget alert goes out.
			{at: 2 * time.Hour, restart: true, findings: nil, stale: true, want: []string{
				"hook b80 retry", "hook f100 retry", "slack b80 (nothing)", "slack f100 (nothing)"}},
			{at: 3 * time.Hour, restart: true, findings: []string{"b80"}, fail: []string{"slack"}, want: []string{
				"hook b80 (nothing)", "hook f100 resolved", "slack b80 (nothing)", "slack f100 resolved ^f100"}},
			{at: 4 * time.Hour, restart: true, findings: []string{"b80"}, want: []string{
				"hook b80 (nothing)", "slack b80 (nothing)", "slack f100 resolved ^f100"}},
			{at: 5 * time.Hour, restart: true, findings: []string{"b80"}, want: []string{"hook b80 (nothing)", "slack b80 (nothing)"}},
		}},
		{name: "StaleAccountDoesNotResolve", steps: []step{
			{findings: []string{"f100", "a"}, want: []string{"hook a first", "hook f100 first", "slack a first", "slack f100 first"}},
			{at: time.Hour, stale: true, want: []string{"hook a (nothing)", "hook f100 (nothing)", "slack a (nothing)", "slack f100 (nothing)"}},
			{at: 2 * time.Hour, stale: true, findings: []string{"f100", "a"}, want: []string{
				"hook a (nothing)", "hook f100 (nothing)", "slack a (nothing)", "slack f100 (nothing)"}},
		}},
		{name: "ForecastResolvesOnFreshData", steps: []step{
			{findings: []string{"f100"}, want: []string{"hook f100 first", "slack f100 first"}},
			{at: time.Hour, want: []string{"hook f100 resolved", "slack f100 resolved ^f100"}},
			{at: 2 * time.Hour, want: nil},
			// Crossing again is a new episode, threaded under the first message.
			{at: 3 * time.Hour, findings: []string{"f100"}, want: []string{"hook f100 first", "slack f100 first ^f100"}},
		}},
		{name: "StaleDataDoesNotRefire", steps: []step{
			{findings: []string{"f100"}, want: []string{"hook f100 first", "slack f100 first"}},
			{at: time.Hour, want: []string{"hook f100 resolved", "slack f100 resolved ^f100"}},
			{at: 2 * time.Hour, stale: true, findings: []string{"f100"}, want: []string{"hook f100 (nothing)", "slack f100 (nothing)"}},
			{at: 3 * time.Hour, findings: []string{"f100"}, want: []string{"hook f100 first", "slack f100 first ^f100"}},
		}},
		{name: "AllAccountsScopeNeedsEveryAccountFresh", steps: []step{
			{findings: []string{"fall"}, want: []string{"hook fall first", "slack fall first"}},
			{at: time.Hour, stale: true, want: []string{"hook fall (nothing)", "slack fall (nothing)"}},
			{at: 2 * time.Hour, want: []string{"hook fall resolved", "slack fall resolved ^fall"}},
		}},
		{name: "StaleFindingResolves", steps: []step{
			{findings: []string{"stale"}, stale: true, want: []string{"hook stale first", "slack stale first"}},
			{at: time.Hour, want: []string{"hook stale resolved", "slack stale resolved ^stale"}},
		}},
		{name: "BudgetNeverResolvesByAbsence", steps: []step{
			{findings: []string{"b80"}, want: []string{"hook b80 first", "slack b80 first"}},
			{at: time.Hour, want: []string{"hook b80 (nothing)", "slack b80 (nothing)"}},
			// The period ended: a closing notice in the alert's thread.
			{at: 21 * day, want: []string{"hook b80 resolved", "slack b80 resolved ^b80"}},
			{at: 21*day + time.Hour, want: nil},
		}},
		{name: "SupersededThresholds", steps: []step{
			{findings: []string{"b80", "b90", "b100"}, want: []string{
				"hook b100 first", "hook b80 (superseded)", "hook b90 (superseded)",
				"slack b100 first", "slack b80 (superseded)", "slack b90 (superseded)"}},
			{at: time.Hour, findings: []string{"b80", "b90", "b100"}, want: []string{
				"hook b100 (nothing)", "hook b80 (superseded)", "hook b90 (superseded)",
				"slack b100 (nothing)", "slack b80 (superseded)", "slack b90 (superseded)"}},
		}},
		{name: "LowerThresholdAfterHigherIsSuperseded", steps: []step{
			{findings: []string{"b100"}, want: []string{"hook b100 first", "slack b100 first"}},
			{at: time.Hour, findings: []string{"b80", "b100"}, want: []string{
				"hook b100 (nothing)", "hook b80 (superseded)", "slack b100 (nothing)", "slack b80 (superseded)"}},
		}},
		{name: "SupersededFiresWhenHigherResolves", steps: []step{
			{findings: []string{"a", "acrit"}, want: []string{
				"hook a (superseded)", "hook acrit first", "slack a (superseded)", "slack acrit first"}},
			{at: time.Hour, findings: []string{"a", "acrit"}, want: []string{
				"hook a (superseded)", "hook acrit (nothing)", "slack a (superseded)", "slack acrit (nothing)"}},
			// Stale data neither resolves the higher one nor fires the lower one.
			{at: 2 * time.Hour, stale: true, findings: []string{"a"}, want: []string{
				"hook a (superseded)", "hook acrit (nothing)", "slack a (superseded)", "slack acrit (nothing)"}},
			// The critical anomaly is over but the warning still holds: both are news.
			{at: 3 * time.Hour, findings: []string{"a"}, want: []string{
				"hook a first", "hook acrit resolved", "slack a first ^acrit", "slack acrit resolved ^acrit"}},
			{at: 4 * time.Hour, findings: []string{"a"}, want: []string{"hook a (nothing)", "slack a (nothing)"}},
			// Escalating again supersedes nothing new: the lower one keeps firing, unrepeated.
			{at: 5 * time.Hour, findings: []string{"a", "acrit"}, want: []string{
				"hook a (nothing)", "hook acrit escalated", "slack a (nothing)", "slack acrit escalated ^acrit"}},
		}},
		{name: "SupersededStaysWhileHigherFires", steps: []step{
			{findings: []string{"b80", "b100"}, want: []string{
				"hook b100 first", "hook b80 (superseded)", "slack b100 first", "slack b80 (superseded)"}},
			// A budget alert does not resolve by absence, so b80 stays superseded.
			{at: time.Hour, findings: []string{"b80"}, want: []string{
				"hook b100 (nothing)", "hook b80 (superseded)", "slack b100 (nothing)", "slack b80 (superseded)"}},
		}},
		{name: "LowerRetryHeldWhileHigherFires", steps: []step{
			{findings: []string{"b80"}, fail: []string{"hook"}, want: []string{"hook b80 first", "slack b80 first"}},
			{at: time.Hour, findings: []string{"b80", "b100"}, want: []string{
				"hook b100 escalated", "hook b80 (superseded)", "slack b100 escalated ^b80", "slack b80 (nothing)"}},
		}},
		{name: "SnoozeHoldsUntilUntil", repeat: time.Hour, steps: []step{
			{findings: []string{"a"}, fail: []string{"hook"}, want: []string{"hook a first", "slack a first"}},
			{at: 2 * time.Hour, acts: []act{{label: "a", kind: alert.ActionSnooze, until: 22 * time.Hour}},
				findings: []string{"a"}, want: []string{"hook a (snoozed)", "slack a (snoozed)"}},
			// An escalation breaks through the snooze; the snoozed lower one stays quiet.
			{at: 3 * time.Hour, findings: []string{"a", "acrit"}, want: []string{
				"hook a (superseded)", "hook acrit escalated", "slack a (superseded)", "slack acrit escalated ^a"}},
			{at: 4 * time.Hour, findings: []string{"a"}, want: []string{
				"hook a (snoozed)", "hook acrit resolved", "slack a (snoozed)", "slack acrit resolved ^acrit"}},
			{at: 24 * time.Hour, findings: []string{"a"}, want: []string{"hook a retry", "slack a repeat ^a"}},
		}},
		{name: "AckStopsRepeats", repeat: 6 * time.Hour, steps: []step{
			{findings: []string{"a"}, want: []string{"hook a first", "slack a first"}},
			{at: 5 * time.Hour, findings: []string{"a"}, want: []string{"hook a (nothing)", "slack a (nothing)"}},
			{at: 6 * time.Hour, findings: []string{"a"}, want: []string{"hook a repeat", "slack a repeat ^a"}},
			{at: 13 * time.Hour, acts: []act{{label: "a", kind: alert.ActionAck}}, findings: []string{"a"},
				want: []string{"hook a (nothing)", "slack a (nothing)"}},
			{at: 30 * time.Hour, findings: []string{"a"}, want: []string{"hook a (nothing)", "slack a (nothing)"}},
		}},
		{name: "RepeatOnlyWhilePresent", repeat: time.Hour, steps: []step{
			{findings: []string{"b80"}, want: []string{"hook b80 first", "slack b80 first"}},
			{at: 2 * time.Hour, want: []string{"hook b80 (nothing)", "slack b80 (nothing)"}},
			{at: 3 * time.Hour, findings: []string{"b80"}, want: []string{"hook b80 repeat", "slack b80 repeat ^b80"}},
		}},
		{name: "ResolvedOnlyToNotifiersThatGotFiring", steps: []step{
			{findings: []string{"f100"}, fail: []string{"hook"}, want: []string{"hook f100 first", "slack f100 first"}},
			{at: time.Hour, want: []string{"slack f100 resolved ^f100"}},
			{at: 2 * time.Hour, want: nil},
		}},
		{name: "FindingNotifiersRestrictTargets", steps: []step{
			{findings: []string{"hookonly"}, want: []string{"hook hookonly first"}},
		}},
		// As the rules emit them: only the current stage, then "card-expired"
		// with the expiry month as its (already ended) period.
		{name: "CardStagesEscalateThenExpiredFires", steps: []step{
			{at: 21 * day, findings: []string{"c30"}, want: []string{"hook c30 first", "slack c30 first"}},
			{at: 45 * day, findings: []string{"c7"}, want: []string{
				"hook c30 (nothing)", "hook c7 escalated", "slack c30 (nothing)", "slack c7 escalated ^c30"}},
			{at: 49 * day, findings: []string{"c3"}, want: []string{
				"hook c30 (nothing)", "hook c3 escalated", "hook c7 (nothing)",
				"slack c30 (nothing)", "slack c3 escalated ^c30", "slack c7 (nothing)"}},
			// The earlier stages stay open, unrepeated, while the card's group is found.
			{at: 52 * day, findings: []string{"cexp"}, want: []string{
				"hook c30 (nothing)", "hook c3 (nothing)", "hook c7 (nothing)", "hook cexp escalated",
				"slack c30 (nothing)", "slack c3 (nothing)", "slack c7 (nothing)", "slack cexp escalated ^c30"}},
			// The card was not read: unknown, nothing resolves.
			{at: 53 * day, staleCard: true, want: []string{
				"hook c30 (nothing)", "hook c3 (nothing)", "hook c7 (nothing)", "hook cexp (nothing)",
				"slack c30 (nothing)", "slack c3 (nothing)", "slack c7 (nothing)", "slack cexp (nothing)"}},
			// Card replaced: the profile was read and shows no stage of this card.
			{at: 60 * day, want: []string{
				"hook c30 resolved", "hook c3 resolved", "hook c7 resolved", "hook cexp resolved",
				"slack c30 resolved ^c30", "slack c3 resolved ^c3", "slack c7 resolved ^c7", "slack cexp resolved ^cexp"}},
			{at: 61 * day, want: nil},
		}},
		// The last stage can have 0 days left; the expired card still outranks it.
		{name: "ExpiredOutranksLastStage", steps: []step{
			{at: 50 * day, findings: []string{"c1"}, want: []string{"hook c1 first", "slack c1 first"}},
			{at: 51 * day, findings: []string{"cexp"}, want: []string{
				"hook c1 (nothing)", "hook cexp escalated", "slack c1 (nothing)", "slack cexp escalated ^c1"}},
		}},
		{name: "ReplacedCardResolves", steps: []step{
			{at: 21 * day, findings: []string{"c30"}, want: []string{"hook c30 first", "slack c30 first"}},
			{at: 22 * day, stale: true, staleCard: true, want: []string{"hook c30 (nothing)", "slack c30 (nothing)"}},
			{at: 23 * day, findings: []string{"c30new"}, want: []string{
				"hook c30 resolved", "hook c30new first", "slack c30 resolved ^c30", "slack c30new first"}},
		}},
		{name: "RenameKeepsTheAlert", steps: []step{
			{findings: []string{"b80", "a"}, want: []string{"hook a first", "hook b80 first", "slack a first", "slack b80 first"}},
			{at: time.Hour, findings: []string{"b80renamed", "arenamed"}, want: []string{
				"hook a (nothing)", "hook b80 (nothing)", "slack a (nothing)", "slack b80 (nothing)"}},
			{at: 2 * time.Hour, findings: []string{"b80renamed"}, want: []string{
				"hook a resolved", "hook b80 (nothing)", "slack a resolved ^a", "slack b80 (nothing)"}},
		}},
		{name: "BudgetPeriodEndSendsClosingNotice", steps: []step{
			{findings: []string{"b80", "b100"}, want: []string{
				"hook b100 first", "hook b80 (superseded)", "slack b100 first", "slack b80 (superseded)"}},
			// December, data stale: the closing figure is unknown, it stays open.
			{at: 21 * day, stale: true, want: []string{"hook b100 (nothing)", "slack b100 (nothing)"}},
			{at: 21*day + time.Hour, findings: []string{"b80dec"}, want: []string{
				"hook b100 resolved", "hook b80dec first", "slack b100 resolved ^b100", "slack b80dec first"}},
			{at: 21*day + 2*time.Hour, findings: []string{"b80dec"}, want: []string{"hook b80dec (nothing)", "slack b80dec (nothing)"}},
		}},
		{name: "ForecastPeriodEndResolves", steps: []step{
			{findings: []string{"f100"}, want: []string{"hook f100 first", "slack f100 first"}},
			{at: 21 * day, stale: true, want: []string{"hook f100 (nothing)", "slack f100 (nothing)"}},
			{at: 22 * day, want: []string{"hook f100 resolved", "slack f100 resolved ^f100"}},
		}},
		{name: "DigestClosesSilently", steps: []step{
			{findings: []string{"digest"}, want: []string{"hook digest first", "slack digest first"}},
			{at: 2 * day, want: nil},
			{at: 3 * day, findings: []string{"digest"}, want: []string{"hook digest (nothing)", "slack digest (nothing)"}},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			h := newHarness(t, tt.repeat)
			for i, s := range tt.steps {
				got := h.run(s)
				want := slices.Clone(s.want)
				slices.Sort(want)
				if !slices.Equal(got, want) {
					t.Fatalf("cycle %d at +%v:\ngot  %s\nwant %s", i+1, s.at, strings.Join(got, "; "), strings.Join(want, "; "))
				}
			}
		})
	}
}

func TestPlan(t *testing.T) {
	h := newHarness(t, 0)
	f := catalogue()["b80"]
	o := alert.Options{Notifiers: notifiers}
	fresh := alert.Freshness{}
	ch, ds := alert.Plan(alert.Snapshot{}, []cost.Finding{f, f}, fresh, t0, o)
	plan := alert.Deliveries(ds)
	if len(plan) != 2 {
		t.Fatalf("Plan = %d deliveries, want 2 (duplicates collapse)", len(plan))
	}
	a := plan[0].Alert
	if a.Fingerprint != alert.Fingerprint(f) || a.Status != cost.StatusFiring || !a.StartsAt.Equal(t0) ||
		!a.EndsAt.IsZero() || a.Reason != "first" || a.Thread != nil || a.Title != f.Title {
		t.Errorf("delivery = %+v", a)
	}
	if len(ch.Alerts) != 1 || !slices.Equal(ch.Moved, []string{a.Fingerprint}) {
		t.Errorf("changes = %+v, want the new alert", ch)
	}
	// Plan records no sends: the same plan again offers the same alert.
	h.mem.apply(ch)
	_, ds = alert.Plan(h.mem.snapshot(), []cost.Finding{f}, fresh, t0.Add(time.Hour), o)
	if plan := alert.Deliveries(ds); len(plan) != 2 || plan[0].Alert.Reason != "retry" {
		t.Errorf("second Plan = %+v, want two retries", plan)
	}
	if open := alert.Open(h.mem.snapshot().Alerts); len(open) != 1 || open[0].Fingerprint != a.Fingerprint || open[0].Reason != "first" {
		t.Errorf("Open = %+v", open)
	}
}

// TestPlan_Pure checks that Plan changes nothing it is given: the same
// snapshot planned twice gives the same answer.
func TestPlan_Pure(t *testing.T) {
	h := newHarness(t, time.Hour)
	h.run(step{findings: []string{"b80", "a", "f100", "c30"}})
	snap := h.mem.snapshot()
	keep, err := json.Marshal(snap)
	if err != nil {
		t.Fatal(err)
	}
	c := catalogue()
	fs := []cost.Finding{c["b100"], c["acrit"]}
	o := alert.Options{Notifiers: notifiers, RepeatInterval: time.Hour}
	fresh := alert.Freshness{Usage: map[string]bool{acct: true, "": true, "*": true}, Cards: map[string]bool{acct: true}}
	ch1, ds1 := alert.Plan(snap, fs, fresh, t0.Add(2*time.Hour), o)
	ch2, ds2 := alert.Plan(snap, fs, fresh, t0.Add(2*time.Hour), o)
	after, _ := json.Marshal(snap)
	if string(after) != string(keep) {
		t.Errorf("Plan modified its snapshot:\nbefore %s\nafter  %s", keep, after)
	}
	j1, _ := json.Marshal([]any{ch1, ds1})
	j2, _ := json.Marshal([]any{ch2, ds2})
	if string(j1) != string(j2) {
		t.Errorf("two plans of one snapshot differ:\n%s\n%s", j1, j2)
	}
}

// TestPlan_Why checks that every resolution says why.
func TestPlan_Why(t *testing.T) {
	c := catalogue()
	cleared := c["a"]
	cleared.Clear = "revised data for Nov 9 no longer shows it"
	tests := []struct {
		name  string
		first string
		next  step
		clear *cost.Finding
		want  string
	}{
		{"BudgetPeriodEnded", "b80", step{at: 21 * day}, nil, "period ended: closed at $801.00, 80% of budget"},
		{"ForecastBackUnder", "f100", step{at: time.Hour}, nil, "forecast back under $1,000.00 (threshold forecast>=100%)"},
		{"ForecastPeriodEnded", "f100", step{at: 21 * day}, nil, "period ended: closed at $900.00, 90% of budget"},
		{"CardReplaced", "c30", step{at: 22 * day, findings: []string{"c30new"}}, nil,
			"card replaced: the billing profile no longer shows the card expiring 12/2026"},
		{"AnomalyGone", "a", step{at: time.Hour}, nil, "fresh data no longer shows it"},
		{"AnomalyCleared", "a", step{at: time.Hour}, &cleared, "revised data for Nov 9 no longer shows it"},
		{"StaleOver", "stale", step{at: time.Hour}, nil, "billing data is fresh again"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t, 0)
			h.run(step{at: tt.next.at - time.Minute*30, findings: []string{tt.first}, stale: tt.first == "stale"})
			if tt.clear != nil {
				// A Clear finding has the alert's identity and says why.
				ch, ds := alert.Plan(h.mem.snapshot(), []cost.Finding{*tt.clear},
					alert.Freshness{Usage: map[string]bool{acct: true}}, t0.Add(tt.next.at), alert.Options{Notifiers: notifiers})
				h.mem.apply(ch)
				h.last = ds
			} else {
				h.run(tt.next)
			}
			var whys []string
			for _, d := range h.last {
				if d.Delivery != nil && d.Delivery.Alert.Status == cost.StatusResolved && h.labels[d.Fingerprint] == tt.first {
					whys = append(whys, d.Delivery.Alert.Why)
				}
			}
			if len(whys) != 2 || whys[0] != tt.want || whys[1] != tt.want {
				t.Errorf("resolved whys = %q, want two of %q", whys, tt.want)
			}
			if st := h.mem.Alerts[alert.Fingerprint(c[tt.first])]; st.Status != alert.StatusResolved || st.Why != tt.want {
				t.Errorf("stored %v %q, want resolved %q", st.Status, st.Why, tt.want)
			}
		})
	}
}

// TestPlan_Rename checks that a renamed account keeps its alerts: same
// fingerprint, nothing sent, and the stored finding carries the new name.
func TestPlan_Rename(t *testing.T) {
	c := catalogue()
	if alert.Fingerprint(c["b80"]) != alert.Fingerprint(c["b80renamed"]) || alert.Group(c["a"]) != alert.Group(c["arenamed"]) {
		t.Fatal("the account name takes part in the identity")
	}
	h := newHarness(t, time.Hour)
	h.run(step{findings: []string{"b80"}})
	got := h.run(step{at: 30 * time.Minute, findings: []string{"b80renamed"}})
	if want := []string{"hook b80 (nothing)", "slack b80 (nothing)"}; !slices.Equal(got, want) {
		t.Errorf("after rename: %v, want %v", got, want)
	}
	st := h.mem.Alerts[alert.Fingerprint(c["b80"])]
	if st.Episode != 1 || st.Finding.Scope.AccountName != "prod-renamed" || st.Finding.Scope.Account != acct {
		t.Errorf("stored alert %+v", st)
	}
}

// TestPlan_LastSentAt checks that each reminder carries the send it
// follows, so notifiers can tell reminders apart, and that a failed reminder
// offered again carries the same one.
func TestPlan_LastSentAt(t *testing.T) {
	h := newHarness(t, time.Hour)
	steps := []struct {
		step step
		want map[string]time.Time // notifier -> LastSentAt
	}{
		{step{findings: []string{"a"}}, map[string]time.Time{"slack": {}, "hook": {}}},
		{step{at: time.Hour, findings: []string{"a"}, fail: []string{"hook"}}, map[string]time.Time{"slack": t0, "hook": t0}},
		{step{at: 2 * time.Hour, findings: []string{"a"}}, map[string]time.Time{"slack": t0.Add(time.Hour), "hook": t0}},
		{step{at: 3 * time.Hour, findings: []string{"a"}}, map[string]time.Time{"slack": t0.Add(2 * time.Hour), "hook": t0.Add(2 * time.Hour)}},
	}
	for i, s := range steps {
		h.run(s.step)
		got := map[string]time.Time{}
		for _, d := range h.sent {
			got[d.Notifier] = d.Alert.LastSentAt
		}
		if len(got) != len(s.want) {
			t.Fatalf("cycle %d: deliveries %v, want %v", i+1, got, s.want)
		}
		for n, w := range s.want {
			if !got[n].Equal(w) {
				t.Errorf("cycle %d: %s LastSentAt = %v, want %v", i+1, n, got[n], w)
			}
		}
	}
}

func TestPlan_UnknownNotifier(t *testing.T) {
	f := catalogue()["b80"]
	f.Notifiers = []string{"slack", "pager"}
	ch, ds := alert.Plan(alert.Snapshot{}, []cost.Finding{f}, alert.Freshness{}, t0, alert.Options{Notifiers: notifiers})
	if len(alert.Deliveries(ds)) != 1 {
		t.Errorf("deliveries = %+v, want slack only", ds)
	}
	if want := []alert.RuleNotifier{{Rule: "monthly", Notifier: "pager"}}; !slices.Equal(ch.UnknownNotifiers, want) {
		t.Errorf("UnknownNotifiers = %v, want %v", ch.UnknownNotifiers, want)
	}
}

func TestSendOf(t *testing.T) {
	tests := []struct {
		name    string
		d       alert.Delivery
		ref     *cost.MessageRef
		want    alert.Send
		wantErr string
	}{
		{"OK", alert.Delivery{Notifier: "slack", Alert: cost.Alert{Fingerprint: "00000000000000aa", Status: cost.StatusFiring}},
			&cost.MessageRef{Channel: "C1", TS: "1.2"},
			alert.Send{Fingerprint: "00000000000000aa", Notifier: "slack", Status: cost.StatusFiring, FirstSentAt: t0, SentAt: t0,
				Channel: "C1", TS: "1.2"}, ""},
		{"ErrNoStatus", alert.Delivery{Notifier: "slack", Alert: cost.Alert{Fingerprint: "0000000000000000"}}, nil, alert.Send{}, "invalid status"},
		{"ErrNoNotifier", alert.Delivery{Alert: cost.Alert{Fingerprint: "0000000000000000", Status: cost.StatusFiring}}, nil, alert.Send{}, "without"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := alert.SendOf(tt.d, tt.ref, t0.In(time.FixedZone("X", 3600)))
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Errorf("SendOf = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Errorf("SendOf = %+v, %v; want %+v", got, err, tt.want)
			}
		})
	}
}

func TestCheckAction(t *testing.T) {
	h := newHarness(t, 0)
	h.run(step{findings: []string{"a", "b80"}})
	c := catalogue()
	fa, fb := alert.Fingerprint(c["a"]), alert.Fingerprint(c["b80"])
	tests := []struct {
		name    string
		action  alert.Action
		wantErr string
	}{
		{"OKAck", alert.Action{Fingerprint: fb, Kind: alert.ActionAck, User: "U1", At: t0}, ""},
		{"OKSnooze", alert.Action{Fingerprint: fb, Kind: alert.ActionSnooze, At: t0, Until: t0.Add(day)}, ""},
		{"OKExpected", alert.Action{Fingerprint: fa, Kind: alert.ActionExpected, User: "U1", At: t0}, ""},
		{"ErrNotFound", alert.Action{Fingerprint: "ffffffffffffffff", Kind: alert.ActionAck, At: t0}, "not found"},
		{"ErrNoTime", alert.Action{Fingerprint: fb, Kind: alert.ActionAck}, "no time"},
		{"ErrSnoozeWithoutUntil", alert.Action{Fingerprint: fb, Kind: alert.ActionSnooze, At: t0}, "is not after"},
		{"ErrExpectedNotAnomaly", alert.Action{Fingerprint: fb, Kind: alert.ActionExpected, At: t0}, "not an anomaly"},
		{"ErrUnknownKind", alert.Action{Fingerprint: fb, Kind: 42, At: t0}, "unknown action"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := h.act(tt.action)
			if tt.wantErr == "" && err != nil || tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)) {
				t.Errorf("act = %v, want %q", err, tt.wantErr)
			}
		})
	}
	h.mem.roundTrip(t)
	got := alert.Expected(h.mem.Actions)
	// The series key is the account id's, as the rules look it up.
	want := acct + "/R2 Storage@example.com"
	if len(got) != 1 || !got[want].Equal(t0) {
		t.Errorf("Expected = %v; want %s at %v", got, want, t0)
	}
}

func TestOpen(t *testing.T) {
	h := newHarness(t, 0)
	h.run(step{findings: []string{"b80", "a"}})
	h.run(step{at: time.Hour, findings: []string{"b80", "b100", "a"}})
	h.run(step{at: 2 * time.Hour, findings: []string{"b80", "b100"}}) // the anomaly resolves
	var got []string
	for _, a := range alert.Open(h.mem.snapshot().Alerts) {
		got = append(got, h.labels[a.Fingerprint]+" "+string(a.Reason))
		if a.Status != cost.StatusFiring || a.StartsAt.IsZero() {
			t.Errorf("open alert %+v", a)
		}
	}
	if want := []string{"b100 escalated"}; !slices.Equal(got, want) {
		t.Errorf("Open = %v, want %v (only the highest of a group)", got, want)
	}
}

func TestRekey(t *testing.T) {
	c := catalogue()
	byName := c["b80"]
	byName.Scope = cost.Scope{Account: "production"}
	old := alert.State{Fingerprint: alert.Fingerprint(byName), Group: alert.Group(byName), Finding: byName, Status: alert.StatusFiring}
	ids := map[string]string{"production": acct}
	got, ok := alert.Rekey(old, ids)
	if !ok || got.Fingerprint != alert.Fingerprint(c["b80"]) || got.Group != alert.Group(c["b80"]) ||
		got.Finding.Scope != (cost.Scope{Account: acct, AccountName: "production"}) {
		t.Errorf("Rekey = %+v, %v", got, ok)
	}
	if _, ok := alert.Rekey(got, ids); ok {
		t.Error("Rekey of an id-keyed alert changed it")
	}
}
