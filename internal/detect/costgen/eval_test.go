package costgen_test

import (
	"flag"
	"testing"

	"github.com/costbot/costbot/internal/detect"
	"github.com/costbot/costbot/internal/detect/costgen"
)

var full = flag.Bool("costgen.full", false, "evaluate 2000 series instead of the fast CI slice")

// F1 floor for the CI slice; the full figures are in README.md.
const (
	f1Floor    = 0.9
	falseFloor = 0.5
)

func TestEvaluate(t *testing.T) {
	n := 200
	if *full {
		n = 2000
	}
	rep := costgen.Evaluate(n, 1, costgen.DefaultOptions(), detect.DefaultOptions())
	t.Logf("default ensemble over %d generated series:\n%s", n, rep)
	if rep.F1 < f1Floor {
		t.Errorf("event-level F1 = %.3f, want >= %.2f", rep.F1, f1Floor)
	}
	if rep.FalsePerYear > falseFloor {
		t.Errorf("%.3f false alerts per series-year, want <= %.2f", rep.FalsePerYear, falseFloor)
	}
}

func TestGenerate_Deterministic(t *testing.T) {
	a := costgen.Generate(42, costgen.DefaultOptions())
	b := costgen.Generate(42, costgen.DefaultOptions())
	if len(a.Values) != len(b.Values) || len(a.Events) != len(b.Events) {
		t.Fatal("same seed, different shape")
	}
	for i := range a.Values {
		if a.Values[i] != b.Values[i] {
			t.Fatalf("value %d differs: %v vs %v", i, a.Values[i], b.Values[i])
		}
	}
	if len(a.Events) == 0 {
		t.Fatal("no events generated")
	}
}
