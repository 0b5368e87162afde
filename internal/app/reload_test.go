package app

import (
	"bytes"
	"context"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jonboulle/clockwork"

	"github.com/costbot/costbot/internal/demo"
)

// lockedBuffer is a bytes.Buffer safe for the daemon's goroutines.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// TestApp_Run_Reload runs the daemon loop and reloads it the way SIGHUP
// does (a value on RunOptions.Reload) after each change to the files:
// good rules take effect at the next cycle; broken ones leave the running
// rules in place, the error names the file and line, and the daemon keeps
// serving.
func TestApp_Run_Reload(t *testing.T) {
	t.Setenv("CF", demo.Token) // the test config reads api_token from ${CF}
	now := time.Date(2026, 11, 25, 17, 0, 0, 0, time.UTC)
	e := newEnv(t, now)
	ruleFile := filepath.Join(filepath.Dir(e.cfg.File), "rules", "r.yaml")
	cfgText, err := os.ReadFile(e.cfg.File)
	if err != nil {
		t.Fatal(err)
	}
	logs := &lockedBuffer{}
	a, err := New(context.Background(), Options{Config: e.cfg, Rules: e.set, Now: func() time.Time { return now }, RetryWait: time.Millisecond,
		Logger: slog.New(slog.NewTextHandler(logs, nil))})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { a.Close() })

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	hup := make(chan os.Signal, 1)
	reloaded := make(chan error)
	ready := make(chan string, 1)
	done := make(chan error, 1)
	go func() {
		done <- a.Run(ctx, RunOptions{Clock: clockwork.NewFakeClockAt(now), Listener: ln, Reload: hup,
			Reloaded: func(err error) { reloaded <- err }, Ready: func(addr string) { ready <- addr }})
	}()
	addr := <-ready

	renamed := strings.Replace(testRules, "name: workers", "name: workers-v2", 1)
	tests := []struct {
		name      string
		rules     string
		config    string   // "" keeps the config file as it is
		wantErr   []string // substrings of the reload error; none: success
		wantRule  string   // a budget rule the next cycle must evaluate
		wantLog   []string
		staleWant time.Duration // alerts.stale_after in effect afterwards
	}{
		{name: "OK new rules take effect", rules: renamed, wantRule: "workers-v2", wantLog: []string{"msg=reloaded"}, staleWant: time.Hour},
		{name: "ErrBadAmount keeps the old rules", rules: strings.Replace(renamed, "amount: 250", "amount: -1", 1),
			wantErr: []string{"reload rules:", "r.yaml:4:13:", `rule "workers-v2": amount`}, wantRule: "workers-v2",
			wantLog: []string{"reload failed", "error=", "r.yaml:4:13"}, staleWant: time.Hour},
		{name: "ErrYAML keeps the old rules", rules: "budgets: [\n  {name: x\n", wantErr: []string{"reload rules:", "r.yaml:"}, wantRule: "workers-v2", staleWant: time.Hour},
		{name: "ErrUnknownNotifier keeps the old rules", rules: strings.Replace(renamed, "notify: [finops]", "notify: [pager]", 1),
			wantErr: []string{`no notifier named "pager"`, "r.yaml:"}, wantRule: "workers-v2", staleWant: time.Hour},
		{name: "ErrConfig keeps everything", rules: testRules, config: string(cfgText) + "bogus: 1\n",
			wantErr: []string{"reload config:", "config.yaml:", "bogus"}, wantRule: "workers-v2", staleWant: time.Hour},
		{name: "OK alerts apply and other sections need a restart", rules: testRules,
			config:   strings.Replace(string(cfgText), "alerts: {stale_after: 1h}", "alerts: {stale_after: 2h}\nschedule: {cycle: 2h}", 1),
			wantRule: "workers", wantLog: []string{"config changes need a restart", "sections=[schedule]"}, staleWant: 2 * time.Hour},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := os.WriteFile(ruleFile, []byte(tt.rules), 0o644); err != nil {
				t.Fatal(err)
			}
			cfg := string(cfgText)
			if tt.config != "" {
				cfg = tt.config
			}
			if err := os.WriteFile(e.cfg.File, []byte(cfg), 0o644); err != nil {
				t.Fatal(err)
			}
			hup <- os.Interrupt // any value: main sends syscall.SIGHUP
			err := <-reloaded
			switch {
			case len(tt.wantErr) == 0 && err != nil:
				t.Fatalf("reload: %v", err)
			case len(tt.wantErr) > 0 && err == nil:
				t.Fatal("reload succeeded, want an error")
			}
			for _, w := range tt.wantErr {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("reload error lacks %q:\n%v", w, err)
				}
			}
			for _, w := range tt.wantLog {
				if !strings.Contains(logs.String(), w) {
					t.Errorf("logs lack %q:\n%s", w, logs.String())
				}
			}
			rep, err := a.Cycle(context.Background(), now)
			if err != nil {
				t.Fatal(err)
			}
			var budgets []string
			for _, f := range rep.Findings {
				if strings.HasPrefix(f.Rule, "workers") && !slices.Contains(budgets, f.Rule) {
					budgets = append(budgets, f.Rule)
				}
			}
			if !slices.Equal(budgets, []string{tt.wantRule}) {
				t.Errorf("cycle evaluated budget rules %q, want [%s]", budgets, tt.wantRule)
			}
			a.jobs.Lock()
			stale := a.cfg.Alerts.StaleAfter
			a.jobs.Unlock()
			if stale != tt.staleWant {
				t.Errorf("alerts.stale_after = %s, want %s", stale, tt.staleWant)
			}
			select {
			case err := <-done:
				t.Fatalf("daemon stopped: %v", err)
			default:
			}
			resp, err := http.Get("http://" + addr + "/healthz")
			if err != nil {
				t.Fatalf("healthz after reload: %v", err)
			}
			resp.Body.Close()
			if resp.StatusCode != http.StatusOK {
				t.Errorf("healthz after reload: %s", resp.Status)
			}
		})
	}
	cancel()
	if err := <-done; err != nil {
		t.Errorf("Run: %v", err)
	}
}
