// Package endpoint holds the rules for what a webhook endpoint is configured
// with, its URL and its Standard Webhooks signing secret, so that the webhook
// notifier and config validation apply the same ones. It imports only the
// standard library: config uses it without depending on notify.
package endpoint

import (
	"encoding/base64"
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"strings"
)

// Bounds of a decoded signing key, in bytes (Standard Webhooks: 24 to 64).
const (
	MinKeyBytes = 24
	MaxKeyBytes = 64
)

// ParseURL parses raw as a webhook endpoint: an absolute http or https URL
// with a host name and, if it has one, a port from 1 to 65535. Errors never
// quote raw, whose userinfo, path and query may hold tokens.
func ParseURL(raw string) (*url.URL, error) {
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Hostname() == "" {
		// The parse error would quote the URL; say only what is wrong.
		return nil, errors.New("must be an absolute http or https URL")
	}
	if p := u.Port(); p != "" {
		if n, err := strconv.Atoi(p); err != nil || n < 1 || n > 65535 {
			return nil, errors.New("port must be from 1 to 65535")
		}
	}
	return u, nil
}

// DecodeSecret decodes a Standard Webhooks signing secret "whsec_<base64>"
// (standard alphabet, padded or not, surrounding space ignored) into the
// HMAC key, which must be MinKeyBytes to MaxKeyBytes long. Errors never
// quote the secret.
func DecodeSecret(s string) ([]byte, error) {
	b64, ok := strings.CutPrefix(strings.TrimSpace(s), "whsec_")
	if !ok {
		return nil, errors.New(`want "whsec_" followed by base64`)
	}
	key, err := base64.StdEncoding.DecodeString(b64)
	if err != nil {
		if key, err = base64.RawStdEncoding.DecodeString(b64); err != nil {
			return nil, errors.New(`not valid base64 after "whsec_"`)
		}
	}
	if len(key) < MinKeyBytes || len(key) > MaxKeyBytes {
		return nil, fmt.Errorf("decoded key is %d bytes, want %d to %d", len(key), MinKeyBytes, MaxKeyBytes)
	}
	return key, nil
}
