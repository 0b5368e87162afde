package main

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/base64"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	_ "modernc.org/sqlite"

	"github.com/costbot/costbot/internal/demo"
)

func TestRun_Check(t *testing.T) {
	t.Setenv("CLOUDFLARE_API_TOKEN", "")
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.yaml")
	os.MkdirAll(filepath.Join(dir, "rules"), 0o755)
	os.WriteFile(filepath.Join(dir, "rules", "b.yaml"), []byte("budgets:\n  - name: x\n    amount: -1\n    currency: usd\n"), 0o644)
	os.WriteFile(bad, []byte("cloudflare:\n  accounts: [{id: nope, name: p}]\nrules: rules\n"), 0o644)
	okRules := filepath.Join(dir, "ok.yaml")
	os.WriteFile(okRules, []byte("cloudflare:\n  accounts: [{id: 9a7806061c88ada191ed06f989cc3dac, name: p}]\nrules: rules\n"), 0o644)
	tests := []struct {
		name string
		args []string
		code int
		want []string
	}{
		{"OK example", []string{"check", "--config", "../../config.example.yaml"}, 0, []string{"OK (1 accounts, 3 notifiers, 5 rules"}},
		{"ErrConfig", []string{"check", "--config", bad}, 1, []string{"bad.yaml:2:19: cloudflare.accounts[0].id: must be a 32-character"}},
		{"ErrRules", []string{"check", "--config", okRules}, 1, []string{"b.yaml:3:13: rule \"x\": amount:", "b.yaml:4:15: rule \"x\": currency:"}},
		{"ErrNoConfig", []string{"check"}, 1, []string{"--config FILE is required"}},
		{"ErrUnknownCommand", []string{"frobnicate"}, 2, []string{"unknown command"}},
		{"ErrLogLevel", []string{"demo", "--log-level", "loud"}, 2, []string{`invalid value "loud" for flag -log-level`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out, errb bytes.Buffer
			code := run(tt.args, nil, &out, &errb)
			if code != tt.code {
				t.Errorf("exit %d, want %d\nstdout: %s\nstderr: %s", code, tt.code, out.String(), errb.String())
			}
			for _, w := range tt.want {
				if !strings.Contains(out.String()+errb.String(), w) {
					t.Errorf("missing %q in output:\n%s%s", w, out.String(), errb.String())
				}
			}
		})
	}
}

