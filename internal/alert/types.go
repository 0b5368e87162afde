package alert

import (
	"errors"
	"fmt"
	"time"

	"github.com/costbot/costbot/internal/cost"
)

// ErrNotFound is returned (wrapped) by the state store when an alert does
// not exist.
var ErrNotFound = errors.New("not found")

// Status is where an alert stands in the alert stage's bookkeeping. It is
// finer than cost.Status: superseded and closed alerts are never delivered.
type Status int

const (
	// StatusFiring means the condition holds and the alert is delivered
	// until every notifier has it.
	StatusFiring Status = iota + 1
	// StatusResolved means the condition held earlier and fresh data shows it
	// no longer does.
	StatusResolved
	// StatusSuperseded means a higher threshold of the same group fired in
	// the same cycle (or was already firing); the alert is never sent.
	StatusSuperseded
	// StatusClosed means the alert's period ended without anything to
	// report (a digest); it closed silently and never fires again.
	StatusClosed
)

var statusNames = map[Status]string{
	StatusFiring:     "firing",
	StatusResolved:   "resolved",
	StatusSuperseded: "superseded",
	StatusClosed:     "closed",
}

// String returns "firing", "resolved", "superseded" or "closed".
func (s Status) String() string {
	if n, ok := statusNames[s]; ok {
		return n
	}
	return fmt.Sprintf("status(%d)", int(s))
}

// ParseStatus is the inverse of Status.String.
func ParseStatus(s string) (Status, error) {
	for k, n := range statusNames {
		if n == s {
			return k, nil
		}
	}
	return 0, fmt.Errorf("unknown alert status %q", s)
}

// Reason names why a decision was taken (cost.Reason: the same type
// travels from the plan to every renderer and receiver).
type Reason = cost.Reason

// The reasons, as cost defines them.
const (
	ReasonFirst      = cost.ReasonFirst
	ReasonEscalated  = cost.ReasonEscalated
	ReasonRepeat     = cost.ReasonRepeat
	ReasonResolved   = cost.ReasonResolved
	ReasonRetry      = cost.ReasonRetry
	ReasonSnoozed    = cost.ReasonSnoozed
	ReasonSuperseded = cost.ReasonSuperseded
	ReasonSilenced   = cost.ReasonSilenced
	ReasonInhibited  = cost.ReasonInhibited
	ReasonMuted      = cost.ReasonMuted
	ReasonNothing    = cost.ReasonNothing
)

// State is the stored lifecycle of one alert.
type State struct {
	Fingerprint string
	Group       string       // Group(Finding)
	Finding     cost.Finding // the latest finding, re-delivered after a restart
	Status      Status
	// Reason is why the current episode started: first, escalated or superseded.
	Reason Reason
	// Episode counts firings: 1 for the first, incremented when a resolved
	// alert fires again. Sends belong to one episode.
	Episode  int
	StartsAt time.Time // start of the current episode (UTC)
	EndsAt   time.Time // when it resolved or closed; zero while firing
	// Why says why the alert resolved (the resolved message carries it); empty
	// while firing.
	Why string
	// UpdatedAt is when a plan last saw or changed the alert (UTC).
	UpdatedAt time.Time
}

// Send is one notifier's successful delivery of an alert's firing or
// resolved message.
type Send struct {
	Fingerprint string
	// Episode is the alert episode the send belongs to; when recording, zero
	// means the alert's current episode.
	Episode  int
	Notifier string
	Status   cost.Status // which message: firing or resolved
	// FirstSentAt is the first successful send, SentAt the latest (repeats).
	FirstSentAt time.Time
	SentAt      time.Time
	// Channel and TS locate the first posted message; empty for notifiers
	// that return no message reference.
	Channel string
	TS      string
}

// ActionKind is what a user did to an alert from Slack.
type ActionKind int

const (
	// ActionAck acknowledges the alert: no more repeats this episode.
	ActionAck ActionKind = iota + 1
	// ActionSnooze holds the alert's firing deliveries until Action.Until.
	ActionSnooze
	// ActionExpected marks an anomaly as expected; the rules engine reads it
	// through Expected. It also acknowledges the alert.
	ActionExpected
)

var actionNames = map[ActionKind]string{
	ActionAck:      "ack",
	ActionSnooze:   "snooze",
	ActionExpected: "expected",
}

// String returns "ack", "snooze" or "expected".
func (k ActionKind) String() string {
	if n, ok := actionNames[k]; ok {
		return n
	}
	return fmt.Sprintf("action(%d)", int(k))
}

// ParseActionKind is the inverse of ActionKind.String.
func ParseActionKind(s string) (ActionKind, error) {
	for k, n := range actionNames {
		if n == s {
			return k, nil
		}
	}
	return 0, fmt.Errorf("unknown action %q (want ack, snooze or expected)", s)
}

// Action is a user's response to an alert, usually a Slack button.
type Action struct {
	Fingerprint string
	Kind        ActionKind
	User        string    // who acted, e.g. a Slack user id
	At          time.Time // when (UTC); required
	Until       time.Time // end of a snooze; zero for other kinds
	// Series is the anomaly's cost.SeriesKey string for ActionExpected;
	// CheckAction fills it in.
	Series string
}

// ActionFilter selects actions. Empty Fingerprints means any fingerprint;
// zero Kind means any kind.
type ActionFilter struct {
	Fingerprints []string
	Kind         ActionKind
}
