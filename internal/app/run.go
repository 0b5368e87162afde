package app

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"sync"
	"time"

	"github.com/go-co-op/gocron/v2"
	"github.com/jonboulle/clockwork"
	slackapi "github.com/slack-go/slack"

	"github.com/costbot/costbot/internal/config"
)

// RunOptions configures the daemon.
type RunOptions struct {
	// Clock drives the scheduler (default: the real clock). Tests pass a fake.
	Clock clockwork.Clock
	// Listener overrides cfg.http.listen (tests pass a :0 listener).
	Listener net.Listener
	// Ready, when set, is called with the HTTP address once serving.
	Ready func(addr string)
	// Reload, when set, makes each value received reload the config and
	// rules (App.Reload); main passes its SIGHUP channel.
	Reload <-chan os.Signal
	// Reloaded, when set, is called with each reload's outcome (tests wait on it).
	Reloaded func(error)
	// Lease is how long leadership of a shared (PostgreSQL) state lasts
	// without renewal (default DefaultLease).
	Lease time.Duration
}

// Run is the daemon: gocron jobs for the cycle (every schedule.cycle, first
// run at start), the daily card check and the daily digest in
// schedule.timezone, the HTTP endpoint, and Socket Mode when slack.app_token
// is set. On a shared (PostgreSQL) state every replica serves HTTP and
// Socket Mode, and only the holder of the leader lease runs the jobs
// (leader.go); a replica that becomes leader runs a cycle at once. Each
// value on o.Reload reloads the config and rules (Reload); a failed reload
// is logged and changes nothing. It blocks until ctx ends,
// then shuts down in reverse order.
func (a *App) Run(ctx context.Context, o RunOptions) error {
	if o.Clock == nil {
		o.Clock = clockwork.NewRealClock()
	}
	loc, err := time.LoadLocation(a.cfg.Schedule.TimeZone)
	if err != nil {
		return fmt.Errorf("schedule.timezone: %w", err)
	}
	s, err := gocron.NewScheduler(gocron.WithLocation(loc), gocron.WithClock(o.Clock), gocron.WithStopTimeout(30*time.Second))
	if err != nil {
		return fmt.Errorf("create scheduler: %w", err)
	}
	cycle := a.cfg.Schedule.Cycle
	if a.db.Shared() {
		ttl := o.Lease
		if ttl <= 0 {
			ttl = DefaultLease
		}
		a.lead = &leadership{holder: newHolder(), ttl: ttl}
	}
	job := func(name string, timeout time.Duration, f func(context.Context, time.Time) (*Report, error)) func() {
		return func() {
			lctx, leading := a.jobContext(ctx)
			if !leading {
				a.log.DebugContext(ctx, "standby: the leader runs this job", "job", name)
				return
			}
			jctx, cancel := context.WithTimeout(lctx, timeout)
			defer cancel()
			start := o.Clock.Now()
			rep, err := f(jctx, start)
			if err == nil && rep != nil {
				err = rep.Err()
			}
			if err != nil {
				a.log.ErrorContext(ctx, "job failed", "job", name, "error", err)
				return
			}
			a.log.InfoContext(ctx, "job done", "job", name, "findings", len(rep.Findings), "sent", rep.Sent(), "took", o.Clock.Since(start).Round(time.Millisecond))
		}
	}
	single := gocron.WithSingletonMode(gocron.LimitModeReschedule)
	cycleJob, err := s.NewJob(gocron.DurationJob(cycle), gocron.NewTask(job("cycle", cycle*9/10, a.Cycle)),
		gocron.WithName("cycle"), single, gocron.WithStartAt(gocron.WithStartImmediately()))
	if err != nil {
		return fmt.Errorf("schedule cycle: %w", err)
	}
	h, m := clock(a.cfg.Schedule.CardCheck)
	if _, err := s.NewJob(gocron.DailyJob(1, gocron.NewAtTimes(gocron.NewAtTime(h, m, 0))), gocron.NewTask(job("card_check", 10*time.Minute, a.CardCheck)),
		gocron.WithName("card_check"), single); err != nil {
		return fmt.Errorf("schedule card check: %w", err)
	}
	if a.cfg.Schedule.Digest != "" {
		h, m := clock(a.cfg.Schedule.Digest)
		if _, err := s.NewJob(gocron.DailyJob(1, gocron.NewAtTimes(gocron.NewAtTime(h, m, 0))), gocron.NewTask(job("digest", 10*time.Minute, a.Digest)),
			gocron.WithName("digest"), single); err != nil {
			return fmt.Errorf("schedule digest: %w", err)
		}
	}
	if wd, ok := config.ParseWeekday(a.cfg.Schedule.WeeklyDigest); ok {
		at := a.cfg.Schedule.Digest
		if at == "" {
			at = "09:00"
		}
		h, m := clock(at)
		if _, err := s.NewJob(gocron.WeeklyJob(1, gocron.NewWeekdays(wd), gocron.NewAtTimes(gocron.NewAtTime(h, m, 0))),
			gocron.NewTask(job("weekly-digest", 10*time.Minute, a.WeeklyDigest)), gocron.WithName("weekly-digest"), single); err != nil {
			return fmt.Errorf("schedule weekly digest: %w", err)
		}
	}

	var srv *http.Server
	errc := make(chan error, 2)
	ln := o.Listener
	if ln == nil && a.cfg.HTTP.Listen != "" {
		ln, err = net.Listen("tcp", a.cfg.HTTP.Listen)
		if err != nil {
			return fmt.Errorf("listen on %s: %w", a.cfg.HTTP.Listen, err)
		}
	}
	if ln != nil {
		srv = &http.Server{
			Handler:           a.Handler(),
			ReadHeaderTimeout: 5 * time.Second,
			ReadTimeout:       10 * time.Second,
			WriteTimeout:      10 * time.Second,
			IdleTimeout:       60 * time.Second,
			MaxHeaderBytes:    64 << 10,
		}
		go func() {
			if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
				errc <- fmt.Errorf("http: %w", err)
			}
		}()
		a.log.InfoContext(ctx, "listening", "addr", ln.Addr().String())
		if o.Ready != nil {
			o.Ready(ln.Addr().String())
		}
	}
	if a.cfg.Slack.AppToken != "" && a.cfg.Slack.BotToken != "" {
		api := slackapi.New(a.cfg.Slack.BotToken.Value(), slackapi.OptionAPIURL(a.cfg.Slack.APIURL),
			slackapi.OptionAppLevelToken(a.cfg.Slack.AppToken.Value()), slackapi.OptionHTTPClient(a.http))
		go func() {
			if err := a.cmds.RunSocketMode(ctx, api); ctx.Err() == nil {
				errc <- fmt.Errorf("socket mode: %w", err)
			}
		}()
	}
	var campaigning sync.WaitGroup
	if a.lead != nil {
		a.campaignOnce(ctx, func() {}) // the first try decides before the first cycle starts
		campaigning.Go(func() {
			a.campaign(ctx, func() {
				if err := cycleJob.RunNow(); err != nil {
					a.log.WarnContext(ctx, "run a cycle on taking the lead", "error", err)
				}
			})
		})
	}
	s.Start()
	a.log.InfoContext(ctx, "costbot started", "cycle", cycle.String(), "accounts", len(a.accounts), "notifiers", len(a.notifiers))

	var (
		runErr    error
		reloading sync.Mutex // one reload at a time; a cycle in flight delays only the swap
	)
