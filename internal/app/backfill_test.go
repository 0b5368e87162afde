package app

import (
	"cmp"
	"context"
	"log/slog"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/costbot/costbot/internal/billing"
	"github.com/costbot/costbot/internal/billing/fakecf"
	"github.com/costbot/costbot/internal/cost"
)

// stepClock is a wall clock that moves one minute each time it is read.
type stepClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *stepClock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	t := c.t
	c.t = c.t.Add(time.Minute)
	return t
}

// TestApp_Cycle_BackfillProgress: the first cycle loads history_days (150)
// in five 30-day windows with a progress line after each (window n/5, rows
// so far, an ETA that reaches 0), stores exactly the rows one unstepped
// fetch returns, and later refreshes log no progress.
func TestApp_Cycle_BackfillProgress(t *testing.T) {
	now := noon(day(2026, 9, 1))
	for _, source := range []string{"paygo", "focus"} {
		t.Run("OK "+source, func(t *testing.T) {
			e := newLiveEnvSource(t, liveRules, source)
			days := liveSeries(day(2026, 1, 1), day(2026, 9, 1), nil)
			e.serve(days)
			logs := &lockedBuffer{}
			e.a.log = slog.New(slog.NewTextHandler(logs, nil))
			e.a.wall = (&stepClock{t: now}).now
			e.cycle(now)
			srv := e.cf.h.(*fakecf.Server)
			stepped := len(srv.Requests())

			lines := regexp.MustCompile(`msg="backfill progress" .*`).FindAllString(logs.String(), -1)
			if len(lines) != 5 {
				t.Fatalf("%d progress lines, want 5:\n%s", len(lines), logs.String())
			}
			prevRows := -1
			for i, l := range lines {
				for _, w := range []string{"account=production", "account_n=1/1", "window=" + string(rune('1'+i)) + "/5", "done=" + string(rune('1'+i)) + "/5", "eta="} {
					if !strings.Contains(l, w) {
						t.Errorf("line %d lacks %s: %s", i+1, w, l)
					}
				}
				rows := atoiField(t, l, "rows")
				if rows < prevRows {
					t.Errorf("rows went down: %s", l)
				}
				prevRows = rows
			}
			// One read of the clock per window at one minute each: the
			// first window took 1m, so 4 more take 4m; the last says 0s.
			if !strings.Contains(lines[0], "eta=4m0s") || !strings.Contains(lines[4], "eta=0s") {
				t.Errorf("ETAs: first %q, last %q", lines[0], lines[4])
			}
			if !strings.Contains(logs.String(), `msg="backfill started" account=production`) {
				t.Errorf("no start line:\n%s", logs.String())
			}

			// What was stored is what one unstepped fetch returns.
			got, err := e.a.flatUsage(context.Background(), cost.Day(now))
			if err != nil {
				t.Fatal(err)
			}
			if prevRows != len(got) {
				t.Errorf("last progress line says %d rows, stored %d", prevRows, len(got))
			}
			cf, err := newBilling(e.cfg, e.a.http, func() time.Time { return now }, slog.New(slog.DiscardHandler))
			if err != nil {
				t.Fatal(err)
			}
			src, _ := billing.ParseSource(source)
			end := cost.Day(now)
			want, err := cf.Usage(context.Background(), cost.Account{ID: liveAccount, Name: "production"}, src,
				cost.Period{Start: end.AddDate(0, 0, -e.cfg.Cloudflare.HistoryDays), End: end})
			if err != nil {
				t.Fatal(err)
			}
			t.Logf("%s: stepped first cycle %d requests (with card and anchor reads), one fetch %d", source, stepped, len(srv.Requests())-stepped)
			sortUsage(got)
			sortUsage(want)
			if len(want) == 0 || !reflect.DeepEqual(got, want) {
				t.Errorf("stepped backfill stored %d rows, one fetch returns %d (equal: %v)", len(got), len(want), reflect.DeepEqual(got, want))
			}

			before := len(logs.String())
			e.cycle(now.Add(time.Hour))
			if strings.Contains(logs.String()[before:], "backfill") {
				t.Errorf("a refresh logged backfill lines:\n%s", logs.String()[before:])
			}
		})
	}
}

func atoiField(t *testing.T, line, key string) int {
	t.Helper()
	m := regexp.MustCompile(`\b` + key + `=(\d+)`).FindStringSubmatch(line)
	if m == nil {
		t.Fatalf("no %s= in %s", key, line)
	}
	n := 0
	for _, c := range m[1] {
		n = n*10 + int(c-'0')
	}
	return n
}

func sortUsage(us []cost.Usage) {
	slices.SortFunc(us, func(x, y cost.Usage) int {
		return cmp.Or(x.Day.Compare(y.Day), strings.Compare(x.Service, y.Service), strings.Compare(x.Zone, y.Zone),
			strings.Compare(x.Family, y.Family), boolCmp(x.Correction, y.Correction))
	})
}
