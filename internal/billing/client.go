// Package billing reads Cloudflare billing data (billing profile, PayGo usage
// v1 and usage v2 FOCUS rows) and normalizes it into cost types. Raw API rows
// never leave this package.
//
// Wire facts the client relies on (see API-NOTES.md): every response is a v4
// envelope and success:false is a failure even on HTTP 200; v1 usage rows are
// PascalCase, have no BillingPeriodEnd, and a v1 range that does not contain
// the billing-cycle anchor day yields an empty result; v2 accepts at most 31
// days per call and may omit cost fields (unknown, never zero). Endpoint
// paths have moved, so each endpoint has a fallback list and a 404 means "try
// the next path". Usage bodies are decoded in one pass as they arrive
// (stream.go), up to MaxUsageBody; other responses are read whole, up to 64
// MiB.
package billing

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/cenkalti/backoff/v5"
	"golang.org/x/time/rate"

	"github.com/costbot/costbot/internal/cost"
	"github.com/costbot/costbot/internal/httpx"
)

// maxBody bounds how much of a response is read into memory: every
// response but a 2xx usage body, which is decoded as it arrives (see
// MaxUsageBody).
const maxBody = 64 << 20

// focusChunk is the span of one v2 request. The API allows 31 days but does
// not document whether "to" is inclusive; 30 days is safe either way.
const focusChunk = 30 * 24 * time.Hour

type endpoint int

const (
	epProfile endpoint = iota
	epPayGo
	epPayGoInfo
	epFocus
	numEndpoints
)

// Client reads billing data for Cloudflare accounts. It is safe for
// concurrent use.
type Client struct {
	base       string
	hc         *http.Client
	token      string
	email      string
	key        string
	paths      [numEndpoints][]string
	maxRetries int
	maxWait    time.Duration
	limit      *rate.Limiter
	now        func() time.Time
	log        *slog.Logger
	err        error // invalid options; returned by every call

	mu      sync.Mutex
	working [numEndpoints]int // index of the path template that last answered
}

// New returns a Client. Invalid options (see Options.Validate) do not panic:
// every call on the client returns the validation error.
func New(o Options) *Client {
	c := &Client{
		base:       strings.TrimRight(o.BaseURL, "/"),
		hc:         o.HTTPClient,
		token:      o.APIToken,
		email:      o.APIEmail,
		key:        o.APIKey,
		maxRetries: o.MaxRetries,
		maxWait:    o.MaxRetryWait,
		limit:      o.Limiter,
		now:        o.Now,
		log:        o.Logger,
	}
	if err := o.Validate(); err != nil {
		c.err = fmt.Errorf("invalid billing options: %w", err)
	}
	if c.base == "" {
		c.base = DefaultBaseURL
	}
	// Credentials are headers on every request: a redirect to another
	// origin must never carry them (see package httpx).
	c.hc = httpx.Secure(c.hc, DefaultTimeout)
	switch {
	case c.maxRetries == 0:
		c.maxRetries = DefaultMaxRetries
	case c.maxRetries < 0:
		c.maxRetries = 0
	}
	if c.maxWait <= 0 {
		c.maxWait = DefaultMaxRetryWait
	}
	if c.limit == nil {
		c.limit = DefaultLimiter()
	}
	if c.now == nil {
		c.now = time.Now
	}
	if c.log == nil {
		c.log = slog.New(slog.DiscardHandler)
	}
	p := o.Paths.withDefaults()
	c.paths[epProfile] = slices.Clone(p.Profile)
	c.paths[epPayGo] = slices.Clone(p.PayGo)
	c.paths[epPayGoInfo] = slices.Clone(p.PayGoInfo)
	c.paths[epFocus] = slices.Clone(p.Focus)
	return c
}

func (c *Client) authName() string {
	if c.token != "" {
		return "api_token"
	}
	return "api_key"
}

// String describes the client without secrets.
func (c *Client) String() string {
	return fmt.Sprintf("billing.Client{base_url=%s auth=%s}", redactURL(c.base), c.authName())
}

// LogValue logs the client without secrets.
func (c *Client) LogValue() slog.Value {
	return slog.GroupValue(slog.String("base_url", redactURL(c.base)), slog.String("auth", c.authName()))
}

