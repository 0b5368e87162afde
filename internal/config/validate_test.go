package config

import (
	"encoding/base64"
	"fmt"
	"go/build"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/costbot/costbot/internal/billing"
)

// What `once` and `run` reject must already fail Parse (and so `check`),
// with the position and field, and without the secret.
func TestValidate_RuntimeRules(t *testing.T) {
	key20 := base64.StdEncoding.EncodeToString([]byte("0123456789abcdefghij"))
	key24 := base64.StdEncoding.EncodeToString([]byte("0123456789abcdefghijklmn"))
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "hook.secret"), []byte("whsec_"+key20+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	base := "cloudflare:\n  api_token: t\n  accounts: [{id: 9a7806061c88ada191ed06f989cc3dac, name: p}]\n"
	hook := func(url, secret string) string {
		return base + "notifiers:\n  - name: h\n    webhook: {url: \"" + url + "\", secret: \"" + secret + "\"}\n"
	}
	tests := []struct {
		name, yml string
		want      string // "" means OK
		secrets   []string
	}{
		{"ErrWebhookSecretShortKey", hook("https://h.example/x", "whsec_"+key20),
			"c.yaml:6:51: notifiers[0].webhook.secret: decoded key is 20 bytes, want 24 to 64", []string{key20}},
		{"ErrWebhookSecretNotBase64", hook("https://h.example/x", "whsec_s3cr3t!!!"),
			`c.yaml:6:51: notifiers[0].webhook.secret: not valid base64 after "whsec_"`, []string{"s3cr3t"}},
		{"ErrWebhookSecretFileShortKey", base + "notifiers:\n  - name: h\n    webhook: {url: \"https://h.example/x\", secret_file: hook.secret}\n",
			"c.yaml:6:56: notifiers[0].webhook.secret_file: decoded key is 20 bytes, want 24 to 64", []string{key20}},
		{"ErrWebhookURLPort", hook("https://h.example:99999/x?token=s3cr3t", "whsec_"+key24),
			"c.yaml:6:20: notifiers[0].webhook.url: port must be from 1 to 65535", []string{"s3cr3t", key24}},
		{"ErrWebhookURLNoHostName", hook("https://:443/x?token=s3cr3t", ""),
			"c.yaml:6:20: notifiers[0].webhook.url: must be an absolute http or https URL", []string{"s3cr3t"}},
		{"ErrListenPortRange", base + "http: {listen: \"localhost:99999\"}\n",
			`c.yaml:4:16: http.listen: port "99999": want 0 to 65535 or a service name`, nil},
		{"ErrListenNoPort", base + "http:\n  listen: localhost\n",
			`c.yaml:5:11: http.listen: want host:port such as 127.0.0.1:8080, got "localhost"`, nil},
		{"ErrBillingPath", base + "  paths:\n    paygo: [\"/ok/{account_id}\", /accounts/usage]\n",
			`c.yaml:5:33: cloudflare.paths.paygo[1]: must start with / and contain {account_id}, got "/accounts/usage"`, nil},
		{"ErrBaseURLUpperCaseScheme", base + "  base_url: HTTPS://api.cloudflare.com/client/v4\n",
			`c.yaml:4:13: cloudflare.base_url: must be an http(s) URL, got "HTTPS://api.cloudflare.com/client/v4"`, nil},
		{"ErrRecentDaysOverRefresh", base + "  refresh_days: 10\n  recent_days: 11\n",
			"c.yaml:5:16: cloudflare.recent_days: must be between 1 and refresh_days, got 11", nil},
		{"ErrRecentDaysZero", base + "  recent_days: 0\n",
			"c.yaml:4:16: cloudflare.recent_days: must be between 1 and refresh_days, got 0", nil},
		{"ErrRefreshIntervalNegative", base + "  refresh_interval: -1h\n",
			"c.yaml:4:21: cloudflare.refresh_interval: must not be negative, got -1h0m0s", nil},
		{"ErrFetchConcurrency", base + "  fetch_concurrency: 0\n",
			"c.yaml:4:22: cloudflare.fetch_concurrency: must be between 1 and 64, got 0", nil},
		{"ErrRequestsPer5mOverCloudflare", base + "  requests_per_5m: 1201\n",
			"c.yaml:4:20: cloudflare.requests_per_5m: must be between 10 and 1200 (Cloudflare's limit per user), got 1201", nil},
		{"ErrRequestsPer5mTooFew", base + "  requests_per_5m: 9\n",
			"c.yaml:4:20: cloudflare.requests_per_5m: must be between 10 and 1200 (Cloudflare's limit per user), got 9", nil},
		{"OKRefreshSchedule", base + "  refresh_days: 10\n  recent_days: 10\n  refresh_interval: 0s\n  fetch_concurrency: 64\n  requests_per_5m: 300\n", "", nil},
		{"OKWebhookKey24", hook("https://h.example:8443/x", "whsec_"+key24), "", nil},
		{"OKWebhookSecretUnsetEnv", hook("https://h.example/x", "whsec_${HOOK_SECRET}"), "", nil},
		{"OKWebhookURLUnsetEnv", hook("https://${HOOK_HOST}/x", ""), "", nil},
		{"OKListenServiceName", base + "http: {listen: \"localhost:http\"}\n", "", nil},
		{"OKListenAnyPort", base + "http: {listen: \":0\"}\n", "", nil},
		{"OKListenDisabled", base + "http: {listen: \"\"}\n", "", nil},
		{"OKAPIKeyUnsetEnv", "cloudflare:\n  api_email: a@example.com\n  api_key: ${CF_KEY}\n  accounts: [{id: 9a7806061c88ada191ed06f989cc3dac, name: p}]\n", "", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse(filepath.Join(dir, "c.yaml"), []byte(tt.yml), env(nil))
			if tt.want == "" {
				if err != nil {
					t.Fatalf("want OK, got:\n%v", err)
				}
				return
			}
			if err == nil {
				t.Fatalf("want %q, got OK", tt.want)
			}
			if got := strings.TrimPrefix(err.Error(), dir+string(filepath.Separator)); got != tt.want {
				t.Errorf("got  %s\nwant %s", got, tt.want)
			}
			for _, s := range tt.secrets {
				if strings.Contains(err.Error(), s) {
					t.Errorf("secret %q leaked: %v", s, err)
				}
			}
		})
	}
}

