package app

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/costbot/costbot/internal/demo"
	"github.com/costbot/costbot/internal/store"
	"github.com/costbot/costbot/internal/store/pgtest"
)

// Two replicas on one PostgreSQL state (issue 12): the leader is killed
// with SIGKILL in the middle of a webhook send; the standby, which served
// slash commands from the shared state meanwhile, takes the lease within
// one lease period and delivers the rest. No alert is lost, and no alert
// reaches a receiver twice under distinct ids: the webhook send that was
// in flight is re-sent with its webhook-id (receivers drop it by id),
// and Slack's channel history shows what already went out.

// haChildEnv names the config file a replica child runs.
const haChildEnv = "COSTBOT_HA_CONFIG"

const haLease = 2 * time.Second

// TestHAReplicaChild is one replica: the daemon (Run) until SIGTERM. It
// does nothing unless TestHA_LeaderKilledMidSend started it.
func TestHAReplicaChild(t *testing.T) {
	path := os.Getenv(haChildEnv)
	if path == "" {
		t.Skip("run by TestHA_LeaderKilledMidSend only")
	}
	cfg, set := loadChildConfig(t, path)
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM)
	defer stop()
	log := slog.New(slog.NewJSONHandler(os.Stderr, nil))
	a, err := New(ctx, Options{Config: cfg, Rules: set, Logger: log, RetryWait: time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	if err := a.Run(ctx, RunOptions{Lease: haLease}); err != nil {
		t.Fatal(err)
	}
}

// haHooks is a webhook receiver that counts bodies per alert and per
// webhook-id, and holds one request (the block-th) until released.
type haHooks struct {
	block   int
	hit     chan struct{} // closed when the held request arrives
	release chan struct{} // closed to let it finish

	mu     sync.Mutex
	n      int
	bodies map[string]int            // fingerprint/status -> bodies
	ids    map[string]map[string]int // fingerprint/status -> webhook-id -> bodies
}

func (h *haHooks) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	keys, err := hookKeys(r)
	if err != nil {
		http.Error(w, "bad body", http.StatusBadRequest)
		return
	}
	id := r.Header.Get("webhook-id")
	h.mu.Lock()
	h.n++
	n := h.n
	for _, k := range keys {
		h.bodies[k]++
		if h.ids[k] == nil {
			h.ids[k] = map[string]int{}
		}
		h.ids[k][id]++
	}
	h.mu.Unlock()
	if n == h.block {
		close(h.hit) // received and processed; the answer waits for the kill
		<-h.release
	}
}

