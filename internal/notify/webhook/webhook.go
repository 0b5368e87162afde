// Package webhook is a notifier that POSTs alerts as Alertmanager-compatible
// (version "4") JSON, signed per the Standard Webhooks specification, so that
// existing Alertmanager receivers and any Standard Webhooks verifier can
// consume costbot alerts.
package webhook

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/costbot/costbot/internal/cost"
	"github.com/costbot/costbot/internal/httpx"
	"github.com/costbot/costbot/internal/notify"
	"github.com/costbot/costbot/internal/notify/webhook/endpoint"
)

// ErrGone is returned (inside a permanent *notify.SendError marked Gone)
// when the endpoint answers 410 Gone: the Dispatcher stops sending to it.
var ErrGone = errors.New("endpoint gone (410)")

// DefaultTimeout bounds one request when Options.HTTPClient is nil.
const DefaultTimeout = 20 * time.Second

// Options configures a webhook Notifier.
type Options struct {
	// Name is the notifier name; it is also the Alertmanager "receiver".
	Name string
	// URL is the endpoint (http or https). Its userinfo, path and query may
	// hold tokens: they never appear in errors or String().
	URL string
	// Secret is the Standard Webhooks signing secret "whsec_<base64>"; the
	// decoded key must be 24–64 bytes (endpoint.DecodeSecret). Empty sends
	// unsigned requests.
	Secret string
	// HTTPClient sends the requests; default: a client with DefaultTimeout.
	HTTPClient *http.Client
	// Now is the send clock: the wall-clock instant each request goes out,
	// which becomes webhook-timestamp (and so enters the signature), dates
	// Retry-After and stands in for a resolved alert's missing EndsAt.
	// Receivers reject timestamps more than a few minutes from their own
	// clock, so this must never be an evaluation clock such as
	// `costbot once --now`. Default time.Now; tests may fix it.
	Now func() time.Time
	// ExternalURL is costbot's own URL as its readers reach it (config
	// http.external_url), sent as externalURL and, with "/alerts/" and the
	// fingerprint appended, as each alert's generatorURL. "" sends both empty.
	ExternalURL string
	// Digest routes the daily digest to this endpoint. When false (the
	// default) Notify accepts a digest without sending anything: Alertmanager
	// receivers expect alerts, and a digest "firing" every day is not one.
	Digest bool
}

// maxRejected bounds how many permanently rejected deliveries a Notifier
// remembers (see Notify).
const maxRejected = 1024

// Notifier posts alerts to one webhook endpoint. It is safe for concurrent use.
type Notifier struct {
	name        string
	url         string
	redacted    string
	key         []byte
	client      *http.Client
	now         func() time.Time
	externalURL string
	digest      bool

	mu       sync.Mutex
	rejected map[string]error // webhook-id -> permanent failure
	order    []string         // rejected keys, oldest first
}

var _ notify.Notifier = (*Notifier)(nil)

// New validates opts and returns a Notifier. Errors never contain the URL's
// secrets or the signing secret.
func New(opts Options) (*Notifier, error) {
	if opts.Name == "" {
		return nil, errors.New("webhook: empty name")
	}
	u, err := endpoint.ParseURL(opts.URL)
	if err != nil {
		return nil, fmt.Errorf("webhook %q: url: %w", opts.Name, err)
	}
	n := &Notifier{
		name:        opts.Name,
		url:         opts.URL,
		redacted:    RedactURL(u),
		now:         opts.Now,
		externalURL: opts.ExternalURL,
		digest:      opts.Digest,
		rejected:    map[string]error{},
	}
	if opts.Secret != "" {
		if n.key, err = endpoint.DecodeSecret(opts.Secret); err != nil {
			return nil, fmt.Errorf("webhook %q: secret: %w", opts.Name, err)
		}
	}
	// A copy, so that the caller's client (shared with other integrations)
	// keeps its own redirect policy; httpx.Secure copies again and adds the
	// origin rule in front of keepPost.
	c := http.Client{Timeout: DefaultTimeout}
	if opts.HTTPClient != nil {
		c = *opts.HTTPClient
	}
	c.CheckRedirect = keepPost
	n.client = httpx.Secure(&c, DefaultTimeout)
	if n.now == nil {
		n.now = time.Now
	}
	return n, nil
}

