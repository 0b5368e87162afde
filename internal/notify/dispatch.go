package notify

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"time"

	"github.com/cenkalti/backoff/v5"

	"github.com/costbot/costbot/internal/cost"
)

// Job is one alert to deliver through one notifier.
type Job struct {
	Notifier string // notifier name, see Notifier.Name
	Alert    cost.Alert
	// ID identifies the message on every attempt and after restarts (the
	// outbox's delivery id); "" when it has none. The notifier reads it,
	// with Unsure, from its context (DeliveryOf).
	ID string
	// Unsure says an earlier attempt may have delivered the message
	// already (a crash or a failed record after it went out).
	Unsure bool
}

// Delivery is what a Notifier learns about the message it sends from its
// context (DeliveryOf): its id, and whether it may be out already, so a
// channel that can look for its own messages (Slack) does so first.
type Delivery struct {
	ID string
	// Unsure is Job.Unsure, or true from the second attempt on (a timed-out
	// attempt may have been delivered).
	Unsure bool
}

type deliveryKey struct{}

// WithDelivery returns ctx carrying d, for Notify.
func WithDelivery(ctx context.Context, d Delivery) context.Context {
	return context.WithValue(ctx, deliveryKey{}, d)
}

// DeliveryOf returns the Delivery ctx carries; ok is false when the send
// has no id.
func DeliveryOf(ctx context.Context) (d Delivery, ok bool) {
	d, ok = ctx.Value(deliveryKey{}).(Delivery)
	return d, ok && d.ID != ""
}

// Hooks are called around each job's send by DispatchHooks.
type Hooks struct {
	// Claim, when non-nil, is called before a job's first attempt; an error
	// skips the job (Result.Err wraps it, Attempts is 0) and nothing is sent.
	Claim func(context.Context, Job) error
	// Record is Dispatch's record.
	Record func(context.Context, Job, *cost.MessageRef) error
}

// Result is the outcome of one Job.
type Result struct {
	Job Job
	// Sent reports that the notifier accepted the alert. Sent with a non-nil
	// Err means the message went out but record failed.
	Sent bool
	// Ref identifies the posted message; nil when the notifier has none or the
	// send failed.
	Ref *cost.MessageRef
	// Attempts is how many times Notify was called (0 for an unknown notifier
	// or a context that ended before the first attempt).
	Attempts int
	// Retryable reports that the last failure may succeed later (retries
	// exhausted or no time left); a caller may try again next cycle.
	Retryable bool
	// Err is the last send error, or the record error when Sent is true.
	Err error
	// Disabled reports that the notifier is disabled: this send was refused
	// as Gone and disabled it, or it was disabled earlier and nothing was
	// sent (Err wraps ErrDisabled).
	Disabled bool
}

// ErrDisabled is returned (wrapped, in Result.Err) for a job whose notifier
// the Dispatcher disabled after its receiver answered Gone (see IsGone).
var ErrDisabled = errors.New("notifier disabled")

// DisabledNotifier is a notifier the Dispatcher stopped sending to.
type DisabledNotifier struct {
	Name  string
	Since time.Time // when it was disabled (DispatcherOptions.Now)
	Err   error     // the Gone failure that disabled it; free of secrets
}

// Defaults for DispatcherOptions.
const (
	DefaultMaxAttempts    = 3
	DefaultMinWait        = time.Second
	DefaultMaxWait        = 30 * time.Second
	DefaultAttemptTimeout = 30 * time.Second
)

// recordTimeout bounds the record call, which runs even after ctx ends.
const recordTimeout = 10 * time.Second

