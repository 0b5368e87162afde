package main

import (
	"bytes"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime/debug"
	"strings"
	"testing"
)

func TestVersionText(t *testing.T) {
	tests := []struct {
		name string
		bi   *debug.BuildInfo
		ok   bool
		want []string
	}{
		{"OK release", &debug.BuildInfo{GoVersion: "go1.26.8", Main: debug.Module{Version: "v1.2.3"}, Settings: []debug.BuildSetting{
			{Key: "vcs.revision", Value: "0123456789abcdef0123456789abcdef01234567"}, {Key: "vcs.time", Value: "2026-12-01T10:00:00Z"}, {Key: "vcs.modified", Value: "false"},
		}}, true, []string{"costbot v1.2.3\n", "revision: 0123456789abcdef0123456789abcdef01234567\n", "commit time: 2026-12-01T10:00:00Z", "go: go1.26.8"}},
		{"OK modified tree", &debug.BuildInfo{GoVersion: "go1.26.8", Main: debug.Module{Version: "v0.0.0-20261201100000-0123456789ab+dirty"}, Settings: []debug.BuildSetting{
			{Key: "vcs.revision", Value: "0123456789ab"}, {Key: "vcs.modified", Value: "true"},
		}}, true, []string{"costbot v0.0.0-20261201100000-0123456789ab+dirty", "revision: 0123456789ab (modified)"}},
		{"OK no vcs", &debug.BuildInfo{GoVersion: "go1.26.8", Main: debug.Module{Version: "(devel)"}}, true, []string{"costbot devel\n", "revision: unknown\n"}},
		{"ErrNoBuildInfo", nil, false, []string{"costbot unknown (no build information)"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := versionText(tt.bi, tt.ok)
			for _, w := range tt.want {
				if !strings.Contains(got, w) {
					t.Errorf("versionText lacks %q:\n%s", w, got)
				}
			}
		})
	}
}

// TestRun_Version: `version`, `--version` and `-version` exit 0 and print
// the version text, not the usage.
func TestRun_Version(t *testing.T) {
	for _, arg := range []string{"version", "--version", "-version"} {
		t.Run(arg, func(t *testing.T) {
			var out, errb bytes.Buffer
			if code := run([]string{arg}, nil, &out, &errb); code != 0 {
				t.Fatalf("exit %d, want 0; stderr: %s", code, errb.String())
			}
			if !strings.HasPrefix(out.String(), "costbot ") || !strings.Contains(out.String(), "revision: ") || strings.Contains(out.String(), "Usage:") {
				t.Errorf("printed:\n%s", out.String())
			}
		})
	}
}

// TestRun_VersionBinary builds the binary from this checkout and checks
// that --version names the commit the toolchain stamped in.
func TestRun_VersionBinary(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	if err := exec.Command("git", "rev-parse", "--git-dir").Run(); err != nil {
		t.Skip("not in a git checkout")
	}
	bin := filepath.Join(t.TempDir(), "costbot")
	// -buildvcs=true overrides a GOFLAGS=-buildvcs=false in the environment.
	if out, err := exec.Command("go", "build", "-buildvcs=true", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	out, err := exec.Command(bin, "--version").CombinedOutput()
	if err != nil {
		t.Fatalf("--version: %v\n%s", err, out)
	}
	m := regexp.MustCompile(`revision: ([0-9a-f]{40})`).FindSubmatch(out)
	if m == nil {
		t.Fatalf("no 40-hex revision in:\n%s", out)
	}
	if err := exec.Command("git", "cat-file", "-e", string(m[1])+"^{commit}").Run(); err != nil {
		t.Errorf("revision %s is not a commit of this repository", m[1])
	}
	if !strings.HasPrefix(string(out), "costbot v") {
		t.Errorf("no module version in:\n%s", out)
	}
}
