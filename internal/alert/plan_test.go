package alert_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/costbot/costbot/internal/alert"
	"github.com/costbot/costbot/internal/cost"
	"github.com/costbot/costbot/internal/store"
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
		return cost.Finding{Kind: cost.KindBudget, Rule: "monthly", Scope: cost.Scope{Account: acct},
			Period: month(2026, 11), Threshold: th, Severity: sev, Currency: "USD", Budget: 1000, Limit: limit,
			Actual: limit + 1, Title: "spend crossed " + th}
	}
	anomaly := func(th string, sev cost.Severity) cost.Finding {
		return cost.Finding{Kind: cost.KindAnomaly, Rule: "spikes",
			Scope:  cost.Scope{Account: acct, Family: "R2", Service: "R2 Storage", Zone: "example.com"},
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
		"f100":  {Kind: cost.KindForecast, Rule: "monthly", Scope: cost.Scope{Account: acct}, Period: month(2026, 11), Threshold: "forecast>=100%", Severity: cost.SeverityWarning, Limit: 1000},
		"fall":  {Kind: cost.KindForecast, Rule: "org", Period: month(2026, 11), Threshold: "forecast>=100%", Severity: cost.SeverityWarning, Limit: 5000},
		"a":     anomaly("score>=0.9", cost.SeverityWarning),
		"acrit": anomaly("score>=0.99", cost.SeverityCritical),
		"c30":   card("card<=30d", cost.SeverityInfo, 30),
		"c7":    card("card<=7d", cost.SeverityWarning, 7),
		"c3":    card("card<=3d", cost.SeverityCritical, 3),
		"cexp":  card("card-expired", cost.SeverityCritical, -1),
		"stale": {Kind: cost.KindStale, Rule: "stale", Scope: cost.Scope{Account: acct}, Threshold: "stale>=1d", Severity: cost.SeverityWarning},
	}
	b80dec := m["b80"]
	b80dec.Period = month(2026, 12)
	m["b80dec"] = b80dec
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
	at       time.Duration // since t0
	restart  bool          // reopen the database file first
	acts     []act         // user actions taken just before the cycle
	findings []string
	stale    bool     // acct's data is stale this cycle
	fail     []string // notifiers whose sends fail
	want     []string
}

type harness struct {
	tb     testing.TB
	path   string
	db     *store.DB
	tr     *alert.Tracker
	now    time.Time
	repeat time.Duration
	labels map[string]string // fingerprint -> label
	sent   []alert.Delivery  // the last run's deliveries, failed ones included
}

func newHarness(tb testing.TB, repeat time.Duration) *harness {
	tb.Helper()
	h := &harness{tb: tb, path: filepath.Join(tb.TempDir(), "costbot.db"), now: t0, repeat: repeat,
		labels: make(map[string]string)}
	for label, f := range catalogue() {
		h.labels[alert.Fingerprint(f)] = label
	}
	h.open()
	return h
}

func (h *harness) open() {
	h.tb.Helper()
	db, err := store.Open(context.Background(), h.path)
	if err != nil {
		h.tb.Fatalf("open store: %v", err)
	}
	h.tb.Cleanup(func() { db.Close() })
	h.db = db
	h.tr = alert.NewTracker(db, alert.Options{Now: func() time.Time { return h.now }, RepeatInterval: h.repeat})
}

func (h *harness) restart() {
	h.tb.Helper()
	if err := h.db.Close(); err != nil {
		h.tb.Fatal(err)
	}
	h.open()
}

