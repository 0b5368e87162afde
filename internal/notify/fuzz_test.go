package notify_test

import (
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/costbot/costbot/internal/notify"
)

// FuzzParseRetryAfter reads any Retry-After value: the wait is never
// negative nor over a day for delay-seconds, is exactly the digits' seconds
// up to that day, is exactly the distance to an HTTP date built from the
// fuzzed offset, and is nonzero only for delay-seconds or an HTTP date.
func FuzzParseRetryAfter(f *testing.F) {
	now := time.Date(2026, 7, 1, 12, 0, 0, 0, time.UTC)
	// Values receivers send (Slack and Alertmanager-style receivers send
	// delay-seconds; proxies send HTTP dates), and ones that broke it.
	for _, s := range []string{"", "3", "0", "-1", "120", " 30 ", "1.5", "junk", "86400", "86401", "9999999999999",
		"1e300", "NaN", "Inf", "0x1p4", "+5", "Wed, 01 Jul 2026 12:01:30 GMT", "Wednesday, 01-Jul-26 12:01:30 GMT", "Wed Jul  1 12:01:30 2026"} {
		f.Add(s, int64(90))
	}
	f.Fuzz(func(t *testing.T, v string, offset int64) {
		got := notify.ParseRetryAfter(v, now)
		if got < 0 {
			t.Fatalf("ParseRetryAfter(%q) = %s, negative", v, got)
		}
		tv := strings.TrimSpace(v)
		_, dateErr := http.ParseTime(tv)
		digits := tv != "" && strings.Trim(tv, "0123456789") == ""
		if got > 0 && !digits && dateErr != nil && strings.Trim(tv, "0123456789.") != "" {
			t.Fatalf("ParseRetryAfter(%q) = %s for neither delay-seconds nor an HTTP date", v, got)
		}
		if digits {
			want := 24 * time.Hour
			if n, err := strconv.ParseInt(tv, 10, 64); err == nil && n < 86400 {
				want = time.Duration(n) * time.Second
			}
			if got != want {
				t.Fatalf("ParseRetryAfter(%q) = %s, want %s", v, got, want)
			}
		}
		// An HTTP date offset seconds from now.
		d := time.Duration(offset%(7*86400)) * time.Second
		date := now.Add(d).Format(http.TimeFormat)
		want := max(d, 0)
		if got := notify.ParseRetryAfter(date, now); got != want {
			t.Fatalf("ParseRetryAfter(%q) = %s, want %s", date, got, want)
		}
	})
}
