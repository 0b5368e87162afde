package detect_test

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/costbot/costbot/internal/detect"
)

// daily builds n days of weekday-seasonal cost around base with 5% noise.
func daily(n int, base float64, seed uint64) []float64 {
	rng := rand.New(rand.NewPCG(seed, 1))
	v := make([]float64, n)
	for i := range v {
		f := 1.0
		if i%7 >= 5 {
			f = 0.7
		}
		v[i] = base * f * (1 + 0.05*rng.NormFloat64())
	}
	return v
}

func TestSeries_Causal(t *testing.T) {
	v := daily(200, 100, 1)
	v[120] *= 3
	for i := 150; i < 200; i++ {
		v[i] *= 1.6
	}
	v[90] = math.NaN()
	full := detect.Series(v, detect.DefaultOptions())
	for _, n := range []int{1, 29, 91, 121, 155, 199} {
		pre := detect.Series(v[:n], detect.DefaultOptions())
		for i := range pre {
			a, b := pre[i], full[i]
			if a.Score != b.Score || a.Anomaly != b.Anomaly || a.Since != b.Since || a.Detector != b.Detector ||
				!(a.Expected == b.Expected || math.IsNaN(a.Expected) && math.IsNaN(b.Expected)) {
				t.Fatalf("prefix %d, point %d: %+v != %+v", n, i, a, b)
			}
		}
	}
}

func TestSeries_Scenarios(t *testing.T) {
	const at = 100
	tests := []struct {
		name     string
		mutate   func(v []float64)
		opts     func(o *detect.Options)
		want     bool // an alert within 3 days of at
		wantDet  string
		outage   bool
		maxAlert int // alert onsets allowed after at (0 = any)
		within   int // days after at an alert counts (default 3)
	}{
		{name: "OK/spike", mutate: func(v []float64) { v[at] *= 3 }, want: true, wantDet: "seasonal"},
		{name: "OK/level shift alerts once", mutate: func(v []float64) {
			for i := at; i < len(v); i++ {
				v[i] *= 1.8
			}
		}, want: true, maxAlert: 1},
		{name: "OK/ramp", mutate: func(v []float64) {
			for i := at; i < len(v); i++ {
				v[i] *= 1 + 0.8*math.Min(float64(i-at+1)/21, 1)
			}
		}, want: true, within: 14},
		{name: "OK/outage", mutate: func(v []float64) {
			for i := at; i < at+3; i++ {
				v[i] = 0
			}
		}, want: true, wantDet: "outage", outage: true},
		{name: "OK/tiny-dollar blip never alerts", mutate: func(v []float64) { v[at] += 4 }, opts: func(o *detect.Options) {}, want: false},
		{name: "OK/drop ignored when direction up", mutate: func(v []float64) { v[at] *= 0.5 }, want: false},
		{name: "OK/drop alerts when direction down", mutate: func(v []float64) { v[at] *= 0.4 },
			opts: func(o *detect.Options) { o.Direction = detect.DirectionDown }, want: true},
		{name: "OK/nothing during warm-up", mutate: func(v []float64) { v[10] *= 5 },
			opts: func(o *detect.Options) {}, want: false},
		{name: "OK/min change gates", mutate: func(v []float64) { v[at] *= 3 },
			opts: func(o *detect.Options) { o.MinChange = 5 }, want: false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			base := 100.0
			if tc.name == "OK/tiny-dollar blip never alerts" {
				base = 10
			}
			v := daily(200, base, 7)
			tc.mutate(v)
			o := detect.DefaultOptions()
			if tc.opts != nil {
				tc.opts(&o)
			}
			res := detect.Series(v, o)
			got, onsets := false, 0
			within := tc.within
			if within == 0 {
				within = 3
			}
			for i, r := range res {
				if r.Anomaly && r.Since == i {
					onsets++
				}
				if r.Anomaly && (i >= at && i <= at+within || i == 10) {
					got = true
					if tc.wantDet != "" && !contains(r.Detector, tc.wantDet) {
						t.Errorf("point %d: detector %q, want %q", i, r.Detector, tc.wantDet)
					}
					if tc.outage && !r.Outage {
						t.Errorf("point %d: Outage = false", i)
					}
					if r.Score < 0.5 || r.Score > 1 {
						t.Errorf("point %d: score %v outside [0.5,1]", i, r.Score)
					}
					if r.Impact != r.Observed-r.Expected {
						t.Errorf("point %d: impact %v != observed-expected", i, r.Impact)
					}
				}
			}
			if got != tc.want {
				t.Fatalf("alert near %d = %v, want %v", at, got, tc.want)
			}
			if tc.maxAlert > 0 && onsets > tc.maxAlert {
				t.Errorf("%d alert onsets, want <= %d", onsets, tc.maxAlert)
			}
		})
	}
}