// RedactURL renders u for logs and errors: scheme and host only, with
// "REDACTED" standing for any userinfo, path and query, which commonly carry
// tokens (e.g. https://hooks.example.com/services/T0/B0/secret).
func RedactURL(u *url.URL) string {
	if u == nil {
		return ""
	}
	var b strings.Builder
	b.WriteString(u.Scheme + "://")
	if u.User != nil {
		b.WriteString("REDACTED@")
	}
	b.WriteString(u.Host)
	if p := strings.Trim(u.EscapedPath(), "/"); p != "" {
		b.WriteString("/REDACTED")
	}
	if u.RawQuery != "" {
		b.WriteString("?REDACTED")
	}
	return b.String()
}

// Name returns the notifier name.
func (n *Notifier) Name() string { return n.name }

// String describes the notifier without secrets.
func (n *Notifier) String() string { return "webhook " + strconv.Quote(n.name) + " " + n.redacted }

// Notify posts a. Success is any 2xx. 410 is a permanent failure wrapping
// ErrGone that tells the Dispatcher to disable this notifier; 5xx and 429
// (with Retry-After) are retryable; every other status, 3xx included, is
// permanent. A delivery (one webhook-id, see MessageID) that was refused
// permanently is not posted again: later calls for it return the same error
// at once, so an endpoint that rejects an alert with 400, 404 or 422 is not
// sent it again every cycle. Reminders, resolutions and new episodes are new
// deliveries and are posted.
//
// Redirects are followed only to the same scheme, host and port (package
// httpx, at most httpx.MaxRedirects) and only as 307 or 308, which re-post
// the signed body; the Referer header, which would carry the URL and its
// tokens, is never sent. Any other redirect ends the request with a
// permanent failure wrapping ErrRedirect and nothing reaches its target.
//
// A digest (cost.KindDigest) is sent only with Options.Digest; otherwise
// Notify returns nil at once. There is no message id, so the ref is nil.
func (n *Notifier) Notify(ctx context.Context, a cost.Alert) (*cost.MessageRef, error) {
	if a.Kind == cost.KindDigest && !n.digest {
		return nil, nil
	}
	id := MessageID(a)
	if err := n.rejectedErr(id); err != nil {
		return nil, err
	}
	_, err := n.post(ctx, id, a)
	if err != nil && ctx.Err() == nil && !notify.IsRetryable(err) && !notify.IsGone(err) {
		n.reject(id, err)
	}
	return nil, err
}

func (n *Notifier) post(ctx context.Context, id string, a cost.Alert) (*cost.MessageRef, error) {
	body, err := json.Marshal(n.Payload(a))
	if err != nil {
		return nil, notify.Permanent(fmt.Errorf("encode alert %s: %w", a.Fingerprint, err))
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, n.url, bytes.NewReader(body))
	if err != nil {
		return nil, notify.Permanent(fmt.Errorf("build request to %s", n.redacted))
	}
	ts := strconv.FormatInt(n.now().Unix(), 10)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "costbot")
	req.Header.Set("webhook-id", id)
	req.Header.Set("webhook-timestamp", ts)
	if n.key != nil {
		req.Header.Set("webhook-signature", Sign(n.key, id, ts, body))
	}
	resp, err := n.client.Do(req)
	if err != nil {
		if ue, ok := errors.AsType[*url.Error](err); ok {
			ue.URL = n.redacted // *url.Error quotes the full URL
		}
		if ctx.Err() != nil {
			return nil, fmt.Errorf("post to %s: %w", n.redacted, err)
		}
		if errors.Is(err, ErrRedirect) {
			return nil, notify.Permanent(fmt.Errorf("post to %s: %w", n.redacted, err))
		}
		return nil, notify.Temporary(fmt.Errorf("post to %s: %w", n.redacted, err))
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10)) // allow connection reuse
	switch {
	case resp.StatusCode >= 200 && resp.StatusCode < 300:
		return nil, nil
	case resp.StatusCode == http.StatusGone:
		return nil, notify.StatusError(resp.StatusCode, 0, fmt.Errorf("post to %s: %w", n.redacted, ErrGone))
	case resp.StatusCode >= 300 && resp.StatusCode < 400:
		// Not followed (see keepPost); Location is not quoted: it may carry
		// tokens too.
		return nil, notify.StatusError(resp.StatusCode, 0, fmt.Errorf("post to %s: %w", n.redacted, ErrRedirect))
	default:
		wait := notify.ParseRetryAfter(resp.Header.Get("Retry-After"), n.now())
		return nil, notify.StatusError(resp.StatusCode, wait, fmt.Errorf("post to %s", n.redacted))
	}
}

