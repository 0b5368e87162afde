// Package rules loads costbot's rule files (rules/*.yaml) and evaluates them.
//
// A rule file has up to three sections; the shipped files in rules/ document
// every field and default:
//
//	budgets:
//	  - name: workers-monthly          # unique across all files
//	    scope: {account: production, family: "Workers*"}  # globs; empty = all
//	    period: billing_period         # | month | week | day
//	    timezone: UTC                  # for month/week/day
//	    amount: 250
//	    currency: USD
//	    thresholds:
//	      - {percent: 80, on: actual, severity: warning}
//	      - {amount: 400, on: forecast, severity: critical}
//	    notify: [finops]               # empty = every notifier
//	anomalies:
//	  - {name: service-spikes, scope: {account: "*"}, method: ensemble, sensitivity: medium,
//	     direction: up, min_impact: 5, min_change: 0.2, warmup_days: 28, severity: warning}
//	cards:
//	  - {name: card-expiry, account: "*", warn_days: [30, 7, 1]}
//
// Files are decoded strictly (an unknown key is an error) and every problem is
// reported with file:line:col, rule and field; see Error and Errors.
//
// Evaluation is pure: Evaluate and Budgets take the data and the current time
// in an Input and return findings. They do no I/O and never read the clock.
package rules

import (
	"fmt"
	"path"
	"sort"
	"strconv"
	"time"

	"github.com/costbot/costbot/internal/cost"
	"github.com/costbot/costbot/internal/detect"
)

// Set is a loaded, validated collection of rules. The zero value is an empty
// set. A Set is safe for concurrent evaluation once loaded.
type Set struct {
	BudgetRules  []*Budget
	AnomalyRules []*Anomaly
	CardRules    []*CardRule

	// Detector runs the anomaly detector over one daily series; nil means
	// detect.Series. Tests and tools may substitute their own.
	Detector DetectFunc
}

// Pos is where a rule is defined.
type Pos struct {
	File string
	Line int
	Col  int
}

// String renders "file:line:col".
func (p Pos) String() string { return fmt.Sprintf("%s:%d:%d", p.File, p.Line, p.Col) }

// Scope selects usage rows. Each field is an exact value or a path.Match glob
// ("Workers*"); an empty field matches everything. Account matches either the
// account's configured name or its Cloudflare id.
type Scope struct {
	Account string
	Family  string
	Service string
	Zone    string
}

// matchAccount reports whether the account pattern matches acct by name or id.
func (s Scope) matchAccount(acct cost.Account) bool {
	return globMatch(s.Account, acct.Name) || globMatch(s.Account, acct.ID)
}

// matchRow reports whether family, service and zone patterns match the row.
func (s Scope) matchRow(u cost.Usage) bool {
	return globMatch(s.Family, u.Family) && globMatch(s.Service, u.Service) && globMatch(s.Zone, u.Zone)
}

func globMatch(pattern, s string) bool {
	if pattern == "" {
		return true
	}
	ok, err := path.Match(pattern, s)
	return err == nil && ok // patterns are validated at load time
}

// PeriodKind is how a budget's period is cut.
type PeriodKind int

const (
	// PeriodBillingPeriod is the invoice period the usage rows carry
	// (cost.Usage.BillingPeriod); the default.
	PeriodBillingPeriod PeriodKind = iota + 1
	// PeriodMonth is the calendar month in the rule's timezone.
	PeriodMonth
	// PeriodWeek is the ISO week (Monday to Sunday) in the rule's timezone.
	PeriodWeek
	// PeriodDay is the calendar day in the rule's timezone.
	PeriodDay
)

var periodNames = map[PeriodKind]string{
	PeriodBillingPeriod: "billing_period",
	PeriodMonth:         "month",
	PeriodWeek:          "week",
	PeriodDay:           "day",
}

// String returns the name used in rule files.
func (p PeriodKind) String() string {
	if s, ok := periodNames[p]; ok {
		return s
	}
	return fmt.Sprintf("period(%d)", int(p))
}

// On says what a budget threshold is compared with.
type On int

const (
	// OnActual compares spend so far in the period; the default.
	OnActual On = iota + 1
	// OnForecast compares the forecast for the whole period.
	OnForecast
)

