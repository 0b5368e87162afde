// Package fakecf is a fake of the Cloudflare billing API that speaks the real
// wire format: v4 envelopes, the billing profile, PayGo info and usage v1 on
// every path Cloudflare has used, and usage v2 (FOCUS) over GET and POST.
// costbot demo serves it on a loopback listener; tests point billing.Client
// at it.
//
// From the daily costs it is given, the server derives what the real API
// computes: billing periods from the account's billing-cycle anchor (days
// 29-31 clamp to month end), v1 Cumulated* running totals that reset at each
// BillingPeriodStart, the v1 rule that a range must contain the anchor day
// (otherwise 200 with an empty result), the v2 31-day range limit (400, code
// 1183), authentication (403, code 10000) and Ratelimit headers. Knobs let
// tests disable paths (404), inject 429/5xx failures and inspect requests.
//
// Both "/accounts/..." and "/client/v4/accounts/..." are served, so the base
// URL may be the listener root or root+"/client/v4".
package fakecf

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Path templates the server answers, as in billing.DefaultPaths.
const (
	PathProfile       = "/accounts/{account_id}/billing/profile"
	PathPayGo         = "/accounts/{account_id}/billable-usage"
	PathPayGoOld      = "/accounts/{account_id}/paygo-usage"
	PathPayGoSDK      = "/accounts/{account_id}/billing/usage/paygo"
	PathPayGoInfo     = "/accounts/{account_id}/billable-usage/info"
	PathPayGoInfoOld  = "/accounts/{account_id}/paygo-usage-info"
	PathBillableUsage = "/accounts/{account_id}/billable/usage"
)

// MaxFocusDays is the longest v2 range the server accepts.
const MaxFocusDays = 31

// Day is one service's usage on one UTC day.
type Day struct {
	Service  string    // v1 ServiceName, v2 x_BillableMetricName
	Family   string    // v1 ServiceFamilyName, v2 x_ProductFamilyName; "" for none
	Zone     string    // zone name; "" when not zone-scoped
	Day      time.Time // any instant of the UTC day
	Cost     float64   // cost of the day in the account currency
	Quantity float64   // consumed quantity in Unit
	Unit     string
}

// Account is one fake Cloudflare account.
type Account struct {
	ID        string
	Name      string
	CardMonth int // 1-12; 0 means no card on the profile
	CardYear  int
	// Anchor is the subscription's billing-cycle anchor; its UTC day of month
	// starts every billing period. Zero means day 1.
	Anchor   time.Time
	Currency string // "" means USD
	Days     []Day
	// UsageOnly leaves the cost columns out of usage v2 (FOCUS) rows, as
	// Cloudflare documents them: not yet populated.
	UsageOnly bool
}

// Request is one request the server received.
type Request struct {
	Method string
	Path   string // as received, including any /client/v4 prefix
	Query  url.Values
	Header http.Header
	Body   []byte
}

// Server is an http.Handler faking the Cloudflare billing API. It is safe for
// concurrent use.
type Server struct {
	mux      *http.ServeMux
	accounts map[string]*account

	mu             sync.Mutex
	token          string
	email, key     string
	disabled       map[string]bool
	failN          int
	failStatus     int
	failRetryAfter string
	requests       []Request
	served         int
}

// account is an Account with derived per-row data.
type account struct {
	Account
	anchorDay int
	rows      []derived // sorted by day, service, zone
}

type derived struct {
	Day
	period     period
	cumCost    float64
	cumPricing int64
}

