package alert

import (
	"cmp"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/costbot/costbot/internal/cost"
)

// SendOf is the send to record once d was delivered at at, with the posted
// message's reference (nil for notifiers without one). Record it only after
// the notifier succeeded.
func SendOf(d Delivery, ref *cost.MessageRef, at time.Time) (Send, error) {
	a := d.Alert
	if a.Fingerprint == "" || d.Notifier == "" {
		return Send{}, errors.New("record send: delivery without fingerprint or notifier")
	}
	if a.Status != cost.StatusFiring && a.Status != cost.StatusResolved {
		return Send{}, fmt.Errorf("record send of alert %q to %q: invalid status %v", a.Fingerprint, d.Notifier, a.Status)
	}
	at = at.UTC()
	s := Send{Fingerprint: a.Fingerprint, Episode: d.episode, Notifier: d.Notifier, Status: a.Status,
		FirstSentAt: at, SentAt: at}
	if ref != nil {
		s.Channel, s.TS = ref.Channel, ref.TS
	}
	return s, nil
}

// CheckAction validates a user's action on the alert st and returns it ready
// to store: times in UTC and, for "expected", the anomaly's series key (see
// SeriesOf). a.At is required; a snooze needs Until after At; "expected"
// applies to anomaly alerts only.
func CheckAction(st State, a Action) (Action, error) {
	if a.At.IsZero() {
		return a, fmt.Errorf("%s alert %q: no time given", a.Kind, a.Fingerprint)
	}
	a.At = a.At.UTC()
	a.Until = a.Until.UTC()
	switch a.Kind {
	case ActionAck:
	case ActionSnooze:
		if !a.Until.After(a.At) {
			return a, fmt.Errorf("snooze alert %q: until %s is not after %s", a.Fingerprint, a.Until, a.At)
		}
	case ActionExpected:
		if st.Finding.Kind != cost.KindAnomaly {
			return a, fmt.Errorf("mark alert %q expected: a %s alert is not an anomaly", a.Fingerprint, st.Finding.Kind)
		}
		a.Series = SeriesOf(st.Finding)
	default:
		return a, fmt.Errorf("act on alert %q: unknown action %v", a.Fingerprint, a.Kind)
	}
	return a, nil
}

// SeriesOf is the cost.SeriesKey string of an anomaly finding's series, as
// stored with an "expected" mark: account id, service and zone.
func SeriesOf(f cost.Finding) string {
	return cost.SeriesKey{Account: f.Scope.Account, Service: f.Scope.Service, Family: f.Scope.Family, Zone: f.Scope.Zone}.String()
}

// Expected returns, per anomaly series key (cost.SeriesKey.String()), when a
// user last marked an anomaly of that series expected.
func Expected(actions []Action) map[string]time.Time {
	out := make(map[string]time.Time)
	for _, a := range actions {
		if a.Kind == ActionExpected && a.Series != "" && a.At.After(out[a.Series]) {
			out[a.Series] = a.At
		}
	}
	return out
}

// Open returns the alerts among states that are firing, oldest first, with
// Reason set to why each started ("first" or "escalated"). Of several firing
// thresholds of one group only the highest is listed.
func Open(states []State) []cost.Alert {
	top := make(map[string]State)
	for _, st := range states {
		if st.Status != StatusFiring {
			continue
		}
		if o, ok := top[st.Group]; !ok || compareRank(st.Finding, o.Finding) > 0 {
			top[st.Group] = st
		}
	}
	var out []cost.Alert
	for _, st := range top {
		out = append(out, cost.Alert{
			Finding:     st.Finding,
			Fingerprint: st.Fingerprint,
			Status:      cost.StatusFiring,
			StartsAt:    st.StartsAt,
			Reason:      st.Reason,
		})
	}
	slices.SortFunc(out, func(a, b cost.Alert) int {
		return cmp.Or(a.StartsAt.Compare(b.StartsAt), cmp.Compare(a.Fingerprint, b.Fingerprint))
	})
	return out
}

// Rekey moves an alert stored under an account name to its account id:
// when st's scope account is a name in ids (name -> id), the scope gets the
// id with the name as AccountName, and the fingerprint and group are
// recomputed. It reports whether anything changed. An upgrade from state
// keyed by account name keeps every alert (no re-fire) this way.
func Rekey(st State, ids map[string]string) (State, bool) {
	sc := st.Finding.Scope
	id, ok := ids[sc.Account]
	if !ok || id == sc.Account {
		return st, false
	}
	st.Finding.Scope.AccountName = sc.Account
	st.Finding.Scope.Account = id
	st.Fingerprint = Fingerprint(st.Finding)
	st.Group = Group(st.Finding)
	return st, true
}
