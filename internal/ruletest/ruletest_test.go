package ruletest

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

func TestRun_ShippedRuleTests(t *testing.T) {
	files, err := filepath.Glob("../../rules/tests/*.yaml")
	if err != nil || len(files) == 0 {
		t.Fatalf("no rule tests: %v", err)
	}
	var out bytes.Buffer
	if sum := Run(context.Background(), &out, files, Options{}); !sum.OK() || sum.Tests == 0 {
		t.Fatalf("shipped rule tests: %+v\n%s", sum, out.String())
	}
}

// TestRun_Testdata runs every file in testdata: pass.yaml passes, and each
// *.bad.yaml fails with the output given here.
func TestRun_Testdata(t *testing.T) {
	tests := map[string]struct {
		tests, failed int
		want          []string
	}{
		"pass.yaml": {2, 0, []string{"2 tests, 0 failed\n"}},
		"wrong-alert.bad.yaml": {2, 1, []string{
			`FAIL testdata/wrong-alert.bad.yaml:4: test "expects the wrong severity and misses the forecast"` + "\n" +
				`  testdata/wrong-alert.bad.yaml:9: day 2026-11-13 (cycle at 2026-11-14T12:00:00Z): expected 1 alert, got 2:` + "\n" +
				`    - firing budget workers-monthly severity=warning threshold="actual>=50%"` + "\n" +
				`        (closest sent: severity: want "warning", got "info")` + "\n" +
				`    + firing budget workers-monthly reason=first account=production family=Workers* severity=info day=2026-11-13 threshold="actual>=50%" title="Workers (production) budget at 52% of $250.00 (billing period 1 Nov – 30 Nov 2026)"` + "\n" +
				`    + firing forecast workers-monthly reason=first account=production family=Workers* severity=warning day=2026-11-25 threshold="forecast>=100%"`,
			"2 tests, 1 failed\n",
		}},
		"extra-alert.bad.yaml": {1, 1, []string{
			`testdata/extra-alert.bad.yaml:10: day 2026-11-05 (cycle at 2026-11-06T12:00:00Z): expected 0 alerts, got 1:` + "\n" +
				`    + firing forecast workers-monthly`,
			`testdata/extra-alert.bad.yaml:11: day 2026-11-06 (cycle at 2026-11-07T12:00:00Z): expected 1 alert, got 0:` + "\n" +
				`    - firing budget workers-monthly threshold="actual>=80%"` + "\n",
		}},
		"unknown-field.bad.yaml": {1, 1, []string{
			`testdata/unknown-field.bad.yaml:5:5: unknown field "seriess" in a test (want name, start, series, cards, evals)`,
			`testdata/unknown-field.bad.yaml:9:33: unknown field "severty" in an expected alert (want kind, rule, status, reason,`,
		}},
		"bad-values.bad.yaml": {1, 1, []string{
			`testdata/bad-values.bad.yaml:3:10: accounts[0]: id: want a 32-character lower-case hex account id, got "abc"`,
			`testdata/bad-values.bad.yaml:3:41: accounts[0]: source: want paygo or focus, got "graphql"`,
			`testdata/bad-values.bad.yaml:8:30: test "bad series": series[0]: values: term "5x-1": repeat count "-1": want a whole number >= 1`,
			`testdata/bad-values.bad.yaml:9:19: test "bad series": series[1]: account "nope" is not in accounts`,
			`testdata/bad-values.bad.yaml:10:9: test "bad series": series[2]: the same account, family, service and zone as series[0]`,
			`testdata/bad-values.bad.yaml:12:18: test "bad series": cards[0]: expiry: want YYYY-MM, got "2026-13"`,
			`testdata/bad-values.bad.yaml:14:15: test "bad series": evals[0]: day: want YYYY-MM-DD, got "2026-13-02"`,
			`testdata/bad-values.bad.yaml:15:31: test "bad series": evals[1]: give day or at, not both`,
			`testdata/bad-values.bad.yaml:17:14: test "bad series": evals[3]: 2026-09-02T12:00:00Z is not after the eval before it`,
			`testdata/bad-values.bad.yaml:20:20: test "bad series": evals[4].alerts[0]: kind: unknown kind "budgit"`,
			`testdata/bad-values.bad.yaml:20:36: test "bad series": evals[4].alerts[0]: status: want firing or resolved, got "pending"`,
			`testdata/bad-values.bad.yaml:20:87: test "bad series": evals[4].alerts[0]: account: "staging" is not in accounts`,
			`testdata/bad-values.bad.yaml:22:12: test "bad series": evals: no evaluation instants`,
			`testdata/bad-values.bad.yaml:21:11: test "bad series": name: the same as the test on line 5`,
		}},
		"bad-rules.bad.yaml": {1, 1, []string{`testdata/bad-rules.bad.yaml:1:43: rule_files[1]: "missing-*.yaml" matches no file`}},
		"duplicate-rule.bad.yaml": {1, 1, []string{
			`testdata/rules/card-expiry-again.yaml:3:11: rule "card-expiry": name: duplicate rule name, first defined at ../../rules/cards.yaml:15:11`,
		}},
		"not-yaml.bad.yaml": {1, 1, []string{`testdata/not-yaml.bad.yaml:1: invalid YAML: did not find expected ',' or ']'`}},
	}
	files, _ := filepath.Glob("testdata/*.yaml")
	for _, path := range files {
		name := filepath.Base(path)
		tt, ok := tests[name]
		if !ok {
			t.Errorf("%s has no case in TestRun_Testdata", path)
			continue
		}
		t.Run(name, func(t *testing.T) {
			var out bytes.Buffer
			sum := Run(context.Background(), &out, []string{path}, Options{})
			if sum.Tests != tt.tests || sum.Failed != tt.failed {
				t.Errorf("got %d tests, %d failed; want %d, %d", sum.Tests, sum.Failed, tt.tests, tt.failed)
			}
			if strings.HasSuffix(name, ".bad.yaml") == sum.OK() {
				t.Errorf("OK() = %v for %s", sum.OK(), name)
			}
			for _, w := range tt.want {
				if !strings.Contains(out.String(), w) {
					t.Errorf("output lacks\n%s\n--- output:\n%s", w, out.String())
				}
			}
		})
	}
}

