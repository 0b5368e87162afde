package config

import (
	"strings"
	"testing"
)

// http.external_url and the webhook digest option: what Parse accepts, and
// the position, field and message of what it rejects (never user info).
func TestValidate_ExternalURLAndDigest(t *testing.T) {
	base := "cloudflare:\n  api_token: t\n  accounts: [{id: 9a7806061c88ada191ed06f989cc3dac, name: p}]\n"
	ext := func(u string) string { return base + "http: {external_url: \"" + u + "\"}\n" }
	hooks := func(digest, digestNotifiers string) string {
		return base + "notifiers:\n" +
			"  - name: ops\n    webhook: {url: \"https://h.example/x\"" + digest + "}\n" +
			"  - name: term\n    console: {}\n" +
			"schedule:\n  digest_notifiers: [" + digestNotifiers + "]\n"
	}
	tests := []struct {
		name, yml string
		want      string // "" means OK
		secret    string // must not appear in the error
	}{
		{"OKUnset", base, "", ""},
		{"OKHTTPS", ext("https://costbot.example.com"), "", ""},
		{"OKPathAndPort", ext("http://10.0.0.5:8080/costbot/"), "", ""},
		{"ErrScheme", ext("ftp://costbot.example.com"),
			`c.yaml:4:22: http.external_url: must be an absolute http or https URL such as https://costbot.example.com, got "ftp://costbot.example.com"`, ""},
		{"ErrRelative", ext("/costbot"),
			`c.yaml:4:22: http.external_url: must be an absolute http or https URL such as https://costbot.example.com, got "/costbot"`, ""},
		{"ErrNoHost", ext("https://:443/"),
			`c.yaml:4:22: http.external_url: must be an absolute http or https URL such as https://costbot.example.com, got "https://:443/"`, ""},
		{"ErrUserInfo", ext("https://admin:s3cr3t@costbot.example.com"),
			`c.yaml:4:22: http.external_url: must not contain user info: it is sent in every webhook payload`, "s3cr3t"},
		{"ErrQuery", ext("https://costbot.example.com/?x=1"),
			`c.yaml:4:22: http.external_url: must not have a query or fragment (alert links are appended to it), got "https://costbot.example.com/?x=1"`, ""},
		{"ErrFragment", ext("https://costbot.example.com/#top"),
			`c.yaml:4:22: http.external_url: must not have a query or fragment (alert links are appended to it), got "https://costbot.example.com/#top"`, ""},
		{"ErrUnparsable", ext("https://costbot.example.com/%zz"),
			`c.yaml:4:22: http.external_url: must be an absolute http or https URL such as https://costbot.example.com`, ""},

		{"OKDigestDefaultOff", hooks("", ""), "", ""},
		{"OKDigestOn", hooks(", digest: true", ""), "", ""},
		{"OKDigestOnAndNamed", hooks(", digest: true", "ops, term"), "", ""},
		{"OKDigestOffNotNamed", hooks("", "term"), "", ""},
		{"ErrDigestNamedButOff", hooks("", "term, ops"),
			`c.yaml:10:28: schedule.digest_notifiers[1]: webhook "ops" gets the digest only with notifiers[0].webhook.digest: true`, ""},
		{"ErrDigestOnButNotNamed", hooks(", digest: true", "term"),
			`c.yaml:6:51: notifiers[0].webhook.digest: is true but schedule.digest_notifiers does not name "ops"`, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg, err := Parse("c.yaml", []byte(tt.yml), env(nil))
			if tt.want == "" {
				if err != nil {
					t.Fatalf("want OK, got:\n%v", err)
				}
				return
			}
			if err == nil {
				t.Fatalf("want %q, got OK (%+v)", tt.want, cfg.HTTP)
			}
			if got := err.Error(); got != tt.want {
				t.Errorf("got  %s\nwant %s", got, tt.want)
			}
			if tt.secret != "" && strings.Contains(err.Error(), tt.secret) {
				t.Errorf("secret %q leaked: %v", tt.secret, err)
			}
		})
	}

	t.Run("OKValues", func(t *testing.T) {
		cfg, err := Parse("c.yaml", []byte(ext("https://costbot.example.com/")+
			"notifiers:\n  - name: ops\n    webhook: {url: \"https://h.example/x\", digest: true}\n"), env(nil))
		if err != nil {
			t.Fatal(err)
		}
		if cfg.HTTP.ExternalURL != "https://costbot.example.com/" || !cfg.Notifiers[0].Webhook.Digest {
			t.Errorf("external_url %q, digest %v", cfg.HTTP.ExternalURL, cfg.Notifiers[0].Webhook.Digest)
		}
		if d := Default(); d.HTTP.ExternalURL != "" {
			t.Errorf("default external_url %q, want empty", d.HTTP.ExternalURL)
		}
	})
}
