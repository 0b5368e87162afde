package app

import (
	"context"
	"maps"
	"slices"
	"testing"
	"time"

	"github.com/costbot/costbot/internal/alert"
	"github.com/costbot/costbot/internal/config"
	"github.com/costbot/costbot/internal/cost"
	"github.com/costbot/costbot/internal/store"
)

// Config validates label names against config.LabelNames; they must be the
// labels alert.Labels gives (config cannot import alert).
func TestLabelNames(t *testing.T) {
	f := cost.Finding{Kind: cost.KindAnomaly, Rule: "r", Severity: cost.SeverityWarning, Threshold: "t",
		Scope:  cost.Scope{Account: "id", AccountName: "n", Service: "s", Family: "f", Zone: "z"},
		Period: cost.Period{Start: time.Unix(0, 0), End: time.Unix(86400, 0)}}
	got := slices.Sorted(maps.Keys(alert.Labels(f)))
	want := slices.Sorted(slices.Values(config.LabelNames))
	if !slices.Equal(got, want) {
		t.Errorf("alert.Labels keys %v, config.LabelNames %v", got, want)
	}
}

// A silence stored in the state holds the anomaly in a real cycle (Slack
// and the webhook get everything else); once it ended, the next cycle sends
// the still-firing anomaly.
func TestApp_Cycle_Silence(t *testing.T) {
	ctx := context.Background()
	now := time.Date(2026, 11, 25, 17, 0, 0, 0, time.UTC)
	e := newEnv(t, now)
	db, err := store.Open(ctx, e.state)
	if err != nil {
		t.Fatal(err)
	}
	ms, err := alert.ParseMatchers(`kind="anomaly", account=~"prod.*"`)
	if err != nil {
		t.Fatal(err)
	}
	s, err := alert.CheckSilence(alert.Silence{Matchers: ms, EndsAt: now.Add(2 * time.Hour), CreatedBy: "alice", Comment: "deploy"}, now)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.AddSilence(ctx, s); err != nil {
		t.Fatal(err)
	}
	db.Close()

	a := e.app(t, now)
	if _, err := a.Cycle(ctx, now); err != nil {
		t.Fatal(err)
	}
	if got := e.slack.count(); got != 3 {
		t.Errorf("slack posts while silenced = %d, want 3 (80%% actual, forecast, card)", got)
	}
	if _, err := a.Cycle(ctx, now.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	if got := e.slack.count(); got != 3 {
		t.Errorf("slack posts an hour later = %d, want still 3", got)
	}
	if _, err := a.Cycle(ctx, now.Add(2*time.Hour)); err != nil {
		t.Fatal(err)
	}
	if got := e.slack.count(); got != 4 {
		t.Errorf("slack posts after the silence = %d, want 4 (the anomaly)", got)
	}
}

func TestAlertOptions(t *testing.T) {
	e := newEnv(t, time.Date(2026, 11, 25, 17, 0, 0, 0, time.UTC))
	o, err := AlertOptions(e.cfg, []string{"finops", "ops-hook"})
	if err != nil {
		t.Fatal(err)
	}
	if len(o.InhibitRules) != len(alert.DefaultInhibitRules()) || len(o.Routes) != 0 {
		t.Errorf("no routing config: %d inhibit rules, %d routes; want the defaults and none", len(o.InhibitRules), len(o.Routes))
	}
	cfg := *e.cfg
	cfg.InhibitRules = []config.InhibitRule{}
	cfg.Routes = []config.Route{{Matchers: []string{`severity="critical"`}, Notifiers: []string{"nope"}}}
	if _, err := AlertOptions(&cfg, []string{"finops", "ops-hook"}); err == nil {
		t.Error("route to an unknown notifier: no error")
	}
	cfg.Routes[0].Notifiers = []string{"ops-hook"}
	o, err = AlertOptions(&cfg, []string{"finops", "ops-hook"})
	if err != nil || len(o.InhibitRules) != 0 || len(o.Routes) != 1 || o.Routes[0].Matchers.String() != `{severity="critical"}` {
		t.Errorf("AlertOptions = %+v, %v", o, err)
	}
}
