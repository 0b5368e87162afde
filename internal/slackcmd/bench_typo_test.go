package slackcmd

import (
	"fmt"
	"math"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/costbot/costbot/internal/cost"
	"github.com/costbot/costbot/internal/cputime"
)

// loadData is the load test's data (loadtest/server -services 3334 -days 30
// -distinct): 3 accounts, 10,002 distinct service names, 30 days.
func loadData(now time.Time) Data {
	var usage []cost.Usage
	fams := []string{"Workers", "R2", "Argo", "Images", "Stream"}
	const services, days = 3334, 30
	for a := range 3 {
		for s := range services {
			n := a*services + s
			for d := 1; d <= days; d++ {
				usage = append(usage, cost.Usage{
					Account: fmt.Sprintf("acct%d", a), Service: fmt.Sprintf("%s Service %d", fams[s%5], n), Family: fams[s%5],
					Day: cost.Day(now).AddDate(0, 0, -d), Cost: 10 + 5*math.Sin(float64(d+s)), CostKnown: true, Currency: "USD",
				})
			}
		}
	}
	return Data{
		Accounts: []cost.Account{{ID: "acct0", Name: "production"}, {ID: "acct1", Name: "staging"}, {ID: "acct2", Name: "dev"}},
		Usage:    usage, FetchedAt: now, Interval: time.Hour,
	}
}

// BenchmarkLoad_Typo is one request of the load test through the handler:
// a signed "/costbot spend workres servce N" with a different N each time,
// so the reply cache answers none, on 10,002 distinct names.
func BenchmarkLoad_Typo(b *testing.B) {
	h, _ := newTestHandler(b, Options{})
	h.SetData(loadData(testNow))
	mux := http.NewServeMux()
	h.Routes(mux)
	reqs := make([]*http.Request, b.N)
	for i := range reqs {
		reqs[i] = signedRequest(b, "/slack/commands", testSecret, testNow, commandBody(fmt.Sprintf("spend workres servce %d", i), i))
	}
	b.ReportAllocs()
	b.ResetTimer()
	start := cputime.Process()
	for i := 0; i < b.N; i++ {
		w := httptest.NewRecorder()
		mux.ServeHTTP(w, reqs[i])
		if w.Code != http.StatusOK {
			b.Fatalf("status %d: %s", w.Code, w.Body)
		}
	}
	reportCPU(b, start)
}
