package alert_test

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"
	_ "time/tzdata" // the quiet hours' location

	"github.com/prometheus/alertmanager/pkg/labels"
	"github.com/prometheus/alertmanager/timeinterval"
	"gopkg.in/yaml.v3"

	"github.com/costbot/costbot/internal/alert"
)

// hstep is a step with something done to the harness before it runs.
type hstep struct {
	step
	before func(tb testing.TB, h *harness)
}

func play(t *testing.T, h *harness, steps []hstep) {
	t.Helper()
	for i, s := range steps {
		if s.before != nil {
			h.now = t0.Add(s.at)
			s.before(t, h)
		}
		if got := h.run(s.step); !slices.Equal(got, s.want) {
			t.Fatalf("step %d (+%v):\n got %q\nwant %q", i, s.at, got, s.want)
		}
	}
}

func mustMatchers(tb testing.TB, args ...string) labels.Matchers {
	tb.Helper()
	ms, err := alert.ParseMatchers(args...)
	if err != nil {
		tb.Fatal(err)
	}
	return ms
}

// snooze does what the Slack Snooze button does: a silence on the alert.
func snooze(label string, d time.Duration) func(testing.TB, *harness) {
	return func(tb testing.TB, h *harness) {
		tb.Helper()
		st, ok := h.mem.Alerts[alert.Fingerprint(catalogue()[label])]
		if !ok {
			tb.Fatalf("snooze: no alert %s", label)
		}
		s, err := alert.SnoozeSilence(st, "U1", h.now, h.now.Add(d))
		if err != nil {
			tb.Fatal(err)
		}
		s.ID = "snooze-" + label
		h.opts.Silences = append(h.opts.Silences, s)
	}
}

func silence(id string, start, end time.Duration, args ...string) func(testing.TB, *harness) {
	return func(tb testing.TB, h *harness) {
		tb.Helper()
		s, err := alert.CheckSilence(alert.Silence{ID: id, Matchers: mustMatchers(tb, args...),
			StartsAt: t0.Add(start), EndsAt: t0.Add(end), CreatedBy: "alice", Comment: "maintenance"}, h.now)
		if err != nil {
			tb.Fatal(err)
		}
		h.opts.Silences = append(h.opts.Silences, s)
	}
}

func expire(id string) func(testing.TB, *harness) {
	return func(tb testing.TB, h *harness) {
		for i, s := range h.opts.Silences {
			if s.ID == id {
				h.opts.Silences[i], _ = alert.Expire(s, h.now)
			}
		}
	}
}