// DispatcherOptions configures a Dispatcher. Zero values take the defaults.
type DispatcherOptions struct {
	// Notifiers are the available notifiers, addressed by Name (unique, non-empty).
	Notifiers []Notifier
	// MaxAttempts is the number of Notify calls per job, first one included
	// (default 3).
	MaxAttempts int
	// MinWait is the first backoff wait (default 1 s); it grows 2x per retry
	// with ±20 % jitter.
	MinWait time.Duration
	// MaxWait caps every wait, including a receiver's Retry-After (default 30 s).
	MaxWait time.Duration
	// AttemptTimeout bounds one Notify call (default 30 s; negative: none).
	AttemptTimeout time.Duration
	// Sleep waits d or until ctx ends; tests inject a fake. Default: a timer.
	Sleep func(ctx context.Context, d time.Duration) error
	// Now stamps retry times in logs (default time.Now). The retry budget is
	// checked against ctx's deadline in wall-clock time.
	Now func() time.Time
	// Logger receives a Warn per retried failure (default: discard).
	Logger *slog.Logger
}

// Dispatcher fans jobs out to notifiers: each notifier runs in its own
// goroutine, in job order, so a failing or slow notifier never blocks the
// others. It is safe for concurrent use.
type Dispatcher struct {
	notifiers map[string]Notifier
	order     []string // notifier names in DispatcherOptions order
	opts      DispatcherOptions

	mu       sync.Mutex
	disabled map[string]DisabledNotifier
}

// NewDispatcher validates opts and applies defaults.
func NewDispatcher(opts DispatcherOptions) (*Dispatcher, error) {
	d := &Dispatcher{notifiers: make(map[string]Notifier, len(opts.Notifiers)), disabled: map[string]DisabledNotifier{}}
	for i, n := range opts.Notifiers {
		if n == nil {
			return nil, fmt.Errorf("notifier %d is nil", i)
		}
		name := n.Name()
		if name == "" {
			return nil, fmt.Errorf("notifier %d has an empty name", i)
		}
		if _, dup := d.notifiers[name]; dup {
			return nil, fmt.Errorf("notifier %q: duplicate name", name)
		}
		d.notifiers[name] = n
		d.order = append(d.order, name)
	}
	if opts.MaxAttempts <= 0 {
		opts.MaxAttempts = DefaultMaxAttempts
	}
	if opts.MinWait <= 0 {
		opts.MinWait = DefaultMinWait
	}
	if opts.MaxWait <= 0 {
		opts.MaxWait = DefaultMaxWait
	}
	if opts.MinWait > opts.MaxWait {
		opts.MinWait = opts.MaxWait
	}
	if opts.AttemptTimeout == 0 {
		opts.AttemptTimeout = DefaultAttemptTimeout
	}
	if opts.Sleep == nil {
		opts.Sleep = sleep
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	d.opts = opts
	return d, nil
}

// Names returns the configured notifier names (unordered).
func (d *Dispatcher) Names() []string {
	names := make([]string, 0, len(d.notifiers))
	for n := range d.notifiers {
		names = append(names, n)
	}
	return names
}

// Disabled lists the notifiers that are disabled, in configuration order. A
// disabled notifier stays disabled for the Dispatcher's life: a new
// Dispatcher (a restart or reload) tries it again.
func (d *Dispatcher) Disabled() []DisabledNotifier {
	d.mu.Lock()
	defer d.mu.Unlock()
	var out []DisabledNotifier
	for _, name := range d.order {
		if dn, ok := d.disabled[name]; ok {
			out = append(out, dn)
		}
	}
	return out
}

// isDisabled returns the record of a disabled notifier.
func (d *Dispatcher) isDisabled(name string) (DisabledNotifier, bool) {
	d.mu.Lock()
	defer d.mu.Unlock()
	dn, ok := d.disabled[name]
	return dn, ok
}

// disable marks name disabled; it reports false when it already was.
func (d *Dispatcher) disable(name string, err error) bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	if _, ok := d.disabled[name]; ok {
		return false
	}
	d.disabled[name] = DisabledNotifier{Name: name, Since: d.opts.Now(), Err: err}
	return true
}