// Usage returns the normalized usage rows of acct whose charge day lies in
// days (a half-open UTC range, widened to whole days), read from source,
// sorted by day, service and zone. PayGo rows get BillingPeriod from the
// billing-cycle anchor; FOCUS rows carry their own and leave it zero when the
// API omits it. Rows repeated across requests are returned once.
func (c *Client) Usage(ctx context.Context, acct cost.Account, source Source, days cost.Period) ([]cost.Usage, error) {
	days, err := c.usageDays(acct, days, "fetch usage")
	if err != nil {
		return nil, err
	}
	var out []cost.Usage
	switch source {
	case SourcePayGo:
		out, err = c.payGo(ctx, acct, days)
	case SourceFocus:
		out, err = c.focus(ctx, acct, days)
	default:
		return nil, fmt.Errorf("fetch usage: invalid source %s", source)
	}
	if err != nil {
		return nil, fmt.Errorf("fetch %s usage for account %q %s: %w", source, acct.ID, days, err)
	}
	// Answers usually come in this order already: checking costs one
	// comparison a row, a stable sort of a sorted million rows twenty.
	if !slices.IsSortedFunc(out, usageOrder) {
		slices.SortStableFunc(out, usageOrder)
	}
	return out, nil
}

// usageDays checks what Usage and Windows are asked for: a usable client,
// an account id, and days widened to whole UTC days.
func (c *Client) usageDays(acct cost.Account, days cost.Period, what string) (cost.Period, error) {
	if c.err != nil {
		return cost.Period{}, c.err
	}
	days, err := wholeDays(days)
	if err != nil {
		return cost.Period{}, err
	}
	if acct.ID == "" {
		return cost.Period{}, fmt.Errorf("%s: empty account id", what)
	}
	return days, nil
}

// usageOrder is the order of Usage's rows: by day, service and zone.
func usageOrder(a, b cost.Usage) int {
	if d := a.Day.Compare(b.Day); d != 0 {
		return d
	}
	if d := strings.Compare(a.Service, b.Service); d != 0 {
		return d
	}
	return strings.Compare(a.Zone, b.Zone)
}

func wholeDays(p cost.Period) (cost.Period, error) {
	start := cost.Day(p.Start)
	end := cost.Day(p.End)
	if end.Before(p.End.UTC()) {
		end = end.AddDate(0, 0, 1)
	}
	if !start.Before(end) {
		return p, fmt.Errorf("fetch usage: empty period %s", p)
	}
	return cost.Period{Start: start, End: end}, nil
}

// dedup drops rows already returned by an earlier request; rows from one
// response are never merged. The rows of the last request are looked up
// but not remembered, as no request follows to repeat them: a call of one
// request (a refresh within one billing period, a backfill window) builds
// no key at all.
type dedup struct {
	seen map[string]int
}

func (d *dedup) keep(r *row, request int, last bool) bool {
	if last {
		if d.seen == nil {
			return true
		}
		_, ok := d.seen[r.key()] // an earlier request's: this one's are not kept
		return !ok
	}
	if d.seen == nil {
		d.seen = map[string]int{}
	}
	k := r.key()
	if first, ok := d.seen[k]; ok && first != request {
		return false
	}
	d.seen[k] = request
	return true
}

const dateLayout = "2006-01-02"

// Windows splits days (widened to whole days, as Usage does) into the spans
// the client requests one at a time, in order: for PayGo acct's billing
// periods (a v1 request asks for a whole period, from its first day), for
// FOCUS chunks of 30 days. Usage over one window then sends one usage
// request, so a long range fetched a window at a time (a first backfill,
// with progress between windows) reads and decodes each row once, as one
// Usage over days does, where fixed windows astride two billing periods
// would ask for each period twice.
func (c *Client) Windows(ctx context.Context, acct cost.Account, source Source, days cost.Period) ([]cost.Period, error) {
	days, err := c.usageDays(acct, days, "fetch usage windows")
	if err != nil {
		return nil, err
	}
	var out []cost.Period
	switch source {
	case SourcePayGo:
		anchorDay, err := c.anchorDay(ctx, acct)
		if err != nil {
			return nil, fmt.Errorf("fetch %s usage windows for account %q %s: %w", source, acct.ID, days, err)
		}
		for p := billingPeriod(days.Start, anchorDay); p.Start.Before(days.End); p = billingPeriod(p.End, anchorDay) {
			w := p
			if w.Start.Before(days.Start) {
				w.Start = days.Start
			}
			if days.End.Before(w.End) {
				w.End = days.End
			}
			out = append(out, w)
		}
	case SourceFocus:
		for from := days.Start; from.Before(days.End); {
			to := from.Add(focusChunk)
			if days.End.Before(to) {
				to = days.End
			}
			out = append(out, cost.Period{Start: from, End: to})
			from = to
		}
	default:
		return nil, fmt.Errorf("fetch usage windows: invalid source %s", source)
	}
	return out, nil
}

