package main

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite golden files")

// routingConfig writes a config with routes, quiet hours and an empty rules
// folder, and returns its path.
func routingConfig(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	if err := os.MkdirAll(filepath.Join(dir, "rules"), 0o755); err != nil {
		t.Fatal(err)
	}
	yml := `cloudflare:
  api_token: t
  accounts: [{id: 9a7806061c88ada191ed06f989cc3dac, name: production}]
notifiers:
  - name: pager
    console: {}
  - name: finops
    console: {}
rules: rules
state: costbot.db
alerts: {repeat_interval: 24h}
time_intervals:
  - name: quiet-hours
    time_intervals:
      - times: [{start_time: "20:00", end_time: "24:00"}, {start_time: "00:00", end_time: "08:00"}]
        location: Europe/Berlin
routes:
  - matchers: ['severity="critical"']
    notifiers: [pager, finops]
    repeat_interval: 1h
  - matchers: ['account="production"', 'kind=~"anomaly|forecast"']
    notifiers: [finops]
    mute_time_intervals: [quiet-hours]
`
	p := filepath.Join(dir, "config.yaml")
	if err := os.WriteFile(p, []byte(yml), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func runOK(t *testing.T, args ...string) string {
	t.Helper()
	var out, errb bytes.Buffer
	if code := run(args, nil, &out, &errb); code != 0 {
		t.Fatalf("costbot %s: exit %d\n%s%s", strings.Join(args, " "), code, out.String(), errb.String())
	}
	return out.String()
}

func TestRun_Silence(t *testing.T) {
	cfg := routingConfig(t)
	now := "2026-11-10T08:00:00Z"
	id := strings.TrimSpace(runOK(t, "silence", "add", "--config", cfg, "--now", now, "--duration", "4h",
		"--author", "alice", "--comment", "R2 migration", `service=~"R2.*"`, `account="production"`))
	later := strings.TrimSpace(runOK(t, "silence", "add", "--config", cfg, "--now", now, "--start", "2026-11-11T00:00:00Z",
		"--end", "2026-11-11T06:00:00Z", "--author", "bob", "--comment", "night", "kind=anomaly"))
	if id == "" || later == "" || id == later {
		t.Fatalf("ids %q %q", id, later)
	}
	list := runOK(t, "silence", "list", "--config", cfg, "--now", now)
	for _, w := range []string{
		id + `  service=~"R2.*" account="production"  active   2026-11-10T08:00:00Z  2026-11-10T12:00:00Z  alice       R2 migration  0`,
		later + `  kind="anomaly"                        pending  2026-11-11T00:00:00Z  2026-11-11T06:00:00Z  bob         night         0`,
	} {
		if !strings.Contains(list, w) {
			t.Errorf("list lacks\n%s\ngot\n%s", w, list)
		}
	}
	if got := runOK(t, "silence", "expire", "--config", cfg, "--now", "2026-11-10T09:00:00Z", id); got != "expired "+id+"\n" {
		t.Errorf("expire: %q", got)
	}
	list = runOK(t, "silence", "list", "--config", cfg, "--now", "2026-11-10T09:00:00Z")
	if strings.Contains(list, id) || !strings.Contains(list, later) {
		t.Errorf("list after expiry:\n%s", list)
	}
	list = runOK(t, "silence", "list", "--config", cfg, "--now", "2026-11-10T09:00:00Z", "--expired")
	if !strings.Contains(list, id+`  service=~"R2.*" account="production"  expired  2026-11-10T08:00:00Z  2026-11-10T09:00:00Z`) {
		t.Errorf("list --expired:\n%s", list)
	}

	for _, tt := range []struct {
		name string
		args []string
		want string
	}{
		{"ErrBadMatcher", []string{"add", "--comment", "x", `service=~"R2`}, "unescaped double quote"},
		{"ErrNoComment", []string{"add", "kind=anomaly"}, "no comment"},
		{"ErrMatchesAll", []string{"add", "--comment", "x", `zone=~".*"`}, "match every alert"},
		{"ErrUnknownID", []string{"expire", "nope"}, "not found"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var out, errb bytes.Buffer
			args := append([]string{"silence", tt.args[0], "--config", cfg, "--now", now, "--author", "alice"}, tt.args[1:]...)
			if tt.args[0] != "add" {
				args = append([]string{"silence", tt.args[0], "--config", cfg, "--now", now}, tt.args[1:]...)
			}
			if code := run(args, nil, &out, &errb); code != 1 || !strings.Contains(errb.String(), tt.want) {
				t.Errorf("exit %d, stderr %q; want 1 and %q", code, errb.String(), tt.want)
			}
		})
	}
}

// routeRules is a rules folder for route test: a budget whose rule names
// the pager, and an anomaly rule that names no notifier.
const routeRules = `budgets:
  - name: pager-budget
    scope: {account: production}
    period: month
    amount: 100
    currency: USD
    thresholds:
      - {percent: 100, on: actual, severity: critical}
    notify: [pager]
anomalies:
  - {name: spikes, scope: {account: production}, severity: warning}
`

// TestRun_RouteTest is golden, like amtool config routes test: a critical
// anomaly pages at once; at 21:00 in Berlin a warning one waits for the end
// of quiet hours (08:00 there); a budget warning matches no route and goes
// to every notifier. A critical budget of a rule whose notify list names
// the pager goes to the pager alone, as the daemon sends it (route 1 would
// add finops); a rule with no notify list is routed by its labels.
func TestRun_RouteTest(t *testing.T) {
	cfg := routingConfig(t)
	if err := os.WriteFile(filepath.Join(filepath.Dir(cfg), "rules", "route.yaml"), []byte(routeRules), 0o644); err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	for _, args := range [][]string{
		{"account=production", "kind=anomaly", "severity=critical"},
		{"account=production", "kind=anomaly", "severity=warning"},
		{"account=production", "kind=budget", "severity=warning"},
		{"rule=pager-budget", "account=production", "kind=budget", "severity=critical"},
		{"rule=spikes", "account=production", "kind=anomaly", "severity=warning"},
		{"rule=daily-digest", "account=production", "kind=digest", "severity=info"},
	} {
		b.WriteString("$ costbot route test --at 2026-11-10T20:00:00Z " + strings.Join(args, " ") + "\n")
		b.WriteString(runOK(t, append([]string{"route", "test", "--config", cfg, "--at", "2026-11-10T20:00:00Z"}, args...)...))
	}
	golden := filepath.Join("testdata", "route-test.golden")
	if *update {
		if err := os.WriteFile(golden, []byte(b.String()), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatal(err)
	}
	if b.String() != string(want) {
		t.Errorf("got\n%s\nwant\n%s", b.String(), want)
	}
	var out, errb bytes.Buffer
	if code := run([]string{"route", "test", "--config", cfg, "acount=production"}, nil, &out, &errb); code != 2 {
		t.Errorf("unknown label: exit %d, want 2", code)
	}
	errb.Reset()
	if code := run([]string{"route", "test", "--config", cfg, "rule=nope"}, nil, &out, &errb); code != 1 ||
		!strings.Contains(errb.String(), `no rule "nope"`) || !strings.Contains(errb.String(), "pager-budget, spikes") {
		t.Errorf("unknown rule: exit %d, stderr %q; want 1 and the rules known", code, errb.String())
	}
}