// Dispatch delivers jobs and returns one Result per job, in job order. Jobs of
// one notifier run sequentially in order; different notifiers run
// concurrently. Retryable failures are retried up to MaxAttempts with
// exponential backoff, honouring Retry-After capped at MaxWait, and never past
// ctx's deadline. record, when non-nil, is called once after each successful
// send (never after a failure), from the notifier's goroutine, with a context
// that survives ctx's cancellation for up to 10 s so a sent message is not
// lost from the send log.
//
// A failure marked Gone (IsGone; a webhook's 410) disables its notifier:
// its later jobs, in this and every later Dispatch, fail at once with
// ErrDisabled and nothing is sent. Once this Dispatch's jobs are done, a
// KindNotifier alert saying so goes to every notifier still enabled (not
// recorded, not retried next cycle), and Disabled lists the notifier.
func (d *Dispatcher) Dispatch(ctx context.Context, jobs []Job, record func(context.Context, Job, *cost.MessageRef) error) []Result {
	return d.DispatchHooks(ctx, jobs, Hooks{Record: record})
}

// DispatchHooks is Dispatch with a claim before each send as well as the
// record after it (Hooks).
func (d *Dispatcher) DispatchHooks(ctx context.Context, jobs []Job, h Hooks) []Result {
	results := make([]Result, len(jobs))
	byNotifier := make(map[string][]int)
	var order []string
	for i, j := range jobs {
		results[i].Job = j
		if _, ok := d.notifiers[j.Notifier]; !ok {
			results[i].Err = fmt.Errorf("notifier %q: %w", j.Notifier, ErrUnknownNotifier)
			continue
		}
		if _, seen := byNotifier[j.Notifier]; !seen {
			order = append(order, j.Notifier)
		}
		byNotifier[j.Notifier] = append(byNotifier[j.Notifier], i)
	}
	var wg sync.WaitGroup
	for _, name := range order {
		n := d.notifiers[name]
		idx := byNotifier[name]
		wg.Go(func() {
			for _, i := range idx {
				// Each goroutine writes only its own indexes.
				results[i] = d.deliver(ctx, n, jobs[i], h)
			}
		})
	}
	wg.Wait()
	for _, r := range results {
		if r.Disabled && r.Attempts > 0 && IsGone(r.Err) {
			d.announce(ctx, r.Job.Notifier)
		}
	}
	return results
}

// announce sends the alert that notifier name is disabled to every other
// enabled notifier, concurrently, and logs the outcome.
func (d *Dispatcher) announce(ctx context.Context, name string) {
	dn, ok := d.isDisabled(name)
	if !ok {
		return
	}
	a := DisabledAlert(dn)
	var wg sync.WaitGroup
	for _, other := range d.order {
		if other == name {
			continue
		}
		if _, off := d.isDisabled(other); off {
			continue
		}
		n := d.notifiers[other]
		wg.Go(func() {
			res := d.deliver(ctx, n, Job{Notifier: other, Alert: a}, Hooks{})
			if res.Err != nil {
				d.opts.Logger.ErrorContext(ctx, "tell a notifier that another is disabled", "notifier", other, "disabled", name, "error", res.Err)
			}
		})
	}
	wg.Wait()
}

// DisabledAlert is the alert the Dispatcher sends to the other notifiers when
// it disables one: kind notifier, rule "notifier-disabled", critical,
// fingerprint a hash of the notifier's name, firing since dn.Since.
func DisabledAlert(dn DisabledNotifier) cost.Alert {
	sum := sha256.Sum256([]byte("notifier-disabled\x00" + dn.Name))
	cause := ""
	if dn.Err != nil {
		cause = dn.Err.Error()
	}
	return cost.Alert{
		Finding: cost.Finding{
			Kind:      cost.KindNotifier,
			Rule:      "notifier-disabled",
			Threshold: "gone",
			Severity:  cost.SeverityCritical,
			Title:     fmt.Sprintf("Notifier %s is disabled: its receiver says it is gone", dn.Name),
			Summary: fmt.Sprintf("costbot stopped sending to notifier %s: %s. Alerts meant for it are not delivered "+
				"until its configuration is fixed and costbot restarts.", dn.Name, cause),
		},
		Fingerprint: hex.EncodeToString(sum[:8]),
		Status:      cost.StatusFiring,
		StartsAt:    dn.Since,
		Reason:      cost.ReasonFirst,
	}
}

