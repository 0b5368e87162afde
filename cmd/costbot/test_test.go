package main

import (
	"bytes"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

func TestRun_Test(t *testing.T) {
	shipped, err := filepath.Glob("../../rules/tests/*.yaml")
	if err != nil || len(shipped) == 0 {
		t.Fatalf("no shipped rule tests: %v", err)
	}
	const td = "../../internal/ruletest/testdata/"
	tests := []struct {
		name   string
		args   []string
		code   int
		stdout []string // each must appear
		stderr string
	}{
		{"OK shipped rule tests", shipped, 0, []string{" tests, 0 failed\n"}, ""},
		{"OK verbose", []string{"-v", td + "pass.yaml"}, 0, []string{"ok   " + td + "pass.yaml:4: workers at 50%\n", "2 tests, 0 failed\n"}, ""},
		{"OK run filter", []string{"-run", "^passes$", td + "wrong-alert.bad.yaml"}, 0, []string{"1 tests, 0 failed\n"}, ""},
		{"ErrWrongAlert", []string{td + "pass.yaml", td + "wrong-alert.bad.yaml"}, 1, []string{
			`FAIL ` + td + `wrong-alert.bad.yaml:4: test "expects the wrong severity and misses the forecast"`,
			`    - firing budget workers-monthly severity=warning threshold="actual>=50%"`,
			`    + firing forecast workers-monthly`,
			"4 tests, 1 failed\n",
		}, ""},
		{"ErrInvalidFile", []string{td + "unknown-field.bad.yaml"}, 1, []string{
			`unknown-field.bad.yaml:5:5: unknown field "seriess" in a test`, "1 tests, 1 failed\n",
		}, ""},
		{"ErrNoFiles", nil, 2, nil, "costbot test: no test files"},
		{"ErrBadRun", []string{"-run", "(", td + "pass.yaml"}, 2, nil, "costbot test: -run: error parsing regexp"},
		{"ErrUnknownFlag", []string{"-x", td + "pass.yaml"}, 2, nil, "flag provided but not defined: -x"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out, errb bytes.Buffer
			code := run(append([]string{"test"}, tt.args...), nil, &out, &errb)
			if code != tt.code {
				t.Errorf("exit %d, want %d\nstdout: %s\nstderr: %s", code, tt.code, out.String(), errb.String())
			}
			for _, w := range tt.stdout {
				if !strings.Contains(out.String(), w) {
					t.Errorf("stdout lacks %q:\n%s", w, out.String())
				}
			}
			if !strings.Contains(errb.String(), tt.stderr) || (tt.stderr == "" && errb.Len() > 0) {
				t.Errorf("stderr %q, want %q", errb.String(), tt.stderr)
			}
			if tt.code != 2 && !regexp.MustCompile(`(?m)^\d+ tests, \d+ failed\n\z`).MatchString(out.String()) {
				t.Errorf("stdout does not end in the summary line:\n%s", out.String())
			}
		})
	}
}
