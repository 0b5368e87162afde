package rules

import (
	"fmt"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/costbot/costbot/internal/cost"
	"github.com/costbot/costbot/internal/detect"
)

const acctID = "0123456789abcdef0123456789abcdef"

var prod = cost.Account{ID: acctID, Name: "production"}

func mustParse(tb testing.TB, src string) *Set {
	tb.Helper()
	set, err := Parse("test.yaml", []byte(src))
	if err != nil {
		tb.Fatalf("parse rules: %v", err)
	}
	return set
}

func date(y int, m time.Month, d int) time.Time { return time.Date(y, m, d, 0, 0, 0, 0, time.UTC) }

// billing returns the invoice period (anchored on the 7th) containing d.
func billing(d time.Time) cost.Period {
	s := time.Date(d.Year(), d.Month(), 7, 0, 0, 0, 0, time.UTC)
	if d.Day() < 7 {
		s = s.AddDate(0, -1, 0)
	}
	return cost.Period{Start: s, End: s.AddDate(0, 1, 0)}
}

// rows makes one row per day in [from, to) for a service, costing f(day).
func rows(account, family, service string, from, to time.Time, f func(time.Time) float64) []cost.Usage {
	var out []cost.Usage
	for d := from; d.Before(to); d = d.AddDate(0, 0, 1) {
		out = append(out, cost.Usage{Account: account, Service: service, Family: family, Day: d,
			BillingPeriod: billing(d), Cost: f(d), CostKnown: true, Currency: "USD"})
	}
	return out
}

func flat(v float64) func(time.Time) float64 { return func(time.Time) float64 { return v } }

func thresholds(fs []cost.Finding) string {
	var s []string
	for _, f := range fs {
		s = append(s, f.Rule+":"+f.Threshold)
	}
	return strings.Join(s, " ")
}

func near(a, b float64) bool { return math.Abs(a-b) < 1e-6 }

// A correction row on the November invoice for an October day counts in the
// billing period, but not in the calendar month.
func TestEvaluate_BillingPeriodVsMonthWithCorrection(t *testing.T) {
	set := mustParse(t, `
budgets:
  - name: bp
    scope: {account: production, family: "Workers*"}
    amount: 250
    currency: USD
    thresholds: [{percent: 50}, {percent: 80, severity: critical}, {percent: 95}]
  - name: cal
    scope: {account: production, family: "Workers*"}
    period: month
    amount: 250
    currency: USD
    thresholds: [{percent: 50}, {percent: 80}, {percent: 95}]
`)
	usage := rows(acctID, "Workers", "Workers Standard", date(2026, 10, 7), date(2026, 11, 25), flat(10))
	usage = append(usage, rows(acctID, "R2", "R2 Storage", date(2026, 10, 7), date(2026, 11, 25), flat(100))...)
	usage = append(usage, cost.Usage{Account: acctID, Service: "Workers Standard", Family: "Workers", Day: date(2026, 10, 30),
		BillingPeriod: billing(date(2026, 11, 10)), Cost: 50, CostKnown: true, Currency: "USD", Correction: true})
	now := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
	in := Input{Now: now, Accounts: []cost.Account{prod}, Usage: usage}

	fs, errs := set.Evaluate(in)
	if len(errs) > 0 {
		t.Fatalf("errors: %v", errs)
	}
	if got, want := thresholds(fs), "bp:actual>=50% bp:actual>=80% cal:actual>=50% cal:actual>=80% cal:actual>=95%"; got != want {
		t.Fatalf("findings %s, want %s", got, want)
	}
	bp := fs[1]
	if !near(bp.Actual, 18*10+50) || bp.Period != billing(now) || bp.Kind != cost.KindBudget || bp.Severity != cost.SeverityCritical {
		t.Errorf("billing-period finding: actual %v period %v kind %v severity %v", bp.Actual, bp.Period, bp.Kind, bp.Severity)
	}
	if want := "Workers (production) budget at 92% of $250.00 (billing period 7 Nov – 6 Dec 2026)"; bp.Title != want {
		t.Errorf("title %q, want %q", bp.Title, want)
	}
	if bp.Scope != (cost.Scope{Account: acctID, AccountName: "production", Family: "Workers*"}) || bp.Limit != 200 || bp.Budget != 250 {
		t.Errorf("scope %v limit %v budget %v", bp.Scope, bp.Limit, bp.Budget)
	}
	if bp.Chart == nil || len(bp.Chart.Days) != 20 || !bp.Chart.Days[19].Equal(date(2026, 11, 24)) || bp.Chart.Values[19] != 10 {
		t.Errorf("chart %+v", bp.Chart)
	}
	cal := fs[2]
	if !near(cal.Actual, 24*10) || cal.Period != (cost.Period{Start: date(2026, 11, 1), End: date(2026, 12, 1)}) {
		t.Errorf("calendar finding: actual %v period %v", cal.Actual, cal.Period)
	}

	st := set.Budgets(in)
	if len(st) != 2 {
		t.Fatalf("Budgets: %d statuses, want 2", len(st))
	}
	// 12 days left (Nov 25 .. Dec 6) at $10/day.
	if st[0].DaysLeft != 12 || !near(st[0].Forecast, 230+120) || !st[0].CrossDate.Equal(date(2026, 11, 26)) {
		t.Errorf("bp status %+v", st[0])
	}
	if st[1].DaysLeft != 6 || !near(st[1].Forecast, 240+60) || !st[1].CrossDate.Equal(date(2026, 11, 25)) {
		t.Errorf("month status %+v", st[1])
	}
}

