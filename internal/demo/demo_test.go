package demo_test

import (
	"context"
	"math"
	"net/http/httptest"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/costbot/costbot/internal/billing"
	"github.com/costbot/costbot/internal/billing/fakecf"
	"github.com/costbot/costbot/internal/cost"
	"github.com/costbot/costbot/internal/demo"
)

func ts(s string) time.Time {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		panic(err)
	}
	return t
}

// nows covers month ends, a leap day, and nows whose anchor would fall on
// the 29th-31st (kept at the 28th).
var nows = []struct {
	name string
	now  time.Time
}{
	{"midMonth", ts("2026-11-25T17:33:00Z")},
	{"janEnd", ts("2026-01-31T23:59:59Z")},
	{"febEnd", ts("2026-02-28T00:00:00Z")},
	{"marFirst", ts("2026-03-01T12:00:00Z")},
	{"decEnd", ts("2026-12-31T10:00:00Z")},
	{"leapDay", ts("2028-02-29T06:00:00Z")},
	{"anchor29", ts("2026-02-16T08:00:00Z")},
	{"anchor30", ts("2026-02-17T08:00:00Z")},
	{"anchor31", ts("2026-02-18T08:00:00Z")},
	{"anchor31Apr", ts("2026-04-18T20:00:00Z")},
	{"anchor30Jul", ts("2026-07-18T01:00:00Z")},
	{"nonUTC", time.Date(2026, 6, 1, 1, 0, 0, 0, time.FixedZone("PDT", -7*3600))},
}

func TestAccount_Scenario(t *testing.T) {
	for _, tt := range nows {
		t.Run(tt.name, func(t *testing.T) {
			now := tt.now
			a := demo.Account(now)
			today := cost.Day(now)
			last := today.AddDate(0, 0, -1)
			if a.ID != demo.AccountID || a.Name != "production" || a.Currency != "USD" {
				t.Fatalf("account %s %s %s", a.ID, a.Name, a.Currency)
			}

			services := map[string]int{}
			days := map[time.Time]bool{}
			daily := map[string]map[time.Time]float64{}
			for _, d := range a.Days {
				if d.Cost < 0 || d.Quantity <= 0 || d.Unit == "" || d.Family == "" || !d.Day.Equal(cost.Day(d.Day)) {
					t.Fatalf("bad day %+v", d)
				}
				if d.Day.After(last) {
					t.Fatalf("data for %s, after the last complete day %s", d.Day, last)
				}
				services[d.Service]++
				days[d.Day] = true
				if daily[d.Service] == nil {
					daily[d.Service] = map[time.Time]float64{}
				}
				daily[d.Service][d.Day] += d.Cost
			}
			if len(services) < 6 || len(days) < 90 || !days[last] {
				t.Fatalf("%d services, %d days (last %v)", len(services), len(days), days[last])
			}
			for s, n := range services {
				if n != demo.HistoryDays {
					t.Errorf("%s has %d days", s, n)
				}
			}

			// Billing period: anchor in 1..28, now on day 19 unless the anchor was kept at 28.
			anchor := a.Anchor.Day()
			p := demo.CurrentPeriod(now)
			if anchor < 1 || anchor > 28 || p.Start.Day() != anchor || !p.Contains(today) {
				t.Fatalf("anchor %d, period %s, today %s", anchor, p, today)
			}
			elapsed := int(today.Sub(p.Start) / (24 * time.Hour))
			if want := today.AddDate(0, 0, -18); want.Day() <= 28 && elapsed != 18 {
				t.Errorf("now is on day %d of the period, want 19", elapsed+1)
			} else if elapsed < 18 || elapsed > 21 {
				t.Errorf("%d complete days in the period", elapsed)
			}

			// Budget crossing: period-to-date in [80%, 100%) of the budget, run-rate forecast above it.
			ptd := func(match func(string) bool) float64 {
				var sum float64
				for s, byDay := range daily {
					if !match(s) {
						continue
					}
					for d, c := range byDay {
						if !d.Before(p.Start) {
							sum += c
						}
					}
				}
				return sum
			}
			periodDays := float64(p.Days())
			for name, match := range map[string]func(string) bool{
				"Workers*":       func(s string) bool { return strings.HasPrefix(s, "Workers") },
				"family Workers": func(s string) bool { return s == "Workers Standard Requests" || s == "Workers CPU ms" },
			} {
				got := ptd(match)
				forecast := got / float64(elapsed) * periodDays
				if got < 0.8*demo.WorkersBudget || got >= demo.WorkersBudget || forecast <= demo.WorkersBudget {
					t.Errorf("%s: period-to-date $%.2f, forecast $%.2f against $%.0f", name, got, forecast, demo.WorkersBudget)
				}
			}
			if got := ptd(func(s string) bool { return strings.HasPrefix(s, "Workers") }); math.Abs(got-demo.WorkersPeriodToDate) > 0.01 {
				t.Errorf("Workers* period-to-date = %.4f, want %.0f", got, demo.WorkersPeriodToDate)
			}
			perDay := ptd(func(string) bool { return true }) / float64(elapsed)
			if perDay < 50 || perDay > 70 {
				t.Errorf("account spends $%.2f/day, want about $60", perDay)
			}

			// Spike: R2 Class A steady around $6, last day ~5x with impact > $20.
			r2 := daily["R2 Class A Operations"]
			var base []float64
			for d, c := range r2 {
				if d.Before(last) {
					base = append(base, c)
				}
			}
			slices.Sort(base)
			median := base[len(base)/2]
			for _, c := range base {
				if c < 0.85*median || c > 1.15*median {
					t.Errorf("R2 Class A baseline day $%.2f strays from median $%.2f", c, median)
				}
			}
			if median < 5 || median > 7 || r2[last] < 4*median || r2[last]-median <= 20 {
				t.Errorf("R2 Class A spike $%.2f on baseline $%.2f", r2[last], median)
			}

			// Weekends are lower.
			var wk, we []float64
			for d, c := range daily["Workers Standard Requests"] {
				if d.Weekday() == time.Saturday || d.Weekday() == time.Sunday {
					we = append(we, c)
				} else {
					wk = append(wk, c)
				}
			}
			if mean(we) >= 0.9*mean(wk) {
				t.Errorf("weekend mean %.2f not below weekday mean %.2f", mean(we), mean(wk))
			}

			// Card expires at the next 1st, within 31 days.
			card := cost.Card{ExpiryMonth: a.CardMonth, ExpiryYear: a.CardYear}
			if left := card.ExpiresAt().Sub(now); left <= 0 || left > 31*24*time.Hour {
				t.Errorf("card expires %s, %s after now", card.ExpiresAt(), left)
			}
		})
	}
}

