package alert_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/costbot/costbot/internal/alert"
	"github.com/costbot/costbot/internal/cost"
)

// BenchmarkPlan_Routing plans 500 firing anomalies over 50 accounts (one
// stale) with no routing ("baseline") and with the default inhibition rules,
// two routes with quiet hours and ten silences ("routing"); compare the two
// ns/op as a ratio.
func BenchmarkPlan_Routing(b *testing.B) {
	var fs []cost.Finding
	for i := range 500 {
		f := catalogue()["a"]
		f.Scope.Account = fmt.Sprintf("%032x", i%50)
		f.Scope.AccountName = fmt.Sprintf("acct-%d", i%50)
		f.Scope.Service = fmt.Sprintf("svc-%d", i)
		fs = append(fs, f)
	}
	stale := catalogue()["stale"]
	stale.Scope.Account = fmt.Sprintf("%032x", 7)
	fs = append(fs, stale)
	fresh := alert.Freshness{Usage: map[string]bool{"": true, "*": true}}
	for i := range 50 {
		fresh.Usage[fmt.Sprintf("%032x", i)] = true
	}
	// State after one cycle: everything firing and sent.
	ch, ds := alert.Plan(alert.Snapshot{}, fs, fresh, t0, alert.Options{Notifiers: notifiers})
	snap := alert.Snapshot{Alerts: ch.Alerts}
	for _, d := range alert.Deliveries(ds) {
		s, _ := alert.SendOf(d, nil, t0)
		snap.Sends = append(snap.Sends, s)
	}
	routing := alert.Options{Notifiers: notifiers, InhibitRules: alert.DefaultInhibitRules(),
		TimeIntervals: intervals(b, quietHours),
		Routes: []alert.Route{
			{Matchers: mustMatchers(b, `severity="critical"`), Notifiers: []string{"hook"}, RepeatInterval: time.Hour},
			{Notifiers: notifiers, MuteTimeIntervals: []string{"quiet-hours"}},
		}}
	for i := range 10 {
		s, err := alert.CheckSilence(alert.Silence{ID: fmt.Sprint(i), Matchers: mustMatchers(b, fmt.Sprintf(`service=~"svc-%d.*"`, i)),
			EndsAt: t0.Add(day), CreatedBy: "a", Comment: "c"}, t0)
		if err != nil {
			b.Fatal(err)
		}
		routing.Silences = append(routing.Silences, s)
	}
	for _, bc := range []struct {
		name string
		o    alert.Options
	}{{"baseline", alert.Options{Notifiers: notifiers}}, {"routing", routing}} {
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				alert.Plan(snap, fs, fresh, t0.Add(time.Hour), bc.o)
			}
		})
	}
}