// On Monday 03:00 UTC it is still Sunday in Los Angeles: the LA week is the
// previous one, with a full week of spend; the UTC week has just begun.
func TestEvaluate_WeekInTimezone(t *testing.T) {
	set := mustParse(t, `
budgets:
  - name: la
    period: week
    timezone: America/Los_Angeles
    amount: 60
    currency: USD
    thresholds: [{percent: 100, severity: critical}]
  - name: utc
    period: week
    amount: 60
    currency: USD
    thresholds: [{percent: 100}]
`)
	now := time.Date(2026, 11, 23, 3, 0, 0, 0, time.UTC)
	if now.Weekday() != time.Monday {
		t.Fatalf("fixture: %v is a %v", now, now.Weekday())
	}
	in := Input{Now: now, Accounts: []cost.Account{prod}, Usage: rows(acctID, "Workers", "Workers Standard", date(2026, 10, 1), date(2026, 11, 23), flat(10))}
	fs, errs := set.Evaluate(in)
	if len(errs) > 0 {
		t.Fatal(errs)
	}
	// The UTC week Nov 16-22 has just closed; its last day is in, so it is
	// still checked (see TestEvaluate_ClosedPeriod).
	if got := thresholds(fs); got != "la:actual>=100% utc:actual>=100%" {
		t.Fatalf("findings %q", got)
	}
	if fs[0].Period != (cost.Period{Start: date(2026, 11, 16), End: date(2026, 11, 23)}) || !near(fs[0].Actual, 70) {
		t.Errorf("period %v actual %v", fs[0].Period, fs[0].Actual)
	}
	if !strings.Contains(fs[0].Title, "week of 16 Nov 2026") {
		t.Errorf("title %q", fs[0].Title)
	}
	st := set.Budgets(in)
	if st[0].Period.Start != date(2026, 11, 16) || st[0].Actual != 70 || st[0].DaysLeft != 1 {
		t.Errorf("la status %+v", st[0])
	}
	if st[1].Period.Start != date(2026, 11, 23) || st[1].Actual != 0 || st[1].DaysLeft != 7 {
		t.Errorf("utc status %+v", st[1])
	}
}

