package main

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/costbot/costbot/internal/demo"
)

// syncBuffer collects a child's stderr while the test reads it.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// TestRun_DaemonSIGHUP builds the binary, runs the daemon and sends it
// SIGHUP twice: with a changed rule file it reloads, with a broken one it
// logs the file and line and keeps running; SIGTERM still ends it cleanly.
// Before SIGHUP was handled, the first signal killed the daemon (exit 129).
func TestRun_DaemonSIGHUP(t *testing.T) {
	bin, cfg, addr := daemonSetup(t)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, "run", "--config", cfg)
	logs := &syncBuffer{}
	cmd.Stderr = logs
	cmd.Stdout = io.Discard
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	waitLog := func(want string) {
		t.Helper()
		for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
			if strings.Contains(logs.String(), want) {
				return
			}
		}
		t.Fatalf("logs lack %s:\n%s", want, logs.String())
	}
	waitLog(`"msg":"costbot started"`)

	rules := filepath.Join(filepath.Dir(cfg), "rules")
	entries, err := os.ReadDir(rules)
	if err != nil || len(entries) == 0 {
		t.Fatalf("rules folder: %v", err)
	}
	steps := []struct {
		name  string
		file  string
		write string
		want  []string
	}{
		{"OK reload", "extra.yaml", "budgets:\n  - name: reload-probe\n    amount: 10\n    currency: USD\n    thresholds: [{percent: 100, on: actual}]\n    notify: [finops]\n",
			[]string{`"msg":"reloaded"`}},
		{"ErrBrokenRule", "extra.yaml", "budgets:\n  - name: reload-probe\n    amount: -10\n    currency: USD\n",
			[]string{`"msg":"reload failed; keeping the running config and rules"`, `extra.yaml:3:13: rule \"reload-probe\": amount`}},
	}
	for _, st := range steps {
		if err := os.WriteFile(filepath.Join(rules, st.file), []byte(st.write), 0o644); err != nil {
			t.Fatal(err)
		}
		if err := cmd.Process.Signal(syscall.SIGHUP); err != nil {
			t.Fatalf("%s: SIGHUP: %v", st.name, err)
		}
		for _, w := range st.want {
			waitLog(w)
		}
		resp, err := http.Get("http://" + addr + "/healthz")
		if err != nil {
			t.Fatalf("%s: daemon gone after SIGHUP: %v\nlogs:\n%s", st.name, err, logs.String())
		}
		resp.Body.Close()
	}
	cmd.Process.Signal(syscall.SIGTERM)
	if err := cmd.Wait(); err != nil {
		t.Errorf("daemon exit after SIGTERM: %v\nlogs:\n%s", err, logs.String())
	}
	if strings.Contains(logs.String(), demo.Token) {
		t.Error("the API token reached the logs")
	}
}
