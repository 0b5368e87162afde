package rules

import (
	"maps"
	"slices"
	"testing"
	"time"

	"github.com/costbot/costbot/internal/cost"
)

// sliceHistory is an Input.History over a flat slice of rows, grouped by
// account in input order.
type sliceHistory map[string][]cost.Usage

func newSliceHistory(usage []cost.Usage) sliceHistory {
	h := sliceHistory{}
	for _, u := range usage {
		h[u.Account] = append(h[u.Account], u)
	}
	return h
}

func (h sliceHistory) Accounts() []string { return slices.Sorted(maps.Keys(h)) }

func (h sliceHistory) Rows(account string, buf []cost.Usage) []cost.Usage {
	// Dirty the buffer first: Run must not read what it held before.
	for i := range buf {
		buf[i] = cost.Usage{Account: "stale", Cost: -1}
	}
	return append(buf[:0], h[account]...)
}

// Usage handed over one account at a time (Input.History) gives what the
// same rows in Input.Usage give: the same findings in the same order,
// problems, budgets and judged state, cycle after cycle, whether the
// accounts are read on several goroutines or one at a time with their
// series judged on several.
func TestSet_Run_History(t *testing.T) {
	set := mustParse(t, fleetRules)
	want := fleetCycles(t, set, 1)
	for _, tt := range []struct {
		name    string
		workers int
	}{
		{"OK/workers=1", 1},
		{"OK/workers=2", 2},       // fewer than the accounts: accounts in parallel
		{"OK/workers=1000", 1000}, // more than the accounts: series in parallel
	} {
		t.Run(tt.name, func(t *testing.T) {
			got := fleetCyclesVia(t, set, tt.workers, true)
			if len(got) != len(want) {
				t.Fatalf("%d cycles, want %d", len(got), len(want))
			}
			for i := range want {
				if diff := firstDiff(dump(got[i]), dump(want[i])); diff != "" {
					t.Errorf("cycle %d: output differs from Input.Usage: %s", i, diff)
				}
			}
		})
	}
}

// Standing, Budgets and Digest read Input.History as they read Input.Usage.
func TestSet_Standing_History(t *testing.T) {
	set := mustParse(t, fleetRules)
	end := date(2026, 11, 30)
	accts, usage := fleet(t, 4, 12, 160, end)
	problems := 0
	for _, tt := range []struct {
		name  string
		now   time.Time
		stale map[string]error
	}{
		{"OK/fresh", end.Add(36 * time.Hour), nil},
		{"OK/stale account", end.Add(36 * time.Hour), map[string]error{accts[1].ID: errTest}},
		{"OK/mid period", end.AddDate(0, 0, -14), nil},
	} {
		t.Run(tt.name, func(t *testing.T) {
			flat := Input{Now: tt.now, Accounts: accts, Usage: usage, Stale: tt.stale}
			via := flat
			via.Usage, via.History = nil, newSliceHistory(usage)
			wb, wp := set.Standing(flat)
			gb, gp := set.Standing(via)
			if len(wb) == 0 {
				t.Fatal("no budget status: the fixture tests too little")
			}
			problems += len(wp)
			if diff := firstDiff(dump(gb), dump(wb)); diff != "" {
				t.Errorf("Standing budgets differ: %s", diff)
			}
			if diff := firstDiff(dump(gp), dump(wp)); diff != "" {
				t.Errorf("Standing problems differ: %s", diff)
			}
			if diff := firstDiff(dump(set.Budgets(via)), dump(set.Budgets(flat))); diff != "" {
				t.Errorf("Budgets differ: %s", diff)
			}
			for _, weekly := range []bool{false, true} {
				want := Digest(flat, weekly)
				if len(want) == 0 {
					t.Fatal("no digest: the fixture tests too little")
				}
				if diff := firstDiff(dump(Digest(via, weekly)), dump(want)); diff != "" {
					t.Errorf("Digest(weekly=%t) differs: %s", weekly, diff)
				}
			}
		})
	}
	if problems == 0 {
		t.Error("no rule problem in any case: the table tests too little")
	}
}

// Output.Judged holds the series whose state changed and no other: a Run
// over the same input again returns none, one a day later those of the new
// day; Run never writes into the states it was given, and reading them
// through Input.JudgedOf gives what Input.Judged gives.
func TestSet_Run_JudgedChanged(t *testing.T) {
	set := mustParse(t, fleetRules)
	end := date(2026, 11, 30)
	accts, usage := fleet(t, 4, 12, 160, end)
	var judged map[string]Judged
	summaries := 0
	for i, tt := range []struct {
		now     time.Time
		changed bool
	}{
		{end.AddDate(0, 0, -6).Add(36 * time.Hour), true}, // a first cycle (with a catch-up summary)
		{end.AddDate(0, 0, -6).Add(36 * time.Hour), false},
		{end.Add(36 * time.Hour), true}, // after a downtime
		{end.Add(37 * time.Hour), false},
		{end.Add(60 * time.Hour), true},
	} {
		in := Input{Now: tt.now, Accounts: accts, Usage: usage, Judged: judged}
		before := dump(judged)
		o := set.Run(in)
		if diff := firstDiff(dump(judged), before); diff != "" {
			t.Fatalf("cycle %d wrote into Input.Judged: %s", i, diff)
		}
		via := in
		via.Judged, via.JudgedOf = nil, func(k string) Judged { return judged[k] }
		if diff := firstDiff(dump(set.Run(via)), dump(o)); diff != "" {
			t.Errorf("cycle %d: Input.JudgedOf gives another output: %s", i, diff)
		}
		if got := len(o.Judged) > 0; got != tt.changed {
			t.Errorf("cycle %d: %d states returned, want some: %t", i, len(o.Judged), tt.changed)
		}
		for k, j := range o.Judged {
			if p, ok := judged[k]; ok && p.Equal(j) {
				t.Errorf("cycle %d: %s returned unchanged", i, k)
			}
		}
		for _, f := range o.Findings {
			if f.Threshold == "catch-up" {
				summaries++
			}
		}
		next := map[string]Judged{}
		maps.Copy(next, judged)
		maps.Copy(next, o.Judged)
		judged = next
	}
	if summaries == 0 {
		t.Error("no catch-up summary: the fixture tests too little")
	}
}
