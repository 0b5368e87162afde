package billing

import (
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"
)

// FuzzParseRetryAfter reads any Retry-After value the API could send: the
// wait is never negative, is exactly the delay-seconds up to a day (the
// cap), exactly the distance to an HTTP date built from the fuzzed offset,
// and nonzero only for delay-seconds or an HTTP date.
func FuzzParseRetryAfter(f *testing.F) {
	now := time.Date(2026, 7, 1, 12, 0, 0, 0, time.UTC)
	// testdata/error.429-rate-limited.json comes with "Retry-After: 30".
	for _, s := range []string{"", "30", "0", "-1", " 7 ", "86400", "86401", "99999999999999999999", "1.5", "1e3", "NaN",
		"Wed, 01 Jul 2026 12:01:30 GMT", "Wednesday, 01-Jul-26 12:01:30 GMT", "Wed Jul  1 12:01:30 2026", "Wed, 01 Jul 2026 11:00:00 GMT"} {
		f.Add(s, int64(90))
	}
	f.Fuzz(func(t *testing.T, v string, offset int64) {
		got := parseRetryAfter(v, now)
		if got < 0 {
			t.Fatalf("parseRetryAfter(%q) = %s, negative", v, got)
		}
		tv := strings.TrimSpace(v)
		digits := tv != "" && strings.Trim(tv, "0123456789") == ""
		_, dateErr := http.ParseTime(tv)
		if got > 0 && !digits && dateErr != nil {
			t.Fatalf("parseRetryAfter(%q) = %s for neither delay-seconds nor an HTTP date", v, got)
		}
		if digits {
			want := 24 * time.Hour
			if n, err := strconv.ParseInt(tv, 10, 64); err == nil && n < 86400 {
				want = time.Duration(n) * time.Second
			}
			if got != want {
				t.Fatalf("parseRetryAfter(%q) = %s, want %s", v, got, want)
			}
		}
		d := time.Duration(offset%(7*86400)) * time.Second
		date := now.Add(d).Format(http.TimeFormat)
		if got, want := parseRetryAfter(date, now), max(d, 0); got != want {
			t.Fatalf("parseRetryAfter(%q) = %s, want %s", date, got, want)
		}
	})
}
