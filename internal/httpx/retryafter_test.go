package httpx

import (
	"strings"
	"testing"
	"time"
)

func TestParseRetryAfter(t *testing.T) {
	now := time.Date(2026, 7, 1, 12, 0, 0, 0, time.UTC)
	tests := []struct {
		v    string
		want time.Duration
	}{
		{"", 0}, {"30", 30 * time.Second}, {" 7 ", 7 * time.Second}, {"0", 0}, {"-1", 0},
		{"86400", 24 * time.Hour}, {"86401", 24 * time.Hour},
		{"99999999999999999999", 24 * time.Hour},                  // beyond int64 is still a (capped) delay
		{"  " + strings.Repeat("2", 4000) + "  ", 24 * time.Hour}, // found by FuzzParseRetryAfter: gave 0
		{"1.5", 0}, {"1e3", 0}, {"NaN", 0}, {"0x1p4", 0}, {"junk", 0},
		{"Wed, 01 Jul 2026 12:01:30 GMT", 90 * time.Second},
		{"Wed, 01 Jul 2026 11:00:00 GMT", 0}, // in the past
	}
	for _, tt := range tests {
		if got := ParseRetryAfter(tt.v, now); got != tt.want {
			t.Errorf("ParseRetryAfter(%.30q) = %s, want %s", tt.v, got, tt.want)
		}
	}
}
