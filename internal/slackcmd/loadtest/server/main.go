// Command server runs slackcmd.Handler on loopback with synthetic data
// (3 accounts × 15 services × 120 days; -services, -days and -distinct
// change it) for load tests.
package main

import (
	"flag"
	"fmt"
	"io"
	"log/slog"
	"math"
	"net/http"
	"sort"
	"sync"
	"time"

	"github.com/costbot/costbot/internal/cost"
	"github.com/costbot/costbot/internal/slackcmd"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:8931", "listen address")
	secret := flag.String("secret", "load-secret", "signing secret")
	services := flag.Int("services", 15, "services per account")
	days := flag.Int("days", 120, "days of usage per service")
	distinct := flag.Bool("distinct", false, "number services across accounts, so every account's names differ (3 × -services distinct names)")
	flag.Parse()
	h := slackcmd.New(slackcmd.Options{SigningSecret: *secret, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	now := time.Now().UTC()
	var usage []cost.Usage
	fams := []string{"Workers", "R2", "Argo", "Images", "Stream"}
	for a := 0; a < 3; a++ {
		for s := 0; s < *services; s++ {
			n := s
			if *distinct {
				n = a**services + s
			}
			for d := 1; d <= *days; d++ {
				day := cost.Day(now).AddDate(0, 0, -d)
				usage = append(usage, cost.Usage{
					Account: fmt.Sprintf("acct%d", a), Service: fmt.Sprintf("%s Service %d", fams[s%5], n), Family: fams[s%5],
					Day: day, Cost: 10 + 5*math.Sin(float64(d+s)), CostKnown: true, Currency: "USD",
				})
			}
		}
	}
	h.SetData(slackcmd.Data{
		Accounts:  []cost.Account{{ID: "acct0", Name: "production"}, {ID: "acct1", Name: "staging"}, {ID: "acct2", Name: "dev"}},
		Usage:     usage,
		FetchedAt: now, Interval: time.Hour,
	})
	mux := http.NewServeMux()
	h.Routes(mux)
	var mu sync.Mutex
	var lat []time.Duration
	outer := http.NewServeMux()
	outer.HandleFunc("GET /stats", func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		l := lat
		lat = nil
		mu.Unlock()
		if len(l) == 0 {
			fmt.Fprintln(w, "no requests")
			return
		}
		sort.Slice(l, func(a, b int) bool { return l[a] < l[b] })
		p := func(q float64) time.Duration { return l[min(len(l)-1, int(q*float64(len(l))))] }
		fmt.Fprintf(w, "server-side handler time: n=%d p50=%s p90=%s p99=%s p99.9=%s max=%s\n", len(l), p(.5), p(.9), p(.99), p(.999), l[len(l)-1])
	})
	outer.Handle("/slack/", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		t := time.Now()
		mux.ServeHTTP(w, r)
		d := time.Since(t)
		mu.Lock()
		lat = append(lat, d)
		mu.Unlock()
	}))
	srv := &http.Server{Addr: *addr, Handler: outer, ReadHeaderTimeout: 5 * time.Second}
	fmt.Println("listening on", *addr)
	if err := srv.ListenAndServe(); err != nil {
		fmt.Println(err)
	}
}
