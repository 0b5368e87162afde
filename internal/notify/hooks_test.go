package notify_test

import (
	"context"
	"errors"
	"sync"
	"testing"

	"github.com/costbot/costbot/internal/cost"
	"github.com/costbot/costbot/internal/notify"
)

// seenNotifier fails its first n calls (retryable) and keeps the Delivery
// each call saw.
type seenNotifier struct {
	fail int
	mu   sync.Mutex
	seen []notify.Delivery
}

func (s *seenNotifier) Name() string { return "seen" }

func (s *seenNotifier) Notify(ctx context.Context, _ cost.Alert) (*cost.MessageRef, error) {
	d, _ := notify.DeliveryOf(ctx)
	s.mu.Lock()
	defer s.mu.Unlock()
	s.seen = append(s.seen, d)
	if len(s.seen) <= s.fail {
		return nil, notify.Temporary(errors.New("connection reset"))
	}
	return nil, nil
}

func TestDispatcher_DispatchHooks(t *testing.T) {
	t.Run("OKRetryIsUnsure", func(t *testing.T) {
		n := &seenNotifier{fail: 1}
		d := newDispatcher(t, &sleeps{}, n)
		res := d.DispatchHooks(context.Background(), []notify.Job{{Notifier: "seen", Alert: alert("a"), ID: "a-1"}},
			notify.Hooks{Claim: func(context.Context, notify.Job) error { return nil }})
		if !res[0].Sent || len(n.seen) != 2 {
			t.Fatalf("result %+v, %d calls; want sent on the second", res[0], len(n.seen))
		}
		if n.seen[0] != (notify.Delivery{ID: "a-1"}) || n.seen[1] != (notify.Delivery{ID: "a-1", Unsure: true}) {
			t.Errorf("deliveries seen = %+v; want the id on both, unsure on the retry", n.seen)
		}
	})
	t.Run("ErrClaimSendsNothing", func(t *testing.T) {
		n := &seenNotifier{}
		d := newDispatcher(t, &sleeps{}, n)
		full := errors.New("database or disk is full")
		recorded := 0
		res := d.DispatchHooks(context.Background(), []notify.Job{{Notifier: "seen", Alert: alert("a"), ID: "a-1", Unsure: true}},
			notify.Hooks{Claim: func(context.Context, notify.Job) error { return full },
				Record: func(context.Context, notify.Job, *cost.MessageRef) error { recorded++; return nil }})
		if res[0].Sent || res[0].Attempts != 0 || !errors.Is(res[0].Err, full) || len(n.seen) != 0 || recorded != 0 {
			t.Errorf("result %+v, %d calls, %d records; want nothing sent and the claim's error", res[0], len(n.seen), recorded)
		}
	})
}
