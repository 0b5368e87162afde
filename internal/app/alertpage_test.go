package app

import (
	"context"
	"encoding/json"
	"net/http"
	"slices"
	"testing"
	"time"

	"github.com/costbot/costbot/internal/alert"
	"github.com/costbot/costbot/internal/cost"
)

// The alert page says whether an alert is silenced and by which silences:
// the Snooze button's silence and a pending one on the forecast, another on
// the anomaly, none on the budget.
func TestApp_AlertPage_Silences(t *testing.T) {
	ctx := context.Background()
	now := time.Date(2026, 11, 25, 17, 0, 0, 0, time.UTC)
	_, a, rep := cycled(t, now)
	fps := map[cost.Kind]string{}
	for _, d := range rep.Deliveries {
		fps[d.Job.Alert.Kind] = d.Job.Alert.Fingerprint
	}
	forecast, err := a.db.Alert(ctx, fps[cost.KindForecast])
	if err != nil {
		t.Fatal(err)
	}
	add := func(s alert.Silence, err error) string {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		if s, err = a.db.AddSilence(ctx, s); err != nil {
			t.Fatal(err)
		}
		return s.ID
	}
	snooze := add(alert.SnoozeSilence(forecast, "U1", now, now.Add(24*time.Hour)))
	silence := func(start time.Time, matchers string) string {
		t.Helper()
		ms, err := alert.ParseMatchers(matchers)
		if err != nil {
			t.Fatal(err)
		}
		return add(alert.CheckSilence(alert.Silence{Matchers: ms, StartsAt: start, EndsAt: start.Add(time.Hour),
			CreatedBy: "alice", Comment: "deploy"}, now))
	}
	pending := silence(now.Add(24*time.Hour), `kind="forecast"`)
	anomaly := silence(now, `kind="anomaly"`)

	tests := []struct {
		name     string
		kind     cost.Kind
		silenced bool
		ids      []string
		states   []string
	}{
		{name: "SnoozedAndPending", kind: cost.KindForecast, silenced: true, ids: []string{snooze, pending}, states: []string{"active", "pending"}},
		{name: "Silenced", kind: cost.KindAnomaly, silenced: true, ids: []string{anomaly}, states: []string{"active"}},
		{name: "NotSilenced", kind: cost.KindBudget, ids: nil, states: nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fp := fps[tt.kind]
			if fp == "" {
				t.Fatalf("no %s alert sent", tt.kind)
			}
			code, body := get(t, a.Handler(), "/alerts/"+fp)
			var page struct {
				Silenced bool
				Silences []struct {
					ID, State, Matchers, Comment string
					CreatedBy                    string    `json:"created_by"`
					EndsAt                       time.Time `json:"ends_at"`
				}
			}
			if err := json.Unmarshal([]byte(body), &page); err != nil || code != http.StatusOK {
				t.Fatalf("/alerts/%s: %d %s", fp, code, body)
			}
			var ids, states []string
			for _, s := range page.Silences {
				ids, states = append(ids, s.ID), append(states, s.State)
				if s.Matchers == "" || s.CreatedBy == "" || s.Comment == "" || s.EndsAt.IsZero() {
					t.Errorf("silence %+v lacks a field", s)
				}
			}
			if page.Silenced != tt.silenced || !slices.Equal(ids, tt.ids) || !slices.Equal(states, tt.states) {
				t.Errorf("silenced %v by %q (%q), want %v by %q (%q)\n%s", page.Silenced, ids, states, tt.silenced, tt.ids, tt.states, body)
			}
		})
	}
}