func TestHA_LeaderKilledMidSend(t *testing.T) {
	if testing.Short() {
		t.Skip("runs two daemon processes")
	}
	dsn := pgtest.State(t, t.Name(), false)
	const budgets = 40
	cf := httptest.NewServer(demo.NewServer(time.Now()))
	defer cf.Close()
	slack := &historySlack{}
	ss := httptest.NewServer(slack)
	defer ss.Close()
	hooks := &haHooks{block: budgets / 2, hit: make(chan struct{}), release: make(chan struct{}),
		bodies: map[string]int{}, ids: map[string]map[string]int{}}
	hs := httptest.NewServer(hooks)
	defer hs.Close()
	defer func() {
		select {
		case <-hooks.release:
		default:
			close(hooks.release)
		}
	}()

	dir := t.TempDir()
	if err := os.MkdirAll(filepath.Join(dir, "rules"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "rules", "r.yaml"), []byte(firingBudgets(budgets)), 0o644); err != nil {
		t.Fatal(err)
	}
	replica := func(name string) (*exec.Cmd, string, *bytes.Buffer) {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		addr := ln.Addr().String()
		ln.Close()
		cfgPath := filepath.Join(dir, name+".yaml")
		yml := receiversYAML(cf.URL, ss.URL, hs.URL) + fmt.Sprintf(`http: {listen: "%s"}
schedule: {cycle: 1h}
rules: rules
state: %q
`, addr, dsn)
		if err := os.WriteFile(cfgPath, []byte(yml), 0o644); err != nil {
			t.Fatal(err)
		}
		cmd := exec.Command(os.Args[0], "-test.run=^TestHAReplicaChild$", "-test.count=1", "-test.v")
		cmd.Env = append(os.Environ(), haChildEnv+"="+cfgPath)
		logs := &bytes.Buffer{}
		cmd.Stderr, cmd.Stdout = logs, logs
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() {
			if cmd.ProcessState == nil {
				cmd.Process.Kill()
				cmd.Wait()
			}
		})
		return cmd, addr, logs
	}
	ctx := context.Background()
	db, err := store.Open(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	holderPID := func() int {
		l, err := db.CurrentLease(ctx)
		if err != nil || !l.Expires.After(time.Now()) {
			return 0
		}
		parts := strings.Split(l.Holder, "-")
		if len(parts) < 3 {
			return 0
		}
		pid, _ := strconv.Atoi(parts[len(parts)-2])
		return pid
	}
	get := func(addr, path string) (int, string) {
		resp, err := http.Get("http://" + addr + path)
		if err != nil {
			return 0, err.Error()
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	waitFor := func(what string, d time.Duration, ok func() bool, logs ...*bytes.Buffer) {
		t.Helper()
		for deadline := time.Now().Add(d); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
			if ok() {
				return
			}
		}
		var all strings.Builder
		for _, l := range logs {
			all.WriteString(l.String())
		}
		t.Fatalf("timed out after %s waiting for %s\nlogs:\n%s", d, what, all.String())
	}

	a, _, logsA := replica("a")
	// a leads and blocks mid-send in the webhook receiver.
	select {
	case <-hooks.hit:
	case <-time.After(60 * time.Second):
		t.Fatalf("the leader sent no %d webhooks\nlogs:\n%s", hooks.block, logsA)
	}
	if pid := holderPID(); pid != a.Process.Pid {
		t.Fatalf("lease holder pid %d, want replica a (%d)", pid, a.Process.Pid)
	}
	b, addrB, logsB := replica("b")
	waitFor("replica b on standby with data", 30*time.Second, func() bool {
		code, body := get(addrB, "/readyz")
		return code == http.StatusOK && strings.Contains(body, `"status":"standby"`)
	}, logsB)
	if code, body := get(addrB, "/healthz"); code != http.StatusOK || !strings.Contains(body, `"status":"standby"`) {
		t.Errorf("standby /healthz = %d %s", code, body)
	}
	// The standby answers slash commands from the shared state.
	now := time.Now()
	form := url.Values{"command": {"/costbot"}, "text": {"budgets"}, "user_id": {"U1"}, "channel_id": {"C1"}, "team_id": {"T1"}}.Encode()
	req, _ := http.NewRequest("POST", "http://"+addrB+"/slack/commands", strings.NewReader(form))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("X-Slack-Request-Timestamp", fmt.Sprint(now.Unix()))
	req.Header.Set("X-Slack-Signature", sign("test-signing-secret", now.Unix(), form))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	slash, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !strings.Contains(string(slash), "b000") {
		t.Errorf("standby /costbot budgets = %d %s", resp.StatusCode, slash)
	}

	if err := a.Process.Kill(); err != nil { // SIGKILL, mid-send
		t.Fatal(err)
	}
	killed := time.Now()
	a.Wait()
	close(hooks.release)
	waitFor("replica b to take the lease", 3*haLease, func() bool { return holderPID() == b.Process.Pid }, logsB)
	takeover := time.Since(killed)
	alerts := func() (firing []string) {
		states, err := db.Alerts(ctx, nil)
		if err != nil {
			t.Fatal(err)
		}
		for _, st := range states {
			if st.Status.String() == "firing" {
				firing = append(firing, st.Fingerprint)
			}
		}
		return firing
	}
	delivered := func() bool {
		fps := alerts()
		if len(fps) != budgets {
			return false
		}
		got, _ := haSlackCounts(slack)
		hooks.mu.Lock()
		defer hooks.mu.Unlock()
		for _, fp := range fps {
			if got[fp+"/firing"] == 0 || hooks.bodies[fp+"/firing"] == 0 {
				return false
			}
		}
		return true
	}
	waitFor("every alert delivered to both notifiers", 60*time.Second, delivered, logsA, logsB)
	if code, body := get(addrB, "/healthz"); code != http.StatusOK || !strings.Contains(body, `"status":"ok"`) {
		t.Errorf("new leader /healthz = %d %s", code, body)
	}
	b.Process.Signal(syscall.SIGTERM)
	if err := b.Wait(); err != nil {
		t.Errorf("replica b after SIGTERM: %v\nlogs:\n%s", err, logsB)
	}

	got, unmarked := haSlackCounts(slack)
	hooks.mu.Lock()
	defer hooks.mu.Unlock()
	var slackDup, hookDup, distinctDup int
	for _, fp := range alerts() {
		k := fp + "/firing"
		slackDup += max(got[k]-1, 0)
		hookDup += max(hooks.bodies[k]-1, 0)
		distinctDup += max(len(hooks.ids[k])-1, 0)
	}
	t.Logf("leader killed mid-send: standby took the lease %s after the kill (lease %s); %d alerts x 2 notifiers: "+
		"Slack duplicates %d, webhook bodies beyond one %d (same webhook-id: receivers drop them), distinct ids beyond one %d; "+
		"Slack posts without metadata %d", takeover.Round(10*time.Millisecond), haLease, budgets, slackDup, hookDup, distinctDup, unmarked)
	if takeover > 2*haLease {
		t.Errorf("takeover took %s, want within one lease period (%s) plus a renewal interval and scheduling slack (2 leases)", takeover, haLease)
	}
	if slackDup != 0 || distinctDup != 0 {
		t.Errorf("duplicated alerts: Slack %d, webhook under new ids %d; want none", slackDup, distinctDup)
	}
	if hookDup > 1 {
		t.Errorf("%d webhook re-sends; want at most the one in flight at the kill", hookDup)
	}
	if !strings.Contains(logsB.String(), `"msg":"leading: this replica runs the cycles"`) {
		t.Errorf("replica b never logged taking the lead:\n%s", logsB)
	}
}

// haSlackCounts counts the fake Slack's posts per fingerprint/status by
// their metadata.
func haSlackCounts(s *historySlack) (map[string]int, int) {
	rc := crashReceivers{slack: s}
	return rc.slackCounts()
}