func TestPlan_Silences(t *testing.T) {
	tests := []struct {
		name   string
		repeat time.Duration
		steps  []hstep
	}{
		{name: "SnoozeHoldsThenReleases", steps: []hstep{
			{step: step{findings: []string{"a"}, want: []string{"hook a first", "slack a first"}}},
			{step: step{at: time.Hour, findings: nil, want: []string{"hook a resolved", "slack a resolved ^a"}},
				before: snooze("a", 2*day)},
			// Back the next day, a new episode: held while the snooze lasts.
			{step: step{at: day, findings: []string{"a"}, want: []string{"hook a (silenced)", "slack a (silenced)"}}},
			{step: step{at: 2 * day, findings: []string{"a"}, want: []string{"hook a (silenced)", "slack a (silenced)"}}},
			// The snooze ended and the anomaly still fires: sent.
			{step: step{at: 2*day + time.Hour, findings: []string{"a"}, want: []string{"hook a retry", "slack a retry ^a"}}},
			{step: step{at: 2*day + 2*time.Hour, findings: []string{"a"}, want: []string{"hook a (nothing)", "slack a (nothing)"}}},
		}},
		{name: "SnoozeHoldsRepeatsNotEscalations", repeat: 4 * time.Hour, steps: []hstep{
			{step: step{findings: []string{"b80"}, want: []string{"hook b80 first", "slack b80 first"}}},
			{step: step{at: 4 * time.Hour, findings: []string{"b80"}, want: []string{"hook b80 (silenced)", "slack b80 (silenced)"}},
				before: snooze("b80", 6*time.Hour)},
			{step: step{at: 5 * time.Hour, findings: []string{"b80", "b100"}, want: []string{
				"hook b100 escalated", "hook b80 (superseded)", "slack b100 escalated ^b80", "slack b80 (superseded)"}}},
		}},
		{name: "SnoozeReleasedRepeat", repeat: 4 * time.Hour, steps: []hstep{
			{step: step{findings: []string{"b80"}, want: []string{"hook b80 first", "slack b80 first"}}},
			{step: step{at: 4 * time.Hour, findings: []string{"b80"}, want: []string{"hook b80 (silenced)", "slack b80 (silenced)"}},
				before: snooze("b80", 6*time.Hour)},
			{step: step{at: 10 * time.Hour, findings: []string{"b80"}, want: []string{"hook b80 repeat", "slack b80 repeat ^b80"}}},
		}},
		{name: "MatchersWithRegexThenExpired", steps: []hstep{
			{step: step{findings: []string{"a", "a2", "b80"}, want: []string{
				"hook a (silenced)", "hook a2 first", "hook b80 first", "slack a (silenced)", "slack a2 first", "slack b80 first"}},
				before: silence("s1", 0, 2*day, `service=~"R2.*", account="production"`)},
			{step: step{at: time.Hour, findings: []string{"a", "a2", "b80"}, want: []string{
				"hook a (silenced)", "hook a2 (nothing)", "hook b80 (nothing)", "slack a (silenced)", "slack a2 (nothing)", "slack b80 (nothing)"}}},
			{step: step{at: 2 * time.Hour, findings: []string{"a", "a2", "b80"}, want: []string{
				"hook a retry", "hook a2 (nothing)", "hook b80 (nothing)", "slack a retry", "slack a2 (nothing)", "slack b80 (nothing)"}},
				before: expire("s1")},
		}},
		{name: "PendingSilenceHoldsNothingYet", steps: []hstep{
			{step: step{findings: []string{"a"}, want: []string{"hook a first", "slack a first"}},
				before: silence("later", day, 2*day, `kind="anomaly"`)},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			play(t, newHarness(t, tt.repeat), tt.steps)
		})
	}
}

func TestPlan_SilencedBy(t *testing.T) {
	h := newHarness(t, 0)
	silence("s1", 0, day, `kind="anomaly"`)(t, h)
	h.run(step{findings: []string{"a"}})
	for _, d := range h.last {
		if d.Reason != alert.ReasonSilenced || !slices.Equal(d.SilencedBy, []string{"s1"}) {
			t.Errorf("decision %+v, want silenced by s1", d)
		}
	}
}

func TestPlan_Inhibition(t *testing.T) {
	budgetOverForecast := alert.InhibitRule{
		SourceMatchers: mustMatchers(t, `kind="budget"`, `threshold="actual>=100%"`),
		TargetMatchers: mustMatchers(t, `kind="forecast"`),
		Equal:          []string{"rule", "account_id"},
	}
	tests := []struct {
		name  string
		rules []alert.InhibitRule
		steps []hstep
	}{
		{name: "StaleInhibitsItsAccountsAnomalies", rules: alert.DefaultInhibitRules(), steps: []hstep{
			{step: step{findings: []string{"stale", "a", "a2"}, want: []string{
				"hook a (inhibited)", "hook a2 first", "hook stale first", "slack a (inhibited)", "slack a2 first", "slack stale first"}}},
			// Fresh again: the stale alert resolves and the anomaly goes out.
			{step: step{at: time.Hour, findings: []string{"a", "a2"}, want: []string{
				"hook a retry", "hook a2 (nothing)", "hook stale resolved", "slack a retry", "slack a2 (nothing)", "slack stale resolved ^stale"}}},
		}},
		{name: "NoRulesNoInhibition", steps: []hstep{
			{step: step{findings: []string{"stale", "a"}, want: []string{
				"hook a first", "hook stale first", "slack a first", "slack stale first"}}},
		}},
		{name: "LowerThresholdInhibitedByConfiguredRule", rules: []alert.InhibitRule{budgetOverForecast}, steps: []hstep{
			{step: step{findings: []string{"b100", "f100"}, want: []string{
				"hook b100 first", "hook f100 (inhibited)", "slack b100 first", "slack f100 (inhibited)"}}},
		}},
		{name: "BuiltInSupersedingStillHolds", rules: alert.DefaultInhibitRules(), steps: []hstep{
			{step: step{findings: []string{"b80", "b100"}, want: []string{
				"hook b100 first", "hook b80 (superseded)", "slack b100 first", "slack b80 (superseded)"}}},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t, 0)
			h.opts.InhibitRules = tt.rules
			play(t, h, tt.steps)
		})
	}
}

