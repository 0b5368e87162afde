package notify_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/costbot/costbot/internal/cost"
	"github.com/costbot/costbot/internal/notify"
)

func TestIsRetryable(t *testing.T) {
	tests := []struct {
		name string
		err  error
		want bool
		wait time.Duration
	}{
		{"Nil", nil, false, 0},
		{"Plain", errors.New("boom"), false, 0},
		{"5xx", notify.StatusError(502, 0, nil), true, 0},
		{"429", notify.StatusError(429, 7*time.Second, nil), true, 7 * time.Second},
		{"400", notify.StatusError(400, 0, nil), false, 0},
		{"404", notify.StatusError(404, time.Second, nil), false, 0},
		{"Wrapped5xx", fmt.Errorf("post: %w", notify.StatusError(503, 2*time.Second, nil)), true, 2 * time.Second},
		{"Temporary", notify.Temporary(errors.New("connection refused")), true, 0},
		{"Permanent", notify.Permanent(errors.New("bad")), false, 0},
		{"Canceled", notify.Temporary(context.Canceled), false, 0},
		{"Deadline", fmt.Errorf("x: %w", context.DeadlineExceeded), false, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := notify.IsRetryable(tt.err); got != tt.want {
				t.Errorf("IsRetryable(%v) = %v, want %v", tt.err, got, tt.want)
			}
			if got := notify.RetryAfter(tt.err); got != tt.wait {
				t.Errorf("RetryAfter(%v) = %v, want %v", tt.err, got, tt.wait)
			}
		})
	}
}

func TestParseRetryAfter(t *testing.T) {
	now := time.Date(2026, 7, 1, 12, 0, 0, 0, time.UTC)
	tests := map[string]time.Duration{
		"":     0,
		"3":    3 * time.Second,
		"0":    0,
		"-1":   0,
		"junk": 0,
		now.Add(90 * time.Second).Format(http.TimeFormat): 90 * time.Second,
		now.Add(-time.Hour).Format(http.TimeFormat):       0,
	}
	for in, want := range tests {
		if got := notify.ParseRetryAfter(in, now); got != want {
			t.Errorf("ParseRetryAfter(%q) = %v, want %v", in, got, want)
		}
	}
}

func TestSendError_Error(t *testing.T) {
	err := &notify.SendError{StatusCode: 429, Code: "ratelimited", RetryAfter: 3 * time.Second, Err: errors.New("slow down")}
	want := "send failed: http 429: ratelimited (retry after 3s): slow down"
	if got := err.Error(); got != want {
		t.Errorf("Error() = %q, want %q", got, want)
	}
}

// fakeNotifier returns scripted errors, then succeeds.
type fakeNotifier struct {
	name  string
	errs  []error // per attempt; nil or exhausted: success
	block chan struct{}

	mu    sync.Mutex
	calls []string // fingerprints, in call order
}

func (f *fakeNotifier) Name() string { return f.name }

func (f *fakeNotifier) Notify(ctx context.Context, a cost.Alert) (*cost.MessageRef, error) {
	f.mu.Lock()
	n := len(f.calls)
	f.calls = append(f.calls, a.Fingerprint)
	f.mu.Unlock()
	if f.block != nil {
		select {
		case <-f.block:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	if n < len(f.errs) && f.errs[n] != nil {
		return nil, f.errs[n]
	}
	return &cost.MessageRef{Notifier: f.name, Channel: "C1", TS: fmt.Sprintf("%d.000100", n)}, nil
}

func (f *fakeNotifier) Calls() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.calls...)
}

type recorder struct {
	mu   sync.Mutex
	jobs []string
}

func (r *recorder) record(_ context.Context, j notify.Job, _ *cost.MessageRef) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.jobs = append(r.jobs, j.Notifier+"/"+j.Alert.Fingerprint)
	return nil
}

type sleeps struct {
	mu sync.Mutex
	d  []time.Duration
}

func (s *sleeps) sleep(ctx context.Context, d time.Duration) error {
	s.mu.Lock()
	s.d = append(s.d, d)
	s.mu.Unlock()
	return ctx.Err()
}

func alert(fp string) cost.Alert {
	return cost.Alert{Fingerprint: fp, Status: cost.StatusFiring, Finding: cost.Finding{Kind: cost.KindBudget, Rule: "r"}}
}