// TestRun_CheckRuntimeRules: whatever `once` and `run` would reject in the
// config or rules, `check` rejects too, with file:line:col and field, every
// problem at once, and without printing a secret.
func TestRun_CheckRuntimeRules(t *testing.T) {
	t.Setenv("CF_TOKEN", "")
	key20 := base64.StdEncoding.EncodeToString([]byte("0123456789abcdefghij"))
	dir := t.TempDir()
	os.MkdirAll(filepath.Join(dir, "rules"), 0o755)
	os.WriteFile(filepath.Join(dir, "rules", "b.yaml"), []byte(`budgets:
  - name: monthly
    amount: 100
    currency: USD
    thresholds: [{percent: 80, on: actual}]
    notify: [pager]
`), 0o644)
	const head = "cloudflare:\n  api_token: t\n  accounts: [{id: 9a7806061c88ada191ed06f989cc3dac, name: p}]\nrules: rules\n"
	tests := []struct {
		name, yml string
		code      int
		want      []string
	}{
		{"ErrWebhookSecretShortKey", head + "notifiers:\n  - {name: pager, webhook: {url: \"https://h.example/x\", secret: \"whsec_" + key20 + "\"}}\n", 1,
			[]string{"c.yaml:6:65: notifiers[0].webhook.secret: decoded key is 20 bytes, want 24 to 64"}},
		{"ErrWebhookSecretNotBase64", head + "notifiers:\n  - {name: pager, webhook: {url: \"https://h.example/x\", secret: \"whsec_s3cr3t!!\"}}\n", 1,
			[]string{`c.yaml:6:65: notifiers[0].webhook.secret: not valid base64 after "whsec_"`}},
		{"ErrWebhookURL", head + "notifiers:\n  - {name: pager, webhook: {url: \"https://h.example:99999/x?token=s3cr3t\"}}\n", 1,
			[]string{"c.yaml:6:34: notifiers[0].webhook.url: port must be from 1 to 65535"}},
		{"ErrSlackWithoutBotToken", head + "notifiers:\n  - {name: pager, slack: {channel: C0123456789}}\n", 1,
			[]string{"c.yaml:6:26: notifiers[0].slack: slack.bot_token is required for Slack notifiers"}},
		{"ErrListen", head + "notifiers:\n  - {name: pager, console: {}}\nhttp: {listen: \"localhost:99999\"}\n", 1,
			[]string{`c.yaml:7:16: http.listen: port "99999": want 0 to 65535 or a service name`}},
		{"ErrBillingPath", "cloudflare:\n  api_token: t\n  accounts: [{id: 9a7806061c88ada191ed06f989cc3dac, name: p}]\n  paths: {focus: [nope]}\nrules: rules\nnotifiers:\n  - {name: pager, console: {}}\n", 1,
			[]string{`c.yaml:4:19: cloudflare.paths.focus[0]: must start with / and contain {account_id}, got "nope"`}},
		{"ErrNoCloudflareCredentials", "cloudflare:\n  accounts: [{id: 9a7806061c88ada191ed06f989cc3dac, name: p}]\nrules: rules\nnotifiers:\n  - {name: pager, console: {}}\n", 1,
			[]string{"c.yaml:2:3: cloudflare.api_token: no Cloudflare credentials"}},
		{"ErrUnknownNotifier", head + "notifiers:\n  - {name: other, console: {}}\n", 1,
			[]string{filepath.Join(dir, "rules", "b.yaml") + `:2:11: rule "monthly": notify: no notifier named "pager" in ` + filepath.Join(dir, "c.yaml")}},
		{"ErrEveryProblemAtOnce", head + "notifiers:\n  - {name: other, slack: {channel: C0123456789}}\nhttp: {listen: nohost}\n", 1,
			[]string{"c.yaml:7:16: http.listen: want host:port", "c.yaml:6:26: notifiers[0].slack: slack.bot_token is required", `rule "monthly": notify: no notifier named "pager"`}},
		{"OKCredentialsFromUnsetEnv", "cloudflare:\n  api_token: ${CF_TOKEN}\n  accounts: [{id: 9a7806061c88ada191ed06f989cc3dac, name: p}]\nrules: rules\nnotifiers:\n  - {name: pager, console: {}}\n", 0,
			[]string{"OK (1 accounts, 1 notifiers, 1 rules", "note: cloudflare.api_token ($CF_TOKEN) is unset"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(dir, "c.yaml")
			os.WriteFile(path, []byte(tt.yml), 0o644)
			var out, errb bytes.Buffer
			code := run([]string{"check", "--config", path}, nil, &out, &errb)
			all := out.String() + errb.String()
			if code != tt.code {
				t.Errorf("exit %d, want %d\n%s", code, tt.code, all)
			}
			for _, w := range tt.want {
				if !strings.Contains(all, w) {
					t.Errorf("missing %q in output:\n%s", w, all)
				}
			}
			for _, secret := range []string{key20, "s3cr3t"} {
				if strings.Contains(all, secret) {
					t.Errorf("secret %q in output:\n%s", secret, all)
				}
			}
		})
	}
}

// writeConfig points a config at a fake Cloudflare API and a console notifier.
func writeConfig(t *testing.T, cfURL string, listen string) string {
	t.Helper()
	dir := t.TempDir()
	rules, _ := os.ReadDir("../../rules")
	os.MkdirAll(filepath.Join(dir, "rules"), 0o755)
	for _, r := range rules {
		b, _ := os.ReadFile(filepath.Join("../../rules", r.Name()))
		os.WriteFile(filepath.Join(dir, "rules", r.Name()), b, 0o644)
	}
	path := filepath.Join(dir, "config.yaml")
	yml := fmt.Sprintf(`cloudflare:
  base_url: %s
  api_token: %s
  accounts: [{id: %s, name: production}]
notifiers:
  - {name: finops, console: {}}
  - {name: ops-hook, console: {}}
rules: rules
state: state.db
http: {listen: %q}
`, cfURL, demo.Token, demo.AccountID, listen)
	os.WriteFile(path, []byte(yml), 0o644)
	return path
}

