package billing

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/costbot/costbot/internal/httpx"
)

// Sentinels for conditions callers branch on; test with errors.Is.
var (
	// ErrUnauthorized: HTTP 401/403 or Cloudflare code 10000 (bad credentials,
	// missing Billing Read, or the account is not in the billing beta).
	ErrUnauthorized = errors.New("unauthorized")
	// ErrRateLimited: HTTP 429 (or code 971); see APIError.RetryAfter.
	ErrRateLimited = errors.New("rate limited")
	// ErrNotFound: HTTP 404 on every candidate path.
	ErrNotFound = errors.New("not found")
)

// Cloudflare error codes the client understands.
const (
	codeAuth      = 10000
	codeRateLimit = 971
)

// APIError is a failed Cloudflare API call: a non-2xx status or a v4
// envelope with success:false. It never contains credentials.
type APIError struct {
	StatusCode int      // HTTP status
	Path       string   // request path below the base URL, without the query
	Codes      []int    // envelope errors[].code
	Messages   []string // envelope errors[].message
	// RetryAfter is the server's requested wait (Retry-After), uncapped; 0 when absent.
	RetryAfter time.Duration
}

// Error describes the call and the envelope's errors.
func (e *APIError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "cloudflare %s: status %d", e.Path, e.StatusCode)
	for i, m := range e.Messages {
		b.WriteString(": ")
		b.WriteString(m)
		if i < len(e.Codes) {
			fmt.Fprintf(&b, " (code %d)", e.Codes[i])
		}
	}
	if len(e.Messages) == 0 && len(e.Codes) > 0 {
		fmt.Fprintf(&b, ": codes %v", e.Codes)
	}
	if e.RetryAfter > 0 {
		fmt.Fprintf(&b, " (retry after %s)", e.RetryAfter)
	}
	return b.String()
}

func (e *APIError) hasCode(c int) bool {
	for _, x := range e.Codes {
		if x == c {
			return true
		}
	}
	return false
}

// Is maps the error onto ErrUnauthorized, ErrRateLimited and ErrNotFound.
func (e *APIError) Is(target error) bool {
	switch target {
	case ErrUnauthorized:
		return e.StatusCode == http.StatusUnauthorized || e.StatusCode == http.StatusForbidden || e.hasCode(codeAuth)
	case ErrRateLimited:
		return e.StatusCode == http.StatusTooManyRequests || e.hasCode(codeRateLimit)
	case ErrNotFound:
		return e.StatusCode == http.StatusNotFound
	}
	return false
}

// Temporary reports whether retrying the same request may succeed: 429 and 5xx.
func (e *APIError) Temporary() bool {
	return e.StatusCode == http.StatusTooManyRequests || e.StatusCode >= 500
}

// DecodeError is a response that could not be turned into usage: malformed
// JSON or a bad field value.
type DecodeError struct {
	Account string // account id
	Path    string // request path
	Row     int    // index in result[]; -1 when the envelope itself is bad
	Field   string // JSON key; "" when the row or envelope is not an object
	Err     error
}

// Error names the account, path, row and field.
func (e *DecodeError) Error() string {
	s := fmt.Sprintf("decode account %q %s", e.Account, e.Path)
	if e.Row >= 0 {
		s += fmt.Sprintf(" row %d", e.Row)
	}
	if e.Field != "" {
		s += fmt.Sprintf(" field %q", e.Field)
	}
	return s + ": " + e.Err.Error()
}

// Unwrap returns the underlying decoding error.
func (e *DecodeError) Unwrap() error { return e.Err }

// envelope is the Cloudflare v4 response wrapper.
type envelope struct {
	Success  *bool             `json:"success"`
	Errors   []json.RawMessage `json:"errors"`
	Messages []json.RawMessage `json:"messages"`
	Result   json.RawMessage   `json:"result"`
}

type apiMessage struct {
	Code    int    `json:"code"`
	Message string `json:"message"`
}

// parseMessage accepts {code, message} objects and bare strings.
func parseMessage(raw json.RawMessage) (apiMessage, bool) {
	var m apiMessage
	if err := json.Unmarshal(raw, &m); err == nil {
		return m, true
	}
	var s string
	if err := json.Unmarshal(raw, &s); err == nil {
		return apiMessage{Message: s}, true
	}
	return apiMessage{}, false
}

// checkResponse is the one place that turns an HTTP response into either the
// envelope's result or an *APIError. secrets are scrubbed from messages in
// case a server echoes a header back.
func checkResponse(status int, header http.Header, body []byte, path string, now time.Time, secrets []string) (json.RawMessage, error) {
	var env envelope
	jsonErr := json.Unmarshal(body, &env)
	ok := status >= 200 && status < 300
	if ok && jsonErr == nil && env.Success != nil && *env.Success {
		return env.Result, nil
	}
	if ok && jsonErr != nil {
		return nil, &DecodeError{Path: path, Row: -1, Err: fmt.Errorf("malformed envelope: %w", jsonErr)}
	}
	if ok && env.Success == nil {
		return nil, &DecodeError{Path: path, Row: -1, Field: "success", Err: errors.New("missing")}
	}
	e := &APIError{StatusCode: status, Path: path}
	for _, raw := range env.Errors {
		if m, ok := parseMessage(raw); ok {
			e.Codes = append(e.Codes, m.Code)
			e.Messages = append(e.Messages, scrub(m.Message, secrets))
		}
	}
	if len(e.Messages) == 0 && !ok {
		e.Messages = []string{strings.ToLower(http.StatusText(status))}
	}
	if e.Is(ErrRateLimited) || status >= 500 {
		e.RetryAfter = parseRetryAfter(header.Get("Retry-After"), now)
	}
	return nil, e
}

func scrub(s string, secrets []string) string {
	for _, sec := range secrets {
		if sec != "" {
			s = strings.ReplaceAll(s, sec, "REDACTED")
		}
	}
	return s
}

// parseRetryAfter is httpx.ParseRetryAfter, the one Retry-After reader.
func parseRetryAfter(v string, now time.Time) time.Duration { return httpx.ParseRetryAfter(v, now) }