func (d *Dispatcher) deliver(ctx context.Context, n Notifier, job Job, h Hooks) Result {
	res := Result{Job: job}
	if dn, off := d.isDisabled(job.Notifier); off {
		res.Disabled = true
		res.Err = fmt.Errorf("notifier %q: %w since %s: %v", job.Notifier, ErrDisabled, dn.Since.UTC().Format(time.RFC3339), dn.Err)
		return res
	}
	if h.Claim != nil {
		if err := h.Claim(ctx, job); err != nil {
			res.Err = fmt.Errorf("notifier %q: not sent: %w", job.Notifier, err)
			return res
		}
	}
	record := h.Record
	log := d.opts.Logger.With("notifier", job.Notifier, "fingerprint", job.Alert.Fingerprint, "rule", job.Alert.Rule)
	bo := &backoff.ExponentialBackOff{
		InitialInterval:     d.opts.MinWait,
		RandomizationFactor: 0.2,
		Multiplier:          2,
		MaxInterval:         d.opts.MaxWait,
	}
	bo.Reset()
	for {
		if err := ctx.Err(); err != nil {
			if res.Err == nil {
				res.Err = fmt.Errorf("notifier %q: %w", job.Notifier, err)
			}
			res.Retryable = res.Err != nil && IsRetryable(res.Err)
			return res
		}
		res.Attempts++
		actx := ctx
		if job.ID != "" {
			actx = WithDelivery(ctx, Delivery{ID: job.ID, Unsure: job.Unsure || res.Attempts > 1})
		}
		ref, err := d.attempt(actx, n, job.Alert)
		if err == nil {
			res.Sent, res.Ref, res.Err, res.Retryable = true, ref, nil, false
			if record != nil {
				// The message is out: record it even if ctx ended meanwhile,
				// or the next cycle would send it again.
				rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), recordTimeout)
				rerr := record(rctx, job, ref)
				cancel()
				if rerr != nil {
					res.Err = fmt.Errorf("record send to notifier %q: %w", job.Notifier, rerr)
				}
			}
			return res
		}
		res.Err = fmt.Errorf("notifier %q: %w", job.Notifier, err)
		res.Retryable = IsRetryable(err)
		if IsGone(err) {
			res.Retryable, res.Disabled = false, true
			if d.disable(job.Notifier, err) {
				log.ErrorContext(ctx, "receiver is gone; notifier disabled", "error", err)
			}
			return res
		}
		if !res.Retryable || res.Attempts >= d.opts.MaxAttempts {
			return res
		}
		wait := max(bo.NextBackOff(), RetryAfter(err))
		wait = min(wait, d.opts.MaxWait)
		// Context deadlines are wall-clock time, whatever clock Now is.
		if dl, ok := ctx.Deadline(); ok && time.Until(dl) < wait {
			log.WarnContext(ctx, "send failed, no time left to retry", "attempt", res.Attempts, "wait", wait, "error", err)
			return res
		}
		log.WarnContext(ctx, "send failed, retrying", "attempt", res.Attempts, "wait", wait,
			"retry_at", d.opts.Now().Add(wait), "error", err)
		if serr := d.opts.Sleep(ctx, wait); serr != nil {
			return res // res.Err keeps the send error; the context ended
		}
	}
}

// attempt calls Notify once with the per-attempt timeout and turns a panic
// into a permanent error so that one buggy notifier cannot crash the cycle.
func (d *Dispatcher) attempt(parent context.Context, n Notifier, a cost.Alert) (ref *cost.MessageRef, err error) {
	ctx := parent
	if d.opts.AttemptTimeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(parent, d.opts.AttemptTimeout)
		defer cancel()
	}
	defer func() {
		if p := recover(); p != nil {
			ref, err = nil, Permanent(fmt.Errorf("notifier panicked: %v", p))
		}
	}()
	ref, err = n.Notify(ctx, a)
	if err != nil && parent.Err() == nil && ctx.Err() != nil {
		// Only this attempt timed out, not the caller's context: a slow
		// receiver is worth another try if time remains. %v, not %w: the
		// context error must not make the failure look final.
		return nil, Temporary(fmt.Errorf("attempt timed out after %s: %v", d.opts.AttemptTimeout, err))
	}
	return ref, err
}

func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
