// Package notify delivers costbot alerts. It defines the Notifier interface
// that every channel adapter (notify/slack, notify/webhook, notify/console)
// implements, classifies send failures as retryable or permanent, and fans
// alerts out to several notifiers with a Dispatcher so that one broken or slow
// channel never blocks or silences the others.
package notify

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/costbot/costbot/internal/cost"
	"github.com/costbot/costbot/internal/httpx"
)

// Notifier sends alerts to one channel (a Slack channel, a webhook endpoint,
// a terminal).
type Notifier interface {
	// Name is the notifier's configured name, unique within a Dispatcher;
	// rules refer to notifiers by it.
	Name() string
	// Notify sends one alert. The returned ref identifies the posted message
	// and is nil when the channel has no message id (webhooks, console).
	// Failures that may succeed when retried satisfy IsRetryable.
	Notify(ctx context.Context, a cost.Alert) (*cost.MessageRef, error)
}

// ErrUnknownNotifier is returned for a job naming a notifier the Dispatcher
// does not know.
var ErrUnknownNotifier = errors.New("unknown notifier")

// SendError is a failed delivery with what a retry policy needs to know. The
// adapters return it (wrapped or not) for every failure they classify.
type SendError struct {
	// StatusCode is the HTTP status of the response, 0 when there was none
	// (transport error, or an API-level error carried in a 200 response).
	StatusCode int
	// Code is the receiver's machine-readable error, e.g. Slack's
	// "channel_not_found"; "" when none.
	Code string
	// Retryable says whether sending the same alert again may succeed.
	Retryable bool
	// RetryAfter is the wait the receiver asked for (Retry-After); 0 when it
	// gave none.
	RetryAfter time.Duration
	// Gone says the receiver no longer exists (HTTP 410 Gone): the
	// Dispatcher disables the notifier. A Gone error is never Retryable.
	Gone bool
	// Err is the underlying error; it must not contain secrets.
	Err error
}

// Error describes the failure without secrets: status, code and cause.
func (e *SendError) Error() string {
	var b strings.Builder
	b.WriteString("send failed")
	if e.StatusCode != 0 {
		fmt.Fprintf(&b, ": http %d", e.StatusCode)
	}
	if e.Code != "" {
		fmt.Fprintf(&b, ": %s", e.Code)
	}
	if e.RetryAfter > 0 {
		fmt.Fprintf(&b, " (retry after %s)", e.RetryAfter)
	}
	if e.Err != nil {
		fmt.Fprintf(&b, ": %v", e.Err)
	}
	return b.String()
}

// Unwrap returns the underlying error.
func (e *SendError) Unwrap() error { return e.Err }

// StatusError classifies an HTTP response status the way every costbot
// notifier does (alertmanager's Retrier): 5xx is retryable, 429 is retryable
// and carries retryAfter, every other status is permanent, and 410 is also
// Gone. err, which may be nil, adds detail such as a response snippet.
func StatusError(status int, retryAfter time.Duration, err error) *SendError {
	e := &SendError{StatusCode: status, Err: err}
	switch {
	case status >= 500:
		e.Retryable = true
		e.RetryAfter = retryAfter
	case status == http.StatusTooManyRequests:
		e.Retryable = true
		e.RetryAfter = retryAfter
	case status == http.StatusGone:
		e.Gone = true
	}
	return e
}

// Temporary wraps err, typically a transport error such as a refused
// connection or a reset, as a retryable SendError. Context errors stay
// non-retryable: IsRetryable checks them first.
func Temporary(err error) *SendError {
	return &SendError{Retryable: true, Err: err}
}

// Permanent wraps err as a SendError that must not be retried.
func Permanent(err error) *SendError {
	return &SendError{Err: err}
}

// IsRetryable reports whether sending again may succeed. Context cancellation
// and deadline errors are never retryable; otherwise err must carry a
// *SendError marked Retryable.
func IsRetryable(err error) bool {
	if err == nil || errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return false
	}
	if se, ok := errors.AsType[*SendError](err); ok {
		return se.Retryable
	}
	return false
}

// IsGone reports whether err carries a *SendError marked Gone: the receiver
// said it no longer exists and the notifier should be disabled.
func IsGone(err error) bool {
	se, ok := errors.AsType[*SendError](err)
	return ok && se.Gone
}

// RetryAfter returns the wait the receiver asked for before a retry, or 0
// when err carries none.
func RetryAfter(err error) time.Duration {
	if se, ok := errors.AsType[*SendError](err); ok && se.RetryAfter > 0 {
		return se.RetryAfter
	}
	return 0
}

// ParseRetryAfter reads a Retry-After header value as of now
// (httpx.ParseRetryAfter, shared with the billing client).
func ParseRetryAfter(v string, now time.Time) time.Duration { return httpx.ParseRetryAfter(v, now) }