// New returns a server for the given accounts. Without RequireToken or
// RequireKey it accepts any credentials.
func New(accounts ...Account) *Server {
	s := &Server{
		mux:      http.NewServeMux(),
		accounts: map[string]*account{},
		disabled: map[string]bool{},
	}
	for _, a := range accounts {
		s.accounts[a.ID] = derive(a)
	}
	s.handle("GET", PathProfile, s.profile)
	for _, p := range []string{PathPayGoInfo, PathPayGoInfoOld} {
		s.handle("GET", p, s.payGoInfo)
	}
	for _, p := range []string{PathPayGo, PathPayGoOld, PathPayGoSDK} {
		s.handle("GET", p, s.payGo)
	}
	s.handle("GET", PathBillableUsage, s.focusGet)
	s.handle("POST", PathBillableUsage, s.focusPost)
	s.mux.HandleFunc("/", func(w http.ResponseWriter, _ *http.Request) {
		writeError(w, http.StatusNotFound, 7003, "Could not route to /, perhaps your object identifier is invalid?")
	})
	return s
}

func derive(a Account) *account {
	if a.Currency == "" {
		a.Currency = "USD"
	}
	ac := &account{Account: a, anchorDay: 1}
	if !a.Anchor.IsZero() {
		ac.anchorDay = a.Anchor.UTC().Day()
	}
	ac.Days = slices.Clone(a.Days)
	rows := make([]derived, 0, len(a.Days))
	for _, d := range a.Days {
		d.Day = utcDay(d.Day)
		rows = append(rows, derived{Day: d, period: periodOf(d.Day, ac.anchorDay)})
	}
	slices.SortStableFunc(rows, func(x, y derived) int {
		if c := x.Day.Day.Compare(y.Day.Day); c != 0 {
			return c
		}
		if c := strings.Compare(x.Service, y.Service); c != 0 {
			return c
		}
		return strings.Compare(x.Zone, y.Zone)
	})
	type key struct {
		service, zone string
		period        time.Time
	}
	cost := map[key]float64{}
	pricing := map[key]int64{}
	for i := range rows {
		k := key{rows[i].Service, rows[i].Zone, rows[i].period.start}
		cost[k] += rows[i].Cost
		pricing[k] += pricingQuantity(rows[i].Quantity)
		rows[i].cumCost, rows[i].cumPricing = cost[k], pricing[k]
	}
	ac.rows = rows
	return ac
}

func pricingQuantity(q float64) int64 {
	if math.IsNaN(q) || math.IsInf(q, 0) {
		return 0
	}
	return int64(math.Round(q))
}

// RequireToken makes the server accept "Authorization: Bearer token".
func (s *Server) RequireToken(token string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.token = token
}

// RequireKey makes the server accept X-Auth-Email + X-Auth-Key.
func (s *Server) RequireKey(email, key string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.email, s.key = email, key
}

// DisablePath makes a path template (one of the Path constants) answer 404,
// as when Cloudflare moves an endpoint.
func (s *Server) DisablePath(template string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.disabled[template] = true
}

// FailNext makes the next n requests fail with status (429 or 5xx, or any
// other error status) and a real error envelope. retryAfter, when not empty,
// is sent as the Retry-After header verbatim.
func (s *Server) FailNext(n int, status int, retryAfter string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.failN, s.failStatus, s.failRetryAfter = n, status, retryAfter
}

// Requests returns a copy of the requests received so far, oldest first.
func (s *Server) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Request, len(s.requests))
	for i, r := range s.requests {
		out[i] = Request{Method: r.Method, Path: r.Path, Query: cloneValues(r.Query), Header: r.Header.Clone(), Body: bytes.Clone(r.Body)}
	}
	return out
}

func cloneValues(v url.Values) url.Values {
	out := url.Values{}
	for k, vs := range v {
		out[k] = slices.Clone(vs)
	}
	return out
}

// rateLimitQuota is Cloudflare's global limit per 5-minute window.
const rateLimitQuota = 1200

