// Package cost is costbot's shared vocabulary: usage line items, periods,
// money, card details, findings and alerts. Every other package speaks in
// these types; cost itself imports only the standard library.
package cost

import (
	"fmt"
	"strings"
	"time"
)

// Period is a half-open UTC interval [Start, End).
type Period struct {
	Start time.Time
	End   time.Time
}

// Contains reports whether t lies in [Start, End).
func (p Period) Contains(t time.Time) bool {
	return !t.Before(p.Start) && t.Before(p.End)
}

// Days is the number of whole or partial days in the period.
func (p Period) Days() int {
	d := p.End.Sub(p.Start)
	n := int(d / (24 * time.Hour))
	if d%(24*time.Hour) != 0 {
		n++
	}
	return n
}

// IsZero reports whether the period is unset.
func (p Period) IsZero() bool { return p.Start.IsZero() && p.End.IsZero() }

// String renders the period as "2006-01-02..2006-01-02" with an exclusive end.
func (p Period) String() string {
	return p.Start.Format("2006-01-02") + ".." + p.End.Format("2006-01-02")
}

// Day truncates t to midnight UTC of its UTC calendar day.
func Day(t time.Time) time.Time {
	// Unix time has no leap seconds, so a UTC day is 86,400 of its
	// seconds: flooring is the same instant and the same Time value as
	// time.Date(y, m, d, 0, 0, 0, 0, time.UTC), at a tenth of the cost
	// (every usage row of every cycle passes here).
	const day = 24 * 60 * 60
	s := t.Unix()
	d := s / day
	if s%day < 0 {
		d--
	}
	return time.Unix(d*day, 0).UTC()
}

// Account identifies one Cloudflare account costbot watches.
type Account struct {
	ID   string // Cloudflare account id (32 hex chars)
	Name string // human name from the config, e.g. "production"
}

// Usage is one normalized line item: one account, one service, one UTC day.
// Raw API rows never leave package billing; this is what they become.
type Usage struct {
	Account string // account id
	Service string // service display name (v1 ServiceName, v2 x_BillableMetricName)
	Family  string // service family (v1 ServiceFamilyName, v2 x_ProductFamilyName); "" when absent
	Zone    string // zone name; "" when the row is not zone-scoped
	// Day is the UTC midnight that starts the charge period (ChargePeriodStart).
	Day time.Time
	// BillingPeriod is the invoice period the row belongs to (BillingPeriodStart/End).
	BillingPeriod Period
	// Cost is the billed cost of the day in Currency. It is meaningful only when
	// CostKnown is true: a missing cost field is unknown, never zero.
	Cost      float64
	CostKnown bool
	Currency  string // ISO 4217, e.g. "USD"
	Quantity  float64
	Unit      string
	// Correction marks a FOCUS ChargeClass "Correction" row: it fixes an earlier,
	// already invoiced period and its Day may lie before BillingPeriod.Start.
	Correction bool
}

// Key identifies the series a usage row belongs to (account, service, zone).
func (u Usage) Key() SeriesKey {
	return SeriesKey{Account: u.Account, Service: u.Service, Family: u.Family, Zone: u.Zone}
}

// SeriesKey names one per-service cost series.
type SeriesKey struct {
	Account string
	Service string
	Family  string
	Zone    string
}

// String renders the key as "account/family/service[@zone]".
func (k SeriesKey) String() string {
	s := k.Account + "/" + k.Service
	if k.Zone != "" {
		s += "@" + k.Zone
	}
	return s
}

// Card is the payment card on an account's billing profile.
type Card struct {
	Account     string
	ExpiryMonth int    // 1-12
	ExpiryYear  int    // four digits
	Masked      string // e.g. "************4242"; never the full number
}

// ExpiresAt is the first instant (UTC) the card no longer works: a card works
// through the end of its expiry month.
func (c Card) ExpiresAt() time.Time {
	return time.Date(c.ExpiryYear, time.Month(c.ExpiryMonth)+1, 1, 0, 0, 0, 0, time.UTC)
}

// Last4 returns the last four characters of the masked number, or "" when unknown.
func (c Card) Last4() string {
	m := strings.TrimSpace(c.Masked)
	if len(m) < 4 {
		return ""
	}
	return m[len(m)-4:]
}

// Snapshot is what one fetch returned for one account.
type Snapshot struct {
	Account   Account
	FetchedAt time.Time
	// Range is the charge-day range the fetch covered.
	Range Period
	Usage []Usage
	// Card is nil when the billing profile had no card or could not be read.
	Card *Card
}

// Kind says what a finding is about.
type Kind int

const (
	// KindBudget is an actual-spend budget threshold crossing.
	KindBudget Kind = iota + 1
	// KindForecast is a forecast-spend budget threshold crossing.
	KindForecast
	// KindAnomaly is an anomalous day in one service's cost series.
	KindAnomaly
	// KindCardExpiry is a card that expires soon or has expired.
	KindCardExpiry
	// KindStale says data for an account is missing or could not be fetched.
	KindStale
	// KindDigest is the daily summary: spend so far, forecast, top movers.
	KindDigest
	// KindRuleProblem says a rule could not be evaluated for a scope (its
	// scope matches no usage, its currency differs from the bill, a cost is
	// unknown, no billing period): the rule is silent until it clears.
	KindRuleProblem
	// KindNotifier says a notifier was disabled (its receiver answered 410
	// Gone); it goes to the other notifiers.
	KindNotifier
)