func TestEvaluate_AbsoluteAndForecastThresholds(t *testing.T) {
	set := mustParse(t, `
budgets:
  - name: abs
    amount: 250
    currency: USD
    thresholds:
      - {amount: 170, on: actual}
      - {amount: 400, on: actual}
      - {percent: 100, on: forecast, severity: critical}
      - {amount: 301, on: forecast}
    notify: [finops]
`)
	now := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
	in := Input{Now: now, Accounts: []cost.Account{prod}, Usage: rows(acctID, "Workers", "Workers Standard", date(2026, 10, 1), date(2026, 11, 25), flat(10))}
	fs, errs := set.Evaluate(in)
	if len(errs) > 0 {
		t.Fatal(errs)
	}
	if got := thresholds(fs); got != "abs:actual>=170USD abs:forecast>=100%" {
		t.Fatalf("findings %q", got)
	}
	a, f := fs[0], fs[1]
	if a.Limit != 170 || a.Kind != cost.KindBudget || a.Title != "Total (production) spend $180.00 passed $170.00 (billing period 7 Nov – 6 Dec 2026)" {
		t.Errorf("absolute finding %q limit %v", a.Title, a.Limit)
	}
	// $180 by Nov 24, $10/day: $250 is reached on Dec 1 (180 + 7*10), $300 by Dec 6.
	if f.Kind != cost.KindForecast || !near(f.Forecast, 300) || !f.CrossDate.Equal(date(2026, 12, 1)) || f.Severity != cost.SeverityCritical {
		t.Errorf("forecast finding kind %v forecast %v cross %v", f.Kind, f.Forecast, f.CrossDate)
	}
	if f.Notifiers[0] != "finops" || !strings.Contains(f.Summary, "spend reaches $250.00 on Dec 1") {
		t.Errorf("notifiers %v summary %q", f.Notifiers, f.Summary)
	}
}

func TestEvaluate_DataProblems(t *testing.T) {
	now := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
	base := rows(acctID, "Workers", "Workers Standard", date(2026, 11, 1), date(2026, 11, 25), flat(10))
	t.Run("ErrCurrencyMismatch", func(t *testing.T) {
		set := mustParse(t, "budgets:\n  - {name: eur, scope: {family: Workers}, amount: 1, currency: EUR, thresholds: [{percent: 1}]}\n")
		fs, errs := set.Evaluate(Input{Now: now, Accounts: []cost.Account{prod}, Usage: base})
		if got := thresholds(fs); got != "eur:currency" || len(errs) != 1 {
			t.Fatalf("findings %q errors %v", got, errs)
		}
		want := `rule "eur" (account=production family=Workers): currency mismatch: rule is in EUR, data is in USD; budget skipped`
		if errs[0].Error() != want {
			t.Errorf("error %q, want %q", errs[0], want)
		}
		if f := fs[0]; f.Kind != cost.KindRuleProblem || f.Title != "Rule eur cannot be evaluated for account=production family=Workers: its currency differs from the bill's" ||
			!strings.Contains(f.Summary, "Defined at test.yaml:2:") {
			t.Errorf("problem finding %v %q %q", f.Kind, f.Title, f.Summary)
		}
		if st := set.Budgets(Input{Now: now, Accounts: []cost.Account{prod}, Usage: base}); len(st) != 0 {
			t.Errorf("status for a skipped budget: %+v", st)
		}
	})
	t.Run("ErrUnknownCost", func(t *testing.T) {
		set := mustParse(t, "budgets:\n  - {name: u, amount: 1, currency: USD, thresholds: [{percent: 1}]}\n")
		usage := append(append([]cost.Usage(nil), base...), cost.Usage{Account: acctID, Service: "Logpush", Day: date(2026, 11, 20),
			BillingPeriod: billing(date(2026, 11, 20)), Currency: "USD"})
		fs, errs := set.Evaluate(Input{Now: now, Accounts: []cost.Account{prod}, Usage: usage})
		if got := thresholds(fs); got != "u:unknown_cost" || len(errs) != 1 || fs[0].Period.Start != date(2026, 11, 7) {
			t.Fatalf("findings %q errors %v", got, errs)
		}
		want := `rule "u" (account=production): cost unknown for Logpush in 2026-11-07..2026-12-07; budget not evaluated`
		if errs[0].Error() != want {
			t.Errorf("error %q, want %q", errs[0], want)
		}
	})
	t.Run("OKStaleAccountSkipped", func(t *testing.T) {
		set := mustParse(t, `
budgets:
  - {name: all, scope: {account: "*"}, amount: 100, currency: USD, thresholds: [{percent: 100}]}
cards:
  - {name: card}
`)
		staging := cost.Account{ID: "fedcba9876543210fedcba9876543210", Name: "staging"}
		usage := append(rows(staging.ID, "Workers", "Workers Standard", date(2026, 11, 1), date(2026, 11, 25), flat(100)), base...)
		in := Input{Now: now, Accounts: []cost.Account{prod, staging}, Usage: usage,
			Cards: []cost.Card{{Account: staging.ID, ExpiryMonth: 11, ExpiryYear: 2026}, {Account: prod.ID, ExpiryMonth: 11, ExpiryYear: 2026}},
			Stale: map[string]error{staging.ID: errTest}}
		fs, errs := set.Evaluate(in)
		if len(errs) != 0 {
			t.Fatal(errs)
		}
		for _, f := range fs {
			if f.Scope.Account == "staging" {
				t.Errorf("finding for stale account: %+v", f)
			}
		}
		if got := thresholds(fs); got != "all:actual>=100% card:card<=7d" {
			t.Errorf("findings %q", got)
		}
		if st := set.Budgets(in); len(st) != 1 || st[0].Scope.Account != acctID || st[0].Scope.AccountName != "production" {
			t.Errorf("statuses %+v", st)
		}
	})
}

