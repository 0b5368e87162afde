package main

import (
	"fmt"
	"io"
	"runtime/debug"
	"strings"
)

// versionText is what `costbot version` prints: the module version, then
// the VCS revision, commit time and whether the tree had uncommitted
// changes, as the Go toolchain stamped them into the binary, and the Go
// version it was built with. A binary built outside a checkout (or by go
// run) says "unknown" for what it lacks.
func versionText(bi *debug.BuildInfo, ok bool) string {
	if !ok || bi == nil {
		return "costbot unknown (no build information)\n"
	}
	v := bi.Main.Version
	if v == "" || v == "(devel)" {
		v = "devel"
	}
	var rev, at, modified string
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			rev = s.Value
		case "vcs.time":
			at = s.Value
		case "vcs.modified":
			modified = s.Value
		}
	}
	var b strings.Builder
	fmt.Fprintf(&b, "costbot %s\n", v)
	if rev == "" {
		rev = "unknown"
	}
	if modified == "true" {
		rev += " (modified)"
	}
	fmt.Fprintf(&b, "  revision: %s\n", rev)
	if at != "" {
		fmt.Fprintf(&b, "  commit time: %s\n", at)
	}
	fmt.Fprintf(&b, "  go: %s\n", bi.GoVersion)
	return b.String()
}

func cmdVersion(stdout io.Writer) int {
	fmt.Fprint(stdout, versionText(debug.ReadBuildInfo()))
	return 0
}