func TestConfig_CheckLive(t *testing.T) {
	acct := "  accounts: [{id: 9a7806061c88ada191ed06f989cc3dac, name: p}]\n"
	slackN := "notifiers:\n  - name: finops\n    slack: {channel: C0123456789}\n"
	tests := []struct {
		name, yml, want string
	}{
		{"ErrNoBotToken", "cloudflare:\n  api_token: t\n" + acct + slackN,
			"c.yaml:6:12: notifiers[0].slack: slack.bot_token is required for Slack notifiers"},
		{"ErrNoCredentials", "cloudflare:\n" + acct,
			"c.yaml:2:3: cloudflare.api_token: no Cloudflare credentials: set api_token (or api_email + api_key)"},
		{"OKBotTokenUnsetEnv", "cloudflare:\n  api_token: t\n" + acct + "slack: {bot_token: \"${SLACK_BOT_TOKEN}\"}\n" + slackN, ""},
		{"OKCredentialsUnsetEnv", "cloudflare:\n  api_token: ${CF_TOKEN}\n" + acct, ""},
		{"OK", "cloudflare:\n  api_token: t\n" + acct + "slack: {bot_token: xoxb-1}\n" + slackN, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg, err := Parse("c.yaml", []byte(tt.yml), env(nil))
			if err != nil {
				t.Fatal(err)
			}
			err = cfg.CheckLive()
			if tt.want == "" {
				if err != nil {
					t.Fatalf("want OK, got:\n%v", err)
				}
				return
			}
			if err == nil || err.Error() != tt.want {
				t.Fatalf("got  %v\nwant %s", err, tt.want)
			}
		})
	}
}

