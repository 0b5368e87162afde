package ruletest

import (
	"fmt"
	"math"
	"strconv"
	"strings"
)

// maxSeriesDays bounds one series: ten years of days.
const maxSeriesDays = 3660

// ParseSeries reads the compact series notation: space-separated terms,
// each a value or a value repeated, "VxN" (N days at V). A value is a
// finite decimal number >= 0 (cost per day) or "_" (no row that day).
// "5x30 30 5x3" is thirty days at 5, one at 30 and three at 5. Missing days
// come back as NaN.
func ParseSeries(s string) ([]float64, error) {
	var out []float64
	for _, term := range strings.Fields(s) {
		val, rep, hasRep := strings.Cut(term, "x")
		n := 1
		if hasRep {
			var err error
			n, err = strconv.Atoi(rep)
			if err != nil || n < 1 {
				return nil, fmt.Errorf("term %q: repeat count %q: want a whole number >= 1", term, rep)
			}
		}
		v := math.NaN()
		if val != "_" {
			f, err := strconv.ParseFloat(val, 64)
			if err != nil || math.IsNaN(f) || math.IsInf(f, 0) || f < 0 || f > 1e12 {
				return nil, fmt.Errorf("term %q: value %q: want a number from 0 to 1e12, or _ for no row", term, val)
			}
			v = f
		}
		if len(out)+n > maxSeriesDays {
			return nil, fmt.Errorf("term %q: series longer than %d days", term, maxSeriesDays)
		}
		for range n {
			out = append(out, v)
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("empty series")
	}
	return out, nil
}
