package endpoint

import (
	"bytes"
	"encoding/base64"
	"net/url"
	"strconv"
	"strings"
	"testing"
)

// FuzzParseURL: an accepted URL is absolute http(s) with a host name and
// a port from 1 to 65535, and survives printing and parsing again; an
// error never quotes the input, which may hold tokens.
func FuzzParseURL(f *testing.F) {
	for _, s := range []string{
		"https://hooks.example.com/costbot", "http://10.0.0.7:9093/api/v2/alerts?token=abc",
		"https://user:pass@example.com/x", "https://example.com:0/", "https://example.com:65536/", "https://[::1]:8443/hook",
		"ftp://example.com/", "/relative/path", "https://", "http://:80/", "https://exa mple.com/", "https://example.com:8o/",
		"https://hooks.slack.com/services/T000/B000/XXXXXXXXXXXXXXXXXXXXXXXX", "", "%zz",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		u, err := ParseURL(raw)
		if err != nil {
			if len(raw) >= 8 && strings.Contains(err.Error(), raw) {
				t.Fatalf("error quotes the URL: %v", err)
			}
			return
		}
		if u.Scheme != "http" && u.Scheme != "https" || u.Hostname() == "" {
			t.Fatalf("accepted %q: scheme %q host %q", raw, u.Scheme, u.Hostname())
		}
		if p := u.Port(); p != "" {
			if n, err := strconv.Atoi(p); err != nil || n < 1 || n > 65535 {
				t.Fatalf("accepted %q with port %q", raw, p)
			}
		}
		again, err := url.Parse(u.String())
		if err != nil || again.Scheme != u.Scheme || again.Host != u.Host {
			t.Fatalf("%q prints as %q, which parses as %v (%v)", raw, u.String(), again, err)
		}
	})
}

// FuzzDecodeSecret: a secret decodes exactly when it is "whsec_" and the
// base64 (padded or not) of a 24-to-64-byte key, to that key; an error
// never quotes the secret.
func FuzzDecodeSecret(f *testing.F) {
	// Standard Webhooks' example secret and ones around the bounds.
	f.Add("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", []byte("0123456789abcdefghijklmn"))
	f.Add(" whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw\n", bytes.Repeat([]byte{0xff}, 64))
	f.Add("whsec_"+base64.RawStdEncoding.EncodeToString(bytes.Repeat([]byte("k"), 23)), bytes.Repeat([]byte{1}, 23))
	f.Add("whsec_"+base64.StdEncoding.EncodeToString(bytes.Repeat([]byte("k"), 65)), bytes.Repeat([]byte{2}, 65))
	f.Add("MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", []byte(nil))
	f.Add("whsec_not*base64!", []byte("x"))
	f.Add("whsec_", []byte{})
	f.Fuzz(func(t *testing.T, s string, key []byte) {
		got, err := DecodeSecret(s)
		if err != nil {
			if b64, ok := strings.CutPrefix(strings.TrimSpace(s), "whsec_"); ok && len(b64) >= 8 && strings.Contains(err.Error(), b64) {
				t.Fatalf("error quotes the secret: %v", err)
			}
		} else {
			if len(got) < MinKeyBytes || len(got) > MaxKeyBytes {
				t.Fatalf("accepted a %d-byte key", len(got))
			}
			again, err := DecodeSecret("whsec_" + base64.StdEncoding.EncodeToString(got))
			if err != nil || !bytes.Equal(again, got) {
				t.Fatalf("re-encoded key decodes to %x (%v), want %x", again, err, got)
			}
		}
		// Any key round-trips through both encodings, or is refused for its length.
		for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding} {
			dec, err := DecodeSecret("whsec_" + enc.EncodeToString(key))
			ok := len(key) >= MinKeyBytes && len(key) <= MaxKeyBytes
			if ok != (err == nil) || ok && !bytes.Equal(dec, key) {
				t.Fatalf("%d-byte key: decoded %x, err %v", len(key), dec, err)
			}
		}
	})
}
