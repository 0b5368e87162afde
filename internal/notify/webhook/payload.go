package webhook

import (
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/costbot/costbot/internal/cost"
)

// Message is the Alertmanager webhook body (version "4"), field for field
// the JSON that Alertmanager's own webhook notifier sends, so that receivers
// written for Alertmanager decode it unchanged.
type Message struct {
	Version         string `json:"version"`
	GroupKey        string `json:"groupKey"`
	TruncatedAlerts int    `json:"truncatedAlerts"`
	Status          string `json:"status"`
	Receiver        string `json:"receiver"`
	// NotificationReason is why this message goes out now, in Alertmanager's
	// words; see NotificationReason.
	NotificationReason string            `json:"notification_reason"`
	GroupLabels        map[string]string `json:"groupLabels"`
	CommonLabels       map[string]string `json:"commonLabels"`
	CommonAnnotations  map[string]string `json:"commonAnnotations"`
	ExternalURL        string            `json:"externalURL"`
	Alerts             []Alert           `json:"alerts"`
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
// common labels and annotations are the alert's own. The group is the
// alert's identity without its threshold (GroupLabels): every episode of an
// anomaly and every period of a budget has a groupKey of its own, while a
// higher threshold crossed in the same period updates the same group, as an
// Alertmanager route grouping by those labels would.
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
	group := GroupLabels(labels)
	return Message{
		Version:            "4",
		GroupKey:           groupKey(group),
		Status:             a.Status.String(),
		Receiver:           n.name,
		NotificationReason: NotificationReason(a),
		GroupLabels:        group,
		CommonLabels:       labels,
		CommonAnnotations:  ann,
		ExternalURL:        n.externalURL,
		Alerts: []Alert{{
			Status:       a.Status.String(),
			Labels:       labels,
			Annotations:  ann,
			StartsAt:     a.StartsAt.UTC(),
			EndsAt:       endsAt,
			GeneratorURL: GeneratorURL(n.externalURL, a.Fingerprint),
			Fingerprint:  a.Fingerprint,
		}},
	}
}

// groupLabelNames are the labels that make an alert group: the alert's
// identity (kind, rule, scope, period) without threshold and severity.
// The account is grouped by its id, so a rename keeps the group.
var groupLabelNames = []string{"alertname", "rule", "account_id", "family", "service", "zone", "period_start"}

// GroupLabels returns the subset of an alert's labels (see Labels) that names
// its group: alertname, rule, the scope labels and period_start, those that
// are set.
func GroupLabels(labels map[string]string) map[string]string {
	g := map[string]string{}
	for _, k := range groupLabelNames {
		if v, ok := labels[k]; ok {
			g[k] = v
		}
	}
	return g
}

// groupKey mimics Alertmanager's "{}:{label=\"value\", ...}" form: the root
// route's key, then the group labels sorted by name.
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

// NotificationReason maps a delivery's reason to the notification_reason
// strings Alertmanager documents: a resolution is "all alerts resolved" (the
// group holds the one alert), an escalation "new alerts added", a reminder
// "repeat interval elapsed", and a first send or its retry "first
// notification". Anything else is "unknown".
func NotificationReason(a cost.Alert) string {
	if a.Status == cost.StatusResolved {
		return "all alerts resolved"
	}
	switch a.Reason {
	case cost.ReasonFirst, cost.ReasonRetry:
		return "first notification"
	case cost.ReasonEscalated:
		return "new alerts added"
	case cost.ReasonRepeat:
		return "repeat interval elapsed"
	}
	return "unknown"
}

// GeneratorURL links to one alert on costbot's HTTP endpoint:
// externalURL + "/alerts/" + fingerprint. It is "" when externalURL is.
func GeneratorURL(externalURL, fingerprint string) string {
	if externalURL == "" || fingerprint == "" {
		return externalURL
	}
	return strings.TrimRight(externalURL, "/") + "/alerts/" + url.PathEscape(fingerprint)
}

// AlertName returns the Alertmanager alertname for a kind (cost.AlertName).
func AlertName(k cost.Kind) string { return cost.AlertName(k) }

// Labels returns the labels that identify a on their own, as its Fingerprint
// does: cost.Labels, the set silences, inhibition rules and routes match.
func Labels(a cost.Alert) map[string]string { return cost.Labels(a.Finding) }

// Annotations returns the human text and the figures of a; amounts are
// decimal strings in the alert's currency, dates RFC 3339 / YYYY-MM-DD (UTC).
func Annotations(a cost.Alert) map[string]string {
	m := map[string]string{}
	set := func(k, v string) {
		if v != "" {
			m[k] = v
		}
	}
	set("summary", a.Title)
	set("description", a.Summary)
	set("reason", string(a.Reason))
	if a.Status == cost.StatusResolved {
		set("why", a.Why) // why it resolved, as Slack's "Why:" line says
	}
	set("scope", a.Scope.String())
	if !a.Period.IsZero() {
		set("period_start", a.Period.Start.UTC().Format(time.RFC3339))
		set("period_end", a.Period.End.UTC().Format(time.RFC3339))
	}
	set("currency", a.Currency)
	for _, f := range cost.Facts(a) { // the figures every surface shows
		for _, v := range f.Values {
			m[v[0]] = v[1]
		}
	}
	return m
}