var kindNames = map[Kind]string{
	KindBudget:      "budget",
	KindForecast:    "forecast",
	KindAnomaly:     "anomaly",
	KindCardExpiry:  "card_expiry",
	KindStale:       "stale",
	KindDigest:      "digest",
	KindRuleProblem: "rule_problem",
	KindNotifier:    "notifier",
}

// String returns the lower-case name used in labels and logs.
func (k Kind) String() string {
	if s, ok := kindNames[k]; ok {
		return s
	}
	return fmt.Sprintf("kind(%d)", int(k))
}

// ParseKind is the inverse of Kind.String.
func ParseKind(s string) (Kind, error) {
	for k, n := range kindNames {
		if n == s {
			return k, nil
		}
	}
	return 0, fmt.Errorf("unknown finding kind %q", s)
}

// Severity orders findings; a higher severity on the same scope is an escalation.
type Severity int

const (
	// SeverityInfo is worth knowing, no action needed.
	SeverityInfo Severity = iota + 1
	// SeverityWarning needs a look within the day.
	SeverityWarning
	// SeverityCritical needs action now.
	SeverityCritical
)

var severityNames = map[Severity]string{
	SeverityInfo:     "info",
	SeverityWarning:  "warning",
	SeverityCritical: "critical",
}

// String returns "info", "warning" or "critical".
func (s Severity) String() string {
	if n, ok := severityNames[s]; ok {
		return n
	}
	return fmt.Sprintf("severity(%d)", int(s))
}

// ParseSeverity is the inverse of Severity.String.
func ParseSeverity(s string) (Severity, error) {
	for k, n := range severityNames {
		if n == s {
			return k, nil
		}
	}
	return 0, fmt.Errorf("unknown severity %q (want info, warning or critical)", s)
}

// Scope is what a finding is about. Empty fields mean "all".
type Scope struct {
	// Account is the account id, or the account pattern as configured when
	// the scope spans several accounts. It is part of an alert's identity.
	Account string
	// AccountName is the account's configured name, for rendering only: it is
	// not part of an alert's identity, so renaming an account re-fires
	// nothing. Empty when the account has no name or Account is a pattern.
	AccountName string
	Service     string
	Family      string
	Zone        string
}

// AccountLabel is how the account appears to people: AccountName, else Account.
func (s Scope) AccountLabel() string {
	if s.AccountName != "" {
		return s.AccountName
	}
	return s.Account
}

// String renders the non-empty parts for people, e.g.
// "account=prod service=Workers*", with the account's name when known.
func (s Scope) String() string {
	var parts []string
	add := func(k, v string) {
		if v != "" {
			parts = append(parts, k+"="+v)
		}
	}
	add("account", s.AccountLabel())
	add("family", s.Family)
	add("service", s.Service)
	add("zone", s.Zone)
	if len(parts) == 0 {
		return "all"
	}
	return strings.Join(parts, " ")
}

// AnomalyDetail explains an anomaly finding.
type AnomalyDetail struct {
	Expected float64   // baseline cost for the day, in the finding's currency
	Observed float64   // observed cost for the day
	Sigma    float64   // deviation in robust standard deviations (signed)
	Impact   float64   // Observed - Expected, per day (signed)
	Score    float64   // ensemble score in [0,1]
	Detector string    // which detector(s) fired, e.g. "seasonal_mad+esd"
	Since    time.Time // first anomalous day of this episode (UTC midnight)
	Day      time.Time // the judged day (UTC midnight)
	Outage   bool      // a drop to near zero
}

// CardDetail explains a card-expiry finding.
type CardDetail struct {
	Masked    string
	ExpiresAt time.Time // first instant the card stops working
	DaysLeft  int       // whole days from now to ExpiresAt; <= 0 means expired
}

// Finding is one thing rules or detectors found, before alert state is applied.
// Rules and detectors return findings; they never send anything.
type Finding struct {
	Kind   Kind
	Rule   string // rule name from rules/*.yaml
	Scope  Scope
	Period Period // the budget period, the anomaly day, or the card's expiry month
	// Threshold names the crossed threshold stably, e.g. "actual>=80%" or "card<=7d".
	Threshold string
	Severity  Severity
	Notifiers []string // notifier names; empty means every notifier

	Title   string // one line: what happened
	Summary string // a few lines: by how much, against what

	Currency string
	Actual   float64 // spend so far in the period
	Budget   float64 // the budget amount (0 when not a budget finding)
	Limit    float64 // the threshold value in currency
	Forecast float64 // forecast for the whole period (0 when not computed)
	// CrossDate is when the forecast says the threshold will be crossed (zero if never).
	CrossDate time.Time

	Anomaly *AnomalyDetail
	Card    *CardDetail
	Chart   *Chart // optional: recent daily spend with the budget or baseline

	// Clear, when set, says the condition is known to have cleared and why
	// (e.g. "revised data for Aug 9 no longer shows it"): the alert with
	// this identity resolves with this finding's title and summary, and
	// nothing fires from it.
	Clear string
}

