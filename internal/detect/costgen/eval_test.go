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
	f1Floor    = 0.95
	falseFloor = 0.5
)

func TestEvaluate(t *testing.T) {
	n := 200
	if *full {
		n = 2000
	}
	opts := detect.DefaultOptions()
	if *sensitivity != "" {
		opts.Sensitivity, _ = detect.ParseSensitivity(*sensitivity)
	}
	rep := costgen.Evaluate(n, 1, costgen.DefaultOptions(), opts)
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

var sensitivity = flag.String("costgen.sensitivity", "", "sensitivity for TestEvaluateRealistic (default: the shipped one); the floors apply to the shipped one")

var family = flag.String("costgen.family", "tuning", "realistic family TestEvaluateRealistic logs: tuning or held-out")

// Floors for the realistic CI slice (300 series of each family): the
// issue's goals for F1 and false alerts, and at most this many flags on
// blips and decoys together (the slices read 0 + 4 and 0 + 1 today); the full
// held-out figures are in README.md.
const (
	realF1Floor    = 0.90
	realFalseFloor = 0.3
	realFlagsCeil  = 6
)

func TestEvaluateRealistic(t *testing.T) {
	n := 300
	if *full {
		n = 2000
	}
	opts := detect.DefaultOptions()
	if *sensitivity != "" {
		s, err := detect.ParseSensitivity(*sensitivity)
		if err != nil {
			t.Fatal(err)
		}
		opts.Sensitivity = s
	}
	for _, f := range []costgen.Family{costgen.Tuning, costgen.HeldOut} {
		rep := costgen.EvaluateRealistic(f, n, 1, costgen.RealisticOptions(), opts)
		if f.String() != *family && *sensitivity != "" {
			continue
		}
		if f.String() == *family {
			t.Logf("default ensemble over %d realistic %s series:\n%s", n, f, rep)
		}
		if rep.F1 < realF1Floor {
			t.Errorf("%s: event-level F1 = %.3f, want >= %.2f", f, rep.F1, realF1Floor)
		}
		if rep.FalsePerYear > realFalseFloor {
			t.Errorf("%s: %.3f false alerts per series-year, want <= %.2f", f, rep.FalsePerYear, realFalseFloor)
		}
		if got := rep.BlipAlerts + rep.DecoyAlerts; got > realFlagsCeil {
			t.Errorf("%s: %d flags on blips and decoys, want <= %d", f, got, realFlagsCeil)
		}
	}
}

func TestRealistic_DeterministicAndFamiliesDiffer(t *testing.T) {
	o := costgen.RealisticOptions()
	a, b := costgen.Realistic(costgen.Tuning, 7, o), costgen.Realistic(costgen.Tuning, 7, o)
	h := costgen.Realistic(costgen.HeldOut, 7, o)
	same := true
	for i := range a.Values {
		if a.Values[i] != b.Values[i] {
			t.Fatalf("value %d differs for one seed: %v vs %v", i, a.Values[i], b.Values[i])
		}
		same = same && a.Values[i] == h.Values[i]
	}
	if same {
		t.Error("tuning and held-out seed 7 give the same series")
	}
}

func TestRealistic_Shape(t *testing.T) {
	o := costgen.RealisticOptions()
	kinds := map[costgen.Kind]int{}
	services := map[costgen.Service]int{}
	zeros, negative := 0, 0
	for seed := uint64(1); seed <= 200; seed++ {
		s := costgen.Realistic(costgen.Tuning, seed, o)
		services[s.Service]++
		for _, ev := range s.Events {
			kinds[ev.Kind]++
			if ev.Start < o.Quiet {
				t.Fatalf("seed %d: event %+v in the quiet days", seed, ev)
			}
		}
		for _, v := range s.Values {
			if v == 0 {
				zeros++
			}
			if v < 0 {
				negative++
			}
		}
	}
	for _, k := range []costgen.Kind{costgen.Spike, costgen.Shift, costgen.Ramp, costgen.Drop, costgen.Blip, costgen.Decoy} {
		if kinds[k] == 0 {
			t.Errorf("no %s events in 200 series", k)
		}
	}
	for _, s := range []costgen.Service{costgen.Regular, costgen.Intermittent, costgen.Tiny} {
		if services[s] == 0 {
			t.Errorf("no %s series in 200", s)
		}
	}
	if zeros == 0 || negative > 0 {
		t.Errorf("%d zero days, %d negative", zeros, negative)
	}
}
