package webhook_test

import (
	"bytes"
	"context"
	"encoding/json"
	"maps"
	"testing"
	"time"

	amwebhook "github.com/prometheus/alertmanager/notify/webhook"

	"github.com/costbot/costbot/internal/cost"
	"github.com/costbot/costbot/internal/notify/notifytest"
	"github.com/costbot/costbot/internal/notify/webhook"
)

// decodeAM decodes body with Alertmanager's own webhook Message type and
// fails on any key Alertmanager does not send.
func decodeAM(t testing.TB, body []byte) amwebhook.Message {
	t.Helper()
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	var m amwebhook.Message
	if err := dec.Decode(&m); err != nil {
		t.Fatalf("decode as alertmanager webhook.Message: %v\n%s", err, body)
	}
	if dec.More() {
		t.Fatalf("trailing data after the message")
	}
	return m
}

// Every sample alert, posted to a receiver, decodes strictly as
// Alertmanager's Message, with the keys receivers use filled in.
func TestNotifier_Notify_AlertmanagerMessage(t *testing.T) {
	alerts := notifytest.Alerts()
	reasons := map[string]string{
		"budget": "first notification", "forecast": "first notification", "anomaly": "first notification",
		"card_expiry": "first notification", "stale": "first notification",
		"resolved": "all alerts resolved", "escalation": "new alerts added",
	}
	for _, name := range notifytest.Names {
		t.Run("OK/"+name, func(t *testing.T) {
			a := alerts[name]
			r := newReceiver(t)
			n := newNotifier(t, r.srv.URL)
			if _, err := n.Notify(context.Background(), a); err != nil {
				t.Fatal(err)
			}
			m := decodeAM(t, r.reqs[0].body)
			if m.Version != "4" || m.Receiver != "ops-hook" || m.Status != a.Status.String() || m.TruncatedAlerts != 0 {
				t.Errorf("version %q receiver %q status %q truncated %d", m.Version, m.Receiver, m.Status, m.TruncatedAlerts)
			}
			if m.ExternalURL != "https://costbot.example.com" {
				t.Errorf("externalURL %q", m.ExternalURL)
			}
			if m.NotificationReason != reasons[name] {
				t.Errorf("notification_reason %q, want %q", m.NotificationReason, reasons[name])
			}
			if len(m.Alerts) != 1 {
				t.Fatalf("%d alerts", len(m.Alerts))
			}
			got := m.Alerts[0]
			if want := "https://costbot.example.com/alerts/" + a.Fingerprint; got.GeneratorURL != want {
				t.Errorf("generatorURL %q, want %q", got.GeneratorURL, want)
			}
			if got.Fingerprint != a.Fingerprint || !got.StartsAt.Equal(a.StartsAt) {
				t.Errorf("fingerprint %q startsAt %s", got.Fingerprint, got.StartsAt)
			}
			if got.Labels["period_start"] != a.Period.Start.UTC().Format(time.RFC3339) {
				t.Errorf("period_start label %q, period %s", got.Labels["period_start"], a.Period)
			}
			if !maps.Equal(map[string]string(m.CommonLabels), map[string]string(got.Labels)) {
				t.Errorf("commonLabels %v differ from the alert's labels %v", m.CommonLabels, got.Labels)
			}
			for k, v := range m.GroupLabels {
				if got.Labels[k] != v {
					t.Errorf("group label %s=%q, alert label %q", k, v, got.Labels[k])
				}
			}
			if _, ok := m.GroupLabels["threshold"]; ok {
				t.Errorf("threshold in groupLabels %v", m.GroupLabels)
			}
			if m.GroupKey == "" {
				t.Error("empty groupKey")
			}
		})
	}
	t.Run("OKNoExternalURL", func(t *testing.T) {
		r := newReceiver(t)
		n, err := webhook.New(webhook.Options{Name: "ops-hook", URL: r.srv.URL, Secret: testSecret, Now: func() time.Time { return notifytest.Now }})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := n.Notify(context.Background(), alerts["budget"]); err != nil {
			t.Fatal(err)
		}
		m := decodeAM(t, r.reqs[0].body)
		if m.ExternalURL != "" || m.Alerts[0].GeneratorURL != "" {
			t.Errorf("externalURL %q generatorURL %q, want both empty", m.ExternalURL, m.Alerts[0].GeneratorURL)
		}
	})
}

