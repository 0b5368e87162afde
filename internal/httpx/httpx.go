// Package httpx holds the redirect policy every outbound costbot client
// shares: a redirect is followed only within the origin (scheme, host and
// port) the request was sent to, never with a Referer, and at most
// MaxRedirects times. A redirect to another origin is refused with
// ErrRedirect, so credentials in headers (Authorization, X-Auth-Key,
// X-Auth-Email), a re-posted body (307/308) and the URL itself never reach a
// host the caller did not choose.
package httpx

import (
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// MaxRedirects is the number of same-origin redirects followed before a
// request fails (net/http's default).
const MaxRedirects = 10

// ErrRedirect is returned (wrapped in a *url.Error by http.Client.Do) when a
// redirect is refused. Callers treat it as permanent: retrying gets the same
// redirect.
var ErrRedirect = errors.New("redirect refused")

// Origin is u's scheme://host:port in lower case with the scheme's default
// port made explicit, so "https://A.example" and "https://a.example:443" are
// one origin. It never includes user info, path or query.
func Origin(u *url.URL) string {
	scheme := strings.ToLower(u.Scheme)
	host := strings.ToLower(u.Hostname())
	port := u.Port()
	if port == "" {
		switch scheme {
		case "http":
			port = "80"
		case "https":
			port = "443"
		}
	}
	return scheme + "://" + net.JoinHostPort(host, port)
}

// CheckRedirect is an http.Client.CheckRedirect that follows a redirect only
// to the origin of the first request in via, drops the Referer header net/http
// adds, and stops after MaxRedirects. Its errors name origins only, never a
// path or query, which may hold a secret (a webhook URL).
func CheckRedirect(req *http.Request, via []*http.Request) error {
	req.Header.Del("Referer")
	if len(via) == 0 {
		return nil
	}
	from, to := Origin(via[0].URL), Origin(req.URL)
	if from != to {
		return fmt.Errorf("%w: %s redirected to another origin %s", ErrRedirect, from, to)
	}
	if len(via) >= MaxRedirects {
		return fmt.Errorf("%w: stopped after %d redirects on %s", ErrRedirect, len(via), from)
	}
	return nil
}

// NewClient returns an *http.Client with the given overall request timeout
// (0: none) and CheckRedirect as its redirect policy.
func NewClient(timeout time.Duration) *http.Client {
	return &http.Client{Timeout: timeout, CheckRedirect: CheckRedirect}
}

// Secure returns a shallow copy of c (sharing its Transport, Jar and Timeout)
// whose redirect policy is CheckRedirect; c itself is not changed. A nil c
// gives NewClient(timeout); timeout is otherwise unused. A c whose
// CheckRedirect is already set is wrapped too, so it can only be stricter:
// CheckRedirect runs first, then c's own policy.
func Secure(c *http.Client, timeout time.Duration) *http.Client {
	if c == nil {
		return NewClient(timeout)
	}
	cp := *c
	own := c.CheckRedirect
	cp.CheckRedirect = func(req *http.Request, via []*http.Request) error {
		if err := CheckRedirect(req, via); err != nil {
			return err
		}
		if own != nil {
			return own(req, via)
		}
		return nil
	}
	return &cp
}
