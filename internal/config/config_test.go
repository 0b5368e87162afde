package config

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func env(m map[string]string) func(string) (string, bool) {
	return func(k string) (string, bool) { v, ok := m[k]; return v, ok }
}

func TestLoad_Example(t *testing.T) {
	data, err := os.ReadFile("../../config.example.yaml")
	if err != nil {
		t.Fatal(err)
	}
	t.Run("OK", func(t *testing.T) {
		cfg, err := Parse("config.example.yaml", data, env(map[string]string{
			"CLOUDFLARE_API_TOKEN":   "cf-token-123",
			"SLACK_BOT_TOKEN":        "xoxb-1",
			"SLACK_SIGNING_SECRET":   "sign",
			"COSTBOT_WEBHOOK_SECRET": "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
		}))
		if err != nil {
			t.Fatal(err)
		}
		if got := cfg.Cloudflare.APIToken.Value(); got != "cf-token-123" {
			t.Errorf("api_token = %q", got)
		}
		if len(cfg.MissingEnv) != 0 {
			t.Errorf("MissingEnv = %v", cfg.MissingEnv)
		}
		if err := cfg.CheckSecrets(); err != nil {
			t.Errorf("CheckSecrets: %v", err)
		}
		if cfg.Schedule.TimeZone != "Europe/Berlin" || cfg.Notifiers[1].Webhook == nil {
			t.Errorf("unexpected decode: %+v", cfg.Schedule)
		}
	})
	t.Run("ErrMissingEnv", func(t *testing.T) {
		cfg, err := Parse("config.example.yaml", data, env(nil))
		if err != nil {
			t.Fatalf("unset env must not fail decoding: %v", err)
		}
		err = cfg.CheckSecrets()
		if err == nil || !strings.Contains(err.Error(), "CLOUDFLARE_API_TOKEN is not set") ||
			!strings.Contains(err.Error(), "config.example.yaml:7:") {
			t.Fatalf("CheckSecrets = %v", err)
		}
	})
}

func TestParse_Bad(t *testing.T) {
	tests := []struct {
		file string
		want []string
	}{
		{"unknown-field.bad.yaml", []string{
			"unknown-field.bad.yaml:3:1: field acounts not found in type config.Cloudflare",
		}},
		{"wrong-type.bad.yaml", []string{
			"wrong-type.bad.yaml:3:1: cannot unmarshal !!map into []config.CFAccount",
			"wrong-type.bad.yaml:5:1: cannot unmarshal !!str `hourly` into time.Duration",
		}},
		{"many-problems.bad.yaml", []string{
			"many-problems.bad.yaml:2:13: cloudflare.base_url: must be an http(s) URL",
			"many-problems.bad.yaml:5:11: cloudflare.accounts[0].id: must be a 32-character",
			"many-problems.bad.yaml:6:13: cloudflare.accounts[0].name: is required",
			"many-problems.bad.yaml:7:15: cloudflare.accounts[0].source: must be paygo or focus, got \"csv\"",
			"many-problems.bad.yaml:10:22: notifiers[0].slack.channel: is required",
			"many-problems.bad.yaml:11:11: notifiers[1].name: duplicate name \"a\"",
			"many-problems.bad.yaml:12:53: notifiers[1].webhook.secret: want \"whsec_\" followed by base64",
			"many-problems.bad.yaml:13:5: notifiers[2]: needs exactly one of slack, webhook, console",
			"many-problems.bad.yaml:15:10: schedule.cycle: must be at least 1m",
			"many-problems.bad.yaml:16:15: schedule.card_check: must be a local time HH:MM",
			"many-problems.bad.yaml:17:13: schedule.timezone: unknown time zone \"Mars/Olympus\"",
		}},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			data, err := os.ReadFile(filepath.Join("testdata", tt.file))
			if err != nil {
				t.Fatal(err)
			}
			_, err = Parse(tt.file, data, env(nil))
			if err == nil {
				t.Fatal("want errors, got none")
			}
			got := err.Error()
			for _, w := range tt.want {
				if !strings.Contains(got, w) {
					t.Errorf("missing %q in:\n%s", w, got)
				}
			}
			if n := strings.Count(got, "\n") + 1; n != len(tt.want) {
				t.Errorf("got %d problems, want %d:\n%s", n, len(tt.want), got)
			}
		})
	}
}