func intervals(tb testing.TB, src string) map[string][]timeinterval.TimeInterval {
	tb.Helper()
	var out map[string][]timeinterval.TimeInterval
	if err := yaml.Unmarshal([]byte(src), &out); err != nil {
		tb.Fatal(err)
	}
	return out
}

// quietHours is 00:00-10:00 in Berlin: t0 (08:00 UTC) is 09:00 there.
const quietHours = `
quiet-hours:
  - times: [{start_time: "00:00", end_time: "10:00"}]
    location: Europe/Berlin
`

func TestPlan_Routes(t *testing.T) {
	critical := mustMatchers(t, `severity="critical"`)
	tests := []struct {
		name   string
		repeat time.Duration
		routes []alert.Route
		steps  []hstep
	}{
		{name: "QuietHoursDelayWarningNotCritical", routes: []alert.Route{
			{Matchers: critical, Notifiers: []string{"slack", "hook"}},
			{Notifiers: []string{"slack", "hook"}, MuteTimeIntervals: []string{"quiet-hours"}},
		}, steps: []hstep{
			{step: step{findings: []string{"a", "b100"}, want: []string{
				"hook a (muted)", "hook b100 first", "slack a (muted)", "slack b100 first"}}},
			{step: step{at: 59 * time.Minute, findings: []string{"a", "b100"}, want: []string{
				"hook a (muted)", "hook b100 (nothing)", "slack a (muted)", "slack b100 (nothing)"}}},
			{step: step{at: time.Hour, findings: []string{"a", "b100"}, want: []string{
				"hook a retry", "hook b100 (nothing)", "slack a retry", "slack b100 (nothing)"}}},
		}},
		{name: "ActiveWindow", routes: []alert.Route{
			{Notifiers: []string{"slack"}, ActiveTimeIntervals: []string{"quiet-hours"}},
		}, steps: []hstep{
			{step: step{findings: []string{"a"}, want: []string{"slack a first"}}},
			// Outside the window the resolved message waits too, and goes
			// out when the window opens (00:00 in Berlin).
			{step: step{at: 2 * time.Hour, findings: []string{"acrit"}, want: []string{"slack a (muted)", "slack acrit (muted)"}}},
			{step: step{at: 15 * time.Hour, findings: []string{"acrit"}, want: []string{"slack a resolved ^a", "slack acrit retry ^a"}}},
		}},
		// Fired and sent at 10:00 in Berlin, resolved at 01:00 in quiet
		// hours: the resolved message waits until 10:00, across a restart.
		{name: "QuietHoursHoldResolved", routes: []alert.Route{
			{Notifiers: []string{"slack", "hook"}, MuteTimeIntervals: []string{"quiet-hours"}},
		}, steps: []hstep{
			{step: step{at: time.Hour, findings: []string{"a"}, want: []string{"hook a first", "slack a first"}}},
			{step: step{at: 16 * time.Hour, findings: nil, want: []string{"hook a (muted)", "slack a (muted)"}}},
			{step: step{at: 24 * time.Hour, restart: true, findings: nil, want: []string{"hook a (muted)", "slack a (muted)"}}},
			{step: step{at: 25 * time.Hour, findings: nil, want: []string{"hook a resolved", "slack a resolved ^a"}}},
			{step: step{at: 26 * time.Hour, findings: nil, want: nil}},
		}},
		// Only slack's route has quiet hours: the webhook gets the resolved
		// message at once, slack after the window.
		{name: "QuietHoursHoldResolvedPerNotifier", routes: []alert.Route{
			{Notifiers: []string{"hook"}, Continue: true},
			{Notifiers: []string{"slack"}, MuteTimeIntervals: []string{"quiet-hours"}},
		}, steps: []hstep{
			{step: step{at: time.Hour, findings: []string{"a"}, want: []string{"hook a first", "slack a first"}}},
			{step: step{at: 16 * time.Hour, findings: nil, want: []string{"hook a resolved", "slack a (muted)"}}},
			{step: step{at: 25 * time.Hour, findings: nil, want: []string{"slack a resolved ^a"}}},
		}},
		// The firing message was held by quiet hours and the alert resolved
		// before they ended: no notifier got it, so none gets a resolved
		// message (as in Alertmanager).
		{name: "QuietHoursHeldFiringResolvedSendsNothing", routes: []alert.Route{
			{Notifiers: []string{"slack", "hook"}, MuteTimeIntervals: []string{"quiet-hours"}},
		}, steps: []hstep{
			{step: step{findings: []string{"a"}, want: []string{"hook a (muted)", "slack a (muted)"}}},
			{step: step{at: 30 * time.Minute, findings: nil, want: nil}},
			{step: step{at: 2 * time.Hour, findings: nil, want: nil}},
		}},
		{name: "CriticalToPagerWithRepeatInterval", routes: []alert.Route{
			{Matchers: critical, Notifiers: []string{"hook"}, RepeatInterval: time.Hour},
		}, steps: []hstep{
			{step: step{findings: []string{"a", "b100"}, want: []string{"hook a first", "hook b100 first", "slack a first"}}},
			{step: step{at: time.Hour, findings: []string{"a", "b100"}, want: []string{"hook a (nothing)", "hook b100 repeat", "slack a (nothing)"}}},
		}},
		{name: "ContinueAddsNotifiers", repeat: 3 * time.Hour, routes: []alert.Route{
			{Matchers: critical, Notifiers: []string{"hook"}, RepeatInterval: time.Hour, Continue: true},
			{Notifiers: []string{"slack"}},
		}, steps: []hstep{
			{step: step{findings: []string{"b100"}, want: []string{"hook b100 first", "slack b100 first"}}},
			{step: step{at: time.Hour, findings: []string{"b100"}, want: []string{"hook b100 repeat", "slack b100 (nothing)"}}},
			{step: step{at: 3 * time.Hour, findings: []string{"b100"}, want: []string{"hook b100 repeat", "slack b100 repeat ^b100"}}},
		}},
		{name: "RuleNotifyListWins", routes: []alert.Route{
			{Notifiers: []string{"slack"}},
		}, steps: []hstep{
			{step: step{findings: []string{"hookonly"}, want: []string{"hook hookonly first"}}},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t, tt.repeat)
			h.opts.Routes, h.opts.TimeIntervals = tt.routes, intervals(t, quietHours)
			play(t, h, tt.steps)
		})
	}
}