func countSends(t *testing.T, db string) int {
	t.Helper()
	if _, err := os.Stat(db); err != nil {
		return 0
	}
	d, err := sql.Open("sqlite", db)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	var n int
	if err := d.QueryRow(`SELECT count(*) FROM sends`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

func TestRun_Once(t *testing.T) {
	now := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
	cf := httptest.NewServer(demo.NewServer(now))
	defer cf.Close()
	cfg := writeConfig(t, cf.URL, "")
	db := filepath.Join(filepath.Dir(cfg), "state.db")

	var out, errb bytes.Buffer
	if code := run([]string{"once", "--config", cfg, "--now", now.Format(time.RFC3339), "--dry-run"}, nil, &out, &errb); code != 0 {
		t.Fatalf("dry run exit %d: %s", code, errb.String())
	}
	if !strings.Contains(out.String(), "→ finops (console)") || !strings.Contains(out.String(), "R2 Class A Operations") {
		t.Errorf("dry run printed:\n%s", out.String())
	}
	if n := countSends(t, db); n != 0 {
		t.Errorf("dry run recorded %d sends", n)
	}

	out.Reset()
	if code := run([]string{"once", "--config", cfg, "--now", now.Format(time.RFC3339)}, nil, &out, &errb); code != 0 {
		t.Fatalf("once exit %d: %s", code, errb.String())
	}
	first := countSends(t, db)
	if first == 0 {
		t.Fatalf("once recorded no sends; output:\n%s", out.String())
	}
	out.Reset()
	if code := run([]string{"once", "--config", cfg, "--now", now.Add(time.Hour).Format(time.RFC3339)}, nil, &out, &errb); code != 0 {
		t.Fatalf("second once exit %d: %s", code, errb.String())
	}
	if n := countSends(t, db); n != first || strings.Contains(out.String(), "FIRING") {
		t.Errorf("second once sent again (%d -> %d sends):\n%s", first, n, out.String())
	}
	// As of ten days earlier (fresh state), the spike on the last day is not visible.
	out.Reset()
	early := now.AddDate(0, 0, -10)
	fresh := writeConfig(t, cf.URL, "")
	if code := run([]string{"once", "--config", fresh, "--now", early.Format(time.RFC3339), "--dry-run"}, nil, &out, &errb); code != 0 {
		t.Fatalf("early once exit %d: %s", code, errb.String())
	}
	if strings.Contains(out.String(), "R2 Class A Operations") || !strings.Contains(out.String(), "→ finops") {
		t.Errorf("--now %s saw the later spike:\n%s", early.Format(time.RFC3339), out.String())
	}
}

// TestRun_Daemon builds the binary, runs the daemon, checks /healthz and
// that SIGTERM shuts it down cleanly.
func TestRun_Daemon(t *testing.T) {
	bin, cfg, addr := daemonSetup(t)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, "run", "--config", cfg)
	var logs bytes.Buffer
	cmd.Stderr = &logs
	cmd.Stdout = io.Discard
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	var body string
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		resp, err := http.Get("http://" + addr + "/healthz")
		if err != nil {
			continue
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		body = string(b)
		if strings.Contains(body, "last_cycle") {
			break
		}
	}
	if !strings.Contains(body, `"status":"ok"`) || !strings.Contains(body, `"last_cycle"`) {
		t.Errorf("healthz = %q\nlogs:\n%s", body, logs.String())
	}
	cmd.Process.Signal(syscall.SIGTERM)
	if err := cmd.Wait(); err != nil {
		t.Errorf("daemon exit after SIGTERM: %v\nlogs:\n%s", err, logs.String())
	}
	for _, w := range []string{`"msg":"costbot started"`, `"msg":"job done","job":"cycle"`, `"msg":"shutting down"`} {
		if !strings.Contains(logs.String(), w) {
			t.Errorf("logs lack %s:\n%s", w, logs.String())
		}
	}
	if strings.Contains(logs.String(), demo.Token) {
		t.Error("the API token reached the logs")
	}
}

// daemonSetup builds the binary and writes a config against a demo
// Cloudflare server on loopback with a free listen address, for tests that
// run the daemon as a process.
func daemonSetup(t *testing.T) (bin, cfg, addr string) {
	t.Helper()
	if testing.Short() {
		t.Skip("builds the binary")
	}
	bin = filepath.Join(t.TempDir(), "costbot")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	cf := httptest.NewServer(demo.NewServer(time.Now()))
	t.Cleanup(cf.Close)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr = ln.Addr().String()
	ln.Close()
	return bin, writeConfig(t, cf.URL, addr), addr
}