func TestSecret_NotLeaked(t *testing.T) {
	// Valid base64 of a 33-byte key, so that it also passes as a webhook secret.
	const tok = "c3VwZXItc2VjcmV0LXRva2VuLXZhbHVlLTEyMzQ1Njc4"
	cfg, err := Parse("c.yaml", []byte(`cloudflare:
  api_token: ${T}
  accounts: [{id: 9a7806061c88ada191ed06f989cc3dac, name: p}]
notifiers:
  - name: h
    webhook: {url: "https://h.example/x?token=${T}", secret: "whsec_${T}"}
`), env(map[string]string{"T": tok}))
	if err != nil {
		t.Fatal(err)
	}
	j, _ := json.Marshal(cfg)
	for _, s := range []string{fmt.Sprintf("%v", cfg), fmt.Sprintf("%+v", cfg.Cloudflare), fmt.Sprintf("%+v", *cfg.Notifiers[0].Webhook), string(j)} {
		if strings.Contains(s, tok) {
			t.Errorf("secret leaked: %s", s)
		}
	}
}

func FuzzParse(f *testing.F) {
	for _, p := range []string{"../../config.example.yaml", "testdata/many-problems.bad.yaml", "testdata/wrong-type.bad.yaml"} {
		if b, err := os.ReadFile(p); err == nil {
			f.Add(b)
		}
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		cfg, err := Parse("f.yaml", data, env(nil))
		if err == nil && cfg == nil {
			t.Fatal("nil config without error")
		}
		if err != nil && !strings.HasPrefix(err.Error(), "f.yaml") {
			t.Fatalf("error without file name: %v", err)
		}
	})
}

func TestParse_SecretFiles(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "token"), []byte("from-file-token\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	base := "cloudflare:\n  accounts: [{id: 9a7806061c88ada191ed06f989cc3dac, name: p}]\n"
	tests := []struct {
		name, yml, want, wantErr string
	}{
		{"OK", base + "  api_token_file: token\n", "from-file-token", ""},
		{"ErrBoth", base + "  api_token: inline\n  api_token_file: token\n", "", "c.yaml:4:19: cloudflare.api_token_file: set api_token or its _file, not both"},
		{"ErrMissingFile", base + "  api_token_file: nope\n", "", "c.yaml:3:19: cloudflare.api_token_file: open " + filepath.Join(dir, "nope") + ": no such file or directory"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg, err := Parse(filepath.Join(dir, "c.yaml"), []byte(tt.yml), env(nil))
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := cfg.Cloudflare.APIToken.Value(); got != tt.want {
				t.Errorf("token = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestParse_AlertRetention(t *testing.T) {
	base := "cloudflare:\n  accounts: [{id: 9a7806061c88ada191ed06f989cc3dac, name: p}]\n"
	tests := []struct {
		name, yml string
		want      int
		wantErr   string
	}{
		{"OKDefault", base, 400, ""},
		{"OK", base + "alerts:\n  retention_days: 30\n", 30, ""},
		{"OKKeepAll", base + "alerts: {retention_days: 0}\n", 0, ""},
		{"ErrNegative", base + "alerts:\n  stale_after: 1h\n  retention_days: -1\n", 0,
			"c.yaml:5:19: alerts.retention_days: must not be negative (0 keeps every alert), got -1"},
		{"ErrNotANumber", base + "alerts:\n  retention_days: 400d\n", 0,
			"c.yaml:4:1: cannot unmarshal !!str `400d` into int"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg, err := Parse("c.yaml", []byte(tt.yml), env(nil))
			if tt.wantErr != "" {
				if err == nil || err.Error() != tt.wantErr {
					t.Fatalf("err = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := cfg.Alerts.RetentionDays; got != tt.want {
				t.Errorf("retention_days = %d, want %d", got, tt.want)
			}
		})
	}
}
