package ruletest

import (
	"bytes"
	"context"
	"path/filepath"
	"strings"
	"testing"
)

func TestRun_ShippedRuleTests(t *testing.T) {
	files, err := filepath.Glob("../../rules/tests/*.yaml")
	if err != nil || len(files) == 0 {
		t.Fatalf("no rule tests: %v", err)
	}
	var out bytes.Buffer
	if !Run(context.Background(), files, &out) {
		t.Fatalf("shipped rule tests fail:\n%s", out.String())
	}
}

func TestRun_Bad(t *testing.T) {
	tests := []struct {
		file string
		want []string
	}{
		{"wrong-expectation.bad.yaml", []string{
			`FAIL testdata/wrong-expectation.bad.yaml:4: test "expects the wrong thing"`,
			"line 9, at 2026-10-07T12:00:00Z:",
			"- want firing budget workers-monthly",
			"+ got  firing anomaly service-spikes account=production service=R2 Storage family=R2 severity=warning day=2026-10-06",
			"1 tests, 1 failed",
		}},
		{"unknown-field.bad.yaml", []string{"unknown-field.bad.yaml: yaml: unmarshal errors:", "line 5: field seriess not found", "1 tests, 1 failed"}},
		{"bad-values.bad.yaml", []string{
			`bad-values.bad.yaml:3: test "bad series": series[0] (S): values: term "5x-1": repeat count "-1"`,
			`bad-values.bad.yaml:8: test "bad series": eval: day: want YYYY-MM-DD, got "2026-13-02"`,
		}},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			var out bytes.Buffer
			if Run(context.Background(), []string{filepath.Join("testdata", tt.file)}, &out) {
				t.Fatalf("passed:\n%s", out.String())
			}
			for _, w := range tt.want {
				if !strings.Contains(out.String(), w) {
					t.Errorf("output lacks %q:\n%s", w, out.String())
				}
			}
		})
	}
}

func TestBillingPeriod(t *testing.T) {
	tests := []struct {
		day    string
		anchor int
		want   string
	}{
		{"2026-11-05", 1, "2026-11-01..2026-12-01"},
		{"2026-11-05", 14, "2026-10-14..2026-11-14"},
		{"2026-02-28", 31, "2026-02-28..2026-03-31"},
		{"2026-02-27", 31, "2026-01-31..2026-02-28"},
		{"2026-03-30", 31, "2026-02-28..2026-03-31"},
	}
	for _, tt := range tests {
		day, _ := parseDay(tt.day)
		if got := billingPeriod(day, tt.anchor).String(); got != tt.want {
			t.Errorf("billingPeriod(%s, %d) = %s, want %s", tt.day, tt.anchor, got, tt.want)
		}
	}
}
