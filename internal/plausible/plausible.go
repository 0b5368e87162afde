// Package plausible decides whether a billing answer may replace what is
// stored for its window. A successful but empty answer, or one that drops
// most of the service-days already stored, is far more often an upstream
// fault (a truncated page, a permissions change, an outage answering 200)
// than spend that vanished; replacing history with it deletes rows and
// resolves alerts that the next good answer fires again. A suspect answer is
// held back until a second fetch gives the same answer, which confirms it.
package plausible

import (
	"fmt"
	"hash/fnv"
	"math"
	"sort"
	"sync"
	"time"

	"github.com/costbot/costbot/internal/cost"
)

// MinCoverage is the share of the stored service-days with spend in a
// window that a new answer must still contain.
const MinCoverage = 0.5

// Check returns nil when fetched may replace stored (the account's rows in
// the same window), or an error saying why it is suspect. Days after the
// last stored day with spend are not compared, and neither are the last
// two stored days (late data is normal there).
func Check(stored, fetched []cost.Usage) error {
	type key struct {
		service string
		day     int64
	}
	var last time.Time
	for _, u := range stored {
		if spend(u) && u.Day.After(last) {
			last = u.Day
		}
	}
	cut := last.AddDate(0, 0, -2)
	want := map[key]bool{}
	for _, u := range stored {
		if spend(u) && !u.Day.After(cut) {
			want[key{u.Service, u.Day.Unix()}] = true
		}
	}
	if len(want) == 0 {
		return nil
	}
	if len(fetched) == 0 {
		return fmt.Errorf("suspect answer: no usage rows, while %d service-days with spend are stored for the window", len(want))
	}
	got := 0
	seen := map[key]bool{}
	for _, u := range fetched {
		k := key{u.Service, u.Day.Unix()}
		if want[k] && !seen[k] {
			seen[k] = true
			got++
		}
	}
	if share := float64(got) / float64(len(want)); share < MinCoverage {
		return fmt.Errorf("suspect answer: it has %d of the %d stored service-days with spend (%.0f%%, below %.0f%%)",
			got, len(want), 100*share, 100*MinCoverage)
	}
	return nil
}

func spend(u cost.Usage) bool {
	return u.CostKnown && !u.Correction && !math.IsNaN(u.Cost) && u.Cost != 0
}

// Guard remembers the last suspect answer per account, so a second
// identical answer confirms it. It is safe for concurrent use.
type Guard struct {
	mu      sync.Mutex
	suspect map[string]uint64 // account -> signature of its last suspect answer
}

// Admit returns nil when fetched may replace stored for account: it is
// plausible, or it is the same suspect answer as the previous fetch's
// (confirmed is then true). Otherwise it returns Check's error and
// remembers the answer.
func (g *Guard) Admit(account string, stored, fetched []cost.Usage) (confirmed bool, err error) {
	err = Check(stored, fetched)
	g.mu.Lock()
	defer g.mu.Unlock()
	if err == nil {
		delete(g.suspect, account)
		return false, nil
	}
	sig := signature(fetched)
	if prev, ok := g.suspect[account]; ok && prev == sig {
		delete(g.suspect, account)
		return true, nil
	}
	if g.suspect == nil {
		g.suspect = map[string]uint64{}
	}
	g.suspect[account] = sig
	return false, err
}

// signature hashes an answer independent of row order.
func signature(rows []cost.Usage) uint64 {
	hs := make([]uint64, len(rows))
	for i, u := range rows {
		h := fnv.New64a()
		fmt.Fprintf(h, "%s\x00%s\x00%s\x00%d\x00%x\x00%s\x00%t", u.Service, u.Family, u.Zone, u.Day.Unix(),
			math.Float64bits(u.Cost), u.Currency, u.Correction)
		hs[i] = h.Sum64()
	}
	sort.Slice(hs, func(a, b int) bool { return hs[a] < hs[b] })
	h := fnv.New64a()
	for _, x := range hs {
		var b [8]byte
		for i := range b {
			b[i] = byte(x >> (8 * i))
		}
		h.Write(b[:])
	}
	return h.Sum64() ^ uint64(len(rows))
}