func TestLabels(t *testing.T) {
	got := alert.Labels(catalogue()["a"])
	want := map[string]string{"alertname": "CostbotAnomaly", "kind": "anomaly", "rule": "spikes", "severity": "warning",
		"account": "production", "account_id": acct, "service": "R2 Storage", "family": "R2", "zone": "example.com",
		"threshold": "score>=0.9", "period_start": "2026-11-09T00:00:00Z"}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("label %s = %q, want %q", k, got[k], v)
		}
	}
	if len(got) != len(want) {
		t.Errorf("labels %v, want %v", got, want)
	}
}

func TestCheckSilence(t *testing.T) {
	ok := alert.Silence{Matchers: mustMatchers(t, `account="production"`), EndsAt: t0.Add(time.Hour), CreatedBy: "alice", Comment: "x"}
	tests := []struct {
		name string
		edit func(*alert.Silence)
		err  string
	}{
		{name: "OK", edit: func(*alert.Silence) {}},
		{name: "ErrNoMatchers", edit: func(s *alert.Silence) { s.Matchers = nil }, err: "no matchers"},
		{name: "ErrMatchesEverything", edit: func(s *alert.Silence) { s.Matchers = mustMatchers(t, `zone=~".*"`) }, err: "match every alert"},
		{name: "ErrEndsInPast", edit: func(s *alert.Silence) { s.StartsAt, s.EndsAt = t0.Add(-2*time.Hour), t0.Add(-time.Hour) }, err: "in the past"},
		{name: "ErrEndsBeforeStart", edit: func(s *alert.Silence) { s.StartsAt = t0.Add(2 * time.Hour) }, err: "not after it starts"},
		{name: "ErrNoAuthor", edit: func(s *alert.Silence) { s.CreatedBy = " " }, err: "no author"},
		{name: "ErrNoComment", edit: func(s *alert.Silence) { s.Comment = "" }, err: "no comment"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := ok
			tt.edit(&s)
			got, err := alert.CheckSilence(s, t0)
			switch {
			case tt.err == "" && err != nil:
				t.Fatal(err)
			case tt.err != "" && (err == nil || !strings.Contains(err.Error(), tt.err)):
				t.Fatalf("err %v, want %q", err, tt.err)
			case tt.err == "" && !got.StartsAt.Equal(t0):
				t.Errorf("starts %v, want now", got.StartsAt)
			}
		})
	}
}