// Status is where an alert stands.
type Status int

const (
	// StatusFiring means the condition holds.
	StatusFiring Status = iota + 1
	// StatusResolved means the condition held earlier and no longer does.
	StatusResolved
)

// String returns "firing" or "resolved".
func (s Status) String() string {
	switch s {
	case StatusFiring:
		return "firing"
	case StatusResolved:
		return "resolved"
	}
	return fmt.Sprintf("status(%d)", int(s))
}

// Reason names why the alert stage decided what it did for an alert and a
// notifier; a delivered alert carries it (Alert.Reason) to every renderer
// and receiver. Its text is stable: it is stored, logged and sent.
type Reason string

const (
	// ReasonFirst: the alert fired and is sent for the first time (also
	// when it fires again after resolving).
	ReasonFirst Reason = "first"
	// ReasonEscalated: a higher threshold of a group that already had an
	// alert in this period; threaded under the group's first message.
	ReasonEscalated Reason = "escalated"
	// ReasonRepeat: still firing, not acknowledged, and last sent to this
	// notifier at least the repeat interval ago.
	ReasonRepeat Reason = "repeat"
	// ReasonResolved: the alert resolved and this notifier got it firing.
	ReasonResolved Reason = "resolved"
	// ReasonRetry: fired in an earlier cycle, but this notifier has no
	// recorded send for it (a failed send, a restart, a held message).
	ReasonRetry Reason = "retry"
	// ReasonSnoozed: a snooze on the alert (or on an equal or higher
	// threshold of its group) holds it.
	ReasonSnoozed Reason = "snoozed"
	// ReasonSuperseded: a higher threshold of the same group fires, so this
	// one is not sent.
	ReasonSuperseded Reason = "superseded"
	// ReasonSilenced: an active silence matches the alert.
	ReasonSilenced Reason = "silenced"
	// ReasonInhibited: a firing alert inhibits it under an inhibition rule.
	ReasonInhibited Reason = "inhibited"
	// ReasonMuted: its route's time intervals hold the firing or resolved
	// message (quiet hours, or outside an active window).
	ReasonMuted Reason = "muted"
	// ReasonNothing: nothing to send (already delivered, closed, not due,
	// or recorded after the cycle's now).
	ReasonNothing Reason = "nothing"
)

// Alert is a finding with its identity and lifecycle, ready to deliver.
type Alert struct {
	Finding
	Fingerprint string // stable hex id of (kind, rule, scope, period, threshold)
	Status      Status
	StartsAt    time.Time
	EndsAt      time.Time // zero while firing
	// Reason says why this alert is being sent now: ReasonFirst,
	// ReasonEscalated, ReasonRepeat, ReasonResolved or ReasonRetry.
	Reason Reason
	// LastSentAt is set on a repeat reminder (Reason "repeat"): when this
	// notifier last got the alert's firing message (UTC). It is zero on every
	// other delivery. Each reminder follows a different earlier send, so it
	// tells reminders apart while a retried reminder keeps the same value.
	LastSentAt time.Time
	// Why says, on a resolved alert, why it resolved, e.g. "period ended:
	// closed at $2,612.00, 104% of budget" or "card replaced"; empty while firing.
	Why string
	// Thread is the earlier Slack message this alert follows up, if any.
	Thread *MessageRef
}

// MessageRef identifies a posted chat message (Slack channel ID + ts).
type MessageRef struct {
	Notifier string
	Channel  string
	TS       string
}

// Chart is a short daily series shown with an alert or a slash-command answer.
type Chart struct {
	Title  string
	Days   []time.Time // UTC midnights, oldest first
	Values []float64   // observed cost per day; NaN where unknown
	// Reference is the budget line or the anomaly baseline per day; nil when none.
	Reference      []float64
	ReferenceLabel string
}

// BudgetStatus is where one budget stands now; slash commands and digests show it.
type BudgetStatus struct {
	Rule     string
	Scope    Scope
	Period   Period
	Currency string
	Budget   float64 // the budget amount
	Actual   float64 // spend so far in the period
	Forecast float64 // expected spend for the whole period
	// CrossDate is when the forecast reaches the budget (zero if it does not).
	CrossDate time.Time
	DaysLeft  int // whole days until Period.End
}

// Percent returns Actual as a percentage of Budget (0 when Budget is 0).
func (b BudgetStatus) Percent() float64 {
	if b.Budget == 0 {
		return 0
	}
	return 100 * b.Actual / b.Budget
}

// OneLine is err's text on one line (newlines become "; "), cut to 300
// bytes: how an error goes into a summary, a health answer or a log field.
func OneLine(err error) string {
	s := strings.ReplaceAll(err.Error(), "\n", "; ")
	if len(s) > 300 {
		s = s[:300] + "…"
	}
	return s
}
