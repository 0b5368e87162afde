package detect

import (
	"math"
	"testing"
)

func TestDetector_Rebase(t *testing.T) {
	// 70 quiet days around $100 with a weekly pattern, then a lasting x3
	// level from day 70; marked expected after day 72.
	level := func(i int) float64 {
		v := 100.0
		if i%7 == 5 || i%7 == 6 {
			v = 70
		}
		v *= 1 + 0.03*math.Sin(float64(i)*1.7)
		if i >= 70 {
			v *= 3
		}
		return v
	}
	tests := []struct {
		name   string
		rebase bool
		spike  float64 // multiplies day 80
		// wantQuiet: no new alert (episode onset) on days 73..79; wantSpike:
		// day 80 anomalous; wantExpected: the baseline on day 74 (a weekday),
		// within 15%: without a mark the old level is still expected there
		// (the detector makes a change the new normal itself only after a
		// season of anomalous days, and the shift stays one episode)
		wantQuiet, wantSpike bool
		wantExpected         float64
	}{
		{"OK/NewLevelIsTheBaseline", true, 1, true, false, 300},
		{"OK/SpikeAfterMarkAlerts", true, 5, true, true, 300},
		{"WithoutRebaseTheOldLevelStays", false, 1, true, false, 100},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d, err := New(DefaultOptions())
			if err != nil {
				t.Fatal(err)
			}
			quiet, spike, expected := true, false, 0.0
			for i := 0; i <= 80; i++ {
				v := level(i)
				if i == 80 {
					v *= tt.spike
				}
				r := d.Step(v)
				if i >= 73 && i <= 79 && r.Anomaly && r.Since == i {
					quiet = false
				}
				if i == 80 {
					spike = r.Anomaly
				}
				if i == 74 {
					expected = r.Expected
				}
				if i == 72 && tt.rebase {
					d.Rebase()
				}
			}
			if quiet != tt.wantQuiet || spike != tt.wantSpike || math.Abs(expected/tt.wantExpected-1) > 0.15 {
				t.Errorf("quiet after mark = %v, spike on day 80 = %v, expected on day 74 = %.1f; want %v, %v, %.0f",
					quiet, spike, expected, tt.wantQuiet, tt.wantSpike, tt.wantExpected)
			}
		})
	}
}

func TestDetector_RebaseAllocatesNothing(t *testing.T) {
	d, _ := New(DefaultOptions())
	for i := 0; i < 40; i++ {
		d.Step(10)
	}
	if n := testing.AllocsPerRun(100, d.Rebase); n != 0 {
		t.Errorf("Rebase allocates %v times", n)
	}
}
