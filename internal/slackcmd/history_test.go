package slackcmd

import (
	"bytes"
	"maps"
	"slices"
	"strings"
	"testing"

	"github.com/costbot/costbot/internal/cost"
)

// sliceHistory is a Data.History over a flat slice of rows, grouped by
// account in input order.
type sliceHistory map[string][]cost.Usage

func (h sliceHistory) Accounts() []string { return slices.Sorted(maps.Keys(h)) }

func (h sliceHistory) Rows(account string, buf []cost.Usage) []cost.Usage {
	for i := range buf {
		buf[i] = cost.Usage{Account: "stale", Cost: -1} // must not be read
	}
	return append(buf[:0], h[account]...)
}

// Rows handed over one account at a time (Data.History) give the replies
// the same rows in Data.Usage give, in the daemon's order (by account id):
// spend, top, forecast and lookups alike.
func TestSnapshot_History_SameReplies(t *testing.T) {
	flat := testData()
	slices.SortStableFunc(flat.Usage, func(x, y cost.Usage) int { return strings.Compare(x.Account, y.Account) })
	via := flat
	hist := sliceHistory{}
	for _, u := range flat.Usage {
		hist[u.Account] = append(hist[u.Account], u)
	}
	via.Usage, via.History = nil, hist
	hFlat, _ := newTestHandler(t, Options{})
	hFlat.SetData(flat)
	hVia, _ := newTestHandler(t, Options{})
	hVia.SetData(via)
	for _, text := range []string{
		"spend", "spend workers req 7d", "spend workers", "spend production last-month", "spend yesterday",
		"spend today", "spend r2 30d", "spend wrokers", "top", "top 3 30d", "budgets", "forecast",
		"forecast argo", "forecast workers", "forecast staging", "forecast images delivered", "card",
	} {
		t.Run("OK/"+text, func(t *testing.T) {
			_, want := runSlash(t, hFlat, text)
			_, got := runSlash(t, hVia, text)
			if !bytes.Equal(got, want) {
				t.Errorf("/costbot %s with Data.History:\n%s\nwith Data.Usage:\n%s", text, got, want)
			}
		})
	}
}
