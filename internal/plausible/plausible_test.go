package plausible_test

import (
	"strings"
	"testing"
	"time"

	"github.com/costbot/costbot/internal/cost"
	"github.com/costbot/costbot/internal/plausible"
)

var day0 = time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)

// window is services x days rows with spend, from day0.
func window(services, days int) []cost.Usage {
	var out []cost.Usage
	for s := 0; s < services; s++ {
		for d := 0; d < days; d++ {
			out = append(out, cost.Usage{Account: "a", Service: string(rune('A' + s)), Day: day0.AddDate(0, 0, d),
				Cost: 10, CostKnown: true, Currency: "USD"})
		}
	}
	return out
}

func keep(rows []cost.Usage, f func(cost.Usage) bool) []cost.Usage {
	var out []cost.Usage
	for _, u := range rows {
		if f(u) {
			out = append(out, u)
		}
	}
	return out
}

func TestCheck(t *testing.T) {
	stored := window(10, 40) // 400 service-days
	tests := []struct {
		name    string
		stored  []cost.Usage
		fetched []cost.Usage
		want    string // "" = plausible, else a substring of the error
	}{
		{"OK/SameAnswer", stored, stored, ""},
		{"OK/NothingStored", nil, nil, ""},
		{"OK/FirstFetchEmpty", nil, window(0, 0), ""},
		{"OK/LastTwoDaysLate", stored, keep(stored, func(u cost.Usage) bool { return u.Day.Before(day0.AddDate(0, 0, 38)) }), ""},
		{"OK/OneServiceGone", stored, keep(stored, func(u cost.Usage) bool { return u.Service != "A" }), ""},
		{"OK/HalfTheServicesGone", stored, keep(stored, func(u cost.Usage) bool { return u.Service >= "F" }), ""},
		{"Suspect/EmptySmallWindow", window(3, 10), nil, "no usage rows, while 24 service-days"},
		{"Suspect/Empty", stored, nil, "no usage rows, while 380 service-days"},
		{"Suspect/MostServicesDropped", stored, keep(stored, func(u cost.Usage) bool { return u.Service <= "C" }), "114 of the 380"},
		{"Suspect/MostDaysDropped", stored, keep(stored, func(u cost.Usage) bool { return u.Day.Before(day0.AddDate(0, 0, 10)) }), "100 of the 380"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := plausible.Check(tt.stored, tt.fetched)
			switch {
			case tt.want == "" && err != nil:
				t.Errorf("Check = %v, want plausible", err)
			case tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)):
				t.Errorf("Check = %v, want an error containing %q", err, tt.want)
			}
		})
	}
}

func TestCheck_ZeroAndUnknownCostsAreNoSpend(t *testing.T) {
	stored := window(2, 10)
	for i := range stored {
		if i%2 == 0 {
			stored[i].Cost = 0
		} else {
			stored[i].CostKnown = false
		}
	}
	if err := plausible.Check(stored, nil); err != nil {
		t.Errorf("stored rows without spend make an empty answer suspect: %v", err)
	}
}

func TestGuard_SecondIdenticalAnswerConfirms(t *testing.T) {
	stored := window(5, 30)
	empty := []cost.Usage(nil)
	partial := keep(stored, func(u cost.Usage) bool { return u.Service == "A" })
	var g plausible.Guard
	steps := []struct {
		account   string
		fetched   []cost.Usage
		confirmed bool
		suspect   bool
	}{
		{"a", empty, false, true},             // held back
		{"b", partial, false, true},           // another account's memory is its own
		{"a", partial, false, true},           // a different suspect answer starts over
		{"a", partial, true, false},           // the same answer twice: confirmed
		{"b", stored, false, false},           // plausible: b's memory is cleared
		{"b", partial, false, true},           // so this is a first suspect answer again
		{"a", reversed(partial), false, true}, // a's memory was used by the confirmation
		{"a", partial, true, false},           // row order does not matter
	}
	for i, s := range steps {
		confirmed, err := g.Admit(s.account, stored, s.fetched)
		if confirmed != s.confirmed || (err != nil) != s.suspect {
			t.Errorf("step %d (%s): confirmed %v, err %v; want confirmed %v, suspect %v", i, s.account, confirmed, err, s.confirmed, s.suspect)
		}
	}
}

func reversed(rows []cost.Usage) []cost.Usage {
	out := make([]cost.Usage, len(rows))
	for i, u := range rows {
		out[len(rows)-1-i] = u
	}
	return out
}