func mean(xs []float64) float64 {
	var s float64
	for _, x := range xs {
		s += x
	}
	return s / float64(len(xs))
}

func TestAccount_Deterministic(t *testing.T) {
	now := ts("2026-11-25T17:33:00Z")
	a, b := demo.Account(now), demo.Account(now.Add(3*time.Hour))
	if !reflect.DeepEqual(a, b) {
		t.Fatal("same day, different data")
	}
	if c := demo.Account(now.AddDate(0, 0, 1)); reflect.DeepEqual(a, c) {
		t.Fatal("a day later, same data")
	}
}

// TestNewServer fetches the demo through the fake and the real client.
func TestNewServer(t *testing.T) {
	now := ts("2026-11-25T17:33:00Z")
	srv := httptest.NewServer(demo.NewServer(now))
	defer srv.Close()
	want := demo.Account(now)
	var total float64
	for _, d := range want.Days {
		total += d.Cost
	}
	acct := cost.Account{ID: demo.AccountID, Name: demo.AccountName}
	days := cost.Period{Start: cost.Day(now).AddDate(0, 0, -demo.HistoryDays), End: cost.Day(now)}
	c := billing.New(billing.Options{BaseURL: srv.URL, APIToken: demo.Token, Now: func() time.Time { return now }})
	for _, src := range []billing.Source{billing.SourcePayGo, billing.SourceFocus} {
		snap, err := c.Fetch(context.Background(), acct, src, days)
		if err != nil {
			t.Fatal(err)
		}
		var got float64
		for _, u := range snap.Usage {
			got += u.Cost
			if !u.BillingPeriod.Contains(u.Day) || u.BillingPeriod.Start.Day() != demo.AnchorDay(now) {
				t.Fatalf("%s: row %+v", src, u)
			}
		}
		if len(snap.Usage) != len(want.Days) || math.Abs(got-total) > 1e-6 || snap.Card == nil || snap.Card.ExpiryMonth != 11 {
			t.Errorf("%s: %d rows, $%.2f (want %d, $%.2f), card %+v", src, len(snap.Usage), got, len(want.Days), total, snap.Card)
		}
	}
	bad := billing.New(billing.Options{BaseURL: srv.URL, APIToken: "wrong", MaxRetryWait: time.Millisecond})
	if _, err := bad.Card(context.Background(), acct); err == nil {
		t.Error("wrong token accepted")
	}
	var _ fakecf.Account = want
}
