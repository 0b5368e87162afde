package chart_test

import (
	"bytes"
	"errors"
	"flag"
	"image"
	_ "image/png" // image.Decode reads PNG
	"math"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/costbot/costbot/internal/chart"
	"github.com/costbot/costbot/internal/cost"
	"github.com/costbot/costbot/internal/notify/notifytest"
)

var write = flag.Bool("write", false, "write the sample charts to the temp dir to look at them")

// decode checks that b is a PNG of the given size with more than one color
// (something was drawn).
func decode(t testing.TB, b []byte, w, h int) image.Image {
	t.Helper()
	if len(b) == 0 {
		t.Fatal("empty PNG")
	}
	img, format, err := image.Decode(bytes.NewReader(b))
	if err != nil {
		t.Fatalf("decode: %v", err)
	}
	if format != "png" {
		t.Fatalf("format %q, want png", format)
	}
	if got := img.Bounds().Size(); got != (image.Point{X: w, Y: h}) {
		t.Fatalf("size %v, want %dx%d", got, w, h)
	}
	first := img.At(0, 0)
	r0, g0, b0, _ := first.RGBA()
	for y := 0; y < h; y += 3 {
		for x := 0; x < w; x += 3 {
			if r, g, b, _ := img.At(x, y).RGBA(); r != r0 || g != g0 || b != b0 {
				return img
			}
		}
	}
	t.Fatal("blank image")
	return img
}

func TestPNG(t *testing.T) {
	alerts := notifytest.Alerts()
	for _, name := range []string{"budget", "anomaly"} {
		t.Run("OK"+name, func(t *testing.T) {
			b, err := chart.PNG(alerts[name], chart.Options{})
			if err != nil {
				t.Fatal(err)
			}
			decode(t, b, chart.DefaultWidth, chart.DefaultHeight)
			if *write {
				if err := os.WriteFile(os.TempDir()+"/costbot-chart-"+name+".png", b, 0o644); err != nil {
					t.Fatal(err)
				}
			}
		})
	}
	t.Run("OKDeterministic", func(t *testing.T) {
		a, _ := chart.PNG(alerts["budget"], chart.Options{})
		b, _ := chart.PNG(alerts["budget"], chart.Options{})
		if !bytes.Equal(a, b) {
			t.Error("two renders of one alert differ")
		}
	})
	t.Run("OKSizes", func(t *testing.T) {
		for _, tt := range []struct{ w, h, ww, wh int }{
			{640, 320, 640, 320},
			{0, 0, chart.DefaultWidth, chart.DefaultHeight},
			{1, -5, chart.MinSize, chart.MinSize},
			{99999, 300, chart.MaxSize, 300},
		} {
			b, err := chart.PNG(alerts["anomaly"], chart.Options{Width: tt.w, Height: tt.h})
			if err != nil {
				t.Fatalf("%dx%d: %v", tt.w, tt.h, err)
			}
			decode(t, b, tt.ww, tt.wh)
		}
	})
	t.Run("ErrNoData", func(t *testing.T) {
		for _, a := range []cost.Alert{alerts["card_expiry"], alerts["resolved"], alerts["forecast"]} {
			if _, err := chart.PNG(a, chart.DefaultOptions()); !errors.Is(err, chart.ErrNoData) {
				t.Errorf("%s: err %v, want ErrNoData", a.Kind, err)
			}
		}
	})
}