// String returns "actual" or "forecast".
func (o On) String() string {
	switch o {
	case OnActual:
		return "actual"
	case OnForecast:
		return "forecast"
	}
	return fmt.Sprintf("on(%d)", int(o))
}

// Budget is one budget rule: spend in Scope per Period against Amount.
type Budget struct {
	Name     string
	Scope    Scope
	Period   PeriodKind     // default PeriodBillingPeriod
	Timezone string         // IANA name for month/week/day boundaries; default "UTC"
	Location *time.Location // Timezone, loaded
	Amount   float64        // budget per period in Currency; > 0
	Currency string         // ISO 4217, must match the data
	// Thresholds fire independently; each has its own stable Threshold string.
	Thresholds []Threshold
	Notify     []string // notifier names; empty means every notifier
	Pos        Pos
}

// Threshold is one level of a budget. Exactly one of Percent and Amount is set.
type Threshold struct {
	Percent  float64 // of the budget amount, in (0, 1000]
	Amount   float64 // absolute value in the budget's currency, > 0
	On       On
	Severity cost.Severity // default warning
}

// Limit is the threshold in currency for a budget of the given amount.
func (t Threshold) Limit(budget float64) float64 {
	if t.Percent > 0 {
		return budget * t.Percent / 100
	}
	return t.Amount
}

// Name is the stable Threshold string of findings, e.g. "actual>=80%" or
// "forecast>=400USD".
func (t Threshold) Name(currency string) string {
	if t.Percent > 0 {
		return fmt.Sprintf("%s>=%s%%", t.On, fmtNum(t.Percent))
	}
	return fmt.Sprintf("%s>=%s%s", t.On, fmtNum(t.Amount), currency)
}

// Anomaly is one anomaly rule: every service series in Scope is checked.
type Anomaly struct {
	Name        string
	Scope       Scope
	Method      string  // detector method, validated by detect.ParseMethod; default "ensemble"
	Sensitivity string  // low | medium | high; default "medium"
	Direction   string  // up | down | both; default "up"
	MinImpact   float64 // minimum |observed-expected| in currency per day; default 5 (detect.DefaultOptions)
	MinChange   float64 // minimum relative change, e.g. 0.2 = 20%; default 0.2 (detect.DefaultOptions)
	WarmupDays  int     // days of history before any alert; default 28 (detect.DefaultOptions)
	Severity    cost.Severity
	Notify      []string
	Pos         Pos

	opts detectOptions
}

// Options returns the detector options the rule runs with: the rule's fields
// on top of detect.DefaultOptions, with a weekly season.
func (a *Anomaly) Options() detect.Options { return a.opts }

// CardRule warns before the payment card of matching accounts expires.
type CardRule struct {
	Name    string
	Account string // name or id, exact or glob; empty = all
	// WarnDays are the stages, in days before expiry; default [30, 7, 1].
	WarnDays []int
	Notify   []string
	Pos      Pos
}

// Len is the number of rules of every kind.
func (s *Set) Len() int {
	if s == nil {
		return 0
	}
	return len(s.BudgetRules) + len(s.AnomalyRules) + len(s.CardRules)
}

// Names returns every rule's name: budgets, anomalies, cards, each in file order.
func (s *Set) Names() []string {
	if s == nil {
		return nil
	}
	var out []string
	for _, r := range s.BudgetRules {
		out = append(out, r.Name)
	}
	for _, r := range s.AnomalyRules {
		out = append(out, r.Name)
	}
	for _, r := range s.CardRules {
		out = append(out, r.Name)
	}
	return out
}

// Notifiers returns every notifier name a rule references, sorted and unique,
// so the config check can reject names it does not know.
func (s *Set) Notifiers() []string {
	if s == nil {
		return nil
	}
	seen := map[string]bool{}
	add := func(ns []string) {
		for _, n := range ns {
			seen[n] = true
		}
	}
	for _, r := range s.BudgetRules {
		add(r.Notify)
	}
	for _, r := range s.AnomalyRules {
		add(r.Notify)
	}
	for _, r := range s.CardRules {
		add(r.Notify)
	}
	out := make([]string, 0, len(seen))
	for n := range seen {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}

// fmtNum renders a number without exponent or trailing zeros: 80, 12.5, 1000000.
func fmtNum(f float64) string {
	return strconv.FormatFloat(f, 'f', -1, 64)
}