func TestRun_Options(t *testing.T) {
	files := []string{"testdata/pass.yaml", "testdata/wrong-alert.bad.yaml"}
	t.Run("OK/Verbose", func(t *testing.T) {
		var out bytes.Buffer
		Run(context.Background(), &out, files, Options{Verbose: true})
		for _, w := range []string{"ok   testdata/pass.yaml:4: workers at 50%\n", "ok   testdata/pass.yaml:12: quiet\n",
			"ok   testdata/wrong-alert.bad.yaml:12: passes\n", "FAIL testdata/wrong-alert.bad.yaml:4:", "4 tests, 1 failed\n"} {
			if !strings.Contains(out.String(), w) {
				t.Errorf("output lacks %q:\n%s", w, out.String())
			}
		}
	})
	t.Run("OK/Run", func(t *testing.T) {
		var out bytes.Buffer
		sum := Run(context.Background(), &out, files, Options{Run: regexp.MustCompile("^(quiet|passes)$")})
		if sum != (Summary{Tests: 2}) || out.String() != "2 tests, 0 failed\n" {
			t.Errorf("%+v, output:\n%s", sum, out.String())
		}
	})
	t.Run("ErrMissingFile", func(t *testing.T) {
		var out bytes.Buffer
		sum := Run(context.Background(), &out, []string{"testdata/nope.yaml"}, Options{})
		if sum != (Summary{Tests: 1, Failed: 1}) || !strings.Contains(out.String(), "FAIL testdata/nope.yaml\n  read test file: open testdata/nope.yaml:") {
			t.Errorf("%+v, output:\n%s", sum, out.String())
		}
	})
}

// TestDocsExample runs the example of docs/rules.md as if it were in
// rules/tests, so the documentation cannot rot.
func TestDocsExample(t *testing.T) {
	doc, err := os.ReadFile("../../docs/rules.md")
	if err != nil {
		t.Fatal(err)
	}
	_, rest, ok := strings.Cut(string(doc), "```yaml\nrule_files:")
	example, _, ok2 := strings.Cut(rest, "```")
	if !ok || !ok2 {
		t.Fatal("docs/rules.md has no ```yaml example starting with rule_files")
	}
	f, err := Parse("../../rules/tests/docs-example.yaml", []byte("rule_files:"+example))
	if err != nil {
		t.Fatal(err)
	}
	rs, err := run(context.Background(), f, Options{})
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range rs {
		if len(r.Failures) > 0 {
			t.Errorf("docs example %q fails:\n%s", r.Name, strings.Join(r.Failures, "\n"))
		}
	}
}

func TestBillingPeriod(t *testing.T) {
	tests := []struct {
		day    string
		anchor int
		want   string
	}{
		{"2026-11-05", 1, "2026-11-01..2026-12-01"},
		{"2026-11-05", 0, "2026-11-01..2026-12-01"},
		{"2026-11-05", 14, "2026-10-14..2026-11-14"},
		{"2026-11-14", 14, "2026-11-14..2026-12-14"},
		{"2026-01-05", 20, "2025-12-20..2026-01-20"},
		{"2026-02-28", 31, "2026-02-28..2026-03-31"},
		{"2026-02-27", 31, "2026-01-31..2026-02-28"},
		{"2026-03-30", 31, "2026-02-28..2026-03-31"},
	}
	for _, tt := range tests {
		day, _ := time.Parse(time.DateOnly, tt.day)
		if got := billingPeriod(day, tt.anchor).String(); got != tt.want {
			t.Errorf("billingPeriod(%s, %d) = %s, want %s", tt.day, tt.anchor, got, tt.want)
		}
	}
}