type testError string

func (e testError) Error() string { return string(e) }

const errTest = testError("fetch failed")

func TestEvaluate_CardStages(t *testing.T) {
	set := mustParse(t, "cards:\n  - {name: card-expiry, account: prod*, warn_days: [30, 7, 1], notify: [finops]}\n")
	card := cost.Card{Account: acctID, ExpiryMonth: 11, ExpiryYear: 2026, Masked: "************4242"}
	tests := []struct {
		name      string
		now       time.Time
		threshold string
		severity  cost.Severity
		daysLeft  int
	}{
		{"OKFarAway", date(2026, 10, 20), "", 0, 0},
		{"Stage30", date(2026, 11, 1), "card<=30d", cost.SeverityInfo, 30},
		{"Stage30Late", date(2026, 11, 23).Add(-time.Hour), "card<=30d", cost.SeverityInfo, 8},
		{"Stage7", date(2026, 11, 24), "card<=7d", cost.SeverityWarning, 7},
		{"Stage7ShortOf", date(2026, 11, 26), "card<=7d", cost.SeverityWarning, 5},
		{"Stage1", date(2026, 11, 30), "card<=1d", cost.SeverityCritical, 1},
		{"Stage1LastHours", time.Date(2026, 11, 30, 20, 0, 0, 0, time.UTC), "card<=1d", cost.SeverityCritical, 0},
		{"Expired", date(2026, 12, 1), "card-expired", cost.SeverityCritical, 0},
		{"ExpiredLongAgo", date(2027, 3, 1), "card-expired", cost.SeverityCritical, -90},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fs, _ := set.Evaluate(Input{Now: tt.now, Accounts: []cost.Account{prod}, Cards: []cost.Card{card}})
			if tt.threshold == "" {
				if len(fs) != 0 {
					t.Fatalf("findings %s, want none", thresholds(fs))
				}
				return
			}
			if len(fs) != 1 {
				t.Fatalf("findings %q, want one", thresholds(fs))
			}
			f := fs[0]
			if f.Threshold != tt.threshold || f.Severity != tt.severity || f.Kind != cost.KindCardExpiry {
				t.Errorf("got %s %v %v, want %s %v", f.Threshold, f.Severity, f.Kind, tt.threshold, tt.severity)
			}
			if f.Period != (cost.Period{Start: date(2026, 11, 1), End: date(2026, 12, 1)}) || f.Card.Masked != card.Masked {
				t.Errorf("period %v card %+v", f.Period, f.Card)
			}
			if f.Card.DaysLeft != tt.daysLeft {
				t.Errorf("days left %d, want %d", f.Card.DaysLeft, tt.daysLeft)
			}
			if !strings.Contains(f.Title, "ending 4242 on production") {
				t.Errorf("title %q", f.Title)
			}
		})
	}
}