wait:
	for {
		select {
		case <-ctx.Done():
			break wait
		case runErr = <-errc:
			break wait
		case <-o.Reload:
			go func() {
				reloading.Lock()
				defer reloading.Unlock()
				err := a.Reload(ctx)
				if err != nil {
					a.log.ErrorContext(ctx, "reload failed; keeping the running config and rules", "file", a.cfg.File, "error", err)
				}
				if o.Reloaded != nil {
					o.Reloaded(err)
				}
			}()
		}
	}
	a.log.Info("shutting down")
	if srv != nil {
		sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		if err := srv.Shutdown(sctx); err != nil {
			a.log.Warn("http shutdown", "error", err)
		}
		cancel()
	}
	if err := s.Shutdown(); err != nil {
		a.log.Warn("scheduler shutdown", "error", err)
	}
	campaigning.Wait() // the lease is given up: a standby takes over at once
	return runErr
}

func clock(hhmm string) (uint, uint) {
	var h, m uint
	fmt.Sscanf(hhmm, "%d:%d", &h, &m)
	return h, m
}

// healthz answers 200 with status "ok" while the daemon's cycles succeed,
// and 503 otherwise, saying why: "degraded" when the last cycle failed
// (a fetch, a save, a send; its error is shown), "stalled" when no cycle
// has ended for three cycle intervals. Per account it shows the last good
// fetch and the last error.
func (a *App) healthz(w http.ResponseWriter, r *http.Request) {
	type account struct {
		Name      string    `json:"name"`
		LastGood  time.Time `json:"last_good_fetch,omitzero"`
		LastError string    `json:"last_error,omitempty"`
	}
	body := struct {
		Status   string       `json:"status"`
		LastRun  time.Time    `json:"last_cycle,omitzero"`
		Error    string       `json:"error,omitempty"`
		Leader   *leaderState `json:"leader,omitempty"`
		Accounts []account    `json:"accounts"`
	}{Status: "ok"}
	a.mu.Lock()
	last, lastErr, lastAt := a.last, a.lastErr, a.lastAt
	a.mu.Unlock()
	var standby bool
	body.Leader, standby, _ = a.leaderStatus()
	if standby {
		// A standby runs no cycles: it is alive while it serves; /readyz
		// says whether it could answer and take over.
		body.Status = "standby"
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(body)
		return
	}
	if lastErr != nil {
		body.Status, body.Error = "degraded", oneLine(lastErr)
	}
	if last != nil && a.cfg.Schedule.Cycle > 0 && a.wall().Sub(lastAt) > 3*a.cfg.Schedule.Cycle {
		body.Status = "stalled"
		body.Error = fmt.Sprintf("no cycle has ended for %s (cycle is %s)", a.wall().Sub(lastAt).Round(time.Second), a.cfg.Schedule.Cycle)
	}
	if last != nil {
		body.LastRun = last.Now
		for _, ar := range last.Accounts {
			acc := account{Name: ar.Account.Name}
			if ar.Err != nil {
				acc.LastError = oneLine(ar.Err)
			}
			if t, err := a.db.LastGoodFetch(r.Context(), ar.Account.ID); err == nil {
				acc.LastGood = t
			}
			body.Accounts = append(body.Accounts, acc)
		}
	}
	w.Header().Set("Content-Type", "application/json")
	if body.Status != "ok" {
		w.WriteHeader(http.StatusServiceUnavailable)
	}
	_ = json.NewEncoder(w).Encode(body)
}

