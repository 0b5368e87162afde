package alert

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/costbot/costbot/internal/cost"
)

// Record records that d was delivered, with the posted message's reference
// (nil for notifiers without one), in one store transaction. Call it only
// after the notifier succeeded.
func (t *Tracker) Record(ctx context.Context, d Delivery, ref *cost.MessageRef) error {
	a := d.Alert
	if a.Fingerprint == "" || d.Notifier == "" {
		return errors.New("record send: delivery without fingerprint or notifier")
	}
	if a.Status != cost.StatusFiring && a.Status != cost.StatusResolved {
		return fmt.Errorf("record send of alert %q to %q: invalid status %v", a.Fingerprint, d.Notifier, a.Status)
	}
	now := t.now().UTC()
	s := Send{Fingerprint: a.Fingerprint, Episode: d.episode, Notifier: d.Notifier, Status: a.Status,
		FirstSentAt: now, SentAt: now}
	if ref != nil {
		s.Channel, s.TS = ref.Channel, ref.TS
	}
	if err := t.store.RecordSend(ctx, s); err != nil {
		return fmt.Errorf("record send of alert %q to %q: %w", a.Fingerprint, d.Notifier, err)
	}
	return nil
}

// Act stores a user's action on an alert. A zero At means now; a snooze
// needs Until after At; "expected" applies to anomaly alerts only and stores
// the anomaly's series key for Expected.
func (t *Tracker) Act(ctx context.Context, a Action) error {
	if a.At.IsZero() {
		a.At = t.now()
	}
	a.At = a.At.UTC()
	a.Until = a.Until.UTC()
	st, err := t.store.Alert(ctx, a.Fingerprint)
	if err != nil {
		return fmt.Errorf("%s alert %q: %w", a.Kind, a.Fingerprint, err)
	}
	switch a.Kind {
	case ActionAck:
	case ActionSnooze:
		if !a.Until.After(a.At) {
			return fmt.Errorf("snooze alert %q: until %s is not after %s", a.Fingerprint, a.Until, a.At)
		}
	case ActionExpected:
		f := st.Finding
		if f.Kind != cost.KindAnomaly {
			return fmt.Errorf("mark alert %q expected: a %s alert is not an anomaly", a.Fingerprint, f.Kind)
		}
		a.Series = cost.SeriesKey{Account: f.Scope.Account, Service: f.Scope.Service, Family: f.Scope.Family, Zone: f.Scope.Zone}.String()
	default:
		return fmt.Errorf("act on alert %q: unknown action %v", a.Fingerprint, a.Kind)
	}
	if err := t.store.AddAction(ctx, a); err != nil {
		return fmt.Errorf("%s alert %q: %w", a.Kind, a.Fingerprint, err)
	}
	return nil
}

// Expected returns, per anomaly series key (cost.SeriesKey.String()), when a
// user last marked an anomaly of that series expected.
func (t *Tracker) Expected(ctx context.Context) (map[string]time.Time, error) {
	as, err := t.store.Actions(ctx, ActionFilter{Kind: ActionExpected})
	if err != nil {
		return nil, fmt.Errorf("load expected marks: %w", err)
	}
	out := make(map[string]time.Time, len(as))
	for _, a := range as {
		if a.Series != "" && a.At.After(out[a.Series]) {
			out[a.Series] = a.At
		}
	}
	return out, nil
}

// Open returns the alerts firing now, oldest first, with Reason set to why
// each started ("first" or "escalated"). Of several firing thresholds of one
// group only the highest is listed. Alerts that started after the clock's now
// (state left by a later run, when replaying an earlier instant) are not.
func (t *Tracker) Open(ctx context.Context) ([]cost.Alert, error) {
	states, err := t.store.Alerts(ctx, nil)
	if err != nil {
		return nil, fmt.Errorf("load open alerts: %w", err)
	}
	now := t.now()
	top := make(map[string]State)
	for _, st := range states {
		if st.Status != StatusFiring || st.StartsAt.After(now) {
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
			Reason:      string(st.Reason),
		})
	}
	slices.SortFunc(out, func(a, b cost.Alert) int {
		return cmp.Or(a.StartsAt.Compare(b.StartsAt), cmp.Compare(a.Fingerprint, b.Fingerprint))
	})
	return out, nil
}