// An alert's identity (kind, rule, scope, period) gives it its own group
// and label set: a new anomaly episode or a new budget period never reuses
// an old groupKey, while a higher threshold of the same budget period joins
// its group, and the labels still tell the two thresholds apart.
func TestNotifier_Payload_Identity(t *testing.T) {
	n := newNotifier(t, "https://hooks.example.com/x")
	alerts := notifytest.Alerts()
	day := func(m time.Month, d int) time.Time { return time.Date(2026, m, d, 0, 0, 0, 0, time.UTC) }
	episode := func(start time.Time) cost.Alert {
		a := alerts["anomaly"]
		a.Period = cost.Period{Start: start, End: start.AddDate(0, 0, 1)}
		a.Anomaly = &cost.AnomalyDetail{Since: start, Day: start.AddDate(0, 0, 2)}
		a.StartsAt = start.Add(9 * time.Hour)
		return a
	}
	period := func(m time.Month) cost.Alert {
		a := alerts["budget"]
		a.Period = cost.Period{Start: day(m, 1), End: day(m+1, 1)}
		return a
	}
	higher := period(time.July)
	higher.Threshold, higher.Severity = "actual>=100%", cost.SeverityCritical
	tests := []struct {
		name      string
		a, b      cost.Alert
		sameGroup bool
	}{
		{"AnomalyTwoEpisodes", episode(day(7, 3)), episode(day(7, 21)), false},
		{"BudgetTwoPeriods", period(time.July), period(time.August), false},
		{"BudgetTwoScopes", period(time.July), func() cost.Alert { a := period(time.July); a.Scope.Account = "staging"; return a }(), false},
		{"BudgetTwoThresholdsOnePeriod", period(time.July), higher, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ma, mb := n.Payload(tt.a), n.Payload(tt.b)
			if same := ma.GroupKey == mb.GroupKey; same != tt.sameGroup {
				t.Errorf("groupKeys %q and %q: same = %v, want %v", ma.GroupKey, mb.GroupKey, same, tt.sameGroup)
			}
			if maps.Equal(ma.Alerts[0].Labels, mb.Alerts[0].Labels) {
				t.Errorf("distinct alerts share the label set %v", ma.Alerts[0].Labels)
			}
		})
	}
	t.Run("SampleAlertsDistinct", func(t *testing.T) {
		seen := map[string]string{}
		for _, name := range notifytest.Names {
			if name == "resolved" { // the budget alert, resolved: same identity
				continue
			}
			b, _ := json.Marshal(n.Payload(alerts[name]).Alerts[0].Labels)
			if other, ok := seen[string(b)]; ok {
				t.Errorf("%s and %s share labels %s", name, other, b)
			}
			seen[string(b)] = name
		}
	})
}