// readyz answers 200 when the daemon is doing its job: the last cycle
// succeeded within two cycle intervals, every rule could be evaluated, the
// state can be written and no notifier is disabled (its receiver answered
// 410 Gone).
// Otherwise it answers 503 with the reasons, so a failing cycle, a failing
// notifier or a rule that cannot be evaluated reaches the orchestrator.
func (a *App) readyz(w http.ResponseWriter, r *http.Request) {
	a.mu.Lock()
	last, lastErr, lastAt := a.last, a.lastErr, a.lastAt
	a.mu.Unlock()
	body := struct {
		Status    string       `json:"status"`
		LastCycle time.Time    `json:"last_cycle,omitzero"`
		Leader    *leaderState `json:"leader,omitempty"`
		Reasons   []string     `json:"reasons,omitempty"`
	}{Status: "ready", LastCycle: lastAt}
	leader, standby, problems := a.leaderStatus()
	body.Leader = leader
	body.Reasons = append(body.Reasons, problems...)
	switch {
	case standby:
		// The leader's cycles are its own /readyz's business; a standby is
		// ready when it answers from fresh shared data and could lead.
	case last == nil:
		body.Reasons = append(body.Reasons, "no cycle has finished yet")
	case lastErr != nil:
		body.Reasons = append(body.Reasons, "last cycle failed: "+oneLine(lastErr))
	case a.wall().Sub(lastAt) > 2*a.cfg.Schedule.Cycle:
		body.Reasons = append(body.Reasons, fmt.Sprintf("last cycle ended %s ago (cycle is %s)", a.wall().Sub(lastAt).Round(time.Second), a.cfg.Schedule.Cycle))
	}
	if last != nil && !standby {
		for _, p := range problemsOf(last.Findings) {
			body.Reasons = append(body.Reasons, p.Title)
		}
	}
	if err := a.db.CheckWritable(r.Context()); err != nil {
		body.Reasons = append(body.Reasons, oneLine(err))
	}
	for _, dn := range a.dispatcher.Disabled() {
		body.Reasons = append(body.Reasons, fmt.Sprintf("notifier %s is disabled since %s: %s", dn.Name, dn.Since.UTC().Format(time.RFC3339), oneLine(dn.Err)))
	}
	w.Header().Set("Content-Type", "application/json")
	if standby {
		body.Status = "standby"
	}
	if len(body.Reasons) > 0 {
		body.Status = "not ready"
		w.WriteHeader(http.StatusServiceUnavailable)
	}
	_ = json.NewEncoder(w).Encode(body)
}

// leaderState is the leader lease as /healthz and /readyz show it on a
// shared state.
type leaderState struct {
	Holder  string    `json:"holder"`
	Epoch   int64     `json:"epoch"`
	Expires time.Time `json:"expires,omitzero"`
	Self    string    `json:"self"`
}
