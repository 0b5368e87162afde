package app

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/costbot/costbot/internal/config"
	"github.com/costbot/costbot/internal/demo"
	"github.com/costbot/costbot/internal/rules"
	"github.com/costbot/costbot/internal/store"
	"github.com/costbot/costbot/internal/store/pgtest"
)

// The kill -9 loop (issue 12): a child process runs cycles against the demo
// Cloudflare server, a Slack fake with history and a webhook receiver, and
// is killed with SIGKILL at random points; after the last kill a child runs
// to the end. Then every firing alert is counted per notifier: lost (never
// delivered) and duplicates. Run it with
//
//	go test ./internal/app -run TestCrashLoop -crashloop.n=100 -v
//
// and on PostgreSQL with -crashloop.postgres (needs COSTBOT_TEST_POSTGRES).
var (
	crashN       = flag.Int("crashloop.n", 0, "kill -9 loop: number of kills (0: skip the loop)")
	crashBudgets = flag.Int("crashloop.budgets", 200, "kill -9 loop: budgets that fire (each goes to Slack and the webhook)")
	crashLatency = flag.Duration("crashloop.latency", 2*time.Millisecond, "kill -9 loop: fake receivers' delay per request")
	crashPG      = flag.Bool("crashloop.postgres", false, "kill -9 loop: on a PostgreSQL state (COSTBOT_TEST_POSTGRES) instead of a SQLite file")
)

// A kill comes after the receivers got 0 to crashMaxMsgs more messages
// since the child started, plus 0 to crashJitter: so it lands anywhere
// from start-up and planning to the middle of a send or its record.
const (
	crashMaxMsgs = 4
	crashJitter  = 10 * time.Millisecond
)

// crashChildEnv names the config file a child runs; only the loop sets it.
const crashChildEnv = "COSTBOT_CRASHLOOP_CONFIG"

// TestCrashLoopChild is the child: it cycles until a cycle has nothing to
// send, then exits. It does nothing unless the loop started it.
func TestCrashLoopChild(t *testing.T) {
	path := os.Getenv(crashChildEnv)
	if path == "" {
		t.Skip("run by TestCrashLoop only")
	}
	now := time.Date(2026, 11, 25, 17, 0, 0, 0, time.UTC)
	cfg, set := loadChildConfig(t, path)
	a, err := New(context.Background(), Options{Config: cfg, Rules: set, Now: func() time.Time { return now },
		RetryWait: time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	for i := range 20 {
		rep, err := a.Cycle(context.Background(), now.Add(time.Duration(i)*time.Minute))
		if err != nil {
			t.Logf("cycle %d: %v", i, err)
			continue
		}
		if len(rep.Deliveries) == 0 {
			return
		}
	}
}

// crashReceivers are the fake Slack (with history, historySlack) and a
// webhook receiver, both counting what they got per alert.
type crashReceivers struct {
	slack   *historySlack
	latency time.Duration

	mu    sync.Mutex
	hooks map[string]int // fingerprint/status -> bodies
}

func (c *crashReceivers) hook(w http.ResponseWriter, r *http.Request) {
	time.Sleep(c.latency)
	keys, err := hookKeys(r)
	if err != nil {
		http.Error(w, "bad body", http.StatusBadRequest)
		return
	}
	c.mu.Lock()
	for _, k := range keys {
		c.hooks[k]++
	}
	c.mu.Unlock()
}

// hookKeys returns "fingerprint/status" for each alert of a webhook body.
func hookKeys(r *http.Request) ([]string, error) {
	body, err := io.ReadAll(r.Body)
	if err != nil {
		return nil, err
	}
	var p struct {
		Alerts []struct {
			Status      string `json:"status"`
			Fingerprint string `json:"fingerprint"`
		} `json:"alerts"`
	}
	if err := json.Unmarshal(body, &p); err != nil {
		return nil, err
	}
	keys := make([]string, 0, len(p.Alerts))
	for _, a := range p.Alerts {
		keys = append(keys, a.Fingerprint+"/"+a.Status)
	}
	return keys, nil
}

// total is how many messages both receivers got.
func (c *crashReceivers) total() int {
	c.mu.Lock()
	n := 0
	for _, v := range c.hooks {
		n += v
	}
	c.mu.Unlock()
	return n + c.slack.count()
}

func (c *crashReceivers) slackCounts() (map[string]int, int) {
	c.slack.mu.Lock()
	defer c.slack.mu.Unlock()
	out := map[string]int{}
	unmarked := 0
	for _, m := range c.slack.msgs {
		md, _ := m["metadata"].(map[string]any)
		p, _ := md["event_payload"].(map[string]any)
		fp, _ := p["fingerprint"].(string)
		id, _ := p["delivery_id"].(string)
		if fp == "" {
			unmarked++
			continue
		}
		status := "firing"
		if strings.Contains(id, "-resolved-") {
			status = "resolved"
		}
		out[fp+"/"+status]++
	}
	return out, unmarked
}

func TestCrashLoop(t *testing.T) {
	if *crashN <= 0 {
		t.Skip("the kill -9 loop runs with -crashloop.n=N (e.g. 100)")
	}
	now := time.Date(2026, 11, 25, 17, 0, 0, 0, time.UTC)
	cf := httptest.NewServer(demo.NewServer(now))
	defer cf.Close()
	rc := &crashReceivers{slack: &historySlack{}, latency: *crashLatency, hooks: map[string]int{}}
	ss := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		time.Sleep(rc.latency)
		rc.slack.ServeHTTP(w, r)
	}))
	defer ss.Close()
	hs := httptest.NewServer(http.HandlerFunc(rc.hook))
	defer hs.Close()

	dir := t.TempDir()
	state := "costbot.db"
	if *crashPG {
		state = pgtest.State(t, t.Name(), true)
	}
	if err := os.MkdirAll(filepath.Join(dir, "rules"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "rules", "r.yaml"), []byte(firingBudgets(*crashBudgets)), 0o644); err != nil {
		t.Fatal(err)
	}
	cfgPath := filepath.Join(dir, "config.yaml")
	yml := receiversYAML(cf.URL, ss.URL, hs.URL) + fmt.Sprintf(`rules: rules
state: %q
`, state)
	if err := os.WriteFile(cfgPath, []byte(yml), 0o644); err != nil {
		t.Fatal(err)
	}
	child := func() *exec.Cmd {
		cmd := exec.Command(os.Args[0], "-test.run=^TestCrashLoopChild$", "-test.count=1")
		cmd.Env = append(os.Environ(), crashChildEnv+"="+cfgPath)
		return cmd
	}
	start := time.Now()
	killed := 0
