package config

import (
	"slices"
	"strings"
	"testing"
)

// expandRef is an independent ${VAR} expander: one left-to-right pass,
// names [A-Za-z_][A-Za-z0-9_]*, values never expanded again; it returns
// the names it found unset, in order.
func expandRef(s string, lookup func(string) (string, bool)) (string, []string) {
	var b strings.Builder
	var missing []string
	for i := 0; i < len(s); {
		if strings.HasPrefix(s[i:], "${") {
			j := i + 2
			for j < len(s) && (s[j] == '_' || 'A' <= s[j] && s[j] <= 'Z' || 'a' <= s[j] && s[j] <= 'z' || j > i+2 && '0' <= s[j] && s[j] <= '9') {
				j++
			}
			if j > i+2 && j < len(s) && s[j] == '}' {
				name := s[i+2 : j]
				if v, ok := lookup(name); ok && v != "" {
					b.WriteString(v)
				} else {
					missing = append(missing, name)
				}
				i = j + 1
				continue
			}
		}
		b.WriteByte(s[i])
		i++
	}
	return b.String(), missing
}

// FuzzExpand expands ${VAR} in a secret field with any text and any
// value: the result is what one pass of an independent expander gives,
// values (even ones holding ${...}) are not expanded again, each unset or
// empty variable is listed in MissingEnv by field, and an inline secret
// never makes an error.
func FuzzExpand(f *testing.F) {
	for _, s := range []string{
		"${CLOUDFLARE_API_TOKEN}", "Bearer ${SET_TOKEN}", "${SET_A}${UNSET_B}", "$SET_A", "${}", "${1A}", "${A-B}",
		"${SET_A", "$${SET_A}}", "${SET_${SET_A}}", "plain-token", "", "${_}", "${SET_EMPTY}", "é${SET_Ü}",
	} {
		f.Add(s, "v4lue")
	}
	f.Add("${SET_X}", "${SET_X}") // a value that looks like a reference
	f.Fuzz(func(t *testing.T, s, val string) {
		lookup := func(name string) (string, bool) {
			switch {
			case name == "SET_EMPTY":
				return "", true
			case strings.HasPrefix(name, "SET"):
				return val + "[" + name + "]", true
			}
			return "", false
		}
		c := Default()
		c.Cloudflare.APIToken = Secret(s)
		if es := c.expand(lookup); len(es) > 0 {
			t.Fatalf("inline secret %q: errors %v", s, es)
		}
		want, missing := expandRef(s, lookup)
		if got := c.Cloudflare.APIToken.Value(); got != want {
			t.Fatalf("expand(%q) = %q, want %q", s, got, want)
		}
		var wantMissing []string
		for _, m := range missing {
			wantMissing = append(wantMissing, "cloudflare.api_token ($"+m+")")
		}
		slices.Sort(wantMissing)
		if !slices.Equal(c.MissingEnv, wantMissing) {
			t.Fatalf("expand(%q): MissingEnv %q, want %q", s, c.MissingEnv, wantMissing)
		}
	})
}
