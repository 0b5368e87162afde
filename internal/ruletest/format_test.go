package ruletest

import (
	"errors"
	"math"
	"strings"
	"testing"
	"time"
)

func TestParse_OK(t *testing.T) {
	f, err := Parse("t.yaml", []byte(`
rule_files: [../budgets.yaml]
tests:
  - name: one
    start: 2026-11-01
    series:
      - {family: Workers, service: Workers Standard Requests, values: "1 _ 2"}
      - {service: R2 Storage, start: 2026-11-03, values: "3"}
    cards:
      - {expiry: 2026-12}
    evals:
      - {day: 2026-11-02}
      - at: "2026-11-04T09:30:00+02:00"
        alerts:
          - {kind: budget, zone: ""}
`))
	if err != nil {
		t.Fatal(err)
	}
	if len(f.Accounts) != 1 || f.Accounts[0].ID != defaultAccount.ID || f.Accounts[0].Currency != "USD" || f.Accounts[0].AnchorDay != 1 {
		t.Errorf("default account: %+v", f.Accounts)
	}
	tt := f.Tests[0]
	if got := tt.Series[1].start.Format(time.DateOnly); got != "2026-11-03" {
		t.Errorf("series start %s", got)
	}
	if v := tt.Series[0].values; len(v) != 3 || !math.IsNaN(v[1]) {
		t.Errorf("values %v", v)
	}
	if c := tt.Cards[0]; c.month != time.December || c.year != 2026 || c.acct.Name != "production" {
		t.Errorf("card %+v", c)
	}
	if got := tt.Evals[0].at.Format(time.RFC3339); got != "2026-11-03T12:00:00Z" {
		t.Errorf("day 2026-11-02 runs at %s, want noon UTC the day after", got)
	}
	if got := tt.Evals[1].at.Format(time.RFC3339); got != "2026-11-04T07:30:00Z" {
		t.Errorf("at runs at %s", got)
	}
	a := tt.Evals[1].Alerts[0]
	if a.Zone == nil || *a.Zone != "" || a.Service != nil {
		t.Errorf(`zone: "" must be compared and a missing service not: %+v`, a)
	}
	if line := a.pos.at("").line; line != 15 {
		t.Errorf("alert line %d, want 15", line)
	}
}

func TestParse_Errors(t *testing.T) {
	const head = "rule_files: [r.yaml]\ntests:\n  - name: t\n    start: 2026-11-01\n"
	tests := []struct {
		name string
		in   string
		want []string // each a line of the error
	}{
		{"ErrEmpty", "", []string{"t.yaml: empty test file"}},
		{"ErrNotMapping", "- 1\n", []string{"t.yaml:1:1: want a mapping with rule_files, accounts and tests, got a list"}},
		{"ErrTwoDocuments", head + "    evals: [{day: 2026-11-02}]\n---\nx: 1\n", []string{"t.yaml:7:1: more than one YAML document"}},
		{"ErrNoRuleFiles", "tests: []\n", []string{"t.yaml:1:1: rule_files: at least one rule file is needed", "t.yaml:1:8: tests: no tests"}},
		{"ErrUnknownTopField", "rule_file: [x]\n", []string{`t.yaml:1:1: unknown field "rule_file" in the test file (want rule_files, accounts, tests)`,
			"t.yaml:1:1: rule_files: at least one rule file is needed", "t.yaml:1:1: tests: no tests"}},
		{"ErrWrongType", head + "    evals: {day: 1}\n", []string{"t.yaml:5:12: want a list, got a mapping"}},
		{"ErrAccountName", "rule_files: [r]\naccounts: [{id: 0123456789abcdef0123456789abcdef}]\ntests: []\n",
			[]string{"t.yaml:2:12: accounts[0]: name is required", "t.yaml:3:8: tests: no tests"}},
		{"ErrDuplicateAccount", "rule_files: [r]\naccounts:\n  - {id: 0123456789abcdef0123456789abcdef, name: a}\n  - {id: 0123456789abcdef0123456789abcdef, name: b}\ntests: []\n",
			[]string{`t.yaml:4:5: accounts[1]: "0123456789abcdef0123456789abcdef" is already accounts[0]`, "t.yaml:5:8: tests: no tests"}},
		{"ErrNoStart", "rule_files: [r]\ntests:\n  - name: t\n    evals: [{day: 2026-11-02}]\n", []string{`t.yaml:3:5: test "t": start: required`}},
		{"ErrBadStart", "rule_files: [r]\ntests:\n  - name: t\n    start: Nov 1\n    evals: [{day: 2026-11-02}]\n",
			[]string{`t.yaml:4:12: test "t": start: want YYYY-MM-DD, got "Nov 1"`}},
		{"ErrNoEvalInstant", head + "    evals: [{alerts: []}]\n", []string{`t.yaml:5:13: test "t": evals[0]: day or at is required`}},
		{"ErrBadAt", head + "    evals: [{at: 2026-11-02}]\n", []string{`t.yaml:5:18: test "t": evals[0]: at: want an RFC 3339 instant`}},
		{"ErrSameInstant", head + "    evals: [{day: 2026-11-02}, {at: \"2026-11-03T12:00:00Z\"}]\n",
			[]string{`t.yaml:5:37: test "t": evals[1]: 2026-11-03T12:00:00Z is not after the eval before it (2026-11-03T12:00:00Z)`}},
		{"ErrSeriesValues", head + "    series: [{service: S, values: \"1 2 x3\"}]\n    evals: [{day: 2026-11-02}]\n",
			[]string{`t.yaml:5:35: test "t": series[0]: values: term "x3": value ""`}},
		{"ErrSeriesStart", head + "    series: [{service: S, start: 11/3, values: \"1\"}]\n    evals: [{day: 2026-11-02}]\n",
			[]string{`t.yaml:5:34: test "t": series[0]: start: want YYYY-MM-DD, got "11/3"`}},
		{"ErrTwoCards", head + "    cards: [{expiry: 2026-12}, {account: production, expiry: 2027-01}]\n    evals: [{day: 2026-11-02}]\n",
			[]string{`t.yaml:5:32: test "t": cards[1]: account "production" already has a card (cards[0])`}},
		{"ErrEmptyTitle", head + "    evals: [{day: 2026-11-02, alerts: [{title: \"\"}]}]\n",
			[]string{`t.yaml:5:48: test "t": evals[0].alerts[0]: title: want a non-empty substring of the title`}},
		{"ErrAlertNotMapping", head + "    evals: [{day: 2026-11-02, alerts: [budget]}]\n",
			[]string{`t.yaml:5:40: want a mapping (expected alert), got "budget"`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse("t.yaml", []byte(tt.in))
			var es Errors
			if !errors.As(err, &es) {
				t.Fatalf("error %v (%T), want Errors", err, err)
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error lacks %q:\n%v", w, err)
				}
			}
			if len(es) != len(tt.want) {
				t.Errorf("%d errors, want %d:\n%v", len(es), len(tt.want), err)
			}
		})
	}
}