func TestForecast_Weekday(t *testing.T) {
	// Weekdays cost $100, weekends $10. Four weeks of history through
	// Thursday Nov 26; the period ends after Sunday Nov 29.
	var days []time.Time
	var values []float64
	for d := date(2026, 10, 30); !d.After(date(2026, 11, 26)); d = d.AddDate(0, 0, 1) {
		v := 100.0
		if d.Weekday() == time.Saturday || d.Weekday() == time.Sunday {
			v = 10
		}
		days, values = append(days, d), append(values, v)
	}
	if date(2026, 11, 26).Weekday() != time.Thursday {
		t.Fatal("fixture: Nov 26 2026 is not a Thursday")
	}
	period := cost.Period{Start: date(2026, 11, 1), End: date(2026, 11, 30)}
	now := time.Date(2026, 11, 27, 9, 0, 0, 0, time.UTC)
	total, daily := Forecast(days, values, period, now)
	// Remaining: Fri $100, Sat $10, Sun $10. A flat run-rate (~$74/day)
	// would say ~$222.
	want := []float64{100, 10, 10}
	if len(daily) != 3 {
		t.Fatalf("daily %v, want 3 days", daily)
	}
	for i := range want {
		if !near(daily[i], want[i]) {
			t.Errorf("daily[%d] = %v, want %v", i, daily[i], want[i])
		}
	}
	var sofar float64
	for i, d := range days {
		if period.Contains(d) {
			sofar += values[i]
		}
	}
	if !near(total, sofar+120) {
		t.Errorf("total %v, want %v", total, sofar+120)
	}

	// Spend doubled in the last week: the profile is scaled up.
	for i := len(values) - 7; i < len(values); i++ {
		values[i] *= 2
	}
	_, daily = Forecast(days, values, period, now)
	if !near(daily[0], 200) || !near(daily[1], 20) {
		t.Errorf("scaled daily %v, want [200 20 20]", daily)
	}
}

func TestForecast_Edges(t *testing.T) {
	period := cost.Period{Start: date(2026, 11, 1), End: date(2026, 12, 1)}
	if total, daily := Forecast(nil, nil, period, date(2026, 11, 10)); total != 0 || daily != nil {
		t.Errorf("no data: %v %v", total, daily)
	}
	// Three days of data: mean run-rate; NaN ignored; days at/after now ignored.
	days := []time.Time{date(2026, 11, 1), date(2026, 11, 2), date(2026, 11, 3), date(2026, 11, 4), date(2026, 11, 5)}
	values := []float64{10, math.NaN(), 20, 30, 1000}
	total, daily := Forecast(days, values, period, date(2026, 11, 5))
	if len(daily) != 26 || !near(daily[0], 20) || !near(total, 60+26*20) {
		t.Errorf("short history: total %v daily %d×%v", total, len(daily), daily[0])
	}
	// Last day is after the period: nothing left to forecast.
	if _, daily := Forecast(days, values, cost.Period{Start: date(2026, 10, 1), End: date(2026, 11, 1)}, date(2026, 11, 5)); daily != nil {
		t.Errorf("past period daily %v", daily)
	}
}

