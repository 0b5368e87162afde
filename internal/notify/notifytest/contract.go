package notifytest

import (
	"context"
	"testing"

	"github.com/costbot/costbot/internal/notify"
)

// RunContract checks the behaviour every Notifier shares. newNotifier must
// return a notifier wired to a working receiver (an httptest fake or a
// buffer); it is called once per subtest.
func RunContract(t *testing.T, newNotifier func(t *testing.T) notify.Notifier) {
	t.Helper()
	t.Run("Name", func(t *testing.T) {
		if newNotifier(t).Name() == "" {
			t.Error("empty Name()")
		}
	})
	t.Run("OKEveryKind", func(t *testing.T) {
		n := newNotifier(t)
		alerts := Alerts()
		for _, name := range Names {
			ref, err := n.Notify(context.Background(), alerts[name])
			if err != nil {
				t.Errorf("%s: %v", name, err)
				continue
			}
			if ref != nil && ref.Notifier != n.Name() {
				t.Errorf("%s: ref.Notifier = %q, want %q", name, ref.Notifier, n.Name())
			}
		}
	})
	t.Run("ErrCanceledNotRetryable", func(t *testing.T) {
		n := newNotifier(t)
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		_, err := n.Notify(ctx, Alerts()["budget"])
		if err == nil {
			t.Fatal("canceled context: want error")
		}
		if notify.IsRetryable(err) {
			t.Errorf("canceled context: %v is retryable", err)
		}
	})
}
