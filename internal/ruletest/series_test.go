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
		name    string
		in      string
		want    []float64
		wantErr string
	}{
		{"OK", "5x3 30 5", []float64{5, 5, 5, 30, 5}, ""},
		{"OK/Brief", "5x30 30 5x3", slices.Concat(slices.Repeat([]float64{5}, 30), []float64{30, 5, 5, 5}), ""},
		{"OK/Decimals", "0.25x2 1.5", []float64{0.25, 0.25, 1.5}, ""},
		{"OK/Missing", "1 _ 2", []float64{1, nan, 2}, ""},
		{"OK/MissingRepeated", "_x2 3", []float64{nan, nan, 3}, ""},
		{"OK/Zero", "0x2", []float64{0, 0}, ""},
		{"OK/Exponent", "1e2", []float64{100}, ""},
		{"OK/Whitespace", "  1\t2\n 3 ", []float64{1, 2, 3}, ""},
		{"OK/Longest", "1x3660", slices.Repeat([]float64{1}, 3660), ""},
		{"ErrEmpty", "", nil, "empty series"},
		{"ErrBlank", "   ", nil, "empty series"},
		{"ErrZeroRepeat", "5x0", nil, `term "5x0": repeat count "0"`},
		{"ErrNegativeRepeat", "5x-1", nil, `term "5x-1": repeat count "-1"`},
		{"ErrRepeatNotNumber", "5xa", nil, `term "5xa": repeat count "a"`},
		{"ErrRepeatMissing", "5x", nil, `term "5x": repeat count ""`},
		{"ErrRepeatFraction", "5x1.5", nil, `term "5x1.5": repeat count "1.5"`},
		{"ErrDoubleRepeat", "5x2x3", nil, `term "5x2x3": repeat count "2x3"`},
		{"ErrValueMissing", "x3", nil, `term "x3": value ""`},
		{"ErrNegative", "-1", nil, `term "-1": value "-1"`},
		{"ErrNaN", "NaN", nil, `term "NaN": value "NaN"`},
		{"ErrInf", "Inf", nil, `term "Inf": value "Inf"`},
		{"ErrTooLarge", "2e12", nil, `term "2e12": value "2e12"`},
		{"ErrWord", "five", nil, `term "five": value "five"`},
		{"ErrComma", "5,6", nil, `term "5,6": value "5,6"`},
		{"ErrTooLong", "1x3000 1x661", nil, `term "1x661": series longer than 3660 days`},
		{"ErrHugeRepeat", "1x99999999999999999999", nil, "repeat count"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseSeries(tt.in)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("ParseSeries(%q) error %v, want %q", tt.in, err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("ParseSeries(%q): %v", tt.in, err)
			}
			eq := func(a, b float64) bool { return a == b || (math.IsNaN(a) && math.IsNaN(b)) }
			if !slices.EqualFunc(got, tt.want, eq) {
				t.Errorf("ParseSeries(%q) = %v, want %v", tt.in, got, tt.want)
			}
		})
	}
}

func FuzzSeries(f *testing.F) {
	for _, s := range []string{"5x30 30 5x3", "_ 0.5x2", "0.25x10", "1e3x2", "x", "5xx3", "_x_", "1x3660", "-0", "0x1p4"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		vs, err := ParseSeries(s)
		if err != nil {
			if vs != nil {
				t.Fatalf("ParseSeries(%q) returned values with error %v", s, err)
			}
			return
		}
		if len(vs) == 0 || len(vs) > maxSeriesDays {
			t.Fatalf("ParseSeries(%q): %d values", s, len(vs))
		}
		for _, v := range vs {
			if !math.IsNaN(v) && (v < 0 || v > 1e12 || math.IsInf(v, 0)) {
				t.Fatalf("ParseSeries(%q): value %v", s, v)
			}
		}
		// The terms are independent: parsing each alone gives the same days.
		var again []float64
		for _, term := range strings.Fields(s) {
			part, err := ParseSeries(term)
			if err != nil {
				t.Fatalf("ParseSeries(%q) ok, but its term %q fails: %v", s, term, err)
			}
			again = append(again, part...)
		}
		eq := func(a, b float64) bool { return a == b || (math.IsNaN(a) && math.IsNaN(b)) }
		if !slices.EqualFunc(vs, again, eq) {
			t.Fatalf("ParseSeries(%q) differs from its terms parsed one by one", s)
		}
	})
}