// demoR2 is ~$6/day with a weekly pattern and a 5x spike on the last day.
func demoR2(last time.Time) []cost.Usage {
	return rows(acctID, "R2", "R2 Class A Operations", last.AddDate(0, 0, -89), last.AddDate(0, 0, 1), func(d time.Time) float64 {
		v := 6 + 0.3*float64(d.YearDay()%3)
		if d.Weekday() == time.Saturday || d.Weekday() == time.Sunday {
			v = 4.5
		}
		if d.Equal(last) {
			v = 30
		}
		return v
	})
}

func TestEvaluate_AnomalySpike(t *testing.T) {
	set := mustParse(t, `
anomalies:
  - name: service-spikes
    scope: {account: "*"}
    min_impact: 5
    min_change: 0.2
    warmup_days: 14
    notify: [finops]
`)
	last := date(2026, 11, 24) // a Tuesday
	usage := append(demoR2(last), rows(acctID, "Workers", "Workers Standard", last.AddDate(0, 0, -89), last.AddDate(0, 0, 1), flat(13))...)
	in := Input{Now: last.AddDate(0, 0, 1).Add(6 * time.Hour), Accounts: []cost.Account{prod}, Usage: usage}
	fs, errs := set.Evaluate(in)
	if len(errs) > 0 {
		t.Fatal(errs)
	}
	if len(fs) != 1 {
		t.Fatalf("findings %q, want one R2 anomaly", thresholds(fs))
	}
	f := fs[0]
	if f.Kind != cost.KindAnomaly || f.Threshold != "anomaly" || f.Scope.Service != "R2 Class A Operations" || f.Scope.Account != acctID || f.Scope.AccountName != "production" {
		t.Errorf("finding %v %q %+v", f.Kind, f.Threshold, f.Scope)
	}
	if f.Period != (cost.Period{Start: last, End: last.AddDate(0, 0, 1)}) || !f.Anomaly.Day.Equal(last) || f.Anomaly.Observed != 30 {
		t.Errorf("period %v detail %+v", f.Period, f.Anomaly)
	}
	if f.Anomaly.Expected < 5 || f.Anomaly.Expected > 7 || f.Anomaly.Impact < 20 {
		t.Errorf("expected %v impact %v", f.Anomaly.Expected, f.Anomaly.Impact)
	}
	if !strings.HasPrefix(f.Title, "R2 Class A Operations (production) spiked to $30.00/day, expected $") {
		t.Errorf("title %q", f.Title)
	}
	if f.Chart == nil || len(f.Chart.Days) != 20 || len(f.Chart.Reference) != 20 || f.Chart.Values[19] != 30 {
		t.Errorf("chart %+v", f.Chart)
	}

	// Marked expected before the spike's day: the spike is news and alerts.
	key := cost.SeriesKey{Account: acctID, Service: "R2 Class A Operations", Family: "R2"}.String()
	in.Expected = map[string]time.Time{key: last.Add(-time.Hour)}
	if fs, _ := set.Evaluate(in); len(fs) != 1 {
		t.Errorf("after a mark before the spike: %q, want the spike", thresholds(fs))
	}
	// Marked expected after seeing it: the episode ends, nothing fires.
	in.Expected = map[string]time.Time{key: in.Now}
	if fs, _ := set.Evaluate(in); len(fs) != 0 {
		t.Errorf("after mark expected: %q", thresholds(fs))
	}
}

