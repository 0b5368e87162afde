package app

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/costbot/costbot/internal/alert"
	"github.com/costbot/costbot/internal/cost"
	"github.com/costbot/costbot/internal/notify"
	"github.com/costbot/costbot/internal/store"
)

// How a delivery goes out (deliverAt, sendOutbox):
//
//  1. The plan's alerts and one outbox row per delivery are saved in one
//     transaction (store.SavePlan), so a crash before the send loses
//     nothing: the next process sends what the outbox holds.
//  2. Before each send the row is claimed (store.ClaimDelivery). A state
//     that cannot take the claim (a full disk) sends nothing.
//  3. After the send the row is marked done together with its send record
//     (store.CompleteDelivery). If that write fails, the cycle stops
//     sending to every notifier and fails with one error (ErrUnrecorded,
//     shown by /healthz and /readyz); the process keeps the sent message
//     in memory and records it before it plans again, never sending it
//     twice itself.
//
// A row sent but never marked (a crash between the send and the mark, or a
// failed mark followed by a restart) is claimed and pending after the
// restart, so it is sent again at most once per such crash: the Slack
// notifier first looks for the row's id in the channel's history
// (message metadata) and records what it finds instead of posting again;
// a webhook re-send carries the same webhook-id (webhook.MessageID), so
// its receiver can drop it. The kill -9 loop (crashloop_test.go) measures
// this: go test ./internal/app -run TestCrashLoop -crashloop.n=100 -v

// ErrUnrecorded is returned (wrapped) by a cycle whose sends went out but
// could not be recorded in the state file: sending stopped until they are.
var ErrUnrecorded = errors.New("sent but not recorded: state not writable; sending stopped")

// unmarkedSend is a message that went out but whose outbox row could not
// be marked done.
type unmarkedSend struct {
	id      string
	outcome string
	send    alert.Send
}

// recordUnmarked records the sends that went out in an earlier cycle of
// this process but could not be recorded. It runs before planning, so the
// plan sees them as sent; an error stops the cycle before it sends.
func (a *App) recordUnmarked(ctx context.Context, db *store.DB) error {
	if db != a.db || len(a.unmarked) == 0 {
		return nil
	}
	for id, u := range a.unmarked {
		err := db.CompleteDelivery(ctx, u.id, u.outcome, u.send)
		if err != nil && !errors.Is(err, store.ErrNotFound) {
			return fmt.Errorf("%w: %d sends: %w", ErrUnrecorded, len(a.unmarked), err)
		}
		delete(a.unmarked, id)
	}
	a.log.InfoContext(ctx, "sends recorded after the state became writable again")
	return nil
}

// sendOutbox sends every pending outbox row of db (this plan's and any an
// earlier process left), claiming each before its send and marking it
// done after. Rows for notifiers no longer configured, and stale firing
// messages (the alert no longer fires in that episode), are dropped.
func (a *App) sendOutbox(ctx context.Context, db *store.DB, now time.Time) ([]notify.Result, error) {
	rows, err := db.Outbox(ctx)
	if err != nil {
		return nil, fmt.Errorf("send alerts: %w", err)
	}
	var jobs []notify.Job
	byID := map[string]store.Delivery{}
	for _, r := range rows {
		why := ""
		switch {
		case !slices.Contains(a.notifiers, r.Notifier):
			why = "notifier not configured"
		case !r.Live:
			why = "stale: the alert moved on"
		}
		if why != "" {
			if err := db.DropDelivery(ctx, r.ID, why, now); err != nil {
				return nil, fmt.Errorf("send alerts: %w", err)
			}
			a.log.InfoContext(ctx, "outbox row dropped", "delivery", r.ID, "notifier", r.Notifier, "why", why)
			continue
		}
		if r.Unsure() {
			a.log.WarnContext(ctx, "re-sending a message whose earlier send may have gone out",
				"delivery", r.ID, "notifier", r.Notifier, "claimed_at", r.ClaimedAt.Format(time.RFC3339))
		}
		byID[r.ID] = r
		jobs = append(jobs, notify.Job{Notifier: r.Notifier, Alert: r.Alert, ID: r.ID, Unsure: r.Unsure()})
	}
	if len(jobs) == 0 {
		return nil, nil
	}
	// One failed write stops every notifier before its next send: what
	// cannot be recorded would be sent again.
	var (
		stopped atomic.Bool
		mu      sync.Mutex
		cause   error // the first failed write
	)
	stop := func(err error) {
		stopped.Store(true)
		mu.Lock()
		defer mu.Unlock()
		if cause == nil {
			cause = err
		}
	}
	claim := func(ctx context.Context, j notify.Job) error {
		if stopped.Load() {
			return ErrUnrecorded
		}
		if err := db.ClaimDelivery(ctx, j.ID, now); err != nil {
			stop(err)
			return fmt.Errorf("%w: %w", ErrUnrecorded, err)
		}
		return nil
	}
	unmarked := make(chan unmarkedSend, len(jobs))
	record := func(ctx context.Context, j notify.Job, ref *cost.MessageRef) error {
		r := byID[j.ID]
		s := alert.Send{Fingerprint: j.Alert.Fingerprint, Episode: r.Episode, Notifier: j.Notifier,
			Status: j.Alert.Status, FirstSentAt: now.UTC(), SentAt: now.UTC()}
		if ref != nil {
			s.Channel, s.TS = ref.Channel, ref.TS
		}
		outcome := store.OutcomeSent
		if err := db.CompleteDelivery(ctx, j.ID, outcome, s); err != nil {
			stop(err)
			unmarked <- unmarkedSend{id: j.ID, outcome: outcome, send: s}
			return err
		}
		return nil
	}
	res := a.dispatcher.DispatchHooks(ctx, jobs, notify.Hooks{Claim: claim, Record: record})
	close(unmarked)
	for u := range unmarked {
		if db == a.db {
			if a.unmarked == nil {
				a.unmarked = map[string]unmarkedSend{}
			}
			a.unmarked[u.id] = u
		}
	}
	for _, r := range res {
		if r.Err != nil && !r.Sent && !errors.Is(r.Err, ErrUnrecorded) {
			a.log.WarnContext(ctx, "send failed; will retry next cycle", "notifier", r.Job.Notifier,
				"fingerprint", r.Job.Alert.Fingerprint, "delivery", r.Job.ID, "error", r.Err)
		}
	}
	if stopped.Load() {
		n := 0
		for _, r := range res {
			if r.Sent {
				n++
			}
		}
		return res, fmt.Errorf("%w (%d of %d sent before it stopped): %w", ErrUnrecorded, n, len(jobs), cause)
	}
	return res, nil
}