// ErrRedirect is returned (inside a permanent *notify.SendError) when the
// endpoint redirects anywhere but its own origin, or answers a redirect that
// would not re-post the body (301, 302, 303); the redirect is not followed.
// It is httpx.ErrRedirect, the sentinel of every costbot client.
var ErrRedirect = httpx.ErrRedirect

// keepPost runs after httpx.CheckRedirect, which has kept the request on its
// origin and dropped the Referer: it follows only redirects that re-post the
// same signed body (307, 308). 301, 302 and 303 would turn the POST into a
// bodiless GET that a 200 answers as if the alert had arrived; their 3xx
// response is returned instead, and Notify reports it.
func keepPost(req *http.Request, via []*http.Request) error {
	if req.Response == nil || req.Method != via[0].Method ||
		(req.Response.StatusCode != http.StatusTemporaryRedirect && req.Response.StatusCode != http.StatusPermanentRedirect) {
		return http.ErrUseLastResponse
	}
	return nil
}

// rejectedErr returns the permanent failure that delivery id met earlier, or
// nil when it has none.
func (n *Notifier) rejectedErr(id string) error {
	n.mu.Lock()
	err := n.rejected[id]
	n.mu.Unlock()
	if err == nil {
		return nil
	}
	return fmt.Errorf("delivery %s refused earlier, not sent again: %w", id, err)
}

func (n *Notifier) reject(id string, err error) {
	n.mu.Lock()
	defer n.mu.Unlock()
	if _, ok := n.rejected[id]; ok {
		return
	}
	if len(n.order) >= maxRejected {
		delete(n.rejected, n.order[0])
		n.order = n.order[1:]
	}
	n.rejected[id] = err
	n.order = append(n.order, id)
}

// MessageID is the Standard Webhooks webhook-id for a: "msg_" and 24 hex
// digits of a SHA-256 over what makes one delivery: the alert episode
// (Fingerprint, StartsAt), the Status and, on a repeat reminder, the earlier
// send it follows (LastSentAt). So every retry of a delivery, in the same
// dispatch or a later cycle (reason "retry"), shares the id and receivers can
// de-duplicate, while each reminder, the resolution and a new episode get
// ids of their own. Reason is left out so that a retry keeps the id of the
// send it retries. The id is a pure function of a: the same on every run.
// A zero LastSentAt adds nothing to the hash, so first sends and
// resolutions keep the ids earlier versions gave them.
func MessageID(a cost.Alert) string {
	s := a.Fingerprint + "\x00" + a.Status.String() + "\x00" + a.StartsAt.UTC().Format(time.RFC3339Nano)
	if !a.LastSentAt.IsZero() {
		s += "\x00" + a.LastSentAt.UTC().Format(time.RFC3339Nano)
	}
	h := sha256.Sum256([]byte(s))
	return "msg_" + hex.EncodeToString(h[:12])
}

// Sign returns the webhook-signature header value
// "v1,<base64(HMAC-SHA256(key, id.timestamp.body))>".
func Sign(key []byte, id, timestamp string, body []byte) string {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(id))
	m.Write([]byte{'.'})
	m.Write([]byte(timestamp))
	m.Write([]byte{'.'})
	m.Write(body)
	return "v1," + base64.StdEncoding.EncodeToString(m.Sum(nil))
}