// The vector handed to the detector: start at the series' first day or the
// expected mark, NaN where the account has no data, 0 where only the series
// is missing, NaN for unknown cost; the episode start sets the period.
func TestEvaluate_AnomalyVector(t *testing.T) {
	set := mustParse(t, "anomalies:\n  - {name: a, scope: {service: \"S*\"}, severity: critical}\n")
	var gotValues []float64
	var gotOpts detect.Options
	set.Detector = func(values []float64, opts detect.Options, _ []int) []detect.Result {
		gotValues, gotOpts = values, opts
		res := make([]detect.Result, len(values))
		for i := range res {
			res[i] = detect.Result{Since: -1}
		}
		res[len(res)-1] = detect.Result{Anomaly: true, Since: len(values) - 2, Observed: values[len(values)-1], Expected: 1, Impact: 2}
		return res
	}
	u := func(service string, d time.Time, c float64, known bool) cost.Usage {
		return cost.Usage{Account: acctID, Service: service, Day: d, Cost: c, CostKnown: known, Currency: "USD", BillingPeriod: billing(d)}
	}
	usage := []cost.Usage{
		u("Other", date(2026, 11, 1), 1, true),
		u("S1", date(2026, 11, 2), 2, true),
		u("Other", date(2026, 11, 3), 1, true),
		// Nov 4: no data for the account at all
		u("S1", date(2026, 11, 5), 0, false),
		u("S1", date(2026, 11, 6), 3, true),
		u("S1", date(2026, 11, 6), 1, true),
		u("S1", date(2026, 11, 7), 9, true), // at/after now: ignored
	}
	fs, _ := set.Evaluate(Input{Now: date(2026, 11, 7), Accounts: []cost.Account{prod}, Usage: usage})
	if len(fs) == 2 && fs[1].Kind == cost.KindRuleProblem && fs[1].Threshold == "unknown_cost" {
		fs = fs[:1] // Nov 5's unknown cost is reported too
	}
	want := []float64{2, 0, math.NaN(), math.NaN(), 4}
	if len(gotValues) != len(want) {
		t.Fatalf("values %v, want %v", gotValues, want)
	}
	for i := range want {
		if !(near(gotValues[i], want[i]) || (math.IsNaN(want[i]) && math.IsNaN(gotValues[i]))) {
			t.Errorf("values %v, want %v", gotValues, want)
			break
		}
	}
	if gotOpts.Season != 7 || gotOpts.WarmUp != 28 || gotOpts.MinImpact != 5 || gotOpts.Method != detect.MethodEnsemble ||
		!gotOpts.Start.Equal(date(2026, 11, 2)) {
		t.Errorf("options %+v", gotOpts)
	}
	if len(fs) != 1 || fs[0].Period.Start != date(2026, 11, 5) || fs[0].Anomaly.Since != date(2026, 11, 5) || fs[0].Severity != cost.SeverityCritical {
		t.Fatalf("findings %+v", fs)
	}
}

// A new account's forecast uses its own days, not zeros before it existed.
func TestBudgets_NewAccountForecast(t *testing.T) {
	set := mustParse(t, "budgets:\n  - {name: m, period: month, amount: 100, currency: USD, thresholds: [{percent: 90, on: forecast}]}\n")
	in := Input{Now: time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC), Accounts: []cost.Account{prod},
		Usage: rows(acctID, "Workers", "Workers Standard", date(2026, 11, 22), date(2026, 11, 25), flat(10))}
	st := set.Budgets(in)
	if len(st) != 1 || !near(st[0].Forecast, 30+6*10) || !st[0].CrossDate.IsZero() {
		t.Fatalf("status %+v", st)
	}
	fs, _ := set.Evaluate(in)
	if len(fs) != 1 || fs[0].Title != "Total (production) forecast $90.00 exceeds 90% of $100.00 budget (November 2026)" || !fs[0].CrossDate.Equal(date(2026, 11, 30)) {
		t.Errorf("findings %+v", fs)
	}
}

