package billing_test

import (
	"context"
	"errors"
	"fmt"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/time/rate"

	"github.com/costbot/costbot/internal/billing"
	"github.com/costbot/costbot/internal/billing/fakecf"
	"github.com/costbot/costbot/internal/cost"
)

// TestClient_Limiter: the requests of every account and endpoint, fetched
// at once, draw on the one limiter; once it is spent a request that would
// have to wait past its deadline fails without reaching the server.
func TestClient_Limiter(t *testing.T) {
	const accounts = 6
	var accts []fakecf.Account
	for i := range accounts {
		a := fakecf.Account{ID: fmt.Sprintf("%032x", i+1), Name: fmt.Sprintf("a%d", i)}
		for d := range 5 {
			a.Days = append(a.Days, fakecf.Day{Service: "Workers", Family: "Workers", Day: day("2026-11-01").AddDate(0, 0, d), Cost: 1})
		}
		accts = append(accts, a)
	}
	tests := []struct {
		name  string
		burst int
		fails bool
	}{
		// Each fetch makes 3 requests (anchor, usage, profile); a
		// profile that cannot be read does not fail it, the others do.
		{name: "OK", burst: 3 * accounts},
		{name: "ErrSpent", burst: accounts + 2, fails: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fake := fakecf.New(accts...)
			srv := httptest.NewServer(fake)
			defer srv.Close()
			c := billing.New(billing.Options{BaseURL: srv.URL, APIToken: "t", MaxRetries: -1,
				Limiter: rate.NewLimiter(rate.Every(time.Hour), tt.burst)})
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			errs := make([]error, accounts)
			var wg sync.WaitGroup
			for i, a := range accts {
				wg.Go(func() {
					_, errs[i] = c.Fetch(ctx, cost.Account{ID: a.ID, Name: a.Name}, billing.SourcePayGo, period("2026-11-01", "2026-11-06"))
				})
			}
			wg.Wait()
			failed := 0
			for _, err := range errs {
				if err != nil {
					failed++
					if !errors.Is(err, context.DeadlineExceeded) && !strings.Contains(err.Error(), "rate limit") {
						t.Errorf("fetch error %v, want the rate limit's", err)
					}
				}
			}
			if got := len(fake.Requests()); got > tt.burst {
				t.Errorf("server saw %d requests, limiter allows %d", got, tt.burst)
			}
			if tt.fails != (failed > 0) {
				t.Errorf("%d fetches failed, want failures %t: %v", failed, tt.fails, errs)
			}
		})
	}
}

// TestLimiterFor: whatever the configured bound, no 5-minute window holds
// more requests than it, counted by drawing on the limiter with a clock
// stepped a second at a time over 20 minutes as fast as it allows.
func TestLimiterFor(t *testing.T) {
	for _, n := range []int{10, 11, 300, 999, billing.DefaultRequestsPer5m} {
		t.Run(fmt.Sprint(n), func(t *testing.T) {
			l := billing.LimiterFor(n)
			start := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
			var at []time.Time
			for s := range 20 * 60 {
				now := start.Add(time.Duration(s) * time.Second)
				for l.AllowN(now, 1) {
					at = append(at, now)
				}
			}
			most := 0
			for i, lo := 0, 0; i < len(at); i++ {
				for at[i].Sub(at[lo]) >= 5*time.Minute {
					lo++
				}
				most = max(most, i-lo+1)
			}
			if most > n {
				t.Errorf("a 5-minute window held %d requests, bound %d", most, n)
			}
			if min := n * 9 / 10; most < min {
				t.Errorf("the busiest 5-minute window held %d requests, want at least %d of the %d allowed", most, min, n)
			}
		})
	}
}

// TestDefaultLimiter: no 5-minute window holds more than Cloudflare's
// 1,200 requests.
func TestDefaultLimiter(t *testing.T) {
	l := billing.DefaultLimiter()
	if l.Burst() != 600 || l.Limit() != 2 {
		t.Errorf("DefaultLimiter: burst %d, %v a second; want 600 then 2", l.Burst(), l.Limit())
	}
}
