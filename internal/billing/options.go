package billing

import (
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"

	"golang.org/x/time/rate"
)

// DefaultBaseURL is the Cloudflare v4 API root.
const DefaultBaseURL = "https://api.cloudflare.com/client/v4"

// Defaults applied by New for zero Options fields.
const (
	// DefaultMaxRetries is the number of retries after the first attempt.
	DefaultMaxRetries = 4
	// DefaultMaxRetryWait caps any single wait between attempts, including a
	// server-sent Retry-After.
	DefaultMaxRetryWait = 60 * time.Second
	// DefaultTimeout is the per-request timeout of the default HTTP client.
	DefaultTimeout = 30 * time.Second
)

// Cloudflare allows each user 1,200 API requests in any 5 minutes, over all
// of its accounts and every tool that uses the same credentials.
const DefaultRequestsPer5m = 1200

// LimiterFor returns a limiter under which no 5-minute window holds more
// than n requests: a burst of half of them, then the other half spread
// evenly over the 5 minutes. n < 2 allows one request per 5 minutes.
func LimiterFor(n int) *rate.Limiter {
	if n < 2 {
		return rate.NewLimiter(rate.Every(5*time.Minute), 1)
	}
	burst := n / 2
	return rate.NewLimiter(rate.Limit(float64(n-burst)/300), burst)
}

// DefaultLimiter returns LimiterFor(DefaultRequestsPer5m): a burst of 600,
// then 2 requests a second.
func DefaultLimiter() *rate.Limiter { return LimiterFor(DefaultRequestsPer5m) }

// Paths lists candidate URL path templates per endpoint, tried in order. A
// template contains the literal "{account_id}", replaced by the (escaped)
// account id. A 404 on one template means "try the next"; the template that
// answered is remembered for later calls.
type Paths struct {
	Profile   []string // billing profile (card expiry)
	PayGo     []string // PayGo usage v1
	PayGoInfo []string // PayGo info v1 (billing-cycle anchor)
	Focus     []string // usage v2 (FOCUS rows)
}

// DefaultPaths returns the paths Cloudflare has served, newest first.
func DefaultPaths() Paths {
	return Paths{
		Profile: []string{"/accounts/{account_id}/billing/profile"},
		PayGo: []string{
			"/accounts/{account_id}/billable-usage",
			"/accounts/{account_id}/paygo-usage",
			"/accounts/{account_id}/billing/usage/paygo",
		},
		PayGoInfo: []string{
			"/accounts/{account_id}/billable-usage/info",
			"/accounts/{account_id}/paygo-usage-info",
		},
		Focus: []string{"/accounts/{account_id}/billable/usage"},
	}
}

// DefaultOptions returns Options with every default filled in except the
// credentials, the clock and the logger.
func DefaultOptions() Options {
	return Options{
		BaseURL:      DefaultBaseURL,
		Paths:        DefaultPaths(),
		MaxRetries:   DefaultMaxRetries,
		MaxRetryWait: DefaultMaxRetryWait,
	}
}

// withDefaults fills empty lists from DefaultPaths.
func (p Paths) withDefaults() Paths {
	d := DefaultPaths()
	if len(p.Profile) == 0 {
		p.Profile = d.Profile
	}
	if len(p.PayGo) == 0 {
		p.PayGo = d.PayGo
	}
	if len(p.PayGoInfo) == 0 {
		p.PayGoInfo = d.PayGoInfo
	}
	if len(p.Focus) == 0 {
		p.Focus = d.Focus
	}
	return p
}

func (p Paths) validate() error {
	var errs []error
	check := func(name string, ts []string) {
		for i, t := range ts {
			if !strings.HasPrefix(t, "/") || !strings.Contains(t, "{account_id}") {
				errs = append(errs, fmt.Errorf("paths.%s[%d]: %q must start with / and contain {account_id}", name, i, t))
			}
		}
	}
	check("profile", p.Profile)
	check("paygo", p.PayGo)
	check("paygo_info", p.PayGoInfo)
	check("focus", p.Focus)
	return errors.Join(errs...)
}

