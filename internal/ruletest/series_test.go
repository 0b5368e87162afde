package ruletest

import (
	"math"
	"slices"
	"strings"
	"testing"
)

func TestParseSeries(t *testing.T) {
	nan := math.NaN()
	tests := []struct {
		in      string
		want    []float64
		wantErr string
	}{
		{"5x3 30 5", []float64{5, 5, 5, 30, 5}, ""},
		{"0.25x2  _ 1e2", []float64{0.25, 0.25, nan, 100}, ""},
		{"_x2", []float64{nan, nan}, ""},
		{"", nil, "empty series"},
		{"5x0", nil, `term "5x0": repeat count "0"`},
		{"5xa", nil, `term "5xa": repeat count "a"`},
		{"-1", nil, `term "-1": value "-1"`},
		{"NaN", nil, `term "NaN": value "NaN"`},
		{"Inf", nil, `term "Inf": value "Inf"`},
		{"1x99999", nil, "longer than 3660 days"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := ParseSeries(tt.in)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("error %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			eq := func(a, b float64) bool { return a == b || (math.IsNaN(a) && math.IsNaN(b)) }
			if !slices.EqualFunc(got, tt.want, eq) {
				t.Errorf("got %v, want %v", got, tt.want)
			}
		})
	}
}

func FuzzSeries(f *testing.F) {
	for _, s := range []string{"5x30 30 5x3", "_ 0.5x2", "1e3x2", "x", "5xx3"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		vs, err := ParseSeries(s)
		if err != nil {
			return
		}
		if len(vs) == 0 || len(vs) > maxSeriesDays {
			t.Fatalf("%q: %d values", s, len(vs))
		}
		for _, v := range vs {
			if !math.IsNaN(v) && (v < 0 || math.IsInf(v, 0)) {
				t.Fatalf("%q: value %v", s, v)
			}
		}
	})
}
