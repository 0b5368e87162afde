package webhook

import (
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/costbot/costbot/internal/cost"
)

// Message is the Alertmanager webhook body (version "4").
type Message struct {
	Version           string            `json:"version"`
	GroupKey          string            `json:"groupKey"`
	TruncatedAlerts   int               `json:"truncatedAlerts"`
	Status            string            `json:"status"`
	Receiver          string            `json:"receiver"`
	GroupLabels       map[string]string `json:"groupLabels"`
	CommonLabels      map[string]string `json:"commonLabels"`
	CommonAnnotations map[string]string `json:"commonAnnotations"`
	ExternalURL       string            `json:"externalURL"`
	Alerts            []Alert           `json:"alerts"`
}

// Alert is one entry of Message.Alerts.
type Alert struct {
	Status       string            `json:"status"`
	Labels       map[string]string `json:"labels"`
	Annotations  map[string]string `json:"annotations"`
	StartsAt     time.Time         `json:"startsAt"`
	EndsAt       time.Time         `json:"endsAt"` // zero (0001-01-01T00:00:00Z) while firing
	GeneratorURL string            `json:"generatorURL"`
	Fingerprint  string            `json:"fingerprint"`
}

// Payload builds the body sent for a: one group holding one alert, so the
// common labels and annotations are the alert's own.
func (n *Notifier) Payload(a cost.Alert) Message {
	labels := Labels(a)
	ann := Annotations(a)
	endsAt := time.Time{}
	if a.Status == cost.StatusResolved {
		endsAt = a.EndsAt.UTC()
		if endsAt.IsZero() {
			endsAt = n.now().UTC()
		}
	}
	group := map[string]string{"alertname": labels["alertname"], "rule": labels["rule"]}
	return Message{
		Version:           "4",
		GroupKey:          groupKey(group),
		Status:            a.Status.String(),
		Receiver:          n.name,
		GroupLabels:       group,
		CommonLabels:      labels,
		CommonAnnotations: ann,
		ExternalURL:       n.externalURL,
		Alerts: []Alert{{
			Status:       a.Status.String(),
			Labels:       labels,
			Annotations:  ann,
			StartsAt:     a.StartsAt.UTC(),
			EndsAt:       endsAt,
			GeneratorURL: n.externalURL,
			Fingerprint:  a.Fingerprint,
		}},
	}
}

// groupKey mimics Alertmanager's "{}:{label=\"value\", ...}" form.
func groupKey(labels map[string]string) string {
	keys := make([]string, 0, len(labels))
	for k := range labels {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, 0, len(keys))
	for _, k := range keys {
		parts = append(parts, k+"="+strconv.Quote(labels[k]))
	}
	return "{}:{" + strings.Join(parts, ", ") + "}"
}

// AlertName returns the Alertmanager alertname for a kind, e.g.
// "CostbotBudget", "CostbotCardExpiry".
func AlertName(k cost.Kind) string {
	var b strings.Builder
	b.WriteString("Costbot")
	for part := range strings.SplitSeq(k.String(), "_") {
		if part != "" {
			b.WriteString(strings.ToUpper(part[:1]) + part[1:])
		}
	}
	return b.String()
}

// Labels returns the identifying labels of a; empty values are omitted.
func Labels(a cost.Alert) map[string]string {
	l := map[string]string{}
	set := func(k, v string) {
		if v != "" {
			l[k] = v
		}
	}
	set("alertname", AlertName(a.Kind))
	set("kind", a.Kind.String())
	set("rule", a.Rule)
	set("severity", a.Severity.String())
	set("account", a.Scope.Account)
	set("service", a.Scope.Service)
	set("family", a.Scope.Family)
	set("zone", a.Scope.Zone)
	set("threshold", a.Threshold)
	return l
}

// Annotations returns the human text and the figures of a; amounts are
// decimal strings in the alert's currency, dates RFC 3339 / YYYY-MM-DD (UTC).
func Annotations(a cost.Alert) map[string]string {
	m := map[string]string{}
	set := func(k, v string) {
		if v != "" {
			m[k] = v
		}
	}
	money := func(k string, v float64) { m[k] = strconv.FormatFloat(v, 'f', 2, 64) }
	day := func(t time.Time) string {
		if t.IsZero() {
			return ""
		}
		return t.UTC().Format("2006-01-02")
	}
	set("summary", a.Title)
	set("description", a.Summary)
	set("reason", a.Reason)
	set("scope", a.Scope.String())
	if !a.Period.IsZero() {
		set("period_start", a.Period.Start.UTC().Format(time.RFC3339))
		set("period_end", a.Period.End.UTC().Format(time.RFC3339))
	}
	set("currency", a.Currency)
	switch a.Kind {
	case cost.KindBudget, cost.KindForecast:
		money("actual", a.Actual)
		if a.Budget != 0 {
			money("budget", a.Budget)
			m["percent"] = strconv.FormatFloat(100*a.Actual/a.Budget, 'f', 1, 64)
		}
		if a.Limit != 0 {
			money("limit", a.Limit)
		}
		if a.Forecast != 0 {
			money("forecast", a.Forecast)
		}
		set("cross_date", day(a.CrossDate))
	case cost.KindAnomaly:
		if d := a.Anomaly; d != nil {
			money("observed", d.Observed)
			money("expected", d.Expected)
			money("impact", d.Impact)
			m["sigma"] = strconv.FormatFloat(d.Sigma, 'f', 2, 64)
			m["score"] = strconv.FormatFloat(d.Score, 'f', 2, 64)
			set("detector", d.Detector)
			set("since", day(d.Since))
			set("day", day(d.Day))
			if d.Outage {
				m["outage"] = "true"
			}
		}
	case cost.KindCardExpiry:
		if c := a.Card; c != nil {
			last4 := cost.Card{Masked: c.Masked}.Last4()
			set("card_last4", last4)
			if !c.ExpiresAt.IsZero() {
				set("card_expires_at", c.ExpiresAt.UTC().Format(time.RFC3339))
			}
			m["days_left"] = strconv.Itoa(c.DaysLeft)
		}
	default:
		if a.Actual != 0 {
			money("actual", a.Actual)
		}
	}
	return m
}
