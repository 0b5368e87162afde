package alert

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/prometheus/alertmanager/pkg/labels"
)

// Silence mutes the firing messages of every alert whose labels (Labels)
// match all of its matchers between StartsAt and EndsAt, like an
// Alertmanager silence. A silenced alert is still tracked; its decisions
// carry ReasonSilenced and the silence ids, and since nothing was sent it is
// delivered (reason "retry") at the first cycle after the silence ends if it
// still fires. Resolved messages are not held.
type Silence struct {
	ID        string
	Matchers  labels.Matchers
	StartsAt  time.Time // UTC
	EndsAt    time.Time // UTC; expiring a silence sets it to the expiry instant
	CreatedBy string    // who made it: a Slack user id or a CLI user name
	Comment   string
	UpdatedAt time.Time // UTC; creation or expiry
}

// SilenceState is where a silence stands at an instant.
type SilenceState int

const (
	// SilencePending means the silence starts later.
	SilencePending SilenceState = iota + 1
	// SilenceActive means the silence holds now.
	SilenceActive
	// SilenceExpired means the silence ended.
	SilenceExpired
)

// String returns "pending", "active" or "expired".
func (s SilenceState) String() string {
	switch s {
	case SilencePending:
		return "pending"
	case SilenceActive:
		return "active"
	case SilenceExpired:
		return "expired"
	}
	return fmt.Sprintf("silence_state(%d)", int(s))
}

// State returns the silence's state at now.
func (s Silence) State(now time.Time) SilenceState {
	switch {
	case now.Before(s.StartsAt):
		return SilencePending
	case now.Before(s.EndsAt):
		return SilenceActive
	}
	return SilenceExpired
}

// Matches reports whether the silence's matchers all match the labels l.
func (s Silence) Matches(l map[string]string) bool { return matches(s.Matchers, l) }

// ParseMatchers parses matchers in Alertmanager's syntax, each argument one
// or more comma-separated matchers: `service=~"R2.*"`, `account=production`,
// `{kind="anomaly", severity!="info"}`.
func ParseMatchers(args ...string) (labels.Matchers, error) {
	var out labels.Matchers
	for _, a := range args {
		if strings.TrimSpace(a) == "" {
			continue
		}
		ms, err := labels.ParseMatchers(a)
		if err != nil {
			return nil, fmt.Errorf("parse matchers %q: %w", a, err)
		}
		out = append(out, ms...)
	}
	return out, nil
}

// CheckSilence validates a new silence at now and returns it with times in
// UTC: at least one matcher that does not match the empty string (so it
// cannot silence everything), EndsAt after StartsAt and after now, an author
// and a comment. A zero StartsAt starts it at now.
func CheckSilence(s Silence, now time.Time) (Silence, error) {
	now = now.UTC()
	if s.StartsAt.IsZero() {
		s.StartsAt = now
	}
	s.StartsAt, s.EndsAt, s.UpdatedAt = s.StartsAt.UTC(), s.EndsAt.UTC(), now
	var errs []error
	if len(s.Matchers) == 0 {
		errs = append(errs, errors.New("no matchers"))
	} else if !slices.ContainsFunc(s.Matchers, func(m *labels.Matcher) bool { return !m.Matches("") }) {
		errs = append(errs, fmt.Errorf("matchers %s match every alert: at least one must not match the empty string", s.Matchers))
	}
	if !s.EndsAt.After(s.StartsAt) {
		errs = append(errs, fmt.Errorf("ends %s, not after it starts (%s)", s.EndsAt.Format(time.RFC3339), s.StartsAt.Format(time.RFC3339)))
	} else if !s.EndsAt.After(now) {
		errs = append(errs, fmt.Errorf("ends %s, in the past", s.EndsAt.Format(time.RFC3339)))
	}
	if strings.TrimSpace(s.CreatedBy) == "" {
		errs = append(errs, errors.New("no author"))
	}
	if strings.TrimSpace(s.Comment) == "" {
		errs = append(errs, errors.New("no comment"))
	}
	if err := errors.Join(errs...); err != nil {
		return s, fmt.Errorf("invalid silence: %w", err)
	}
	return s, nil
}

// Expire ends s at now: an active silence ends now, a pending one never
// starts. An expired silence is returned unchanged with false.
func Expire(s Silence, now time.Time) (Silence, bool) {
	now = now.UTC()
	switch s.State(now) {
	case SilenceExpired:
		return s, false
	case SilencePending:
		s.StartsAt = now
	}
	s.EndsAt, s.UpdatedAt = now, now
	return s, true
}

// SnoozeSilence is the silence the Slack Snooze button creates for the alert
// st: matchers equal to its identity labels (alertname, rule, account_id,
// service, family, zone, threshold and period_start, those it has), from at
// until until. A higher threshold of the group has another threshold label,
// so an escalation breaks through; lower ones are superseded meanwhile.
func SnoozeSilence(st State, user string, at, until time.Time) (Silence, error) {
	l := Labels(st.Finding)
	var ms labels.Matchers
	for _, k := range []string{"alertname", "rule", "account_id", "service", "family", "zone", "threshold", "period_start"} {
		v, ok := l[k]
		if !ok {
			continue
		}
		m, err := labels.NewMatcher(labels.MatchEqual, k, v)
		if err != nil {
			return Silence{}, fmt.Errorf("snooze alert %q: %w", st.Fingerprint, err)
		}
		ms = append(ms, m)
	}
	return CheckSilence(Silence{
		Matchers:  ms,
		StartsAt:  at,
		EndsAt:    until,
		CreatedBy: user,
		Comment:   fmt.Sprintf("snoozed from Slack for %s: %s", ShortDuration(until.Sub(at).Round(time.Minute)), st.Finding.Title),
	}, at)
}

// silencedBy returns the ids of the silences active at now that match l.
func silencedBy(ss []Silence, l map[string]string, now time.Time) []string {
	var out []string
	for _, s := range ss {
		if s.State(now) == SilenceActive && s.Matches(l) {
			out = append(out, s.ID)
		}
	}
	return out
}

// ShortDuration is d.String() without zero minutes and seconds: "24h",
// "1h30m", "90s".
func ShortDuration(d time.Duration) string {
	s := d.String()
	if strings.HasSuffix(s, "m0s") {
		s = s[:len(s)-2]
	}
	if strings.HasSuffix(s, "h0m") {
		s = s[:len(s)-2]
	}
	return s
}
