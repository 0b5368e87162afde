package rules

import (
	"testing"
	"time"

	"github.com/costbot/costbot/internal/cost"
)

// TestLoadDir_Examples loads the shipped rules/ so the examples cannot rot.
func TestLoadDir_Examples(t *testing.T) {
	set, err := LoadDir("../../rules")
	if err != nil {
		t.Fatalf("load shipped rules: %v", err)
	}
	if got := set.Len(); got != 5 {
		t.Errorf("Len() = %d, want 5", got)
	}
	want := []string{"finops", "ops-hook"}
	got := set.Notifiers()
	if len(got) != len(want) || got[0] != want[0] || got[1] != want[1] {
		t.Errorf("Notifiers() = %v, want %v", got, want)
	}
}

// TestEvaluate_ShippedRulesOnDemoData runs rules/ on data shaped like the
// demo account: Workers at ~$13.40/day reaching ~96% of $250 on day 19 of the
// billing period, R2 Class A Operations spiking 5x on the last day and a card
// that stops working at the start of next month.
func TestEvaluate_ShippedRulesOnDemoData(t *testing.T) {
	set, err := LoadDir("../../rules")
	if err != nil {
		t.Fatal(err)
	}
	last := date(2026, 11, 24)
	from := last.AddDate(0, 0, -89)
	to := last.AddDate(0, 0, 1)
	usage := rows(acctID, "Workers", "Workers Standard", from, to, flat(10))
	usage = append(usage, rows(acctID, "Workers", "Workers KV", from, to, flat(3.4))...)
	usage = append(usage, rows(acctID, "R2", "R2 Storage", from, to, flat(20))...)
	usage = append(usage, demoR2(last)...)
	in := Input{
		Now:      time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC),
		Accounts: []cost.Account{prod},
		Usage:    usage,
		Cards:    []cost.Card{{Account: acctID, ExpiryMonth: 11, ExpiryYear: 2026, Masked: "************4242"}},
	}
	fs, errs := set.Evaluate(in)
	if len(errs) > 0 {
		t.Fatal(errs)
	}
	want := "workers-monthly:actual>=50% workers-monthly:actual>=80% workers-monthly:forecast>=100% " +
		"service-spikes:anomaly card-expiry:card<=7d"
	if got := thresholds(fs); got != want {
		t.Fatalf("findings:\n%s\nwant:\n%s", got, want)
	}
	for _, f := range fs {
		if f.Title == "" || f.Summary == "" {
			t.Errorf("%s %s: empty title or summary", f.Rule, f.Threshold)
		}
		t.Logf("%-15s %-16s %-8s %s", f.Rule, f.Threshold, f.Severity, f.Title)
	}
	if w := fs[1]; !near(w.Actual, 18*13.4) || w.Title != "Workers (production) budget at 96% of $250.00 (billing period 7 Nov – 6 Dec 2026)" {
		t.Errorf("workers finding: %v %q", w.Actual, w.Title)
	}
	if a := fs[3]; a.Scope.Service != "R2 Class A Operations" {
		t.Errorf("anomaly on %+v", a.Scope)
	}
	st := set.Budgets(in)
	if len(st) != 3 {
		t.Fatalf("statuses %+v", st)
	}
}
