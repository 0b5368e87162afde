// Package arch holds the test that keeps costbot's data flow one way:
// fetch (billing) -> normalize (cost) -> evaluate (rules, detect) -> alert
// state (alert, store) -> notify, with app wiring them together.
package arch

import (
	"go/build"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

const module = "github.com/costbot/costbot/"

// deps returns the module packages pkg (a path below the module root)
// imports, directly or not, from its non-test files.
func deps(t *testing.T, root, pkg string) []string {
	t.Helper()
	seen := map[string]bool{}
	var walk func(p string)
	walk = func(p string) {
		bp, err := build.Default.ImportDir(filepath.Join(root, p), 0)
		if err != nil {
			t.Fatalf("read package %s: %v", p, err)
		}
		for _, imp := range bp.Imports {
			if rel, ok := strings.CutPrefix(imp, module); ok && !seen[rel] {
				seen[rel] = true
				walk(rel)
			}
		}
	}
	walk(pkg)
	out := make([]string, 0, len(seen))
	for p := range seen {
		out = append(out, p)
	}
	slices.Sort(out)
	return out
}

// stdlibOnly reports the imports of pkg that are not the standard library.
func stdlibOnly(t *testing.T, root, pkg string) []string {
	bp, err := build.Default.ImportDir(filepath.Join(root, pkg), 0)
	if err != nil {
		t.Fatal(err)
	}
	var bad []string
	for _, imp := range bp.Imports {
		if first, _, _ := strings.Cut(imp, "/"); strings.Contains(first, ".") {
			bad = append(bad, imp)
		}
	}
	return bad
}

func TestImportBoundaries(t *testing.T) {
	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(root, "go.mod")); err != nil {
		t.Fatalf("module root not found from %s: %v", root, err)
	}
	if bad := stdlibOnly(t, root, "internal/cost"); len(bad) > 0 {
		t.Errorf("internal/cost imports %v; it may import only the standard library", bad)
	}
	notify := []string{"internal/notify", "internal/notify/console", "internal/notify/slack", "internal/notify/webhook"}
	tests := []struct {
		pkgs      []string
		forbidden []string
		why       string
	}{
		{notify, []string{"internal/alert", "internal/rules", "internal/store", "internal/app"},
			"notifiers render and send what the alert stage decided; they never decide"},
		{[]string{"internal/rules", "internal/detect"}, []string{"internal/alert", "internal/store", "internal/notify", "internal/app", "internal/billing"},
			"evaluation is pure: data in, findings out"},
		{[]string{"internal/alert"}, []string{"internal/store", "internal/notify", "internal/app", "internal/billing", "internal/rules"},
			"the alert stage plans from a snapshot; loading and saving it is the app's"},
		{[]string{"internal/billing"}, []string{"internal/store", "internal/rules", "internal/alert", "internal/notify", "internal/app"},
			"fetching knows nothing of what happens to the data"},
		{[]string{"internal/detect"}, []string{"internal/detect/metrics"},
			"the cost ensemble does not know metrics mode"},
	}
	for _, tt := range tests {
		for _, p := range tt.pkgs {
			for _, d := range deps(t, root, p) {
				if slices.Contains(tt.forbidden, d) {
					t.Errorf("%s imports %s (directly or not): %s", p, d, tt.why)
				}
			}
		}
	}
}