runs:
	for i := range *crashN {
		cmd := child()
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		done := make(chan error, 1)
		go func() { done <- cmd.Wait() }()
		target := rc.total() + rand.IntN(crashMaxMsgs+1)
		jitter := time.Duration(rand.Int64N(int64(crashJitter)))
		tick := time.NewTicker(time.Millisecond)
	wait:
		for {
			select {
			case <-tick.C:
				if rc.total() >= target {
					time.Sleep(jitter)
					break wait
				}
			case <-done: // it finished before the kill: nothing was left to send
				tick.Stop()
				continue runs
			}
		}
		tick.Stop()
		if err := cmd.Process.Kill(); err != nil { // SIGKILL
			t.Fatalf("kill %d: %v", i, err)
		}
		<-done
		killed++
	}
	out, err := child().CombinedOutput()
	if err != nil {
		t.Fatalf("final run: %v\n%s", err, out)
	}
	elapsed := time.Since(start)

	if !*crashPG {
		state = filepath.Join(dir, state)
	}
	db, err := store.Open(context.Background(), state)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	states, err := db.Alerts(context.Background(), nil)
	if err != nil {
		t.Fatal(err)
	}
	slack, unmarked := rc.slackCounts()
	rc.mu.Lock()
	defer rc.mu.Unlock()
	var lost, dupSlack, dupHook, alerts int
	for _, st := range states {
		if st.Status.String() != "firing" {
			continue
		}
		alerts++
		key := st.Fingerprint + "/firing"
		for _, n := range []int{slack[key], rc.hooks[key]} {
			if n == 0 {
				lost++
			}
		}
		dupSlack += max(slack[key]-1, 0)
		dupHook += max(rc.hooks[key]-1, 0)
	}
	t.Logf("kill -9 loop: %d kills (%d runs), %d alerts x 2 notifiers, %s: lost %d, duplicates %d (Slack %d, webhook %d), "+
		"%.2f duplicates per kill; Slack posts without metadata %d",
		killed, *crashN+1, alerts, elapsed.Round(time.Second), lost, dupSlack+dupHook, dupSlack, dupHook,
		float64(dupSlack+dupHook)/float64(max(killed, 1)), unmarked)
	if alerts != *crashBudgets {
		t.Errorf("%d firing alerts, want %d", alerts, *crashBudgets)
	}
	if lost != 0 {
		t.Errorf("%d alert deliveries lost", lost)
	}
	if dupSlack+dupHook > killed {
		t.Errorf("%d duplicates in %d kills, want at most one per kill", dupSlack+dupHook, killed)
	}
}

// loadChildConfig reads the config file a child process of a test runs
// (the crash loop's, a replica's) with the demo's token, and its rules.
func loadChildConfig(t *testing.T, path string) (*config.Config, *rules.Set) {
	t.Helper()
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := config.Parse(path, raw, func(k string) (string, bool) { return demo.Token, k == "CF" })
	if err != nil {
		t.Fatal(err)
	}
	set, err := rules.LoadDir(cfg.Path(cfg.Rules))
	if err != nil {
		t.Fatal(err)
	}
	return cfg, set
}
