package config

import (
	"strings"
	"testing"
	"time"
)

func TestValidate_WeeklyDigest(t *testing.T) {
	base := "cloudflare:\n  api_token: t\n  accounts: [{id: 9a7806061c88ada191ed06f989cc3dac, name: p}]\n"
	tests := []struct {
		name, value string
		want        time.Weekday
		err         string
	}{
		{"OKMonday", "monday", time.Monday, ""},
		{"OKShortAnyCase", "Fri", time.Friday, ""},
		{"OKSunday", "SUNDAY", time.Sunday, ""},
		{"ErrNotADay", "weekly", 0, `schedule.weekly_digest: must be a weekday (monday .. sunday) or empty, got "weekly"`},
		{"ErrTooShort", "mo", 0, `schedule.weekly_digest: must be a weekday`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg, err := Parse("c.yaml", []byte(base+"schedule: {weekly_digest: "+tt.value+"}\n"), env(nil))
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("got %v, want an error containing %q", err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if d, ok := ParseWeekday(cfg.Schedule.WeeklyDigest); !ok || d != tt.want {
				t.Errorf("weekday %v %v, want %v", d, ok, tt.want)
			}
		})
	}
	cfg, err := Parse("c.yaml", []byte(base), env(nil))
	if err != nil || cfg.Schedule.WeeklyDigest != "" {
		t.Errorf("default weekly_digest %q (%v), want off", cfg.Schedule.WeeklyDigest, err)
	}
}