// ServeHTTP implements http.Handler.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	r.Body = io.NopCloser(bytes.NewReader(body))

	s.mu.Lock()
	s.requests = append(s.requests, Request{Method: r.Method, Path: r.URL.Path, Query: cloneValues(r.URL.Query()), Header: r.Header.Clone(), Body: body})
	s.served++
	remaining := max(rateLimitQuota-s.served, 0)
	fail, status, retryAfter := s.failN > 0, s.failStatus, s.failRetryAfter
	if fail {
		s.failN--
	}
	authOK := s.authorized(r)
	s.mu.Unlock()

	h := w.Header()
	h.Set("Ratelimit-Policy", fmt.Sprintf(`"default";q=%d;w=300`, rateLimitQuota))
	if fail {
		reset := "300"
		if retryAfter != "" {
			h.Set("Retry-After", retryAfter)
			if _, err := strconv.Atoi(retryAfter); err == nil {
				reset = retryAfter
			}
		}
		r := remaining
		if status == http.StatusTooManyRequests {
			r = 0
		}
		h.Set("Ratelimit", fmt.Sprintf(`"default";r=%d;t=%s`, r, reset))
		switch {
		case status == http.StatusTooManyRequests:
			writeError(w, status, 971, "Please wait and consider throttling your request speed")
		case status >= 500:
			writeError(w, status, 10002, "An internal error occurred")
		default:
			writeError(w, status, 1183, "Invalid request parameters: Please ensure all required parameters are included and correctly formatted.")
		}
		return
	}
	h.Set("Ratelimit", fmt.Sprintf(`"default";r=%d;t=300`, remaining))
	if !authOK {
		writeError(w, http.StatusForbidden, 10000, "Authentication error")
		return
	}
	if p, ok := strings.CutPrefix(r.URL.Path, "/client/v4"); ok && strings.HasPrefix(p, "/") {
		r2 := r.Clone(r.Context())
		r2.URL.Path = p
		r2.URL.RawPath = ""
		r = r2
	}
	s.mux.ServeHTTP(w, r)
}

// authorized must be called with s.mu held.
func (s *Server) authorized(r *http.Request) bool {
	if s.token == "" && s.key == "" {
		return true
	}
	if s.token != "" && r.Header.Get("Authorization") == "Bearer "+s.token {
		return true
	}
	return s.key != "" && r.Header.Get("X-Auth-Email") == s.email && r.Header.Get("X-Auth-Key") == s.key
}

type handlerFunc func(w http.ResponseWriter, r *http.Request, a *account)

func (s *Server) handle(method, template string, h handlerFunc) {
	s.mux.HandleFunc(method+" "+template, func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		off := s.disabled[template]
		s.mu.Unlock()
		if off {
			writeError(w, http.StatusNotFound, 7003, "Could not route to "+r.URL.Path+", perhaps your object identifier is invalid?")
			return
		}
		a, ok := s.accounts[r.PathValue("account_id")]
		if !ok {
			writeError(w, http.StatusForbidden, 10000, "Authentication error")
			return
		}
		h(w, r, a)
	})
}

type apiMessage struct {
	Code    int    `json:"code"`
	Message string `json:"message"`
}

type envelope struct {
	Errors   []apiMessage `json:"errors"`
	Messages []apiMessage `json:"messages"`
	Result   any          `json:"result"`
	Success  bool         `json:"success"`
}

func writeJSON(w http.ResponseWriter, status int, env envelope) {
	if env.Errors == nil {
		env.Errors = []apiMessage{}
	}
	if env.Messages == nil {
		env.Messages = []apiMessage{}
	}
	b, err := json.MarshalIndent(env, "", "  ")
	if err != nil {
		status = http.StatusInternalServerError
		b = []byte(`{"errors":[{"code":10002,"message":"encode"}],"messages":[],"result":null,"success":false}`)
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = w.Write(b)
}

func writeOK(w http.ResponseWriter, result any) {
	writeJSON(w, http.StatusOK, envelope{Result: result, Success: true})
}

func writeError(w http.ResponseWriter, status, code int, msg string) {
	writeJSON(w, status, envelope{Errors: []apiMessage{{Code: code, Message: msg}}})
}

func badRequest(w http.ResponseWriter) {
	writeError(w, http.StatusBadRequest, 1183, "Invalid request parameters: Please ensure all required parameters are included and correctly formatted.")
}

var _ http.Handler = (*Server)(nil)