func newDispatcher(t testing.TB, s *sleeps, ns ...notify.Notifier) *notify.Dispatcher {
	t.Helper()
	d, err := notify.NewDispatcher(notify.DispatcherOptions{
		Notifiers:   ns,
		MaxAttempts: 3,
		MinWait:     time.Second,
		MaxWait:     10 * time.Second,
		Sleep:       s.sleep,
	})
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func TestDispatcher_Dispatch(t *testing.T) {
	t.Run("BrokenNotifierDoesNotSilenceGoodOne", func(t *testing.T) {
		broken := &fakeNotifier{name: "hook", errs: []error{
			notify.StatusError(500, 0, nil), notify.StatusError(500, 0, nil), notify.StatusError(500, 0, nil),
			notify.StatusError(400, 0, nil),
		}}
		good := &fakeNotifier{name: "slack"}
		var s sleeps
		var rec recorder
		d := newDispatcher(t, &s, broken, good)
		jobs := []notify.Job{
			{Notifier: "hook", Alert: alert("a")},
			{Notifier: "slack", Alert: alert("a")},
			{Notifier: "hook", Alert: alert("b")},
			{Notifier: "slack", Alert: alert("b")},
		}
		res := d.Dispatch(context.Background(), jobs, rec.record)
		if len(res) != 4 {
			t.Fatalf("got %d results", len(res))
		}
		if r := res[0]; r.Sent || !r.Retryable || r.Attempts != 3 || r.Err == nil {
			t.Errorf("hook/a: %+v, want 3 attempts, failed retryable", r)
		}
		if r := res[2]; r.Sent || r.Retryable || r.Attempts != 1 || r.Err == nil {
			t.Errorf("hook/b: %+v, want 1 attempt, failed permanently", r)
		}
		for _, i := range []int{1, 3} {
			if r := res[i]; !r.Sent || r.Err != nil || r.Ref == nil || r.Ref.Notifier != "slack" {
				t.Errorf("slack job %d: %+v, want sent", i, r)
			}
		}
		if got := good.Calls(); fmt.Sprint(got) != "[a b]" {
			t.Errorf("slack calls = %v, want in order [a b]", got)
		}
		if fmt.Sprint(rec.jobs) != "[slack/a slack/b]" {
			t.Errorf("recorded %v, want only the successful slack sends", rec.jobs)
		}
		if len(s.d) != 2 {
			t.Errorf("slept %v, want 2 waits", s.d)
		}
	})

	t.Run("SlowNotifierDoesNotBlockOthers", func(t *testing.T) {
		slow := &fakeNotifier{name: "slow", block: make(chan struct{})}
		good := &fakeNotifier{name: "good"}
		var s sleeps
		d := newDispatcher(t, &s, slow, good)
		recorded := make(chan string, 1)
		rec := func(_ context.Context, j notify.Job, _ *cost.MessageRef) error {
			recorded <- j.Notifier
			return nil
		}
		done := make(chan []notify.Result)
		go func() {
			done <- d.Dispatch(context.Background(), []notify.Job{
				{Notifier: "slow", Alert: alert("a")},
				{Notifier: "good", Alert: alert("a")},
			}, func(ctx context.Context, j notify.Job, r *cost.MessageRef) error {
				if j.Notifier == "good" {
					return rec(ctx, j, r)
				}
				return nil
			})
		}()
		select {
		case n := <-recorded:
			if n != "good" {
				t.Fatalf("recorded %q", n)
			}
		case <-time.After(5 * time.Second):
			t.Fatal("good notifier blocked by slow one")
		}
		close(slow.block)
		res := <-done
		if !res[0].Sent || !res[1].Sent {
			t.Errorf("results %+v", res)
		}
	})

	t.Run("RetryAfterHonouredAndCapped", func(t *testing.T) {
		n := &fakeNotifier{name: "n", errs: []error{
			notify.StatusError(429, 4*time.Second, nil),
			notify.StatusError(429, time.Hour, nil),
		}}
		var s sleeps
		d := newDispatcher(t, &s, n)
		res := d.Dispatch(context.Background(), []notify.Job{{Notifier: "n", Alert: alert("a")}}, nil)
		if !res[0].Sent || res[0].Attempts != 3 {
			t.Fatalf("result %+v", res[0])
		}
		if len(s.d) != 2 || s.d[0] != 4*time.Second || s.d[1] != 10*time.Second {
			t.Errorf("waits %v, want [4s 10s] (Retry-After, then capped at MaxWait)", s.d)
		}
	})

	t.Run("NoRetryPastDeadline", func(t *testing.T) {
		n := &fakeNotifier{name: "n", errs: []error{notify.StatusError(503, 5*time.Second, nil)}}
		var s sleeps
		d := newDispatcher(t, &s, n)
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		res := d.Dispatch(ctx, []notify.Job{{Notifier: "n", Alert: alert("a")}}, nil)
		if res[0].Sent || res[0].Attempts != 1 || !res[0].Retryable {
			t.Errorf("result %+v, want one attempt, retryable failure", res[0])
		}
		if len(s.d) != 0 {
			t.Errorf("slept %v past the deadline", s.d)
		}
	})

	t.Run("ErrUnknownNotifier", func(t *testing.T) {
		var s sleeps
		d := newDispatcher(t, &s, &fakeNotifier{name: "n"})
		res := d.Dispatch(context.Background(), []notify.Job{{Notifier: "nope", Alert: alert("a")}}, nil)
		if !errors.Is(res[0].Err, notify.ErrUnknownNotifier) || res[0].Sent || res[0].Retryable {
			t.Errorf("result %+v", res[0])
		}
	})

	t.Run("CanceledContext", func(t *testing.T) {
		n := &fakeNotifier{name: "n"}
		var s sleeps
		d := newDispatcher(t, &s, n)
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		res := d.Dispatch(ctx, []notify.Job{{Notifier: "n", Alert: alert("a")}}, nil)
		if res[0].Sent || res[0].Retryable || !errors.Is(res[0].Err, context.Canceled) || len(n.Calls()) != 0 {
			t.Errorf("result %+v", res[0])
		}
	})

	t.Run("RecordErrorReported", func(t *testing.T) {
		var s sleeps
		d := newDispatcher(t, &s, &fakeNotifier{name: "n"})
		res := d.Dispatch(context.Background(), []notify.Job{{Notifier: "n", Alert: alert("a")}},
			func(context.Context, notify.Job, *cost.MessageRef) error { return errors.New("disk full") })
		if !res[0].Sent || res[0].Err == nil {
			t.Errorf("result %+v, want sent with record error", res[0])
		}
	})

	t.Run("PanicIsPermanentFailure", func(t *testing.T) {
		var s sleeps
		d := newDispatcher(t, &s, panicNotifier{})
		res := d.Dispatch(context.Background(), []notify.Job{{Notifier: "panic", Alert: alert("a")}}, nil)
		if res[0].Sent || res[0].Retryable || res[0].Err == nil {
			t.Errorf("result %+v", res[0])
		}
	})

	t.Run("AttemptTimeoutIsRetried", func(t *testing.T) {
		n := &fakeNotifier{name: "n", block: make(chan struct{})}
		var s sleeps
		d, err := notify.NewDispatcher(notify.DispatcherOptions{
			Notifiers: []notify.Notifier{n}, MaxAttempts: 2, AttemptTimeout: time.Millisecond, Sleep: s.sleep,
		})
		if err != nil {
			t.Fatal(err)
		}
		res := d.Dispatch(context.Background(), []notify.Job{{Notifier: "n", Alert: alert("a")}}, nil)
		if res[0].Sent || res[0].Attempts != 2 || !res[0].Retryable {
			t.Errorf("result %+v, want 2 timed-out attempts", res[0])
		}
	})
}

type panicNotifier struct{}

func (panicNotifier) Name() string { return "panic" }
func (panicNotifier) Notify(context.Context, cost.Alert) (*cost.MessageRef, error) {
	panic("bug")
}

func TestNewDispatcher(t *testing.T) {
	if _, err := notify.NewDispatcher(notify.DispatcherOptions{Notifiers: []notify.Notifier{&fakeNotifier{name: "a"}, &fakeNotifier{name: "a"}}}); err == nil {
		t.Error("duplicate names: want error")
	}
	if _, err := notify.NewDispatcher(notify.DispatcherOptions{Notifiers: []notify.Notifier{&fakeNotifier{}}}); err == nil {
		t.Error("empty name: want error")
	}
}

func TestDispatcher_RecordSurvivesCancel(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	n := &cancelingNotifier{cancel: cancel}
	var s sleeps
	d := newDispatcher(t, &s, n)
	var recErr error
	res := d.Dispatch(ctx, []notify.Job{{Notifier: "c", Alert: alert("a")}}, func(ctx context.Context, _ notify.Job, _ *cost.MessageRef) error {
		recErr = ctx.Err()
		return recErr
	})
	if !res[0].Sent || res[0].Err != nil || recErr != nil {
		t.Errorf("result %+v, record ctx err %v: want sent and recorded", res[0], recErr)
	}
}

// cancelingNotifier succeeds and cancels the dispatch context, as a
// shutdown signal arriving mid-send would.
type cancelingNotifier struct{ cancel context.CancelFunc }

func (c *cancelingNotifier) Name() string { return "c" }
func (c *cancelingNotifier) Notify(context.Context, cost.Alert) (*cost.MessageRef, error) {
	c.cancel()
	return nil, nil
}
