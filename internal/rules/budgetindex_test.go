package rules

import (
	"fmt"
	"math"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/costbot/costbot/internal/cost"
)

// rowBudgets is how budgets were evaluated before the daily index: every
// budget of every account matched, copied and summed all of the account's
// rows, and the current period again for Set.Budgets. It is the baseline
// the index must agree with and the yardstick of BenchmarkSet_Budgets.
func rowBudgets(s *Set, ix *index, now time.Time) ([]cost.Finding, []cost.BudgetStatus, []error) {
	var out []cost.Finding
	var sts []cost.BudgetStatus
	var errs []error
	for _, b := range s.BudgetRules {
		for _, acct := range ix.accounts {
			if !b.Scope.matchAccount(acct) {
				continue
			}
			rows := ix.rowsOf(acct.ID, nil)
			ev, err := rowEvalBudgetAt(b, acct, rows, now, time.Time{})
			if err != nil {
				errs = append(errs, err)
				continue
			}
			if ev == nil {
				continue
			}
			sts = append(sts, ev.status)
			if !ev.last.IsZero() && ev.last.Before(ev.status.Period.Start) {
				if prev, err := rowEvalBudgetAt(b, acct, rows, now, ev.last); err != nil {
					errs = append(errs, err)
				} else if prev != nil {
					out = append(out, prev.findings()...)
				}
			}
			out = append(out, ev.findings()...)
		}
	}
	return out, sts, errs
}

// rowEvalBudgetAt is the old evalBudgetAt, over the account's rows.
func rowEvalBudgetAt(b *Budget, acct cost.Account, rows []cost.Usage, now, at time.Time) (*budgetEval, error) {
	scope := cost.Scope{Account: acct.ID, AccountName: acct.Name, Family: b.Scope.Family, Service: b.Scope.Service, Zone: b.Scope.Zone}
	fail := func(c Cause, p cost.Period, format string, args ...any) error {
		return &DataError{Rule: b.Name, Scope: scope, Msg: fmt.Sprintf(format, args...), Cause: c, Period: p}
	}
	if len(rows) == 0 {
		return nil, nil
	}
	check := matching(rows, b.Scope.matchRow)
	if len(check) == 0 {
		check = rows
	}
	bad := map[string]bool{}
	for _, u := range check {
		if u.Currency != "" && !strings.EqualFold(u.Currency, b.Currency) {
			bad[u.Currency] = true
		}
	}
	if len(bad) > 0 {
		return nil, fail(CauseCurrency, cost.Period{}, "currency mismatch: rule is in %s, data is in %s; budget skipped", b.Currency, strings.Join(sortedKeys(bad), ", "))
	}
	today := todayLabel(b, now)
	ref := today
	if !at.IsZero() {
		ref = at
	}
	period, ok := budgetPeriod(b, rows, ref)
	if !ok {
		return nil, fail(CauseNoPeriod, cost.Period{}, "no billing period in the data for account %s", label(acct))
	}
	pr := Project(rows, b.Scope.matchRow, period, b.Period == PeriodBillingPeriod, now)
	if len(pr.Unknown) > 0 {
		return nil, fail(CauseUnknownCost, period, "cost unknown for %s in %s; budget not evaluated", strings.Join(pr.Unknown, ", "), period)
	}
	ev := &budgetEval{rule: b, scope: scope, last: pr.Last, closed: !at.IsZero(),
		days: pr.Days, values: pr.Values, fstart: pr.Start, daily: pr.Daily}
	ev.status = cost.BudgetStatus{
		Rule: b.Name, Scope: scope, Period: period, Currency: b.Currency, Budget: b.Amount,
		Actual: pr.Actual, Forecast: pr.Forecast, CrossDate: ev.cross(pr.Actual, b.Amount),
		DaysLeft: max(0, int(period.End.Sub(today)/day)),
	}
	return ev, nil
}

// indexRules covers every scope shape and period kind: totals, family and
// service globs, a zone, a service no account has, another currency, a
// timezone, and budgets small enough that thresholds fire.
const indexRules = `budgets:
  - {name: total-bp, amount: 900, currency: USD, thresholds: [{percent: 50}, {percent: 100, on: forecast}]}
  - {name: total-month, period: month, amount: 700, currency: USD, thresholds: [{percent: 80}, {amount: 900, on: forecast}]}
  - {name: workers-week, period: week, timezone: America/New_York, scope: {family: "Work*"}, amount: 60, currency: USD, thresholds: [{percent: 50}, {percent: 90, on: forecast}]}
  - {name: svc-day, period: day, scope: {service: "svc-0[1-3]"}, amount: 2, currency: USD, thresholds: [{percent: 10}, {percent: 50, on: forecast}]}
  - {name: zoned, period: month, scope: {account: "acct-*", zone: "zone-1*"}, amount: 30, currency: USD, thresholds: [{percent: 20}]}
  - {name: last-svc, period: month, scope: {service: "svc-11"}, amount: 30, currency: USD, thresholds: [{percent: 20}]}
  - {name: nothing, period: month, scope: {service: "no-such-*"}, amount: 30, currency: USD, thresholds: [{percent: 20}]}
  - {name: euro, period: month, scope: {family: "R2"}, amount: 30, currency: EUR, thresholds: [{percent: 20}]}
`