// anchorDay reads acct's billing-cycle anchor: the UTC day of the month
// its billing periods start.
func (c *Client) anchorDay(ctx context.Context, acct cost.Account) (int, error) {
	res, path, err := c.get(ctx, epPayGoInfo, acct.ID, nil, 0, cost.Period{})
	if err != nil {
		return 0, fmt.Errorf("read billing-cycle anchor: %w", err)
	}
	anchor, err := decodeAnchor(res.raw)
	if err != nil {
		return 0, annotate(err, acct.ID, path)
	}
	return anchor.UTC().Day(), nil
}

func (c *Client) payGo(ctx context.Context, acct cost.Account, days cost.Period) ([]cost.Usage, error) {
	anchorDay, err := c.anchorDay(ctx, acct)
	if err != nil {
		return nil, err
	}
	var (
		out []cost.Usage
		dd  dedup
	)
	// v1 returns nothing unless the range contains the anchor day, so ask
	// for whole billing periods (from = period start) and filter to days.
	req := 0
	for p := billingPeriod(days.Start, anchorDay); p.Start.Before(days.End); p = billingPeriod(p.End, anchorDay) {
		end := p.End
		if days.End.Before(end) {
			end = days.End
		}
		last := !end.Before(days.End) // the last request of the call
		q := url.Values{}
		q.Set("from", p.Start.Format(dateLayout))
		q.Set("to", end.AddDate(0, 0, -1).Format(dateLayout)) // v1 "to" is inclusive
		res, path, err := c.get(ctx, epPayGo, acct.ID, q, schemaV1, days)
		if err != nil {
			return nil, err
		}
		out = slices.Grow(out, res.len())
		// Rows come day by day, mostly of one billing period: its
		// bounds are computed once per run of equal days and starts.
		var lastDay, lastStart, lastPeriodStart, lastEnd time.Time
		for _, rows := range res.chunks {
			rows = c.dropRejected(ctx, rows, acct.ID, path)
			for i := range rows {
				r := &rows[i] // rows are 300 bytes: not copied
				if !days.Contains(r.Day) {
					continue
				}
				if r.PeriodStart.IsZero() {
					if !r.Day.Equal(lastDay) || lastPeriodStart.IsZero() {
						lastDay, lastPeriodStart = r.Day, billingPeriod(r.Day, anchorDay).Start
					}
					r.PeriodStart = lastPeriodStart
				}
				if !r.PeriodStart.Equal(lastStart) || lastEnd.IsZero() {
					lastStart, lastEnd = r.PeriodStart, nextAnchor(r.PeriodStart, anchorDay)
				}
				r.PeriodEnd = lastEnd
				if dd.keep(r, req, last) {
					out = append(out, r.usage(acct.ID))
				}
			}
		}
		req++
	}
	return out, nil
}

func (c *Client) focus(ctx context.Context, acct cost.Account, days cost.Period) ([]cost.Usage, error) {
	var (
		out []cost.Usage
		dd  dedup
	)
	req := 0
	for from := days.Start; from.Before(days.End); req++ {
		to := from.Add(focusChunk)
		if days.End.Before(to) {
			to = days.End
		}
		q := url.Values{}
		q.Set("from", from.Format(dateLayout))
		q.Set("to", to.Format(dateLayout))
		res, path, err := c.get(ctx, epFocus, acct.ID, q, schemaV2, days)
		if err != nil {
			return nil, err
		}
		out = slices.Grow(out, res.len())
		last := !to.Before(days.End)
		for _, rows := range res.chunks {
			rows = c.dropRejected(ctx, rows, acct.ID, path)
			for i := range rows {
				if r := &rows[i]; days.Contains(r.Day) && dd.keep(r, req, last) {
					out = append(out, r.usage(acct.ID))
				}
			}
		}
		from = to
	}
	return out, nil
}

// Card returns the payment card on acct's billing profile, or nil when the
// profile has no card expiry. Only the last four characters of the number
// are kept.
func (c *Client) Card(ctx context.Context, acct cost.Account) (*cost.Card, error) {
	if c.err != nil {
		return nil, c.err
	}
	res, path, err := c.get(ctx, epProfile, acct.ID, nil, 0, cost.Period{})
	if err != nil {
		return nil, fmt.Errorf("read billing profile for account %q: %w", acct.ID, err)
	}
	p, err := decodeProfile(res.raw)
	if err != nil {
		return nil, annotate(err, acct.ID, path)
	}
	if !p.HasMonth || !p.HasYear {
		return nil, nil
	}
	return &cost.Card{Account: acct.ID, ExpiryMonth: p.Month, ExpiryYear: p.Year, Masked: mask(p.Masked)}, nil
}

