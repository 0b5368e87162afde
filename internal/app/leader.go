package app

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/costbot/costbot/internal/store"
)

// DefaultLease is how long a replica leads a shared (PostgreSQL) state
// without renewing: a leader that dies is replaced within about this long.
// The leader renews every third of it.
const DefaultLease = 15 * time.Second

// standbyPoll is how often a standby replica looks for a newer cycle of the
// leader, to rebuild what its slash commands answer from.
const standbyPoll = 10 * time.Second

// leadership is one replica's view of the leader lease on a shared state:
// every replica serves HTTP (slash commands, buttons, /healthz) from the
// shared state, and only the one holding the lease runs the scheduled
// jobs, each with the lease's fence on its context (store.WithFence), so a
// deposed leader's late writes, claims included, fail instead of landing.
// A SQLite state has no leadership: its file lock admits one process.
type leadership struct {
	holder string
	ttl    time.Duration

	mu        sync.Mutex
	lease     store.Lease     // as last seen: ours when leading
	leading   bool            // holds the lease; tenure is live
	tenure    context.Context // cancelled when the lease is lost
	end       context.CancelFunc
	renewedAt time.Time // local clock, last successful acquire or renewal
	err       error     // the last failed acquire or renewal

	refreshing   atomic.Bool
	refreshedAt  time.Time // standby: when slash data was last rebuilt
	refreshErr   error
	seenRecorded time.Time // standby: LatestRecorded at the last rebuild
	polledAt     time.Time
}

// newHolder names this replica in the lease: host, pid and a random part,
// so a restarted process on the same host is a new holder.
func newHolder() string {
	host, err := os.Hostname()
	if err != nil || host == "" {
		host = "costbot"
	}
	return fmt.Sprintf("%s-%d-%04x", host, os.Getpid(), rand.Uint32()&0xffff)
}

