//go:build unix

package config

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// TestParse_SecretFileLimits: a *_file secret must be a regular file of at
// most 64 KiB. /dev/zero, a named pipe with no writer (open used to block
// forever, deaf to SIGTERM), a directory and an oversized file are refused
// with an error naming the field, the file and the limit.
func TestParse_SecretFileLimits(t *testing.T) {
	dir := t.TempDir()
	write := func(name string, n int) {
		t.Helper()
		if err := os.WriteFile(filepath.Join(dir, name), []byte(strings.Repeat("t", n)), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	write("at-limit", MaxSecretFileSize)
	write("over-limit", MaxSecretFileSize+1)
	if err := syscall.Mkfifo(filepath.Join(dir, "fifo"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Mkdir(filepath.Join(dir, "sub"), 0o700); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat("/dev/zero"); err != nil {
		t.Fatal(err)
	}
	base := "cloudflare:\n  accounts: [{id: 9a7806061c88ada191ed06f989cc3dac, name: p}]\n  api_token_file: "
	tests := []struct {
		name, file string
		is         error
		want       string // in the error
	}{
		{"OK/AtLimit", "at-limit", nil, ""},
		{"ErrFileTooLarge", "over-limit", ErrFileTooLarge, "c.yaml:3:19: cloudflare.api_token_file: read " + filepath.Join(dir, "over-limit") + ": file too large: 65537 bytes, limit 64 KiB"},
		{"ErrNotRegular/DevZero", "/dev/zero", ErrNotRegular, "read /dev/zero: not a regular file (a character device)"},
		{"ErrNotRegular/FIFO", "fifo", ErrNotRegular, "not a regular file (a named pipe)"},
		{"ErrNotRegular/Dir", "sub", ErrNotRegular, "not a regular file (a directory)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg, err := Parse(filepath.Join(dir, "c.yaml"), []byte(base+tt.file+"\n"), env(nil))
			if tt.is == nil {
				if err != nil {
					t.Fatal(err)
				}
				if n := len(cfg.Cloudflare.APIToken.Value()); n != MaxSecretFileSize {
					t.Errorf("token has %d bytes", n)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want %q", err, tt.want)
			}
			p := tt.file
			if !filepath.IsAbs(p) {
				p = filepath.Join(dir, p)
			}
			if _, rerr := ReadFile(p, MaxSecretFileSize); !errors.Is(rerr, tt.is) {
				t.Errorf("ReadFile(%s) = %v, want %v", p, rerr, tt.is)
			}
		})
	}
}

// TestLoad_ConfigFileLimits: the config file itself is at most 4 MiB and
// must be a regular file.
func TestLoad_ConfigFileLimits(t *testing.T) {
	dir := t.TempDir()
	big := filepath.Join(dir, "big.yaml")
	if err := os.WriteFile(big, []byte("# "+strings.Repeat("x", MaxConfigFileSize)+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	fifo := filepath.Join(dir, "fifo.yaml")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, path string
		is         error
		want       string
	}{
		{"ErrFileTooLarge", big, ErrFileTooLarge, "read config: read " + big + ": file too large"},
		{"ErrNotRegular/FIFO", fifo, ErrNotRegular, "read config: read " + fifo + ": not a regular file (a named pipe)"},
		{"ErrNotRegular/DevZero", "/dev/zero", ErrNotRegular, "read config: read /dev/zero: not a regular file"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for name, load := range map[string]func(string) (*Config, error){"Load": Load, "LoadCheck": LoadCheck} {
				_, err := load(tt.path)
				if !errors.Is(err, tt.is) || !strings.Contains(err.Error(), tt.want) {
					t.Errorf("%s(%s) = %v, want %q", name, tt.path, err, tt.want)
				}
			}
		})
	}
}

func TestReadFile_LimitMessage(t *testing.T) {
	for n, want := range map[int64]string{64 << 10: "64 KiB", 4 << 20: "4 MiB", 100: "100 bytes"} {
		if got := size(n); got != want {
			t.Errorf("size(%d) = %q, want %q", n, got, want)
		}
	}
}

func TestRedactURL(t *testing.T) {
	tests := []struct{ in, want string }{
		{"https://api.cloudflare.com/client/v4", "https://api.cloudflare.com/client/v4"},
		{"https://user:hunter2@api.example.com/v4", "https://REDACTED@api.example.com/v4"},
		{"ftp://user:hunter2@h/", "ftp://REDACTED@h/"},
		{"https://h/v4?token=hunter2&x", "https://h/v4?token=REDACTED&REDACTED"},
		{"HTTPS://h/#top", "HTTPS://h/#top"},
		{"http://user:hunter2@h:badport/x?k=hunter2#f", "http://REDACTED@h:badport/x?k=REDACTED#f"},
		{"not a url hunter2@x", "REDACTED@x"},
	}
	for _, tt := range tests {
		if got := RedactURL(tt.in); got != tt.want {
			t.Errorf("RedactURL(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

// TestValidate_NoURLCredentials: check reports a bad base_url or api_url
// without the password or query in it.
func TestValidate_NoURLCredentials(t *testing.T) {
	yml := "cloudflare:\n  accounts: [{id: 9a7806061c88ada191ed06f989cc3dac, name: p}]\n  api_token: t\n" +
		"  base_url: ftp://ops:hunter2@api.example.com/v4\nslack:\n  api_url: https://ops:hunter2@slack.example.com/api?token=hunter2\n"
	_, err := Parse("c.yaml", []byte(yml), env(nil))
	if err == nil {
		t.Fatal("want errors for base_url and api_url")
	}
	msg := err.Error()
	if strings.Contains(msg, "hunter2") {
		t.Errorf("error leaks the password:\n%s", msg)
	}
	for _, want := range []string{"cloudflare.base_url", "ftp://REDACTED@api.example.com/v4", "slack.api_url"} {
		if !strings.Contains(msg, want) {
			t.Errorf("error lacks %q:\n%s", want, msg)
		}
	}
}
