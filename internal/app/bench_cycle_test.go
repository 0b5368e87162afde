//go:build unix

package app

import (
	"bufio"
	"context"
	"flag"
	"fmt"
	"io"
	"math"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"runtime/debug"
	"runtime/pprof"
	"strings"
	"testing"
	"time"

	"golang.org/x/time/rate"

	"github.com/costbot/costbot/internal/billing"
	"github.com/costbot/costbot/internal/billing/fakecf"
	"github.com/costbot/costbot/internal/config"
	"github.com/costbot/costbot/internal/cputime"
	"github.com/costbot/costbot/internal/notify"
	"github.com/costbot/costbot/internal/rules"
)

// The size of every account in BenchmarkCycle; the account counts are
// fixed (1, 10, 100) so that ns/op of neighbouring sizes read as a ratio.
var (
	benchServices = flag.Int("cycle.services", 200, "BenchmarkCycle: services per account")
	benchDays     = flag.Int("cycle.days", 90, "BenchmarkCycle: days of history per account (history_days)")
	benchAccounts = flag.String("cycle.accounts", "1,10,100", "BenchmarkCycle: account counts, comma-separated")
	benchProfile  = flag.String("cycle.cpuprofile", "", "BenchmarkCycle: write a CPU profile of the timed cycles (not the hourly setup) to this file; run one sub-benchmark")
)

// benchRules is a small realistic rule set: a billing-period budget per
// account, a family budget by month and the anomaly rule over every series.
const benchRules = `budgets:
  - {name: monthly, amount: 1000000, currency: USD, thresholds: [{percent: 80}, {percent: 100, on: forecast}]}
  - {name: workers, scope: {family: "Workers*"}, period: month, amount: 50000, currency: USD, thresholds: [{percent: 80}]}
anomalies:
  - {name: spikes, direction: up, severity: warning}
`

// BenchmarkCycle measures one cycle of the daemon end to end (fetch from
// a fake Cloudflare over loopback HTTP, decode, store in SQLite, rules and
// anomaly detection, alert planning, the slash-command snapshot) for 1, 10
// and 100 accounts of -cycle.services services over -cycle.days days:
// first is the first cycle on an empty state file (the backfill), hourly
// a later cycle an hour after the previous one. Besides ns/op, B/op and
// allocs/op it reports cpu-ns/op, the process CPU time per cycle, which a
// busy machine does not inflate, and peak-RSS-MB, the peak resident set
// during the timed cycles. The fake Cloudflare runs in a helper process
// (startFakeCF), so neither counts its work. Run:
//
//	go test -run '^$' -bench 'Cycle' -benchmem -benchtime 3x -timeout 2h ./internal/app/
//	go test -run '^$' -bench 'Cycle/accounts=(1|10)/' -benchmem -benchtime 3x ./internal/app/ -cycle.services 50
func BenchmarkCycle(b *testing.B) {
	for _, f := range strings.Split(*benchAccounts, ",") {
		var n int
		if _, err := fmt.Sscan(f, &n); err != nil || n < 1 {
			b.Fatalf("-cycle.accounts: bad count %q", f)
		}
		end := time.Date(2026, 11, 30, 0, 0, 0, 0, time.UTC)
		srv := startFakeCF(b, n, *benchServices, *benchDays, end)
		now := end.Add(34 * time.Hour) // the day after the last data, 10:00
		b.Run(fmt.Sprintf("accounts=%d/first", n), func(b *testing.B) {
			b.ReportAllocs()
			var cpu time.Duration
			resetPeakRSS()
			stop := startProfile(b)
			for b.Loop() {
				b.StopTimer()
				a := newBenchApp(b, srv.URL, n)
				b.StartTimer()
				start := cputime.Process()
				benchCycle(b, a, now)
				cpu += cputime.Process() - start
				b.StopTimer()
				a.Close()
				b.StartTimer()
			}
			stop()
			b.ReportMetric(float64(cpu)/float64(b.N), "cpu-ns/op")
			b.ReportMetric(peakRSS(), "peak-RSS-MB")
		})
		b.Run(fmt.Sprintf("accounts=%d/hourly", n), func(b *testing.B) {
			a := newBenchApp(b, srv.URL, n)
			defer a.Close()
			benchCycle(b, a, now)
			t := now
			b.ReportAllocs()
			debug.FreeOSMemory() // the setup's garbage is not the hourly cycle's peak
			resetPeakRSS()
			stop := startProfile(b)
			start := cputime.Process()
			for b.Loop() {
				t = t.Add(time.Hour)
				benchCycle(b, a, t)
			}
			stop()
			b.ReportMetric(float64(cputime.Process()-start)/float64(b.N), "cpu-ns/op")
			b.ReportMetric(peakRSS(), "peak-RSS-MB")
			// What the daemon holds between cycles, once the garbage of the
			// last one is returned to the OS.
			debug.FreeOSMemory()
			b.ReportMetric(procStatusMB("VmRSS:"), "idle-RSS-MB")
		})
		srv.Close()
	}
}