// TestPNG_EdgeCases renders odd charts of every view: none may panic, and
// each either renders a valid PNG or returns ErrNoData.
func TestPNG_EdgeCases(t *testing.T) {
	day := func(d int) time.Time { return time.Date(2026, 7, d, 0, 0, 0, 0, time.UTC) }
	days := func(n int) []time.Time {
		var out []time.Time
		for i := range n {
			out = append(out, day(1).AddDate(0, 0, i))
		}
		return out
	}
	nan, inf := math.NaN(), math.Inf(1)
	july := cost.Period{Start: day(1), End: day(1).AddDate(0, 1, 0)}
	tests := []struct {
		name   string
		chart  *cost.Chart
		noData bool
	}{
		{"Nil", nil, true},
		{"Empty", &cost.Chart{}, true},
		{"AllNaN", &cost.Chart{Days: days(3), Values: []float64{nan, nan, nan}}, true},
		{"AllInf", &cost.Chart{Days: days(2), Values: []float64{inf, -inf}}, true},
		{"Huge", &cost.Chart{Days: days(2), Values: []float64{1e300, math.MaxFloat64}}, true},
		{"ZeroDays", &cost.Chart{Days: make([]time.Time, 3), Values: []float64{1, 2, 3}}, true},
		{"NoValues", &cost.Chart{Days: days(5)}, true},
		{"SinglePoint", &cost.Chart{Days: days(1), Values: []float64{3}, Reference: []float64{2}}, false},
		{"SingleZero", &cost.Chart{Days: days(1), Values: []float64{0}}, false},
		{"NaNGaps", &cost.Chart{Days: days(5), Values: []float64{nan, 1, nan, 2, nan}, Reference: []float64{nan, 1, 1, nan, 1}}, false},
		{"AllZero", &cost.Chart{Days: days(4), Values: []float64{0, 0, 0, 0}, Reference: []float64{0, 0, 0, 0}}, false},
		{"Negative", &cost.Chart{Days: days(3), Values: []float64{-5, 2, -1}}, false},
		{"Tiny", &cost.Chart{Days: days(3), Values: []float64{1e-9, 2e-9, 0}}, false},
		{"Large", &cost.Chart{Days: days(3), Values: []float64{1e9, 3e9, 2e9}}, false},
		{"LengthMismatch", &cost.Chart{Days: days(10), Values: []float64{1, 2}, Reference: []float64{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11}}, false},
		{"Unsorted", &cost.Chart{Days: []time.Time{day(9), day(2), day(5)}, Values: []float64{1, 2, 3}}, false},
		{"SameDay", &cost.Chart{Days: []time.Time{day(3), day(3)}, Values: []float64{1, 2}}, false},
		{"YearLong", &cost.Chart{Days: []time.Time{day(1).AddDate(-1, 0, 0), day(1)}, Values: []float64{1, 2}}, false},
		{"Long", &cost.Chart{Days: days(400), Values: make([]float64, 400)}, false},
		{"FarDates", &cost.Chart{Days: []time.Time{time.Date(1, 1, 2, 0, 0, 0, 0, time.UTC), time.Date(9999, 12, 31, 0, 0, 0, 0, time.UTC)}, Values: []float64{1, 2}}, false},
		{"NonUTC", &cost.Chart{Days: []time.Time{time.Date(2026, 7, 3, 23, 0, 0, 0, time.FixedZone("x", -5*3600))}, Values: []float64{1}}, false},
		{"LongLabels", &cost.Chart{Days: days(2), Values: []float64{1, 2}, Reference: []float64{1, 1}, Title: strings.Repeat("t", 500), ReferenceLabel: strings.Repeat("r\n", 500)}, false},
	}
	kinds := []struct {
		name string
		edit func(*cost.Alert)
	}{
		{"Anomaly", func(a *cost.Alert) {
			a.Kind = cost.KindAnomaly
			a.Anomaly = &cost.AnomalyDetail{Day: day(3), Observed: 2, Expected: 1}
		}},
		{"AnomalyUnknownDay", func(a *cost.Alert) {
			a.Kind = cost.KindAnomaly
			a.Anomaly = &cost.AnomalyDetail{Observed: nan}
		}},
		{"Budget", func(a *cost.Alert) {
			a.Kind, a.Period, a.Budget, a.Limit, a.Actual, a.Forecast, a.CrossDate = cost.KindBudget, july, 100, 80, 85, 140, day(20)
		}},
		{"BudgetNaN", func(a *cost.Alert) {
			a.Kind, a.Period, a.Budget, a.Limit, a.Actual, a.Forecast, a.CrossDate = cost.KindBudget, july, 100, nan, nan, inf, day(1).AddDate(5, 0, 0)
		}},
		{"ForecastInvertedPeriod", func(a *cost.Alert) {
			a.Kind, a.Period, a.Budget, a.Forecast = cost.KindForecast, cost.Period{Start: july.End, End: july.Start}, 100, 120
		}},
		{"ForecastDayPeriod", func(a *cost.Alert) {
			a.Kind, a.Period, a.Budget, a.Limit, a.Forecast, a.CrossDate = cost.KindForecast, cost.Period{Start: day(2), End: day(3)}, 10, 10, 12, day(2)
		}},
		{"NoKind", func(*cost.Alert) {}},
	}
	for _, k := range kinds {
		for _, tt := range tests {
			t.Run(k.name+"/"+tt.name, func(t *testing.T) {
				t.Parallel()
				a := cost.Alert{Fingerprint: "f00", Finding: cost.Finding{Title: "Edge \x00 case ✓ \xff", Currency: "CHF", Chart: tt.chart}}
				k.edit(&a)
				b, err := chart.PNG(a, chart.Options{Width: 320, Height: 200})
				switch {
				case errors.Is(err, chart.ErrNoData):
					// Budget views plot only days inside the period; they may
					// find nothing where the daily view finds something.
					if !tt.noData && !strings.HasPrefix(k.name, "Budget") && !strings.HasPrefix(k.name, "Forecast") {
						t.Fatalf("ErrNoData for a chart with data")
					}
				case err != nil:
					t.Fatal(err)
				case tt.noData:
					t.Fatalf("rendered %d bytes, want ErrNoData", len(b))
				default:
					decode(t, b, 320, 200)
				}
			})
		}
	}
}

func BenchmarkPNG(b *testing.B) {
	alerts := notifytest.Alerts()
	for _, name := range []string{"budget", "anomaly"} {
		b.Run(name, func(b *testing.B) {
			a := alerts[name]
			b.ReportAllocs()
			for b.Loop() {
				if _, err := chart.PNG(a, chart.DefaultOptions()); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