func TestExpire(t *testing.T) {
	s := alert.Silence{StartsAt: t0.Add(time.Hour), EndsAt: t0.Add(2 * time.Hour)}
	got, ok := alert.Expire(s, t0)
	if !ok || got.State(t0) != alert.SilenceExpired || !got.StartsAt.Equal(t0) {
		t.Errorf("expire pending: %+v %v", got, ok)
	}
	if _, ok := alert.Expire(got, t0.Add(time.Minute)); ok {
		t.Error("expired twice")
	}
}

func TestTarget_NextUnmuted(t *testing.T) {
	iv := intervals(t, quietHours)
	tg := alert.Target{Notifier: "slack", Mute: []string{"quiet-hours"}}
	got, ok := tg.NextUnmuted(iv, t0.Add(10*time.Minute), 8*day)
	if want := t0.Add(time.Hour); !ok || !got.Equal(want) {
		t.Errorf("next unmuted %v %v, want %v", got, ok, want)
	}
}

func TestSnoozeSilence(t *testing.T) {
	st := alert.State{Fingerprint: "fp", Finding: catalogue()["b80"]}
	s, err := alert.SnoozeSilence(st, "U1", t0, t0.Add(24*time.Hour+30*time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	if want := `{alertname="CostbotBudget",rule="monthly",account_id="` + acct + `",threshold="actual>=80%",period_start="2026-11-01T00:00:00Z"}`; s.Matchers.String() != want {
		t.Errorf("matchers %s, want %s", s.Matchers, want)
	}
	if s.Comment != "snoozed from Slack for 24h30m: spend crossed actual>=80%" || s.CreatedBy != "U1" {
		t.Errorf("comment %q by %q", s.Comment, s.CreatedBy)
	}
	if b90 := alert.Labels(catalogue()["b90"]); s.Matches(b90) {
		t.Error("a snooze of 80% silences 90% too")
	}
}

// RoutesFor is what Plan routes through and costbot route test prints: a
// rule's notify list wins over routes (configuration order, unknown names
// reported), labels choose the route otherwise.
func TestRoutesFor(t *testing.T) {
	o := alert.Options{Notifiers: notifiers, RepeatInterval: day, Routes: []alert.Route{
		{Matchers: mustMatchers(t, `severity="critical"`), Notifiers: []string{"hook"}, RepeatInterval: time.Hour,
			MuteTimeIntervals: []string{"quiet-hours"}},
	}}
	critical := map[string]string{"severity": "critical"}
	tests := []struct {
		name    string
		labels  map[string]string
		notify  []string
		want    []alert.Target
		unknown []string
	}{
		{name: "Route", labels: critical, want: []alert.Target{
			{Notifier: "hook", Route: 0, RepeatInterval: time.Hour, Mute: []string{"quiet-hours"}}}},
		{name: "NoRouteMatches", labels: map[string]string{"severity": "warning"}, want: []alert.Target{
			{Notifier: "slack", Route: -1, RepeatInterval: day}, {Notifier: "hook", Route: -1, RepeatInterval: day}}},
		{name: "RuleNotifyListWins", labels: critical, notify: []string{"pager", "hook", "slack"}, want: []alert.Target{
			{Notifier: "slack", Route: -1, RepeatInterval: day, ByRule: true},
			{Notifier: "hook", Route: -1, RepeatInterval: day, ByRule: true}}, unknown: []string{"pager"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, unknown := alert.RoutesFor(tt.labels, tt.notify, o)
			if fmt.Sprint(got) != fmt.Sprint(tt.want) || !slices.Equal(unknown, tt.unknown) {
				t.Errorf("RoutesFor = %+v, %q; want %+v, %q", got, unknown, tt.want, tt.unknown)
			}
		})
	}
}