func benchCycle(b *testing.B, a *benchApp, now time.Time) {
	a.now = now
	rep, err := a.Cycle(context.Background(), now)
	if err == nil {
		err = rep.Err()
	}
	if err != nil {
		b.Fatalf("cycle at %s: %v", now.Format(time.RFC3339), err)
	}
}

// fakeCFEnv makes the test binary, run as a helper process, serve
// benchFleet instead of running tests: "accounts,services,days,end".
const fakeCFEnv = "COSTBOT_BENCH_FAKECF"

// fakeCF is a benchFleet served by a helper process (this test binary
// running TestHelperFakeCF), so that its JSON encoding and its memory are
// not counted in the benchmark's CPU time and RSS: the figures are
// costbot's own.
type fakeCF struct {
	URL string
	cmd *exec.Cmd
	in  io.WriteCloser
}

func startFakeCF(b *testing.B, accounts, services, days int, end time.Time) *fakeCF {
	b.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^TestHelperFakeCF$")
	cmd.Env = append(os.Environ(), fmt.Sprintf("%s=%d,%d,%d,%s", fakeCFEnv, accounts, services, days, end.Format(time.RFC3339)))
	cmd.Stderr = os.Stderr
	in, err := cmd.StdinPipe()
	if err != nil {
		b.Fatal(err)
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		b.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	line, err := bufio.NewReader(out).ReadString('\n')
	if err != nil {
		_ = cmd.Process.Kill()
		b.Fatalf("start fake cloudflare: %v", err)
	}
	url, ok := strings.CutPrefix(strings.TrimSpace(line), "url=")
	if !ok {
		_ = cmd.Process.Kill()
		b.Fatalf("start fake cloudflare: unexpected line %q", line)
	}
	return &fakeCF{URL: url, cmd: cmd, in: in}
}

// Close stops the helper process (it exits when its stdin closes).
func (f *fakeCF) Close() {
	f.in.Close()
	_ = f.cmd.Wait()
}

// TestHelperFakeCF is not a test: run by startFakeCF with fakeCFEnv set,
// it serves benchFleet on loopback, prints its URL and serves until its
// standard input closes.
func TestHelperFakeCF(t *testing.T) {
	spec := os.Getenv(fakeCFEnv)
	if spec == "" {
		t.Skip("helper process for BenchmarkCycle")
	}
	var (
		accounts, services, days int
		endText                  string
	)
	if _, err := fmt.Sscanf(strings.ReplaceAll(spec, ",", " "), "%d %d %d %s", &accounts, &services, &days, &endText); err != nil {
		t.Fatalf("%s=%q: %v", fakeCFEnv, spec, err)
	}
	end, err := time.Parse(time.RFC3339, endText)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(benchFleet(accounts, services, days, end))
	defer srv.Close()
	fmt.Printf("url=%s\n", srv.URL)
	_, _ = io.Copy(io.Discard, os.Stdin)
}

// startProfile starts the CPU profile -cycle.cpuprofile asks for; the
// returned func stops it.
func startProfile(b *testing.B) func() {
	if *benchProfile == "" {
		return func() {}
	}
	f, err := os.Create(*benchProfile)
	if err != nil {
		b.Fatal(err)
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		b.Fatal(err)
	}
	return func() {
		pprof.StopCPUProfile()
		f.Close()
	}
}

// resetPeakRSS resets the process's peak resident set size (Linux
// /proc/self/clear_refs; elsewhere nothing happens and peakRSS reports
// the peak since the start).
func resetPeakRSS() { _ = os.WriteFile("/proc/self/clear_refs", []byte("5"), 0) }

// peakRSS is the process's peak resident set size in MB since the last
// resetPeakRSS (VmHWM), or 0 when it cannot be read.
func peakRSS() float64 { return procStatusMB("VmHWM:") }

// procStatusMB is the field of /proc/self/status (in kB there) in MB, or 0
// when it cannot be read.
func procStatusMB(field string) float64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for _, l := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(l, field); ok {
			var kb float64
			if _, err := fmt.Sscan(strings.TrimSuffix(strings.TrimSpace(v), "kB"), &kb); err == nil {
				return kb / 1024
			}
		}
	}
	return 0
}