func TestSet_Budgets_IndexMatchesRows(t *testing.T) {
	set, err := Parse("index.yaml", []byte(indexRules))
	if err != nil {
		t.Fatal(err)
	}
	end := date(2026, 11, 30)
	accts, usage := fleet(t, 4, 12, 160, end)
	// An account billed in two currencies, and rows out of order.
	mixed := cost.Usage{Account: accts[2].ID, Family: "R2", Service: "svc-eu", Day: end.AddDate(0, 0, -3),
		BillingPeriod: billing(end.AddDate(0, 0, -3)), Cost: 3.25, CostKnown: true, Currency: "EUR"}
	usage = append([]cost.Usage{mixed}, usage...)
	for _, tc := range []struct {
		name string
		now  time.Time
	}{
		{"OK/month end", end.Add(36 * time.Hour)},
		{"OK/previous period still open", date(2026, 12, 1).Add(2 * time.Hour)},
		{"OK/mid month", date(2026, 11, 17).Add(9 * time.Hour)},
		{"OK/long after the data", date(2027, 1, 20)},
		{"OK/before the data", date(2026, 1, 1)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			in := Input{Now: tc.now, Accounts: accts, Usage: usage, Workers: 1}
			ix := newIndex(in)
			wantF, wantS, wantE := rowBudgets(set, ix, in.Now)
			gotF, gotS, gotE := set.budgets(ix, in.Now)
			if len(wantF) == 0 && tc.now.After(date(2026, 2, 1)) {
				t.Fatal("no budget finding: the table tests too little")
			}
			sameFindings(t, gotF, wantF)
			sameStatuses(t, gotS, wantS)
			if !reflect.DeepEqual(gotE, wantE) {
				t.Errorf("problems:\n got %v\nwant %v", gotE, wantE)
			}
			if o := set.Run(in); !reflect.DeepEqual(o.Budgets, set.Budgets(in)) {
				t.Errorf("Run().Budgets differs from Budgets():\n got %+v\nwant %+v", o.Budgets, set.Budgets(in))
			} else if len(o.Budgets) == 0 && tc.now.After(date(2026, 2, 1)) {
				t.Error("Run().Budgets is empty")
			}
		})
	}
}

// sumNear reports whether a and b are equal up to the rounding of summing
// the same costs in another order.
func sumNear(a, b float64) bool {
	if math.IsNaN(a) || math.IsNaN(b) {
		return math.IsNaN(a) && math.IsNaN(b)
	}
	return math.Abs(a-b) <= 1e-9*math.Max(1, math.Max(math.Abs(a), math.Abs(b)))
}

func sameFindings(t *testing.T, got, want []cost.Finding) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%d findings, want %d", len(got), len(want))
	}
	for i := range got {
		g, w := got[i], want[i]
		if !sumNear(g.Actual, w.Actual) || !sumNear(g.Forecast, w.Forecast) {
			t.Errorf("finding %d %s: actual %v forecast %v, want %v %v", i, g.Rule, g.Actual, g.Forecast, w.Actual, w.Forecast)
		}
		g.Actual, g.Forecast = w.Actual, w.Forecast
		if g.Chart != nil && w.Chart != nil && len(g.Chart.Values) == len(w.Chart.Values) {
			for j := range g.Chart.Values {
				if !sumNear(g.Chart.Values[j], w.Chart.Values[j]) {
					t.Errorf("finding %d %s: chart day %d %v, want %v", i, g.Rule, j, g.Chart.Values[j], w.Chart.Values[j])
				}
			}
			g.Chart = w.Chart
		}
		if !reflect.DeepEqual(g, w) {
			t.Errorf("finding %d:\n got %+v\nwant %+v", i, g, w)
		}
	}
}

func sameStatuses(t *testing.T, got, want []cost.BudgetStatus) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%d statuses, want %d", len(got), len(want))
	}
	for i := range got {
		g, w := got[i], want[i]
		if !sumNear(g.Actual, w.Actual) || !sumNear(g.Forecast, w.Forecast) {
			t.Errorf("status %d %s: actual %v forecast %v, want %v %v", i, g.Rule, g.Actual, g.Forecast, w.Actual, w.Forecast)
		}
		g.Actual, g.Forecast = w.Actual, w.Forecast
		if !reflect.DeepEqual(g, w) {
			t.Errorf("status %d:\n got %+v\nwant %+v", i, g, w)
		}
	}
}

// BenchmarkSet_Budgets compares the daily index with the old row scan
// (rowBudgets, which a cycle ran twice: Run and then Set.Budgets for the
// slash commands) on 10 accounts x 200 services x 90 days and the budgets
// of indexRules. Run:
//
//	go test -run '^$' -bench 'Set_Budgets' -benchmem ./internal/rules/
func BenchmarkSet_Budgets(b *testing.B) {
	set, err := Parse("index.yaml", []byte(indexRules))
	if err != nil {
		b.Fatal(err)
	}
	end := date(2026, 11, 30)
	accts, usage := fleet(b, 10, 200, 90, end)
	in := Input{Now: end.Add(36 * time.Hour), Accounts: accts, Usage: usage}
	ix := newIndex(in)
	b.Run("rows", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			rowBudgets(set, ix, in.Now)
		}
	})
	b.Run("rows_twice", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			rowBudgets(set, ix, in.Now)
			rowBudgets(set, ix, in.Now)
		}
	})
	b.Run("index", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			set.budgets(ix, in.Now)
		}
	})
}
