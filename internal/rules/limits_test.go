//go:build unix

package rules_test

import (
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/costbot/costbot/internal/rules"
)

// TestParse_AmountBounds: budget and threshold amounts must be finite, at
// least 0.01 and at most 1e12; min_impact at most 1e12. Each error has
// file:line:col like the others.
func TestParse_AmountBounds(t *testing.T) {
	budget := func(amount, threshold string) string {
		return "budgets:\n  - name: b\n    amount: " + amount + "\n    currency: USD\n    thresholds: [{" + threshold + "}]\n"
	}
	tests := []struct {
		name, src, want string
	}{
		{"OK/Cent", budget("0.01", "amount: 0.01"), ""},
		{"OK/Max", budget("1e12", "amount: 1e12"), ""},
		{"ErrTiny", budget("1e-320", "percent: 80"), `a.yaml:3:13: rule "b": amount: must be at least 0.01, got 1e-320`},
		{"ErrHuge", budget("1e308", "percent: 80"), `a.yaml:3:13: rule "b": amount: must be at most 1e+12, got 1e308`},
		{"ErrNegativeHuge", budget("-1e308", "percent: 80"), `a.yaml:3:13: rule "b": amount: must be positive, got -1e308`},
		{"ErrOverflow", budget("1e400", "percent: 80"), `a.yaml:3:13: rule "b": amount: want a number, got string "1e400"`},
		{"ErrInf", budget(".inf", "percent: 80"), `a.yaml:3:13: rule "b": amount: want a finite number, got .inf`},
		{"ErrNaN", budget(".nan", "percent: 80"), `a.yaml:3:13: rule "b": amount: want a finite number, got .nan`},
		{"ErrThresholdTiny", budget("100", "amount: 0.001"), `a.yaml:5:27: rule "b": thresholds[0].amount: must be at least 0.01, got 0.001`},
		{"ErrThresholdHuge", budget("100", "amount: 1.5e12"), `a.yaml:5:27: rule "b": thresholds[0].amount: must be at most 1e+12, got 1.5e12`},
		{"ErrMinImpactHuge", "anomalies:\n  - name: a\n    min_impact: 1e13\n", `a.yaml:3:17: rule "a": min_impact: must be at most 1e+12, got 1e13`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := rules.Parse("a.yaml", []byte(tt.src))
			if tt.want == "" {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v\nwant %s", err, tt.want)
			}
		})
	}
}

// TestLoadDir_FileLimits: a rule file must be a regular file of at most
// 4 MiB; a named pipe (whose open would block forever) is refused, not
// opened.
func TestLoadDir_FileLimits(t *testing.T) {
	tests := []struct {
		name string
		make func(t *testing.T, path string)
		want string
	}{
		{"ErrNotRegular/FIFO", func(t *testing.T, p string) {
			if err := syscall.Mkfifo(p, 0o600); err != nil {
				t.Fatal(err)
			}
		}, "not a regular file (a named pipe)"},
		{"ErrTooLarge", func(t *testing.T, p string) {
			if err := os.WriteFile(p, []byte("# "+strings.Repeat("x", rules.MaxRuleFileSize)+"\n"), 0o600); err != nil {
				t.Fatal(err)
			}
		}, "over the limit of 4 MiB"},
		{"ErrNotRegular/DevZero", func(t *testing.T, p string) {
			if err := os.Symlink("/dev/zero", p); err != nil {
				t.Fatal(err)
			}
		}, "not a regular file (a device)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			p := filepath.Join(dir, "bad.yaml")
			tt.make(t, p)
			_, err := rules.LoadDir(dir)
			if err == nil || !strings.Contains(err.Error(), tt.want) || !strings.Contains(err.Error(), p) {
				t.Fatalf("err = %v, want %q naming %s", err, tt.want, p)
			}
		})
	}
}
