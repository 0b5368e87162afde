package metrics_test

import (
	"crypto/sha256"
	"fmt"
	"math"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/costbot/costbot/internal/detect"
	"github.com/costbot/costbot/internal/detect/metrics"
)

// frozenSeries are six 5-minute metrics of 4000 points with a daily cycle:
// quiet, a jump at 2500, missing points every 97th and a narrower top range
// from 3000, two drops to zero, bursts, and negative values.
func frozenSeries(tb testing.TB) [][]float64 {
	tb.Helper()
	var out [][]float64
	for k := 0; k < 6; k++ {
		x := uint64(k + 1)
		next := func() float64 {
			x = x*6364136223846793005 + 1442695040888963407
			return float64(x>>11) / float64(1<<53)
		}
		v := make([]float64, 4000)
		for i := range v {
			v[i] = 50 + 10*math.Sin(2*math.Pi*float64(i)/288) + 2*(next()-0.5)
			switch {
			case k == 1 && i >= 2500:
				v[i] += 60
			case k == 2 && i%97 == 0:
				v[i] = math.NaN()
			case k == 3 && (i == 900 || i == 1500):
				v[i] = 0
			case k == 4 && next() < 0.2:
				v[i] += 250 * next()
			case k == 5:
				v[i] -= 80
			}
			if k == 2 && i >= 3000 {
				v[i] = 56 + 4*next()
			}
		}
		out = append(out, v)
	}
	return out
}

// TestSeries_Frozen pins every field of every Result over frozenSeries (the
// SHA-256 of one line per point) to what metrics mode gave inside package
// detect when its NAB figures were measured (main at 6028210): the move to
// this package, and any later change to the cost ensemble, must not move
// them. The hashes hold on amd64, where Go never fuses a multiply and an
// add; other architectures may round differently in the last bit.
func TestSeries_Frozen(t *testing.T) {
	if runtime.GOARCH != "amd64" {
		t.Skipf("results pinned on amd64, not %s", runtime.GOARCH)
	}
	series := frozenSeries(t)
	start := time.Date(2026, 1, 29, 0, 0, 0, 0, time.UTC)
	tests := []struct {
		name       string
		opts       metrics.Options
		wantAlerts int
		want       string
	}{
		{"OK/FiveMinute", metrics.Options{Season: 288, WarmUp: 150}, 8,
			"4ab6a3105c83df32bdb0308e71eb96d4d03d738afaeb9c88a3c0b6d3de104f5d"},
		{"OK/Hourly", metrics.Options{Season: 24, WarmUp: 150}, 8,
			"10895b47f7d981a4caf2b28d048c0f5ea2f376a6aceabf2b3722e41da1f59351"},
		{"OK/NoSeason", metrics.Options{Season: 1, WarmUp: 150}, 5,
			"489b5e2db899d124b8b0e32ebabcbadde8daf80ecdb6326eb435ad036f1e41c1"},
		{"OK/SeasonWithoutWeeklyBaseline", metrics.Options{Season: 2016, WarmUp: 300}, 18,
			"c0202f1c16310e2a3a7c0274101521b0e661705a83d481ec7a4dcfaaec757443"},
		{"OK/SeasonalMethodMinImpact", metrics.Options{Season: 288, WarmUp: 28, MinImpact: 5, Method: detect.MethodSeasonal}, 7,
			"ba85537f6955b34e1482a25a2d7cd75136f40a9f8c4aa34068297c78ee32d55f"},
		{"OK/DailyWithStart", metrics.Options{Season: 7, WarmUp: 28, Start: start}, 4,
			"df18451a9de18bdf58fd504303d88115b7d33ee6271943c559c10618bc330d2b"},
	}
	g := func(x float64) string { return strconv.FormatFloat(x, 'g', -1, 64) }
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := sha256.New()
			alerts := 0
			for _, v := range series {
				for i, r := range metrics.Series(v, tt.opts) {
					fmt.Fprintf(h, "%d %s %t %s %s %s %s %s %d %t\n", i, g(r.Score), r.Anomaly, g(r.Expected),
						g(r.Observed), g(r.Sigma), g(r.Impact), r.Detector, r.Since, r.Outage)
					if r.Anomaly {
						alerts++
					}
				}
			}
			if got := fmt.Sprintf("%x", h.Sum(nil)); got != tt.want || alerts != tt.wantAlerts {
				t.Errorf("results SHA-256 %s with %d alerts, want %s with %d", got, alerts, tt.want, tt.wantAlerts)
			}
		})
	}
}

func TestOptions_Validate(t *testing.T) {
	tests := []struct {
		name string
		edit func(*metrics.Options)
		want string // "" = valid
	}{
		{"OK", func(*metrics.Options) {}, ""},
		{"OK/NoSeason", func(o *metrics.Options) { o.Season = 1 }, ""},
		{"ErrSeasonZero", func(o *metrics.Options) { o.Season = 0 }, "season: 0"},
		{"ErrSeasonTooLong", func(o *metrics.Options) { o.Season = detect.MaxSeason + 1 }, "season: 10001"},
		{"ErrWarmUp", func(o *metrics.Options) { o.WarmUp = -1 }, "warm-up: -1"},
		{"ErrMinImpact", func(o *metrics.Options) { o.MinImpact = math.NaN() }, "min impact: NaN"},
		{"ErrMethod", func(o *metrics.Options) { o.Method = 9 }, "method: unknown value 9"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := metrics.DefaultOptions()
			tt.edit(&o)
			err := o.Validate()
			if _, nerr := metrics.New(o); (err == nil) != (nerr == nil) {
				t.Errorf("Validate: %v, but New: %v", err, nerr)
			}
			switch {
			case tt.want == "" && err != nil:
				t.Errorf("Validate: %v, want nil", err)
			case tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)):
				t.Errorf("Validate: %v, want an error containing %q", err, tt.want)
			}
		})
	}
}