func mask(n string) string {
	n = strings.TrimSpace(n)
	if len(n) <= 4 {
		return n
	}
	return strings.Repeat("*", len(n)-4) + n[len(n)-4:]
}

// Fetch reads usage and the card. A usage failure fails the fetch; a card
// that cannot be read is logged at Warn and left nil (cost.Snapshot.Card),
// unless ctx is done.
func (c *Client) Fetch(ctx context.Context, acct cost.Account, source Source, days cost.Period) (cost.Snapshot, error) {
	usage, err := c.Usage(ctx, acct, source, days)
	if err != nil {
		return cost.Snapshot{}, err
	}
	card, err := c.Card(ctx, acct)
	if err != nil {
		if ctx.Err() != nil {
			return cost.Snapshot{}, err
		}
		c.log.WarnContext(ctx, "billing profile unavailable", "account", acct.ID, "error", err)
		card = nil
	}
	rng, _ := wholeDays(days)
	return cost.Snapshot{Account: acct, FetchedAt: c.now().UTC(), Range: rng, Usage: usage, Card: card}, nil
}

// dropRejected returns rows without the rejected ones (a cost that is not
// finite or beyond ±MaxAbsCost), logging each at Warn with its row and
// field; the rest of the response is kept.
func (c *Client) dropRejected(ctx context.Context, rows []row, account, path string) []row {
	rows, bad := validRows(rows)
	for _, e := range bad {
		e.Account, e.Path = account, path
		c.log.WarnContext(ctx, "billing row rejected", "account", account, "path", path,
			"row", e.Row, "field", e.Field, "error", e)
	}
	return rows
}

func annotate(err error, account, path string) error {
	var de *DecodeError
	if errors.As(err, &de) {
		de.Account, de.Path = account, path
	}
	return err
}

// answer is what a successful call returns: the envelope's result, or the
// decoded rows of a usage response.
type answer struct {
	raw    json.RawMessage
	chunks [][]row // in order; see decodeUsageChunks
}

// len is the number of rows in the answer's chunks.
func (a answer) len() int {
	n := 0
	for _, c := range a.chunks {
		n += len(c)
	}
	return n
}

// get calls endpoint ep for the account, trying path templates in order
// (starting with the one that last worked) while they answer 404. With a
// schema, a 2xx body is decoded into rows as it arrives, keeping only the
// rows whose charge day lies in days (all when days is zero) and rejected
// ones (see decodeUsageIn).
func (c *Client) get(ctx context.Context, ep endpoint, account string, q url.Values, sc schema, days cost.Period) (answer, string, error) {
	tmpls := c.paths[ep]
	c.mu.Lock()
	first := c.working[ep]
	c.mu.Unlock()
	order := make([]int, 0, len(tmpls))
	order = append(order, first)
	for i := range tmpls {
		if i != first {
			order = append(order, i)
		}
	}
	var err error
	for n, i := range order {
		path := strings.ReplaceAll(tmpls[i], "{account_id}", url.PathEscape(account))
		var res answer
		res, err = c.do(ctx, path, q, sc, days)
		var de *DecodeError
		if err == nil || errors.As(err, &de) && (de.Row >= 0 || de.Field == "result") {
			// The path answered; a bad row (decoded inside do now that
			// usage bodies stream) does not make it the wrong path.
			c.mu.Lock()
			c.working[ep] = i
			c.mu.Unlock()
		}
		if err == nil {
			return res, path, nil
		}
		if !errors.Is(err, ErrNotFound) || ctx.Err() != nil {
			return answer{}, path, annotate(err, account, path)
		}
		if n < len(order)-1 {
			c.log.DebugContext(ctx, "billing path not found, trying next", "path", path)
		}
	}
	return answer{}, "", err
}

// retryPolicy is exponential backoff that prefers the server's Retry-After,
// caps every wait at max and stops when the wait would pass ctx's deadline.
type retryPolicy struct {
	ctx  context.Context
	exp  *backoff.ExponentialBackOff
	max  time.Duration
	hint time.Duration
}

func (p *retryPolicy) Reset() { p.exp.Reset(); p.hint = 0 }

func (p *retryPolicy) NextBackOff() time.Duration {
	d := p.exp.NextBackOff()
	if p.hint > 0 {
		d = p.hint
		p.hint = 0
	}
	if d == backoff.Stop {
		return d
	}
	d = min(d, p.max)
	if dl, ok := p.ctx.Deadline(); ok && time.Until(dl) < d {
		return backoff.Stop
	}
	return d
}

