package store

import (
	"math"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/costbot/costbot/internal/rules"
)

// TestEncodeJudged_MatchesJSON: the direct encoder writes the bytes
// encoding/json writes, for every kind of float and day map, and gives way
// to it for days it cannot order by their keys.
func TestEncodeJudged_MatchesJSON(t *testing.T) {
	d0 := time.Date(2026, 9, 1, 0, 0, 0, 0, time.UTC)
	floats := []float64{0, math.Copysign(0, -1), 1, -1.5, 0.1 + 0.2, 1e-6, 9.99e-7, 1e-7, 1.5e-300, 1e20, 1e21, -1e21, 1.7976931348623157e308,
		math.SmallestNonzeroFloat64, 123456.789, math.NaN(), math.Inf(1), math.Inf(-1)}
	rnd := rand.New(rand.NewPCG(1, 2))
	var cases []rules.Judged
	cases = append(cases, rules.Judged{}, rules.Judged{Values: map[time.Time]float64{}})
	for n := range 40 {
		j := rules.Judged{Values: map[time.Time]float64{}, Reported: map[time.Time]time.Time{}, Summarized: map[time.Time]time.Time{}}
		for i := range rnd.IntN(120) {
			f := floats[rnd.IntN(len(floats))]
			if rnd.IntN(2) == 0 {
				f = rnd.NormFloat64() * math.Pow(10, float64(rnd.IntN(40)-20))
			}
			j.Values[d0.AddDate(0, 0, -i*(1+n%3))] = f
		}
		for i := range rnd.IntN(4) {
			j.Reported[d0.AddDate(0, 0, -7*i)] = d0.AddDate(0, 0, -7*i+2)
		}
		if n%2 == 0 {
			j.Summarized[d0.AddDate(-1, 0, 0)] = d0.AddDate(-1, 0, 3).In(time.FixedZone("X", 3600))
		}
		cases = append(cases, j)
	}
	for i, j := range cases {
		got, ok := appendJudged(nil, j)
		want, err := marshalJudged(j)
		if !ok || err != nil || string(got) != string(want) {
			t.Errorf("case %d: appendJudged = %s (ok %v)\nencoding/json = %s (err %v)", i, got, ok, want, err)
		}
	}
	// Days that are not UTC midnights go through encoding/json.
	odd := rules.Judged{Values: map[time.Time]float64{d0.Add(time.Hour): 1, d0.In(time.FixedZone("Y", -3600)): 2}}
	if _, ok := appendJudged(nil, odd); ok {
		t.Error("appendJudged took days that are not UTC midnights")
	}
	if b, err := encodeJudged(odd); err != nil || len(b) == 0 {
		t.Errorf("encodeJudged(odd) = %s, %v", b, err)
	}
}