// benchFleet is a fake Cloudflare with accounts accounts of services
// services, each billed every one of the days days ending with end: a
// smooth weekly pattern per service, no anomalies.
func benchFleet(accounts, services, days int, end time.Time) *fakecf.Server {
	fams := []string{"Workers", "R2", "D1", "Queues", "Images", "Stream", "Argo", "Load Balancing"}
	var accts []fakecf.Account
	for a := range accounts {
		acct := fakecf.Account{ID: benchAccountID(a), Name: fmt.Sprintf("acct-%d", a)}
		acct.Days = make([]fakecf.Day, 0, services*days)
		for d := range days {
			day := end.AddDate(0, 0, d-days+1)
			for s := range services {
				base := 1 + float64((a*31+s*7)%50)
				acct.Days = append(acct.Days, fakecf.Day{
					Service: fmt.Sprintf("%s Service %d", fams[s%len(fams)], s), Family: fams[s%len(fams)],
					Day: day, Cost: math.Round(100*base*(1+0.1*math.Sin(float64(d+s)*2*math.Pi/7))) / 100,
					Quantity: float64(1000 * (s + 1)), Unit: "requests",
				})
			}
		}
		accts = append(accts, acct)
	}
	return fakecf.New(accts...)
}

func benchAccountID(i int) string { return fmt.Sprintf("%032x", 0xbe0c0000+i) }

// benchApp is an App whose clock reads the time of the cycle it runs.
type benchApp struct {
	*App
	now time.Time
}

// newBenchApp is an App on a fresh state file for the first accounts of
// benchFleet, with benchRules and a notifier that keeps nothing.
func newBenchApp(b *testing.B, url string, accounts int) *benchApp {
	b.Helper()
	dir := b.TempDir()
	if err := os.MkdirAll(filepath.Join(dir, "rules"), 0o755); err != nil {
		b.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "rules", "r.yaml"), []byte(benchRules), 0o644); err != nil {
		b.Fatal(err)
	}
	var accts []string
	for i := range accounts {
		accts = append(accts, fmt.Sprintf("{id: %s, name: acct-%d, source: paygo}", benchAccountID(i), i))
	}
	yml := fmt.Sprintf(`cloudflare:
  base_url: %s
  api_token: test-token
  accounts: [%s]
  max_retry_wait: 1ms
  history_days: %d
notifiers:
  - name: team
    console: {}
rules: rules
state: costbot.db
`, url, strings.Join(accts, ", "), max(28, *benchDays))
	path := filepath.Join(dir, "config.yaml")
	cfg, err := config.Parse(path, []byte(yml), func(string) (string, bool) { return "", false })
	if err != nil {
		b.Fatal(err)
	}
	set, err := rules.LoadDir(cfg.Path(cfg.Rules))
	if err != nil {
		b.Fatal(err)
	}
	ba := &benchApp{}
	clock := func() time.Time { return ba.now }
	// The client newBilling would build, without the rate limit: the
	// benchmark measures CPU, not Cloudflare's pace.
	cf := billing.New(billing.Options{BaseURL: url, APIToken: "test-token", MaxRetryWait: time.Millisecond,
		Now: clock, Limiter: rate.NewLimiter(rate.Inf, 0)})
	a, err := New(context.Background(), Options{Config: cfg, Rules: set, Now: clock, Billing: cf,
		Notifiers: []notify.Notifier{discard{}}, RetryWait: time.Millisecond})
	if err != nil {
		b.Fatal(err)
	}
	ba.App = a
	return ba
}
