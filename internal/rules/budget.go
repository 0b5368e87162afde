package rules

import (
	"fmt"
	"math"
	"sort"
	"strings"
	"time"

	"github.com/costbot/costbot/internal/cost"
)

// chartDays is how many recent days charts show.
const chartDays = 20

// budgetEval is one budget evaluated for one account.
type budgetEval struct {
	rule   *Budget
	scope  cost.Scope
	status cost.BudgetStatus
	// days/values is the daily spend of the scope up to the last complete day.
	days   []time.Time
	values []float64
	// daily is the forecast from fstart on.
	fstart time.Time
	daily  []float64
	// last is the account's last complete day (zero without data).
	last time.Time
	// closed marks a period that has ended: only actual thresholds apply.
	closed bool
}

// budgets evaluates every budget for each account it applies to, in rule
// then account order, from daily indexes built once for the call. It
// returns the findings (the current period and, while the account's data
// has not reached it, the previous one), the status of each budget in the
// current period (what Set.Budgets reports) and the data problems.
func (s *Set) budgets(ix *index, now time.Time) ([]cost.Finding, []cost.BudgetStatus, []error) {
	var out []cost.Finding
	var sts []cost.BudgetStatus
	var errs []error
	bi := newBudgetIndex(ix, now)
	for _, b := range s.BudgetRules {
		for _, acct := range ix.accounts {
			if !b.Scope.matchAccount(acct) {
				continue
			}
			ad := bi.account(acct.ID)
			ev, err := evalBudgetAt(b, acct, ad, now, time.Time{})
			if err != nil {
				errs = append(errs, err)
				continue
			}
			if ev == nil {
				continue
			}
			sts = append(sts, ev.status)
			// Data lags about a day: until the last day of the previous
			// period is in, that period is checked too, or a daily budget
			// could never fire and a month's last-day overrun would be lost.
			if !ev.last.IsZero() && ev.last.Before(ev.status.Period.Start) {
				if prev, err := evalBudgetAt(b, acct, ad, now, ev.last); err != nil {
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

// evalBudgetAt evaluates b for one account from its index: the period
// containing the date label at (a closed period whose last days are still
// arriving), or the current one when at is zero. It returns nil, nil when
// there is nothing to evaluate (no data at all).
func evalBudgetAt(b *Budget, acct cost.Account, ad *acctDays, now, at time.Time) (*budgetEval, error) {
	scope := cost.Scope{Account: acct.ID, AccountName: acct.Name, Family: b.Scope.Family, Service: b.Scope.Service, Zone: b.Scope.Zone}
	fail := func(c Cause, p cost.Period, format string, args ...any) error {
		return &DataError{Rule: b.Name, Scope: scope, Msg: fmt.Sprintf(format, args...), Cause: c, Period: p}
	}
	if ad.n == 0 {
		return nil, nil
	}
	sd := ad.scope(b.Scope)
	if bad := otherCurrencyNames(sd.curs, b.Currency); len(bad) > 0 {
		return nil, fail(CauseCurrency, cost.Period{}, "currency mismatch: rule is in %s, data is in %s; budget skipped", b.Currency, strings.Join(bad, ", "))
	}

	today := todayLabel(b, now)
	ref := today
	if !at.IsZero() {
		ref = at
	}
	period, ok := periodFor(b, ad.periods, ref)
	if !ok {
		return nil, fail(CauseNoPeriod, cost.Period{}, "no billing period in the data for account %s", label(acct))
	}
	pr := ad.project(sd, period, b.Period == PeriodBillingPeriod, now)
	if len(pr.Unknown) > 0 {
		return nil, fail(CauseUnknownCost, period, "cost unknown for %s in %s; budget not evaluated", strings.Join(pr.Unknown, ", "), period)
	}
	actual, forecast := pr.Actual, pr.Forecast
	ev := &budgetEval{rule: b, scope: scope, last: pr.Last, closed: !at.IsZero(),
		days: pr.Days, values: pr.Values, fstart: pr.Start, daily: pr.Daily}
	ev.status = cost.BudgetStatus{
		Rule:      b.Name,
		Scope:     scope,
		Period:    period,
		Currency:  b.Currency,
		Budget:    b.Amount,
		Actual:    actual,
		Forecast:  forecast,
		CrossDate: ev.cross(actual, b.Amount),
		DaysLeft:  max(0, int(period.End.Sub(today)/day)),
	}
	return ev, nil
}

// Projection is the spend so far and the forecast of one account's scope
// over one period, computed the way budget rules compute them. Budgets,
// the digest and the /costbot forecast command all use it, so they show the
// same figures for the same scope and period.
type Projection struct {
	Period cost.Period
	// Actual is the known spend of the scope in Period so far, in the rows'
	// currency.
	Actual float64
	// Forecast is Actual plus the forecast of every day still to come in
	// Period (see Forecast); Actual when the account has no complete day yet.
	Forecast float64
	// Days and Values are the scope's daily spend (NaN when unknown) over up
	// to 35 days ending with Last, starting no earlier than the account's
	// first day with data; corrections are left out.
	Days   []time.Time
	Values []float64
	// Daily is the forecast per day from Start (the later of Period.Start and
	// the day after Last) up to Period.End.
	Start time.Time
	Daily []float64
	// Last is the account's last complete day: its newest charge day before
	// now (zero without data).
	Last time.Time
	// Unknown lists, sorted, the services with a row of unknown cost in
	// Period; when it is not empty Actual and Forecast are not known.
	Unknown []string
}

// Project computes the Projection of the rows match selects (nil selects
// all) over period. rows are every row of one account: the account's last
// complete day comes from all of them. When billing is true rows belong to
// period by their billing period (budgets with period billing_period, which
// count invoice corrections); otherwise by their charge day. It does not
// check currencies: callers pass rows of one currency.
func Project(rows []cost.Usage, match func(cost.Usage) bool, period cost.Period, billing bool, now time.Time) Projection {
	scoped := matching(rows, match)
	pr := Projection{Period: period}
	inPeriod := func(u cost.Usage) bool {
		if billing {
			return u.BillingPeriod.Start.Equal(period.Start)
		}
		return period.Contains(cost.Day(u.Day))
	}
	unknown := map[string]bool{}
	for _, u := range scoped {
		if !inPeriod(u) {
			continue
		}
		if !u.CostKnown {
			unknown[u.Service] = true
			continue
		}
		pr.Actual += u.Cost
	}
	if len(unknown) > 0 {
		pr.Unknown = sortedKeys(unknown)
	}

	// Daily spend of the scope, through the last day the account has data.
	// It starts at the account's first day with data, so a new account's
	// forecast is not dragged down by days before it existed.
	var firstData, last time.Time
	for _, u := range rows {
		d := cost.Day(u.Day)
		if u.Correction || !d.Before(now) {
			continue
		}
		if d.After(last) {
			last = d
		}
		if firstData.IsZero() || d.Before(firstData) {
			firstData = d
		}
	}
	pr.Last = last
	if !last.IsZero() {
		n := forecastHistory + 7
		if have := int(last.Sub(firstData)/day) + 1; have < n {
			n = have
		}
		first := last.Add(-time.Duration(n-1) * day)
		pr.Days = make([]time.Time, n)
		pr.Values = make([]float64, n)
		for i := range pr.Days {
			pr.Days[i] = first.Add(time.Duration(i) * day)
		}
		for _, u := range scoped {
			d := cost.Day(u.Day)
			if u.Correction || d.Before(first) || d.After(last) {
				continue
			}
			i := int(d.Sub(first) / day)
			if !u.CostKnown {
				pr.Values[i] = math.NaN()
			} else {
				pr.Values[i] += u.Cost
			}
		}
		_, pr.Daily = Forecast(pr.Days, pr.Values, period, now)
		pr.Start = period.Start
		if s := last.Add(day); s.After(pr.Start) {
			pr.Start = s
		}
	}
	pr.Forecast = pr.Actual
	for _, v := range pr.Daily {
		pr.Forecast += v
	}
	return pr
}

// BillingForecast is what a budget with period billing_period computes for
// the rows match selects (nil selects all) among rows, every row of one
// account: the current billing period (rolled forward when today is past
// the newest one), the spend so far, the forecast and the days left, in the
// rows' currency; Budget is 0 and CrossDate zero. It fails like such a
// budget, with a *DataError, when the rows have no billing period, a cost is
// unknown or the scope's rows are in more than one currency.
func BillingForecast(rows []cost.Usage, match func(cost.Usage) bool, now time.Time) (cost.BudgetStatus, error) {
	b := &Budget{Period: PeriodBillingPeriod}
	fail := func(c Cause, p cost.Period, format string, args ...any) error {
		return &DataError{Msg: fmt.Sprintf(format, args...), Cause: c, Period: p}
	}
	check := matching(rows, match)
	if len(check) == 0 {
		check = rows
	}
	curs := map[string]bool{}
	for _, u := range check {
		if u.Currency != "" {
			curs[strings.ToUpper(u.Currency)] = true
		}
	}
	if len(curs) > 1 {
		return cost.BudgetStatus{}, fail(CauseCurrency, cost.Period{}, "currency mismatch: data is in %s; forecast skipped", strings.Join(sortedKeys(curs), ", "))
	}
	today := todayLabel(b, now)
	period, ok := budgetPeriod(b, rows, today)
	if !ok {
		return cost.BudgetStatus{}, fail(CauseNoPeriod, cost.Period{}, "no billing period in the data")
	}
	pr := Project(rows, match, period, true, now)
	if len(pr.Unknown) > 0 {
		return cost.BudgetStatus{}, fail(CauseUnknownCost, period, "cost unknown for %s in %s; forecast not computed", strings.Join(pr.Unknown, ", "), period)
	}
	var cur string
	for c := range curs {
		cur = c
	}
	return cost.BudgetStatus{
		Period:   period,
		Currency: cur,
		Actual:   pr.Actual,
		Forecast: pr.Forecast,
		DaysLeft: max(0, int(period.End.Sub(today)/day)),
	}, nil
}

// matching returns the rows match selects; all of them when match is nil.
func matching(rows []cost.Usage, match func(cost.Usage) bool) []cost.Usage {
	if match == nil {
		return rows
	}
	var out []cost.Usage
	for _, u := range rows {
		if match(u) {
			out = append(out, u)
		}
	}
	return out
}

// cross is the first forecast day on which cumulative spend reaches limit;
// zero when spend already reached it or the forecast never does.
func (ev *budgetEval) cross(actual, limit float64) time.Time {
	if actual >= limit {
		return time.Time{}
	}
	cum := actual
	for i, v := range ev.daily {
		cum += v
		if cum >= limit {
			return ev.fstart.Add(time.Duration(i) * day)
		}
	}
	return time.Time{}
}

// findings returns one finding per crossed threshold. Every crossed
// threshold is reported (not only the highest), so a lower one does not look
// resolved when a higher one fires.
func (ev *budgetEval) findings() []cost.Finding {
	b, st := ev.rule, ev.status
	var out []cost.Finding
	for _, t := range b.Thresholds {
		limit := t.Limit(b.Amount)
		f := cost.Finding{
			Kind:      cost.KindBudget,
			Rule:      b.Name,
			Scope:     ev.scope,
			Period:    st.Period,
			Threshold: t.Name(b.Currency),
			Severity:  t.Severity,
			Notifiers: append([]string(nil), b.Notify...),
			Currency:  b.Currency,
			Actual:    st.Actual,
			Budget:    b.Amount,
			Limit:     limit,
			Forecast:  st.Forecast,
			CrossDate: st.CrossDate,
			Chart:     ev.chart(),
		}
		what := scopeLabel(b.Scope, ev.scope.AccountLabel())
		per := periodLabel(b.Period, st.Period)
		pct := 100 * st.Actual / b.Amount
		switch t.On {
		case OnActual:
			if st.Actual < limit {
				continue
			}
			if t.Percent > 0 {
				f.Title = fmt.Sprintf("%s budget at %.0f%% of %s (%s)", what, pct, cost.Money(b.Amount, b.Currency), per)
			} else {
				f.Title = fmt.Sprintf("%s spend %s passed %s (%s)", what, cost.Money(st.Actual, b.Currency), cost.Money(limit, b.Currency), per)
			}
		case OnForecast:
			if ev.closed || st.Forecast < limit {
				continue
			}
			f.Kind = cost.KindForecast
			f.CrossDate = ev.cross(st.Actual, limit)
			if t.Percent > 0 {
				f.Title = fmt.Sprintf("%s forecast %s exceeds %s of %s budget (%s)", what, cost.Money(st.Forecast, b.Currency),
					fmtNum(t.Percent)+"%", cost.Money(b.Amount, b.Currency), per)
			} else {
				f.Title = fmt.Sprintf("%s forecast %s exceeds %s (%s)", what, cost.Money(st.Forecast, b.Currency), cost.Money(limit, b.Currency), per)
			}
		}
		f.Summary = ev.summary(f, pct)
		out = append(out, f)
	}
	return out
}

func (ev *budgetEval) summary(f cost.Finding, pct float64) string {
	st := ev.status
	left := fmt.Sprintf("%d days left", st.DaysLeft)
	if ev.closed {
		left = "the period has ended"
	}
	line1 := fmt.Sprintf("Spent %s of %s (%.0f%%) in %s; %s.", cost.Money(st.Actual, st.Currency),
		cost.Money(st.Budget, st.Currency), pct, periodLabel(ev.rule.Period, st.Period), left)
	line2 := fmt.Sprintf("Forecast for the period: %s (%.0f%% of budget)", cost.Money(st.Forecast, st.Currency), 100*st.Forecast/st.Budget)
	if !f.CrossDate.IsZero() {
		target := st.Budget // KindBudget: CrossDate is when the whole budget is reached
		if f.Kind == cost.KindForecast {
			target = f.Limit
		}
		line2 += fmt.Sprintf("; spend reaches %s on %s", cost.Money(target, st.Currency), f.CrossDate.Format("Jan 2"))
	}
	return line1 + "\n" + line2 + ".\nRule " + ev.rule.Name + ", threshold " + f.Threshold + "."
}

// chart is the last ≤20 days of daily spend with the daily budget as reference.
func (ev *budgetEval) chart() *cost.Chart {
	if len(ev.days) == 0 {
		return nil
	}
	from := len(ev.days) - chartDays
	if from < 0 {
		from = 0
	}
	n := len(ev.days) - from
	perDay := ev.rule.Amount / float64(ev.status.Period.Days())
	ref := make([]float64, n)
	for i := range ref {
		ref[i] = perDay
	}
	return &cost.Chart{
		Title:          fmt.Sprintf("%s daily spend", scopeLabel(ev.rule.Scope, ev.scope.AccountLabel())),
		Days:           append([]time.Time(nil), ev.days[from:]...),
		Values:         append([]float64(nil), ev.values[from:]...),
		Reference:      ref,
		ReferenceLabel: fmt.Sprintf("daily budget %s", cost.Money(perDay, ev.rule.Currency)),
	}
}

// todayLabel is now's calendar date in the rule's timezone (UTC for billing
// periods), as a UTC midnight like cost.Usage.Day.
func todayLabel(b *Budget, now time.Time) time.Time {
	loc := b.Location
	if loc == nil || b.Period == PeriodBillingPeriod {
		loc = time.UTC
	}
	l := now.In(loc)
	return time.Date(l.Year(), l.Month(), l.Day(), 0, 0, 0, 0, time.UTC)
}

// budgetPeriod returns the period containing the date label d. Calendar
// periods are local dates in the rule's timezone, held as UTC midnights like
// cost.Usage.Day. A billing period comes from the rows; when d is past the
// newest one (the first day of an invoice lags) it is rolled forward to
// the period holding d on the same billing-cycle anchor.
func budgetPeriod(b *Budget, rows []cost.Usage, d time.Time) (cost.Period, bool) {
	var ps []cost.Period
	if b.Period == PeriodBillingPeriod {
		for _, u := range rows {
			ps = append(ps, u.BillingPeriod)
		}
	}
	return periodFor(b, ps, d)
}

// periodFor is budgetPeriod over the rows' billing periods.
func periodFor(b *Budget, periods []cost.Period, d time.Time) (cost.Period, bool) {
	switch b.Period {
	case PeriodMonth:
		s := time.Date(d.Year(), d.Month(), 1, 0, 0, 0, 0, time.UTC)
		return cost.Period{Start: s, End: s.AddDate(0, 1, 0)}, true
	case PeriodWeek:
		s := d.AddDate(0, 0, -((int(d.Weekday()) + 6) % 7))
		return cost.Period{Start: s, End: s.AddDate(0, 0, 7)}, true
	case PeriodDay:
		return cost.Period{Start: d, End: d.AddDate(0, 0, 1)}, true
	}
	var latest cost.Period
	for _, bp := range periods {
		if bp.IsZero() || !bp.End.After(bp.Start) {
			continue
		}
		if bp.Contains(d) {
			return bp, true
		}
		if bp.Start.After(latest.Start) && !bp.Start.After(d) {
			latest = bp
		}
	}
	if latest.IsZero() {
		return cost.Period{}, false
	}
	// Roll forward on the anchor the rows' period shows (cost.AnchorDayOf),
	// not by adding months to its start: Feb 28 + 1 month is Mar 28, but
	// an anchor on the 31st starts the next period on Mar 31.
	if p := cost.BillingPeriod(d, cost.AnchorDayOf(latest)); p.Contains(d) && !p.Start.Before(latest.End) {
		return p, true
	}
	return cost.Period{}, false
}

// otherCurrencyNames returns, sorted, the currencies in curs that are not
// want (compared without case).
func otherCurrencyNames(curs []string, want string) []string {
	var bad []string
	for _, c := range curs {
		if c != "" && !strings.EqualFold(c, want) {
			bad = append(bad, c)
		}
	}
	sort.Strings(bad)
	return bad
}

func sortedKeys(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// scopeLabel names a scope for humans: the service or family without glob
// characters, or "Total"; plus the account in parentheses.
func scopeLabel(s Scope, account string) string {
	what := "Total"
	switch {
	case s.Service != "":
		what = strings.Trim(s.Service, "*?[]")
	case s.Family != "":
		what = strings.Trim(s.Family, "*?[]")
	}
	if what == "" {
		what = "Total"
	}
	if account == "" {
		return what
	}
	return what + " (" + account + ")"
}

func periodLabel(k PeriodKind, p cost.Period) string {
	switch k {
	case PeriodMonth:
		return p.Start.Format("January 2006")
	case PeriodWeek:
		return "week of " + p.Start.Format("2 Jan 2006")
	case PeriodDay:
		return p.Start.Format("2 Jan 2006")
	}
	return "billing period " + cost.FormatPeriod(p) // last day inclusive, as every surface writes it
}