// jobContext returns the context a scheduled job runs in and whether it
// runs at all: on a shared state only the leader runs jobs, with its fence.
func (a *App) jobContext(ctx context.Context) (context.Context, bool) {
	l := a.lead
	if l == nil {
		return ctx, true
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if !l.leading {
		return nil, false
	}
	return store.WithFence(l.tenure, l.lease.Fence()), true
}

// campaign keeps trying to lead (or keeps leading) until ctx ends, then
// gives the lease up so a standby takes over at once. onLead runs each time
// this replica becomes leader (the daemon runs a cycle at once: the old
// leader may have died mid-cycle, with deliveries in its outbox). While on
// standby it rebuilds the slash-command data after each cycle the leader
// records.
func (a *App) campaign(ctx context.Context, onLead func()) {
	l := a.lead
	tick := time.NewTicker(l.ttl / 3)
	defer tick.Stop()
	for {
		a.campaignOnce(ctx, onLead)
		select {
		case <-ctx.Done():
			a.stepDown("shutting down", true)
			return
		case <-tick.C:
		}
	}
}

func (a *App) campaignOnce(ctx context.Context, onLead func()) {
	l := a.lead
	actx, cancel := context.WithTimeout(ctx, l.ttl/3)
	lease, err := a.db.AcquireLease(actx, l.holder, l.ttl)
	cancel()
	if ctx.Err() != nil {
		return
	}
	l.mu.Lock()
	leading, prev := l.leading, l.lease
	if err != nil {
		l.err = err
		lost := leading && time.Since(l.renewedAt) > l.ttl*2/3
		l.mu.Unlock()
		a.log.WarnContext(ctx, "leader lease: cannot reach the state", "holder", l.holder, "error", err)
		if lost {
			a.stepDown("cannot renew the lease before it expires", false)
		}
		return
	}
	l.err = nil
	l.lease = lease
	if lease.Held {
		l.renewedAt = time.Now()
	}
	l.mu.Unlock()
	switch {
	case lease.Held && leading && lease.Epoch == prev.Epoch:
		return // renewed
	case lease.Held:
		if leading { // our lease had expired and we took it anew: the old fence is void
			a.stepDown("lease expired before it was renewed", false)
		}
		a.becomeLeader(ctx, lease)
		onLead()
	case leading:
		a.stepDown("the lease is held by "+lease.Holder, false)
	default:
		a.standbyRefresh(ctx)
	}
}

func (a *App) becomeLeader(ctx context.Context, lease store.Lease) {
	l := a.lead
	// The in-memory history may lag what the previous leader stored. A
	// standby rebuild holding the jobs lock empties it when it ends, so the
	// campaign (and the renewals) never wait for one.
	if a.jobs.TryLock() {
		a.hist = history{}
		a.jobs.Unlock()
	}
	l.mu.Lock()
	l.tenure, l.end = context.WithCancel(ctx)
	l.leading = true
	l.mu.Unlock()
	a.metrics.Leader(true, lease.Epoch)
	a.log.InfoContext(ctx, "leading: this replica runs the cycles", "holder", lease.Holder, "epoch", lease.Epoch,
		"lease", l.ttl.String())
}

// stepDown ends this replica's tenure: jobs in flight are cancelled and
// their fenced writes fail. release gives the lease up (clean shutdown).
func (a *App) stepDown(why string, release bool) {
	l := a.lead
	l.mu.Lock()
	was := l.leading
	if l.end != nil {
		l.end()
	}
	l.leading, l.tenure, l.end = false, nil, nil
	epoch := l.lease.Epoch
	l.mu.Unlock()
	if release && was {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		if err := a.db.ReleaseLease(ctx, l.holder); err != nil {
			a.log.Warn("release the leader lease", "error", err)
		}
		cancel()
	}
	if was {
		a.metrics.Leader(false, epoch)
		a.log.Warn("standing down: no longer the leader", "holder", l.holder, "epoch", epoch, "why", why)
	}
}

// standbyRefresh rebuilds the slash-command data from the shared state when
// the leader recorded something since the last rebuild (polled every
// standbyPoll): the same rules and the same publish a cycle runs, without
// fetching or alerting. It runs in the background, one at a time.
func (a *App) standbyRefresh(ctx context.Context) {
	l := a.lead
	l.mu.Lock()
	due := time.Since(l.polledAt) >= standbyPoll || l.refreshedAt.IsZero()
	if due {
		l.polledAt = time.Now()
	}
	l.mu.Unlock()
	if !due || !l.refreshing.CompareAndSwap(false, true) {
		return
	}
	go func() {
		defer l.refreshing.Store(false)
		latest, err := a.db.LatestRecorded(ctx)
		l.mu.Lock()
		unchanged := err == nil && !l.refreshedAt.IsZero() && latest.Equal(l.seenRecorded)
		l.mu.Unlock()
		if unchanged {
			return
		}
		if err == nil {
			err = a.rebuildSlashData(ctx)
		}
		l.mu.Lock()
		l.refreshErr = err
		if err == nil {
			l.refreshedAt, l.seenRecorded = time.Now(), latest
		}
		l.mu.Unlock()
		if err != nil && ctx.Err() == nil {
			a.log.WarnContext(ctx, "standby: rebuild slash-command data from the shared state", "error", err)
		}
	}()
}

// rebuildSlashData reloads the history from the store and publishes what a
// cycle at now would (budgets, rule problems, usage, open alerts): the
// slash commands of a standby answer what the leader's would.
func (a *App) rebuildSlashData(ctx context.Context) error {
	a.jobs.Lock()
	defer a.jobs.Unlock()
	if _, leading := a.jobContext(ctx); leading {
		return nil // became leader meanwhile: its cycles publish
	}
	a.hist = history{} // another process wrote the store
	now := a.now()
	in, err := a.inputFrom(ctx, a.db, now, map[string]error{})
	if err != nil {
		return err
	}
	// The figures and rule problems a cycle publishes, without running the
	// detectors: their findings are the leader's business.
	budgets, problems := a.rules.Standing(in)
	a.publish(ctx, in, budgets, problems)
	a.hist = history{} // not kept: the next rebuild reads the store again
	return nil
}

// leaderStatus describes the lease for /healthz and /readyz: state is nil
// on a SQLite state; standby is true when this replica does not lead, and
// problems say why a standby could not take over or answer.
func (a *App) leaderStatus() (state *leaderState, standby bool, problems []string) {
	l := a.lead
	if l == nil {
		return nil, false, nil
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	lease := l.lease
	state = &leaderState{Holder: lease.Holder, Epoch: lease.Epoch, Expires: lease.Expires, Self: l.holder}
	if l.err != nil {
		problems = append(problems, "leader lease: "+oneLine(l.err))
	}
	if l.leading {
		return state, false, problems
	}
	if lease.Holder == "" || time.Until(lease.Expires) < -l.ttl {
		problems = append(problems, "no replica holds the leader lease")
	}
	switch {
	case l.refreshErr != nil:
		problems = append(problems, "standby data: "+oneLine(l.refreshErr))
	case l.refreshedAt.IsZero():
		problems = append(problems, "standby: slash-command data not built yet")
	}
	return state, true, problems
}
