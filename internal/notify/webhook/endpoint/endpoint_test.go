package endpoint_test

import (
	"encoding/base64"
	"go/build"
	"strings"
	"testing"

	"github.com/costbot/costbot/internal/notify/webhook/endpoint"
)

func TestParseURL(t *testing.T) {
	tests := []struct {
		name, url, wantErr string
	}{
		{"OK", "https://hooks.example.com/services/T0/B0/s3cr3t", ""},
		{"OKPort", "http://127.0.0.1:8080/hook?token=s3cr3t", ""},
		{"ErrScheme", "ftp://u:s3cr3t@x.example/", "must be an absolute http or https URL"},
		{"ErrRelative", "/hook?token=s3cr3t", "must be an absolute http or https URL"},
		{"ErrUnparsable", "http://x.example/%zz?k=s3cr3t", "must be an absolute http or https URL"},
		{"ErrNoHostName", "https://:443/x?token=s3cr3t", "must be an absolute http or https URL"},
		{"ErrPortRange", "https://x.example:99999/s3cr3t", "port must be from 1 to 65535"},
		{"ErrPortZero", "https://x.example:0/s3cr3t", "port must be from 1 to 65535"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			u, err := endpoint.ParseURL(tt.url)
			if tt.wantErr == "" {
				if err != nil || u == nil {
					t.Fatalf("ParseURL: %v", err)
				}
				return
			}
			if err == nil || err.Error() != tt.wantErr {
				t.Fatalf("err = %v, want %q", err, tt.wantErr)
			}
			if strings.Contains(err.Error(), "s3cr3t") {
				t.Errorf("secret in %q", err)
			}
		})
	}
}

func TestDecodeSecret(t *testing.T) {
	b64 := func(n int) string { return base64.StdEncoding.EncodeToString([]byte(strings.Repeat("k", n))) }
	tests := []struct {
		name, secret, wantErr string
		keyLen                int
	}{
		{"OKMin", "whsec_" + b64(24), "", 24},
		{"OKMax", "whsec_" + b64(64), "", 64},
		{"OKUnpadded", "whsec_" + strings.TrimRight(b64(25), "="), "", 25},
		{"OKSpace", "  whsec_" + b64(32) + "\n", "", 32},
		{"ErrNoPrefix", b64(32), `want "whsec_" followed by base64`, 0},
		{"ErrNotBase64", "whsec_s3cr3t!!!", `not valid base64 after "whsec_"`, 0},
		{"ErrShortKey", "whsec_" + b64(20), "decoded key is 20 bytes, want 24 to 64", 0},
		{"ErrLongKey", "whsec_" + b64(65), "decoded key is 65 bytes, want 24 to 64", 0},
		{"ErrEmptyKey", "whsec_", "decoded key is 0 bytes, want 24 to 64", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			key, err := endpoint.DecodeSecret(tt.secret)
			if tt.wantErr == "" {
				if err != nil || len(key) != tt.keyLen {
					t.Fatalf("got %d-byte key, err %v; want %d bytes", len(key), err, tt.keyLen)
				}
				return
			}
			if err == nil || err.Error() != tt.wantErr {
				t.Fatalf("err = %v, want %q", err, tt.wantErr)
			}
			if s := strings.TrimPrefix(tt.secret, "whsec_"); s != "" && strings.Contains(err.Error(), s) {
				t.Errorf("secret in %q", err)
			}
		})
	}
}

// config imports this package; it must stay free of notify and the rest.
func TestImports_StdlibOnly(t *testing.T) {
	pkg, err := build.ImportDir(".", 0)
	if err != nil {
		t.Fatal(err)
	}
	for _, imp := range pkg.Imports {
		if strings.Contains(strings.SplitN(imp, "/", 2)[0], ".") {
			t.Errorf("imports %s", imp)
		}
	}
}