// Options configures a Client. Exactly one auth scheme must be set: APIToken,
// or APIEmail together with APIKey. Zero values take the documented defaults.
type Options struct {
	// BaseURL is the API root; "" means DefaultBaseURL.
	BaseURL string
	// HTTPClient sends requests; nil means a client with DefaultTimeout.
	// New uses a copy whose redirect policy is httpx.CheckRedirect: a
	// redirect to another scheme, host or port fails the request, so the
	// credentials never leave the API's origin.
	HTTPClient *http.Client
	// APIToken is sent as "Authorization: Bearer"; a secret.
	APIToken string
	// APIEmail and APIKey are the legacy global key scheme (X-Auth-Email,
	// X-Auth-Key); APIKey is a secret.
	APIEmail string
	APIKey   string
	// Paths are the endpoint templates; empty lists take DefaultPaths.
	Paths Paths
	// MaxRetries is the number of retries after the first attempt for
	// transport errors, 429 and 5xx; 0 means DefaultMaxRetries, negative
	// disables retries.
	MaxRetries int
	// MaxRetryWait caps any single wait, Retry-After included; 0 means
	// DefaultMaxRetryWait.
	MaxRetryWait time.Duration
	// Limiter paces every request the client sends, for every account and
	// endpoint, retries included; nil means DefaultLimiter(). Share one
	// between clients that use the same credentials.
	Limiter *rate.Limiter
	// Now is the clock used for Snapshot.FetchedAt; nil means time.Now.
	Now func() time.Time
	// Logger receives retry warnings; nil discards.
	Logger *slog.Logger
}

// Validate checks the options without applying defaults. Messages never
// contain secrets.
func (o Options) Validate() error {
	var errs []error
	hasToken := o.APIToken != ""
	hasKey := o.APIEmail != "" || o.APIKey != ""
	switch {
	case hasToken && hasKey:
		errs = append(errs, errors.New("auth: set either api_token or api_email+api_key, not both"))
	case !hasToken && !hasKey:
		errs = append(errs, errors.New("auth: api_token or api_email+api_key is required"))
	case hasKey && (o.APIEmail == "" || o.APIKey == ""):
		errs = append(errs, errors.New("auth: api_email and api_key must be set together"))
	}
	if o.BaseURL != "" && !strings.HasPrefix(o.BaseURL, "http://") && !strings.HasPrefix(o.BaseURL, "https://") {
		errs = append(errs, fmt.Errorf("base_url: %q must be an http(s) URL", redactURL(o.BaseURL)))
	}
	if o.MaxRetryWait < 0 {
		errs = append(errs, fmt.Errorf("max_retry_wait: %s must not be negative", o.MaxRetryWait))
	}
	if err := o.Paths.validate(); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

// redactURL hides a password in a base URL ("https://u:pw@host" prints as
// "https://u:xxxxx@host").
func redactURL(s string) string {
	if u, err := url.Parse(s); err == nil {
		return u.Redacted()
	}
	if i := strings.LastIndexByte(s, '@'); i >= 0 {
		return "REDACTED" + s[i:]
	}
	return s
}

func redact(s string) string {
	if s == "" {
		return ""
	}
	return "REDACTED"
}

// String describes the options with secrets redacted.
func (o Options) String() string {
	return fmt.Sprintf("billing.Options{BaseURL:%q APIToken:%q APIEmail:%q APIKey:%q MaxRetries:%d MaxRetryWait:%s}",
		redactURL(o.BaseURL), redact(o.APIToken), o.APIEmail, redact(o.APIKey), o.MaxRetries, o.MaxRetryWait)
}

// GoString is String, so %#v does not print secrets either.
func (o Options) GoString() string { return o.String() }

// LogValue logs the options with secrets redacted.
func (o Options) LogValue() slog.Value {
	return slog.GroupValue(
		slog.String("base_url", redactURL(o.BaseURL)),
		slog.String("api_token", redact(o.APIToken)),
		slog.String("api_email", o.APIEmail),
		slog.String("api_key", redact(o.APIKey)),
		slog.Int("max_retries", o.MaxRetries),
		slog.Duration("max_retry_wait", o.MaxRetryWait),
	)
}

// Source selects which usage API a Client reads.
type Source int

const (
	// SourcePayGo is the PayGo usage v1 API ("paygo").
	SourcePayGo Source = iota + 1
	// SourceFocus is the usage v2 FOCUS API ("focus").
	SourceFocus
)

// String returns "paygo" or "focus".
func (s Source) String() string {
	switch s {
	case SourcePayGo:
		return "paygo"
	case SourceFocus:
		return "focus"
	}
	return fmt.Sprintf("source(%d)", int(s))
}

// ParseSource is the inverse of Source.String.
func ParseSource(s string) (Source, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "paygo":
		return SourcePayGo, nil
	case "focus":
		return SourceFocus, nil
	}
	return 0, fmt.Errorf("unknown billing source %q (want paygo or focus)", s)
}

// MarshalText implements encoding.TextMarshaler.
func (s Source) MarshalText() ([]byte, error) {
	if s != SourcePayGo && s != SourceFocus {
		return nil, fmt.Errorf("invalid billing source %d", int(s))
	}
	return []byte(s.String()), nil
}

// UnmarshalText implements encoding.TextUnmarshaler.
func (s *Source) UnmarshalText(b []byte) error {
	v, err := ParseSource(string(b))
	if err != nil {
		return err
	}
	*s = v
	return nil
}
