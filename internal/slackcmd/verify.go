package slackcmd

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"
)

// maxSkew is how far a request timestamp may be from now, either way.
const maxSkew = 5 * time.Minute

// Reasons a request is refused. They never carry the secret or the signature.
var (
	errMissingHeaders = errors.New("missing X-Slack-Signature or X-Slack-Request-Timestamp")
	errBadTimestamp   = errors.New("malformed timestamp")
	errStale          = errors.New("timestamp more than 5 minutes off")
	errBadSignature   = errors.New("signature mismatch")
	errReplay         = errors.New("replayed request")
	errTooLarge       = errors.New("body too large")
	errReadBody       = errors.New("reading body failed")
	errNoSecret       = errors.New("no signing secret configured")
)

// verifier checks Slack v0 request signatures against an injected clock and
// remembers the signatures it accepted inside the timestamp window, so a
// captured request cannot be replayed.
type verifier struct {
	secret []byte
	now    func() time.Time

	mu        sync.Mutex
	seen      map[[sha256.Size]byte]int64 // signature -> request timestamp (unix s)
	lastPrune int64
}

func newVerifier(secret string, now func() time.Time) *verifier {
	return &verifier{secret: []byte(secret), now: now, seen: make(map[[sha256.Size]byte]int64)}
}

// check verifies ts and sig for body. It records an accepted signature so the
// same request is refused the second time.
func (v *verifier) check(ts, sig string, body []byte) error {
	if len(v.secret) == 0 {
		return errNoSecret
	}
	if ts == "" || sig == "" {
		return errMissingHeaders
	}
	sec, err := strconv.ParseInt(ts, 10, 64)
	if err != nil {
		return errBadTimestamp
	}
	now := v.now().Unix()
	if d := now - sec; d > int64(maxSkew/time.Second) || d < -int64(maxSkew/time.Second) {
		return errStale
	}
	hexSig, ok := strings.CutPrefix(sig, "v0=")
	if !ok || len(hexSig) != 2*sha256.Size {
		return errBadSignature
	}
	var got [sha256.Size]byte
	if _, err := hex.Decode(got[:], []byte(hexSig)); err != nil {
		return errBadSignature
	}
	m := hmac.New(sha256.New, v.secret)
	m.Write([]byte("v0:"))
	m.Write([]byte(ts))
	m.Write([]byte(":"))
	m.Write(body)
	if !hmac.Equal(m.Sum(nil), got[:]) {
		return errBadSignature
	}
	return v.remember(got, sec, now)
}

// remember records sig; it fails when sig was accepted before. Entries whose
// timestamp fell out of the window are pruned at most every 30 seconds: such
// requests are refused as stale anyway.
func (v *verifier) remember(sig [sha256.Size]byte, sec, now int64) error {
	v.mu.Lock()
	defer v.mu.Unlock()
	if _, dup := v.seen[sig]; dup {
		return errReplay
	}
	v.seen[sig] = sec
	if now-v.lastPrune >= 30 {
		v.lastPrune = now
		cutoff := now - int64(maxSkew/time.Second)
		for k, t := range v.seen {
			if t < cutoff {
				delete(v.seen, k)
			}
		}
	}
	return nil
}

// readVerified reads at most limit bytes of r's body, verifies the Slack
// signature over them and restores r.Body so form parsing sees the same bytes.
func (v *verifier) readVerified(w http.ResponseWriter, r *http.Request, limit int64) ([]byte, error) {
	ts := r.Header.Get("X-Slack-Request-Timestamp")
	sig := r.Header.Get("X-Slack-Signature")
	if len(v.secret) == 0 {
		return nil, errNoSecret
	}
	if ts == "" || sig == "" {
		return nil, errMissingHeaders
	}
	if r.ContentLength > limit {
		return nil, errTooLarge
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, limit))
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return nil, errTooLarge
		}
		return nil, errReadBody
	}
	if err := v.check(ts, sig, body); err != nil {
		return nil, err
	}
	r.Body = io.NopCloser(bytes.NewReader(body))
	return body, nil
}