// run plays one cycle: decide, then "send" every delivery and record the
// successful ones. Slack returns a message ref whose TS is the alert's label.
func (h *harness) run(s step) []string {
	h.tb.Helper()
	ctx := context.Background()
	h.now = t0.Add(s.at)
	if s.restart {
		h.restart()
	}
	for _, a := range s.acts {
		fp := alert.Fingerprint(catalogue()[a.label])
		var until time.Time
		if a.until > 0 {
			until = h.now.Add(a.until)
		}
		if err := h.tr.Act(ctx, alert.Action{Fingerprint: fp, Kind: a.kind, User: "U1", Until: until}); err != nil {
			h.tb.Fatalf("Act: %v", err)
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
	evaluated := map[string]bool{acct2: true}
	if !s.stale {
		evaluated[acct], evaluated[""], evaluated["*"] = true, true, true
	}
	ds, err := h.tr.Decide(ctx, fs, evaluated, notifiers)
	if err != nil {
		h.tb.Fatalf("Decide: %v", err)
	}
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
		if string(d.Reason) != a.Reason || d.Delivery.Notifier != d.Notifier || a.Fingerprint != d.Fingerprint {
			h.tb.Errorf("inconsistent decision %+v", d)
		}
		if (a.Reason == "resolved") != (a.Status == cost.StatusResolved) {
			h.tb.Errorf("%s: status %v with reason %s", line, a.Status, a.Reason)
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
		if err := h.tr.Record(ctx, *d.Delivery, ref); err != nil {
			h.tb.Fatalf("Record: %v", err)
		}
	}
	slices.Sort(got)
	return got
}

func TestTracker_Scenarios(t *testing.T) {
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
			// December: November's alert closes silently, December's fires afresh.
			{at: 21 * day, findings: []string{"b80dec"}, want: []string{"hook b80dec first", "slack b80dec first"}},
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
			{at: 21 * day, want: nil}, // closed silently at the period end
			{at: 21*day + time.Hour, findings: []string{"b80"}, want: []string{"hook b80 (nothing)", "slack b80 (nothing)"}},
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
			{at: 52 * day, findings: []string{"cexp"}, want: []string{"hook cexp escalated", "slack cexp escalated ^c30"}},
			{at: 53 * day, findings: []string{"cexp"}, want: []string{"hook cexp (nothing)", "slack cexp (nothing)"}},
			{at: 60 * day, want: nil}, // card updated: closes silently
			{at: 61 * day, findings: []string{"cexp"}, want: []string{"hook cexp (nothing)", "slack cexp (nothing)"}},
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

func TestTracker_Plan(t *testing.T) {
	h := newHarness(t, 0)
	ctx := context.Background()
	f := catalogue()["b80"]
	ds, err := h.tr.Plan(ctx, []cost.Finding{f, f}, nil, notifiers)
	if err != nil {
		t.Fatal(err)
	}
	if len(ds) != 2 {
		t.Fatalf("Plan = %d deliveries, want 2 (duplicates collapse)", len(ds))
	}
	a := ds[0].Alert
	if a.Fingerprint != alert.Fingerprint(f) || a.Status != cost.StatusFiring || !a.StartsAt.Equal(t0) ||
		!a.EndsAt.IsZero() || a.Reason != "first" || a.Thread != nil || a.Title != f.Title {
		t.Errorf("delivery = %+v", a)
	}
	// Plan records no sends: the same plan again offers the same alert.
	ds, _ = h.tr.Plan(ctx, []cost.Finding{f}, nil, notifiers)
	if len(ds) != 2 || ds[0].Alert.Reason != "retry" {
		t.Errorf("second Plan = %+v, want two retries", ds)
	}
	open, err := h.tr.Open(ctx)
	if err != nil || len(open) != 1 || open[0].Fingerprint != a.Fingerprint || open[0].Reason != "first" {
		t.Errorf("Open = %+v, %v", open, err)
	}
}

// TestTracker_Decide_LastSentAt checks that each reminder carries the send
// it follows, so notifiers can tell reminders apart, and that a failed
// reminder offered again carries the same one.
func TestTracker_Decide_LastSentAt(t *testing.T) {
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

func TestTracker_Record(t *testing.T) {
	h := newHarness(t, 0)
	ctx := context.Background()
	t.Run("ErrUnknownAlert", func(t *testing.T) {
		d := alert.Delivery{Notifier: "slack", Alert: cost.Alert{Fingerprint: "0000000000000000", Status: cost.StatusFiring}}
		if err := h.tr.Record(ctx, d, nil); !errors.Is(err, alert.ErrNotFound) {
			t.Errorf("Record = %v, want ErrNotFound", err)
		}
	})
	t.Run("ErrNoStatus", func(t *testing.T) {
		d := alert.Delivery{Notifier: "slack", Alert: cost.Alert{Fingerprint: "0000000000000000"}}
		if err := h.tr.Record(ctx, d, nil); err == nil {
			t.Error("Record without status succeeded")
		}
	})
}

func TestTracker_Act(t *testing.T) {
	h := newHarness(t, 0)
	ctx := context.Background()
	c := catalogue()
	if _, err := h.tr.Plan(ctx, []cost.Finding{c["a"], c["b80"]}, nil, notifiers); err != nil {
		t.Fatal(err)
	}
	fa, fb := alert.Fingerprint(c["a"]), alert.Fingerprint(c["b80"])
	tests := []struct {
		name    string
		action  alert.Action
		wantErr string
	}{
		{"OKAck", alert.Action{Fingerprint: fb, Kind: alert.ActionAck, User: "U1"}, ""},
		{"OKSnooze", alert.Action{Fingerprint: fb, Kind: alert.ActionSnooze, Until: t0.Add(day)}, ""},
		{"OKExpected", alert.Action{Fingerprint: fa, Kind: alert.ActionExpected, User: "U1"}, ""},
		{"ErrNotFound", alert.Action{Fingerprint: "ffffffffffffffff", Kind: alert.ActionAck}, "not found"},
		{"ErrSnoozeWithoutUntil", alert.Action{Fingerprint: fb, Kind: alert.ActionSnooze}, "is not after"},
		{"ErrExpectedNotAnomaly", alert.Action{Fingerprint: fb, Kind: alert.ActionExpected}, "not an anomaly"},
		{"ErrUnknownKind", alert.Action{Fingerprint: fb, Kind: 42}, "unknown action"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := h.tr.Act(ctx, tt.action)
			if tt.wantErr == "" && err != nil || tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)) {
				t.Errorf("Act = %v, want %q", err, tt.wantErr)
			}
		})
	}
	h.restart()
	got, err := h.tr.Expected(ctx)
	want := "0123456789abcdef0123456789abcdef/R2 Storage@example.com"
	if err != nil || len(got) != 1 || !got[want].Equal(t0) {
		t.Errorf("Expected = %v, %v; want %s at %v", got, err, want, t0)
	}
}

func TestTracker_Open(t *testing.T) {
	h := newHarness(t, 0)
	h.run(step{findings: []string{"b80", "a"}})
	h.run(step{at: time.Hour, findings: []string{"b80", "b100", "a"}})
	h.run(step{at: 2 * time.Hour, findings: []string{"b80", "b100"}}) // the anomaly resolves
	open, err := h.tr.Open(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, a := range open {
		got = append(got, h.labels[a.Fingerprint]+" "+a.Reason)
		if a.Status != cost.StatusFiring || a.StartsAt.IsZero() {
			t.Errorf("open alert %+v", a)
		}
	}
	if want := []string{"b100 escalated"}; !slices.Equal(got, want) {
		t.Errorf("Open = %v, want %v (only the highest of a group)", got, want)
	}

	// Replaying an earlier instant: b100 started after it, so b80 is the open one.
	h.now = t0.Add(30 * time.Minute)
	open, err = h.tr.Open(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	got = got[:0]
	for _, a := range open {
		got = append(got, h.labels[a.Fingerprint]+" "+a.Reason)
	}
	if want := []string{"b80 first"}; !slices.Equal(got, want) {
		t.Errorf("Open at an earlier now = %v, want %v", got, want)
	}
}

// TestTracker_EarlierCycle replays cycles at an instant earlier than state
// already stored (costbot once --now with an old date against a live state
// file): what the store recorded after the cycle's now is left as it is.
func TestTracker_EarlierCycle(t *testing.T) {
	tests := []struct {
		name   string
		repeat time.Duration
		steps  []step
		same   []bool // per step: the stored alerts and sends must not change
	}{
		{name: "ResolvableNotResolved", steps: []step{
			{at: 10 * day, findings: []string{"f100"}, want: []string{"hook f100 first", "slack f100 first"}},
			{at: 5 * day, want: []string{"hook f100 (nothing)", "slack f100 (nothing)"}},
			{at: 11 * day, want: []string{"hook f100 resolved", "slack f100 resolved ^f100"}},
		}, same: []bool{false, true, false}},
		{name: "FoundAgainNotRefreshedOrRepeated", repeat: time.Hour, steps: []step{
			{at: 10 * day, findings: []string{"f100", "a"}, want: []string{
				"hook a first", "hook f100 first", "slack a first", "slack f100 first"}},
			{at: 5 * day, findings: []string{"f100", "a"}, want: []string{
				"hook a (nothing)", "hook f100 (nothing)", "slack a (nothing)", "slack f100 (nothing)"}},
			{at: 11 * day, findings: []string{"f100", "a"}, want: []string{
				"hook a repeat", "hook f100 repeat", "slack a repeat ^a", "slack f100 repeat ^f100"}},
		}, same: []bool{false, true, false}},
		{name: "ResolvedLaterNotRefired", steps: []step{
			{at: day, findings: []string{"f100"}, want: []string{"hook f100 first", "slack f100 first"}},
			{at: 10 * day, want: []string{"hook f100 resolved", "slack f100 resolved ^f100"}},
			{at: 5 * day, findings: []string{"f100"}, want: []string{"hook f100 (nothing)", "slack f100 (nothing)"}},
			{at: 11 * day, findings: []string{"f100"}, want: []string{"hook f100 first", "slack f100 first ^f100"}},
		}, same: []bool{false, false, true, false}},
		// A later alert still counts in its group: a lower threshold found
		// at the earlier instant is superseded by it, not sent.
		{name: "LaterHigherThresholdSupersedes", steps: []step{
			{at: 10 * day, findings: []string{"b100"}, want: []string{"hook b100 first", "slack b100 first"}},
			{at: 5 * day, findings: []string{"b80"}, want: []string{
				"hook b100 (nothing)", "hook b80 (superseded)", "slack b100 (nothing)", "slack b80 (superseded)"}},
			{at: 11 * day, findings: []string{"b80", "b100"}, want: []string{
				"hook b100 (nothing)", "hook b80 (superseded)", "slack b100 (nothing)", "slack b80 (superseded)"}},
		}, same: []bool{false, false, false}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			h := newHarness(t, tt.repeat)
			for i, s := range tt.steps {
				before := h.dump()
				got := h.run(s)
				want := slices.Clone(s.want)
				slices.Sort(want)
				if !slices.Equal(got, want) {
					t.Fatalf("cycle %d at +%v:\ngot  %s\nwant %s", i+1, s.at, strings.Join(got, "; "), strings.Join(want, "; "))
				}
				if after := h.dump(); tt.same[i] && after != before {
					t.Fatalf("cycle %d at +%v changed the store:\nbefore %s\nafter  %s", i+1, s.at, before, after)
				}
			}
		})
	}
}

// dump renders every stored alert of the catalogue and its sends.
func (h *harness) dump() string {
	h.tb.Helper()
	ctx := context.Background()
	var fps []string
	for fp := range h.labels {
		fps = append(fps, fp)
	}
	slices.Sort(fps)
	var b strings.Builder
	for _, fp := range fps {
		st, err := h.db.Alert(ctx, fp)
		if errors.Is(err, alert.ErrNotFound) {
			continue
		} else if err != nil {
			h.tb.Fatalf("Alert: %v", err)
		}
		j, err := json.Marshal(st)
		if err != nil {
			h.tb.Fatal(err)
		}
		fmt.Fprintf(&b, "%s %s\n", h.labels[fp], j)
	}
	sends, err := h.db.Sends(ctx, fps)
	if err != nil {
		h.tb.Fatalf("Sends: %v", err)
	}
	for _, s := range sends {
		fmt.Fprintf(&b, "send %s %+v\n", h.labels[s.Fingerprint], s)
	}
	return b.String()
}
