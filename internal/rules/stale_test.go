package rules

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/costbot/costbot/internal/cost"
)

func TestStaleFindings(t *testing.T) {
	now := time.Date(2026, 11, 25, 9, 0, 0, 0, time.UTC)
	acc := cost.Account{ID: "0123456789abcdef0123456789abcdef", Name: "production"}
	fail := map[string]error{acc.ID: errors.New("billing API answered 403:\nauthentication error")}
	tests := []struct {
		name     string
		failed   map[string]error
		lastGood time.Time
		want     string // in the summary; "" for no finding
	}{
		{name: "NeverFetched", failed: fail, want: "never fetched successfully"},
		{name: "OldLastGood", failed: fail, lastGood: now.Add(-7 * time.Hour), want: "last good data 7h0m0s ago (2026-11-25T02:00:00Z)"},
		{name: "RecentLastGoodStaysQuiet", failed: fail, lastGood: now.Add(-time.Hour)},
		{name: "FetchOKStaysQuiet", lastGood: now.Add(-30 * 24 * time.Hour)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fs := StaleFindings([]cost.Account{acc}, Staleness{Now: now, After: 6 * time.Hour, Failed: tt.failed,
				LastGood: map[string]time.Time{acc.ID: tt.lastGood}})
			if tt.want == "" {
				if len(fs) != 0 {
					t.Fatalf("findings %+v, want none", fs)
				}
				return
			}
			if len(fs) != 1 {
				t.Fatalf("%d findings, want 1", len(fs))
			}
			f := fs[0]
			if f.Kind != cost.KindStale || f.Rule != StaleRule || f.Scope.Account != acc.ID || f.Scope.AccountName != "production" ||
				!strings.Contains(f.Summary, tt.want) || !strings.Contains(f.Summary, "403:; authentication error") {
				t.Errorf("finding = %+v; want a stale warning saying %q", f, tt.want)
			}
		})
	}
}
