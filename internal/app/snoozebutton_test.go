package app

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/costbot/costbot/internal/cost"
)

// The Snooze button end to end: a signed click on "Snooze 24h" stores a
// silence; the daemon's next cycles hold the alert's reminders (while the
// other alerts repeat), and the first cycle after the silence ends sends
// the still-firing alert again.
func TestApp_SnoozeButton_HoldsThenReleases(t *testing.T) {
	ctx := context.Background()
	now := time.Date(2026, 11, 25, 9, 0, 0, 0, time.UTC)
	e := newEnv(t, now)
	e.cfg.Alerts.RepeatInterval = time.Hour
	a := e.app(t, now)
	rep, err := a.Cycle(ctx, now)
	if err != nil {
		t.Fatal(err)
	}
	var fp string
	for _, d := range rep.Deliveries {
		if d.Job.Alert.Kind == cost.KindForecast {
			fp = d.Job.Alert.Fingerprint
		}
	}
	if fp == "" {
		t.Fatal("no forecast alert sent in the first cycle")
	}

	srv := httptest.NewServer(a.Handler())
	defer srv.Close()
	payload, _ := json.Marshal(map[string]any{
		"type":         "block_actions",
		"user":         map[string]any{"id": "U1", "name": "ana"},
		"channel":      map[string]any{"id": "C0123456789"},
		"container":    map[string]any{"type": "message", "message_ts": "1764000000.000001", "channel_id": "C0123456789"},
		"message":      map[string]any{"ts": "1764000000.000001", "blocks": []any{}},
		"response_url": srv.URL + "/nowhere",
		"actions": []any{map[string]any{"action_id": "costbot_snooze_24h", "block_id": "actions", "value": fp,
			"type": "button", "action_ts": "1764000001.0"}},
	})
	body := url.Values{"payload": {string(payload)}}.Encode()
	req, _ := http.NewRequest("POST", srv.URL+"/slack/interactions", strings.NewReader(body))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("X-Slack-Request-Timestamp", fmt.Sprint(now.Unix()))
	req.Header.Set("X-Slack-Signature", sign("test-signing-secret", now.Unix(), body))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("click: status %d", resp.StatusCode)
	}
	a.cmds.Close() // wait for the click to be applied

	// sent returns the reasons of this cycle's sends of the snoozed alert,
	// and whether any other alert was sent.
	sent := func(at time.Time) ([]string, bool) {
		t.Helper()
		rep, err := a.Cycle(ctx, at)
		if err != nil {
			t.Fatal(err)
		}
		var reasons []string
		others := false
		for _, d := range rep.Deliveries {
			if d.Job.Alert.Fingerprint == fp {
				reasons = append(reasons, d.Job.Notifier+" "+string(d.Job.Alert.Reason))
			} else {
				others = true
			}
		}
		slices.Sort(reasons)
		return reasons, others
	}
	for _, tt := range []struct {
		at     time.Duration
		want   []string
		others bool // other alerts repeat meanwhile
	}{
		{at: time.Hour, want: nil, others: true},
		{at: 23 * time.Hour, want: nil, others: true},
		{at: 24 * time.Hour, want: []string{"finops repeat", "ops-hook repeat"}, others: true},
	} {
		got, others := sent(now.Add(tt.at))
		if !slices.Equal(got, tt.want) || others != tt.others {
			t.Errorf("+%v: snoozed alert sent %q (others sent: %v), want %q (%v)", tt.at, got, others, tt.want, tt.others)
		}
	}
}