// Config must accept no Cloudflare path or base URL the billing client
// rejects; the path rule is billing's, repeated because billing keeps it
// unexported.
func TestValidate_BillingOptions(t *testing.T) {
	base := "cloudflare:\n  api_token: t\n  accounts: [{id: 9a7806061c88ada191ed06f989cc3dac, name: p}]\n"
	for _, p := range []string{"/accounts/{account_id}/x", "/accounts/x", "accounts/{account_id}", "", "{account_id}", "/{account_id}"} {
		yml := base + "  paths: {focus: [\"" + p + "\"]}\n"
		_, cerr := Parse("c.yaml", []byte(yml), env(nil))
		berr := billing.Options{APIToken: "t", Paths: billing.Paths{Focus: []string{p}}}.Validate()
		if (cerr == nil) != (berr == nil) {
			t.Errorf("path %q: config says %v, billing says %v", p, cerr, berr)
		}
	}
	for _, u := range []string{"https://api.example/v4", "http://x", "HTTPS://api.example/v4", "Http://x", "ftp://x", "https://"} {
		yml := strings.Replace(base, "cloudflare:\n", "cloudflare:\n  base_url: \""+u+"\"\n", 1)
		_, cerr := Parse("c.yaml", []byte(yml), env(nil))
		berr := billing.Options{APIToken: "t", BaseURL: u}.Validate()
		if cerr == nil && berr != nil {
			t.Errorf("base_url %q: config accepts it, billing says %v", u, berr)
		}
	}
}

func TestCloudflareRequestsPer5m_Billing(t *testing.T) {
	if CloudflareRequestsPer5m != billing.DefaultRequestsPer5m {
		t.Errorf("config bounds requests_per_5m at %d, billing's default is %d", CloudflareRequestsPer5m, billing.DefaultRequestsPer5m)
	}
}

// Config shares the webhook rules through notify/webhook/endpoint, which
// imports only the standard library; it must not reach into notify itself.
func TestImports_NoNotify(t *testing.T) {
	pkg, err := build.ImportDir(".", 0)
	if err != nil {
		t.Fatal(err)
	}
	for _, imp := range pkg.Imports {
		if strings.Contains(imp, "/internal/") && imp != "github.com/costbot/costbot/internal/notify/webhook/endpoint" {
			t.Errorf("config imports %s", imp)
		}
	}
}

func TestLoadCheck(t *testing.T) {
	dir := t.TempDir()
	write := func(name, yml string) string {
		t.Helper()
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(yml), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	t.Run("ErrEveryProblem", func(t *testing.T) {
		// A Validate problem does not hide a CheckLive one, and the config
		// comes back so the caller can still check the rules.
		p := write("all.yaml", "cloudflare:\n  accounts: [{id: 9a7806061c88ada191ed06f989cc3dac, name: p}]\nnotifiers:\n  - {name: s, slack: {channel: C1}}\nhttp: {listen: \"x:99999\"}\n")
		cfg, err := LoadCheck(p)
		if cfg == nil || cfg.Rules != "rules" {
			t.Fatalf("want the decoded config back, got %+v", cfg)
		}
		got := strings.ReplaceAll(fmt.Sprint(err), dir+string(filepath.Separator), "")
		want := `all.yaml:5:16: http.listen: port "99999": want 0 to 65535 or a service name
all.yaml:2:3: cloudflare.api_token: no Cloudflare credentials: set api_token (or api_email + api_key)
all.yaml:4:22: notifiers[0].slack: slack.bot_token is required for Slack notifiers`
		if got != want {
			t.Errorf("got:\n%s\nwant:\n%s", got, want)
		}
	})
	t.Run("ErrUndecodable", func(t *testing.T) {
		cfg, err := LoadCheck(write("bad.yaml", "cloudflare: [\n"))
		if cfg != nil || err == nil {
			t.Fatalf("got %v, %v", cfg, err)
		}
	})
	t.Run("OK", func(t *testing.T) {
		cfg, err := LoadCheck(write("ok.yaml", "cloudflare:\n  api_token: t\n  accounts: [{id: 9a7806061c88ada191ed06f989cc3dac, name: p}]\n"))
		if cfg == nil || err != nil {
			t.Fatalf("got %v, %v", cfg, err)
		}
	})
}
