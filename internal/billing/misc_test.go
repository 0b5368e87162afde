package billing_test

import (
	"net/http"
	"strings"
	"testing"
)

type recorder struct {
	calls *[]string
}

func (r recorder) RoundTrip(req *http.Request) (*http.Response, error) {
	*r.calls = append(*r.calls, req.URL.RawQuery)
	return http.DefaultTransport.RoundTrip(req)
}

func recordTransport(calls *[]string) http.RoundTripper { return recorder{calls: calls} }

func parseRange(tb testing.TB, rawQuery string) (from, to string) {
	tb.Helper()
	for _, kv := range strings.Split(rawQuery, "&") {
		k, v, _ := strings.Cut(kv, "=")
		switch k {
		case "from":
			from = v
		case "to":
			to = v
		}
	}
	if from == "" || to == "" {
		tb.Fatalf("query %q lacks from/to", rawQuery)
	}
	return from, to
}