// newExp is the backoff without a Retry-After: 1s doubling to 30s, jittered
// (cloudflare-go's schedule).
func newExp() *backoff.ExponentialBackOff {
	exp := backoff.NewExponentialBackOff()
	exp.InitialInterval = time.Second
	exp.Multiplier = 2
	exp.MaxInterval = 30 * time.Second
	return exp
}

// do sends one GET with retries for transport errors, 429 and 5xx.
func (c *Client) do(ctx context.Context, path string, q url.Values, sc schema, days cost.Period) (answer, error) {
	u := c.base + path
	if len(q) > 0 {
		u += "?" + q.Encode()
	}
	policy := &retryPolicy{ctx: ctx, exp: newExp(), max: c.maxWait}
	var last error
	op := func() (answer, error) {
		res, err := c.attempt(ctx, u, path, sc, days)
		if err == nil {
			return res, nil
		}
		last = err
		var ae *APIError
		if errors.As(err, &ae) {
			if !ae.Temporary() {
				return answer{}, backoff.Permanent(err)
			}
			policy.hint = ae.RetryAfter
			return answer{}, err
		}
		var de *DecodeError
		if errors.As(err, &de) || errors.Is(err, httpx.ErrRedirect) || ctx.Err() != nil {
			return answer{}, backoff.Permanent(err)
		}
		return answer{}, err // transport error
	}
	res, err := backoff.Retry(ctx, op,
		backoff.WithBackOff(policy),
		backoff.WithMaxTries(uint(c.maxRetries)+1),
		backoff.WithMaxElapsedTime(0),
		backoff.WithNotify(func(err error, wait time.Duration) {
			c.log.WarnContext(ctx, "billing request failed, retrying", "path", path, "wait", wait, "error", err)
		}),
	)
	if err != nil && ctx.Err() != nil && last != nil && !errors.Is(err, last) {
		return answer{}, fmt.Errorf("%w (last attempt: %w)", err, last)
	}
	return res, err
}

func (c *Client) attempt(ctx context.Context, u, path string, sc schema, days cost.Period) (answer, error) {
	if err := c.limit.Wait(ctx); err != nil {
		return answer{}, backoff.Permanent(fmt.Errorf("GET %s: wait for the request rate limit: %w", path, err))
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return answer{}, backoff.Permanent(fmt.Errorf("build request %s: %w", path, err))
	}
	req.Header.Set("Accept", "application/json")
	req.Header.Set("User-Agent", "costbot")
	if c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	} else {
		req.Header.Set("X-Auth-Email", c.email)
		req.Header.Set("X-Auth-Key", c.key)
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		var ue *url.Error
		if errors.Is(err, httpx.ErrRedirect) && errors.As(err, &ue) {
			// The policy's error names origins only; the *url.Error
			// around it names the redirect target, which is not ours.
			return answer{}, fmt.Errorf("GET %s: %w", path, ue.Err)
		}
		return answer{}, fmt.Errorf("GET %s: %s", path, scrub(err.Error(), c.secrets()))
	}
	defer resp.Body.Close()
	if sc != 0 && resp.StatusCode >= 200 && resp.StatusCode < 300 {
		// A usage body is decoded as it arrives: no copy of it is held,
		// and it may be far larger than maxBody (MaxUsageBody).
		chunks, err := decodeUsageChunks(resp.Body, MaxUsageBody, sc, days, resp.StatusCode, resp.Header, path, c.now, c.secrets())
		var re *readError
		if errors.As(err, &re) {
			return answer{}, fmt.Errorf("read %s: %s", path, scrub(re.Error(), c.secrets()))
		}
		return answer{chunks: chunks}, err
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxBody))
	if err != nil {
		return answer{}, fmt.Errorf("read %s: %s", path, scrub(err.Error(), c.secrets()))
	}
	res, err := checkResponse(resp.StatusCode, resp.Header, body, path, c.now(), c.secrets())
	return answer{raw: res}, err
}

func (c *Client) secrets() []string {
	return []string{c.token, c.key}
}

// Interface guards.
var (
	_ backoff.BackOff = (*retryPolicy)(nil)
	_ slog.LogValuer  = (*Client)(nil)
	_ slog.LogValuer  = Options{}
	_ fmt.Stringer    = Options{}
	_ error           = (*APIError)(nil)
	_ error           = (*DecodeError)(nil)
)