func contains(s, sub string) bool {
	for i := 0; i+len(sub) <= len(s); i++ {
		if s[i:i+len(sub)] == sub {
			return true
		}
	}
	return false
}

func TestSeries_Missing(t *testing.T) {
	v := daily(120, 100, 3)
	for i := 40; i < 50; i++ {
		v[i] = math.NaN()
	}
	for i, r := range detect.Series(v, detect.DefaultOptions()) {
		if r.Score < 0 || r.Score > 1 || math.IsNaN(r.Score) {
			t.Fatalf("point %d: score %v", i, r.Score)
		}
		if math.IsNaN(v[i]) && r.Anomaly {
			t.Fatalf("point %d: missing point is anomalous", i)
		}
	}
}

func TestOptions_Validate(t *testing.T) {
	if err := detect.DefaultOptions().Validate(); err != nil {
		t.Fatalf("defaults invalid: %v", err)
	}
	o := detect.DefaultOptions()
	o.MinImpact, o.WarmUp, o.Season = -1, -2, -3
	err := o.Validate()
	if err == nil {
		t.Fatal("want error")
	}
	for _, f := range []string{"min impact", "warm-up", "season"} {
		if !contains(err.Error(), f) {
			t.Errorf("error %q does not name %q", err, f)
		}
	}
	if _, err := detect.New(o); err == nil {
		t.Error("New accepted invalid options")
	}
}

func TestParse(t *testing.T) {
	for _, m := range []detect.Method{detect.MethodEnsemble, detect.MethodSeasonal, detect.MethodCUSUM, detect.MethodRamp, detect.MethodOutage, detect.MethodESD} {
		if got, err := detect.ParseMethod(m.String()); err != nil || got != m {
			t.Errorf("ParseMethod(%q) = %v, %v", m, got, err)
		}
	}
	for _, s := range []detect.Sensitivity{detect.SensitivityLow, detect.SensitivityMedium, detect.SensitivityHigh} {
		if got, err := detect.ParseSensitivity(s.String()); err != nil || got != s {
			t.Errorf("ParseSensitivity(%q) = %v, %v", s, got, err)
		}
	}
	for _, d := range []detect.Direction{detect.DirectionUp, detect.DirectionDown, detect.DirectionBoth} {
		if got, err := detect.ParseDirection(d.String()); err != nil || got != d {
			t.Errorf("ParseDirection(%q) = %v, %v", d, got, err)
		}
	}
	if _, err := detect.ParseMethod("nope"); err == nil {
		t.Error("ParseMethod accepted nope")
	}
}

func TestDetector_StepAllocs(t *testing.T) {
	d, _ := detect.New(detect.DefaultOptions())
	v := daily(1000, 100, 5)
	i := 0
	allocs := testing.AllocsPerRun(1000, func() {
		d.Step(v[i%len(v)] * (1 + float64(i%97/96)*3))
		i++
	})
	if allocs > 0 {
		t.Errorf("Step allocates %.2f times per call", allocs)
	}
}