// Data lags a day, so the period holding the last complete day is checked
// until the next period's first day is in: a daily guardrail fires on
// yesterday's spend, and a month overrun on its last day is not lost. A
// closed period takes actual thresholds only.
func TestEvaluate_ClosedPeriod(t *testing.T) {
	set := mustParse(t, `
budgets:
  - {name: daily, period: day, amount: 200, currency: USD, thresholds: [{percent: 100, severity: critical}]}
  - {name: month, period: month, amount: 250, currency: USD, thresholds: [{percent: 100}, {percent: 90, on: forecast}]}
`)
	usage := rows(acctID, "Workers", "Workers Standard", date(2026, 11, 1), date(2026, 11, 30), flat(8))
	usage = append(usage, rows(acctID, "Workers", "Workers Standard", date(2026, 11, 30), date(2026, 12, 1), flat(210))...)
	in := Input{Now: time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC), Accounts: []cost.Account{prod}, Usage: usage}
	fs, errs := set.Evaluate(in)
	if len(errs) > 0 {
		t.Fatal(errs)
	}
	if got := thresholds(fs); got != "daily:actual>=100% month:actual>=100% month:forecast>=90%" {
		t.Fatalf("findings %q", got)
	}
	if fs[0].Period != (cost.Period{Start: date(2026, 11, 30), End: date(2026, 12, 1)}) || fs[0].Actual != 210 {
		t.Errorf("daily: %v %v", fs[0].Period, fs[0].Actual)
	}
	if fs[1].Period.Start != date(2026, 11, 1) || !near(fs[1].Actual, 29*8+210) {
		t.Errorf("closed month: %v %v", fs[1].Period, fs[1].Actual)
	}
	// The forecast is for December, the current month.
	if fs[2].Period.Start != date(2026, 12, 1) || fs[2].Actual != 0 {
		t.Errorf("december forecast: %v %v", fs[2].Period, fs[2].Actual)
	}
	// Budgets shows the current periods only.
	if st := set.Budgets(in); st[0].Period.Start != date(2026, 12, 1) || st[1].Period.Start != date(2026, 12, 1) {
		t.Errorf("statuses %+v", st)
	}
}

func TestThreshold_Name(t *testing.T) {
	tests := []struct {
		t    Threshold
		want string
	}{
		{Threshold{Percent: 80, On: OnActual}, "actual>=80%"},
		{Threshold{Percent: 12.5, On: OnForecast}, "forecast>=12.5%"},
		{Threshold{Amount: 1000000, On: OnActual}, "actual>=1000000USD"},
		{Threshold{Amount: 400.5, On: OnForecast}, "forecast>=400.5USD"},
	}
	for _, tt := range tests {
		if got := tt.t.Name("USD"); got != tt.want {
			t.Errorf("Name() = %q, want %q", got, tt.want)
		}
	}
}

// TestStanding_SameAsRun: Standing reports the budgets and the rule
// problems Run reports for the same input, without the detectors' findings.
func TestStanding_SameAsRun(t *testing.T) {
	now := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
	usage := append(rows(acctID, "Workers", "Workers Standard", date(2026, 9, 1), date(2026, 11, 24), flat(10)),
		rows(acctID, "R2", "R2 Storage", date(2026, 11, 20), date(2026, 11, 24), flat(500))...)
	set := mustParse(t, `
budgets:
  - {name: ok, amount: 100, currency: USD, thresholds: [{percent: 50}]}
  - {name: eur, scope: {family: Workers}, amount: 1, currency: EUR, thresholds: [{percent: 1}]}
anomalies:
  - {name: spikes, scope: {family: R2}}
  - {name: nothing, scope: {family: Stream}}
`)
	in := Input{Now: now, Accounts: []cost.Account{prod}, Usage: usage}
	out := set.Run(in)
	var runProblems []string
	for _, f := range out.Findings {
		if f.Kind == cost.KindRuleProblem {
			runProblems = append(runProblems, f.Title)
		}
	}
	budgets, problems := set.Standing(in)
	var got []string
	for _, f := range problems {
		if f.Kind != cost.KindRuleProblem {
			t.Errorf("Standing returned a %v finding", f.Kind)
		}
		got = append(got, f.Title)
	}
	if len(runProblems) < 2 || strings.Join(got, "\n") != strings.Join(runProblems, "\n") {
		t.Errorf("Standing problems\n%q\nRun's\n%q (want at least the currency and the no-usage problem)", got, runProblems)
	}
	if fmt.Sprint(budgets) != fmt.Sprint(out.Budgets) || len(budgets) == 0 {
		t.Errorf("Standing budgets %+v, Run's %+v", budgets, out.Budgets)
	}
}