// A resolved message says why it resolved (the closing notice of a budget
// period), in the annotation "why", and still decodes as Alertmanager's
// Message; a firing one has no "why".
func TestAnnotations_Why(t *testing.T) {
	const why = "period ended: closed at $2,612.00, 104% of budget"
	for _, tt := range []struct {
		name   string
		status cost.Status
		want   string
	}{
		{"Resolved", cost.StatusResolved, why},
		{"Firing", cost.StatusFiring, ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			a := notifytest.Alerts()["resolved"]
			a.Status, a.Why = tt.status, why
			r := newReceiver(t)
			if _, err := newNotifier(t, r.srv.URL).Notify(context.Background(), a); err != nil {
				t.Fatal(err)
			}
			m := decodeAM(t, r.reqs[0].body)
			if got := m.Alerts[0].Annotations["why"]; got != tt.want {
				t.Errorf("annotation why = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestNotificationReason(t *testing.T) {
	for _, tt := range []struct {
		status cost.Status
		reason string
		want   string
	}{
		{cost.StatusFiring, "first", "first notification"},
		{cost.StatusFiring, "retry", "first notification"},
		{cost.StatusFiring, "escalated", "new alerts added"},
		{cost.StatusFiring, "repeat", "repeat interval elapsed"},
		{cost.StatusResolved, "resolved", "all alerts resolved"},
		{cost.StatusResolved, "retry", "all alerts resolved"},
		{cost.StatusFiring, "", "unknown"},
	} {
		if got := webhook.NotificationReason(cost.Alert{Status: tt.status, Reason: cost.Reason(tt.reason)}); got != tt.want {
			t.Errorf("%s/%q: %q, want %q", tt.status, tt.reason, got, tt.want)
		}
	}
}

func TestGeneratorURL(t *testing.T) {
	for _, tt := range []struct{ base, fp, want string }{
		{"https://costbot.example.com", "3f9a1c0b7d2e4f51", "https://costbot.example.com/alerts/3f9a1c0b7d2e4f51"},
		{"https://costbot.example.com/", "3f9a1c0b7d2e4f51", "https://costbot.example.com/alerts/3f9a1c0b7d2e4f51"},
		{"http://10.0.0.5:8080/costbot", "ab", "http://10.0.0.5:8080/costbot/alerts/ab"},
		{"", "ab", ""},
	} {
		if got := webhook.GeneratorURL(tt.base, tt.fp); got != tt.want {
			t.Errorf("GeneratorURL(%q, %q) = %q, want %q", tt.base, tt.fp, got, tt.want)
		}
	}
}

// The digest goes to a webhook only when its options route it there.
func TestNotifier_Notify_Digest(t *testing.T) {
	digest := cost.Alert{
		Finding: cost.Finding{Kind: cost.KindDigest, Rule: "daily-digest", Scope: cost.Scope{Account: "production"},
			Period:    cost.Period{Start: notifytest.Now.Truncate(24 * time.Hour), End: notifytest.Now.Truncate(24*time.Hour).AddDate(0, 0, 1)},
			Threshold: "digest", Severity: cost.SeverityInfo, Title: "Daily cost digest — production"},
		Fingerprint: "d1d1d1d1d1d1d1d1", Status: cost.StatusFiring, StartsAt: notifytest.Now, Reason: "first",
	}
	for _, tt := range []struct {
		name   string
		digest bool
		want   int
	}{{"OKNotRouted", false, 0}, {"OKRouted", true, 1}} {
		t.Run(tt.name, func(t *testing.T) {
			r := newReceiver(t)
			n, err := webhook.New(webhook.Options{Name: "ops-hook", URL: r.srv.URL, Secret: testSecret,
				Now: func() time.Time { return notifytest.Now }, Digest: tt.digest})
			if err != nil {
				t.Fatal(err)
			}
			if ref, err := n.Notify(context.Background(), digest); err != nil || ref != nil {
				t.Fatalf("Notify: ref %v, err %v", ref, err)
			}
			if _, err := n.Notify(context.Background(), notifytest.Alerts()["budget"]); err != nil {
				t.Fatal(err)
			}
			if got := len(r.reqs); got != tt.want+1 {
				t.Fatalf("%d requests, want %d digest(s) and the budget alert", got, tt.want)
			}
			if tt.want == 1 {
				if m := decodeAM(t, r.reqs[0].body); m.Alerts[0].Labels["kind"] != "digest" {
					t.Errorf("first request labels %v", m.Alerts[0].Labels)
				}
			}
		})
	}
}
