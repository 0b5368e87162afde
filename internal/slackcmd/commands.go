package slackcmd

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/slack-go/slack"

	"github.com/costbot/costbot/internal/cost"
)

// ForecastFunc estimates a period's total from daily history (rules.Forecast).
type ForecastFunc func(days []time.Time, values []float64, period cost.Period, now time.Time) (float64, []float64)

// env is what every subcommand gets: the snapshot, the clock, its arguments.
type env struct {
	snap     *snapshot
	now      time.Time
	args     []string
	forecast ForecastFunc
}

// subcommand answers one /costbot subcommand from the snapshot.
type subcommand func(e *env) (reply, error)

var subcommands map[string]subcommand

func init() {
	subcommands = map[string]subcommand{
		"help":      cmdHelp,
		"spend":     cmdSpend,
		"top":       cmdTop,
		"budgets":   cmdBudgets,
		"budget":    cmdBudgets,
		"forecast":  cmdForecast,
		"anomalies": cmdAnomalies,
		"anomaly":   cmdAnomalies,
		"card":      cmdCard,
		"cards":     cmdCard,
	}
}

// userError is an error with a short message fit for the user; the wrapped
// error goes to the log.
type userError struct {
	msg string
	err error
}

func (e *userError) Error() string {
	if e.err == nil {
		return e.msg
	}
	return e.msg + ": " + e.err.Error()
}

func (e *userError) Unwrap() error { return e.err }

// errNoData is returned before the first successful fetch.
var errNoData = &userError{msg: "No cost data yet: the first fetch has not finished. Try again in a minute."}

// runCommand answers one slash command. It is the one place that turns a
// subcommand's error into a short reply plus a full log line; HTTP and
// Socket Mode both call it.
func (h *Handler) runCommand(ctx context.Context, sc slack.SlashCommand) reply {
	rep, _ := h.run(ctx, sc, parseCommand(sc.Text), h.snap.Load(), h.now())
	return rep
}

// commandJSON is runCommand for HTTP: the rendered JSON of successful
// replies is cached per snapshot and minute, so repeated questions cost a
// map lookup.
func (h *Handler) commandJSON(ctx context.Context, sc slack.SlashCommand) ([]byte, error) {
	c := parseCommand(sc.Text)
	snap, now := h.snap.Load(), h.now()
	var key string
	if snap != nil && len(sc.Text) <= maxCachedText {
		key = c.cacheKey(now)
		if b := snap.cache.get(key); b != nil {
			return b, nil
		}
	}
	rep, ok := h.run(ctx, sc, c, snap, now)
	b, err := json.Marshal(rep)
	if err != nil {
		return nil, fmt.Errorf("encode reply: %w", err)
	}
	if ok && key != "" {
		snap.cache.put(key, b)
	}
	return b, nil
}

// run answers the parsed command c; ok is false when the reply reports an error.
func (h *Handler) run(ctx context.Context, sc slack.SlashCommand, c command, snap *snapshot, now time.Time) (_ reply, ok bool) {
	f, known := subcommands[c.Name]
	if !known {
		f = cmdHelp
	}
	rep, err := func() (rep reply, err error) {
		defer func() {
			if r := recover(); r != nil {
				err = fmt.Errorf("panic: %v", r)
			}
		}()
		if snap == nil && c.Name != "help" && known {
			return reply{}, errNoData
		}
		if snap == nil {
			snap = newSnapshot(Data{})
		}
		return f(&env{snap: snap, now: now, args: c.Args, forecast: h.forecast})
	}()
	if err != nil {
		var ue *userError
		msg := "Sorry, that failed. The error is in costbot's log."
		if errors.As(err, &ue) {
			msg = ue.msg
		}
		h.log.ErrorContext(ctx, "slash command failed", "subcommand", c.Name, "text", truncate(sc.Text, 200), "user", sc.UserID, "channel", sc.ChannelID, "err", err)
		return reply{ResponseType: slack.ResponseTypeEphemeral, Text: msg, Blocks: []slack.Block{section(":warning: " + msg)}}, false
	}
	if !known && c.Name != "" {
		rep.Blocks = append([]slack.Block{section(fmt.Sprintf("Unknown subcommand `%s`.", truncate(c.Name, 40)))}, rep.Blocks...)
	}
	if known && c.Name != "help" {
		if note := staleness(snap.data, now); note != "" {
			rep.Blocks = append(rep.Blocks, contextLine(note))
		}
	}
	rep.ResponseType = slack.ResponseTypeEphemeral
	if c.Share {
		rep.ResponseType = slack.ResponseTypeInChannel
	}
	rep.Blocks = fit(rep.Blocks)
	return rep, true
}

// staleness says how old the data is when it is older than the fetch interval.
func staleness(d Data, now time.Time) string {
	if d.FetchedAt.IsZero() {
		return ":warning: no successful fetch yet"
	}
	a := now.Sub(d.FetchedAt)
	if d.Interval > 0 && a > d.Interval {
		return fmt.Sprintf(":warning: data from %s ago (last fetch %s)", age(a), stamp(d.FetchedAt))
	}
	return ""
}

const helpText = "*costbot* answers from its last fetch. Add `--share` to post the answer in the channel.\n" +
	"• `/costbot spend [account|service|family] [period]` spend with daily chart\n" +
	"• `/costbot top [n] [period]` top services and biggest movers (default 5, 7d)\n" +
	"• `/costbot budgets` every budget: spent, %, forecast, days left\n" +
	"• `/costbot forecast [scope]` month-end forecast\n" +
	"• `/costbot anomalies` open anomalies\n" +
	"• `/costbot card` payment card expiry per account\n" +
	"Periods: `mtd` (default), `today`, `yesterday`, `7d`, `30d`, `last-month`. " +
	"Names are fuzzy: `workers req` finds _Workers Standard Requests_; narrow with `service:`, `family:`, `account:`."

func cmdHelp(*env) (reply, error) {
	return reply{Text: "costbot commands: spend, top, budgets, forecast, anomalies, card", Blocks: []slack.Block{section(helpText)}}, nil
}

// scopeArgs splits args into a scope name and an optional period word
// anywhere ("spend 7d workers" and "spend workers 7d" are the same).
func scopeArgs(args []string, def string) (string, periodSpec) {
	ps, _ := parsePeriod(def)
	var rest []string
	for _, a := range args {
		if p, ok := parsePeriod(a); ok {
			ps = p // the last period word wins
			continue
		}
		rest = append(rest, a)
	}
	return strings.Join(rest, " "), ps
}

// resolveScope looks q up; when it does not name exactly one scope it returns
// a reply listing candidates or suggestions instead.
func resolveScope(e *env, q, usage string) (*series, *reply) {
	res := e.snap.lookup(q)
	if res.hit != nil {
		return res.hit, nil
	}
	var b strings.Builder
	if len(res.candidates) > 0 {
		fmt.Fprintf(&b, "`%s` matches %d names. Which one?\n", truncate(q, 60), len(res.candidates))
		for i, c := range res.candidates {
			if i == 10 {
				fmt.Fprintf(&b, "… and %d more\n", len(res.candidates)-10)
				break
			}
			fmt.Fprintf(&b, "• `%s %s:%s` (%s)\n", usage, kindLabel[c.kind], c.name, kindLabel[c.kind])
		}
	} else {
		fmt.Fprintf(&b, "No account, family or service matches `%s`.", truncate(q, 60))
		if len(res.suggestions) > 0 {
			b.WriteString(" Did you mean:\n")
			for _, c := range res.suggestions {
				fmt.Fprintf(&b, "• `%s %s:%s`\n", usage, kindLabel[c.kind], c.name)
			}
		} else {
			b.WriteString(" `/costbot top 15` lists service names.")
		}
	}
	return nil, &reply{Text: b.String(), Blocks: []slack.Block{section(b.String())}}
}

// chartWindow returns up to 20 days ending with the period (clamped to the
// last day with data) and x's cost on each.
func chartWindow(s *snapshot, x *series, p cost.Period) ([]time.Time, []float64) {
	end := p.End
	if !s.lastDay.IsZero() && end.After(s.lastDay.Add(day)) {
		end = s.lastDay.Add(day)
	}
	if s.ndays == 0 {
		return nil, nil
	}
	n := min(maxChartPoints, int(end.Sub(s.start)/day))
	var days []time.Time
	var vals []float64
	for d := end.Add(-time.Duration(n) * day); d.Before(end); d = d.Add(day) {
		days = append(days, d)
		vals = append(vals, s.dayValue(x, d))
	}
	return days, vals
}

func cmdSpend(e *env) (reply, error) {
	q, ps := scopeArgs(e.args, "mtd")
	x, alt := resolveScope(e, q, "spend")
	if alt != nil {
		return *alt, nil
	}
	s, cur := e.snap, e.snap.currency
	p := ps.resolve(e.now)
	total := s.sum(x, p)
	prev := s.sum(x, previous(p))
	// Average over the days that have data: billing lags, today is often empty.
	dataEnd := p.End
	if !s.lastDay.IsZero() && dataEnd.After(s.lastDay.Add(day)) {
		dataEnd = s.lastDay.Add(day)
	}
	ndays := max(1, int(dataEnd.Sub(p.Start)/day))
	text := fmt.Sprintf("Spend for %s, %s: %s", x.label(), ps.label, cost.Money(total, cur))
	blocks := []slack.Block{
		header(truncate(fmt.Sprintf("Spend · %s · %s", x.name, ps.label), maxHeaderText)),
		fieldsSection(
			"Spent", cost.Money(total, cur),
			"Period", periodRange(p),
			"Previous period", fmt.Sprintf("%s (%s)", cost.Money(prev, cur), percentChange(total, prev)),
			"Daily average", cost.Money(total/float64(ndays), cur),
		),
	}
	if len(x.children) > 1 {
		rows := [][]string{{"Service", "Cost", "Share"}}
		type kv struct {
			name string
			v    float64
		}
		var kvs []kv
		for _, c := range x.children {
			if v := s.sum(c, p); v != 0 {
				kvs = append(kvs, kv{c.name, v})
			}
		}
		sort.SliceStable(kvs, func(i, j int) bool { return kvs[i].v > kvs[j].v })
		for i, k := range kvs {
			if i == 8 {
				rows = append(rows, []string{fmt.Sprintf("… %d more", len(kvs)-8), "", ""})
				break
			}
			rows = append(rows, []string{truncate(k.name, 32), cost.Money(k.v, cur), share(k.v, total)})
		}
		if len(kvs) > 0 {
			blocks = append(blocks, section(table(rows)))
		}
	}
	days, vals := chartWindow(s, x, p)
	if len(days) > 0 {
		blocks = append(blocks,
			lineChart(fmt.Sprintf("Daily cost, last %d days", len(days)), "Cost per day ("+cur+")", days, vals),
			contextLine(fmt.Sprintf("`%s` %s – %s", sparkline(vals), days[0].Format("2 Jan"), days[len(days)-1].Format("2 Jan"))),
		)
	}
	if s.mixed {
		blocks = append(blocks, contextLine(":warning: usage has more than one currency; sums mix them"))
	}
	return reply{Text: text, Blocks: blocks}, nil
}

func share(v, total float64) string {
	if total == 0 {
		return "–"
	}
	return fmt.Sprintf("%.0f%%", 100*v/total)
}

func cmdTop(e *env) (reply, error) {
	n, ps := 5, periodSpec{key: "7d", label: "last 7 days", days: 7}
	for _, a := range e.args {
		if p, ok := parsePeriod(a); ok {
			ps = p
			continue
		}
		v, err := strconv.Atoi(a)
		if err != nil || v < 1 {
			return reply{}, &userError{msg: fmt.Sprintf("`top` takes a count and a period, e.g. `/costbot top 10 30d`; got `%s`.", truncate(a, 40))}
		}
		n = min(v, 15)
	}
	s, cur := e.snap, e.snap.currency
	p := ps.resolve(e.now)
	pp := previous(p)
	type row struct {
		name      string
		cur, prev float64
	}
	rows := make([]row, 0, len(s.services))
	var total float64
	for _, x := range s.services {
		r := row{x.name, s.sum(x, p), s.sum(x, pp)}
		total += r.cur
		if r.cur != 0 || r.prev != 0 {
			rows = append(rows, r)
		}
	}
	sort.SliceStable(rows, func(i, j int) bool { return rows[i].cur > rows[j].cur })
	top := [][]string{{"Service", "Cost", "Share"}}
	for i := 0; i < len(rows) && i < n; i++ {
		top = append(top, []string{truncate(rows[i].name, 32), cost.Money(rows[i].cur, cur), share(rows[i].cur, total)})
	}
	sort.SliceStable(rows, func(i, j int) bool {
		return math.Abs(rows[i].cur-rows[i].prev) > math.Abs(rows[j].cur-rows[j].prev)
	})
	movers := [][]string{{"Service", "Change", "%", "Now"}}
	for i := 0; i < len(rows) && i < n; i++ {
		r := rows[i]
		if round2(r.cur-r.prev) == 0 {
			break
		}
		movers = append(movers, []string{truncate(r.name, 32), signedMoney(r.cur-r.prev, cur), percentChange(r.cur, r.prev), cost.Money(r.cur, cur)})
	}
	blocks := []slack.Block{
		header(fmt.Sprintf("Top services · %s", ps.label)),
		section(fmt.Sprintf("*Top %d by cost* (%s, total %s)\n%s", min(n, len(rows)), periodRange(p), cost.Money(total, cur), table(top))),
	}
	if len(movers) > 1 {
		blocks = append(blocks, section(fmt.Sprintf("*Top movers* vs %s\n%s", periodRange(pp), table(movers))))
	} else {
		blocks = append(blocks, section(fmt.Sprintf("*Top movers* vs %s: no change", periodRange(pp))))
	}
	text := fmt.Sprintf("Top services, %s: total %s", ps.label, cost.Money(total, cur))
	return reply{Text: text, Blocks: blocks}, nil
}

func cmdBudgets(e *env) (reply, error) {
	bs := append([]cost.BudgetStatus(nil), e.snap.data.Budgets...)
	problems := problemBlocks(e.snap.data.Problems)
	if len(bs) == 0 {
		msg := "No budgets are configured. Add one under `rules/` (see docs/rules.md)."
		if len(problems) > 0 {
			msg = "No budget could be evaluated."
		}
		return reply{Text: msg, Blocks: append([]slack.Block{section(msg)}, problems...)}, nil
	}
	sort.SliceStable(bs, func(i, j int) bool { return bs[i].Percent() > bs[j].Percent() })
	blocks := []slack.Block{header(fmt.Sprintf("Budgets · %d", len(bs)))}
	for _, b := range bs {
		cur := b.Currency
		if cur == "" {
			cur = e.snap.currency
		}
		icon := ":large_green_circle:"
		switch {
		case b.Percent() >= 100:
			icon = ":red_circle:"
		case b.Percent() >= 80 || (b.Budget > 0 && b.Forecast > b.Budget):
			icon = ":large_yellow_circle:"
		}
		line := fmt.Sprintf("%s *%s* (%s, %s)\n`%s` %s of %s (*%.0f%%*) · forecast %s · %s",
			icon, b.Rule, b.Scope.String(), periodRange(b.Period),
			bar(b.Percent()), cost.Money(b.Actual, cur), cost.Money(b.Budget, cur), b.Percent(),
			cost.Money(b.Forecast, cur), daysLeft(b.DaysLeft))
		if !b.CrossDate.IsZero() {
			line += fmt.Sprintf(" · crosses %s", b.CrossDate.Format("Mon 2 Jan"))
		}
		blocks = append(blocks, section(line))
	}
	blocks = append(blocks, problems...)
	return reply{Text: fmt.Sprintf("%d budgets", len(bs)), Blocks: blocks}, nil
}

// problemBlocks lists the rules that cannot be evaluated, so a silent rule
// is never mistaken for one within budget.
func problemBlocks(ps []cost.Finding) []slack.Block {
	if len(ps) == 0 {
		return nil
	}
	var b strings.Builder
	fmt.Fprintf(&b, "*Rules that cannot be evaluated* · %d\n", len(ps))
	for i, p := range ps {
		if i == 10 {
			fmt.Fprintf(&b, "…and %d more", len(ps)-10)
			break
		}
		fmt.Fprintf(&b, ":warning: %s\n", p.Title)
	}
	return []slack.Block{section(strings.TrimRight(b.String(), "\n"))}
}

func daysLeft(n int) string {
	if n == 1 {
		return "1 day left"
	}
	return fmt.Sprintf("%d days left", n)
}

// bar renders a 10-cell progress bar for a percentage.
func bar(pct float64) string {
	n := max(0, min(10, int(math.Round(pct/10))))
	return strings.Repeat("█", n) + strings.Repeat("░", 10-n)
}

func cmdForecast(e *env) (reply, error) {
	q := strings.Join(e.args, " ")
	x, alt := resolveScope(e, q, "forecast")
	if alt != nil {
		return *alt, nil
	}
	s, cur := e.snap, e.snap.currency
	today := cost.Day(e.now)
	month := cost.Period{Start: time.Date(today.Year(), today.Month(), 1, 0, 0, 0, 0, time.UTC)}
	month.End = month.Start.AddDate(0, 1, 0)
	spent := s.sum(x, cost.Period{Start: month.Start, End: today.Add(day)})
	days, vals := history(s, x, today)
	var total float64
	method := "weekday-aware forecast"
	if e.forecast != nil && len(days) > 0 {
		total, _ = e.forecast(days, vals, month, e.now)
	} else {
		total, method = runRate(s, x, month, today), "7-day run rate"
	}
	left := int(month.End.Sub(today) / day)
	text := fmt.Sprintf("Month-end forecast for %s: %s", x.label(), cost.Money(total, cur))
	blocks := []slack.Block{
		header(fmt.Sprintf("Forecast · %s · %s", x.name, month.Start.Format("January 2006"))),
		fieldsSection(
			"Month-end forecast", cost.Money(total, cur),
			"Spent so far", cost.Money(spent, cur),
			"Still to come", cost.Money(total-spent, cur),
			"Days left", strconv.Itoa(left),
		),
		contextLine(fmt.Sprintf("Method: %s over %d days of history", method, len(days))),
	}
	return reply{Text: text, Blocks: blocks}, nil
}

// history returns x's daily values from the first axis day through the last
// day with data before or on today.
func history(s *snapshot, x *series, today time.Time) ([]time.Time, []float64) {
	end := min(s.index(today.Add(day)), s.ndays)
	days := make([]time.Time, end)
	for i := range days {
		days[i] = s.start.Add(time.Duration(i) * day)
	}
	return days, append([]float64(nil), x.daily[:end]...) // the callee may not touch the snapshot
}

// runRate is the fallback forecast: month-to-date spend plus the mean of the
// last 7 days with data for each remaining day.
func runRate(s *snapshot, x *series, month cost.Period, today time.Time) float64 {
	if s.ndays == 0 {
		return 0
	}
	last := s.lastDay
	if last.After(today) {
		last = today
	}
	w := cost.Period{Start: last.Add(-6 * day), End: last.Add(day)}
	mean := s.sum(x, w) / 7
	actual := s.sum(x, cost.Period{Start: month.Start, End: last.Add(day)})
	rest := max(0, int(month.End.Sub(last.Add(day))/day))
	return round2(actual + mean*float64(rest))
}

func cmdAnomalies(e *env) (reply, error) {
	var as []cost.Alert
	for _, a := range e.snap.data.Open {
		if a.Kind == cost.KindAnomaly && a.Status != cost.StatusResolved {
			as = append(as, a)
		}
	}
	if len(as) == 0 {
		msg := ":white_check_mark: No open anomalies."
		return reply{Text: "No open anomalies", Blocks: []slack.Block{section(msg)}}, nil
	}
	impact := func(a cost.Alert) float64 {
		if a.Anomaly != nil {
			return math.Abs(a.Anomaly.Impact)
		}
		return 0
	}
	sort.SliceStable(as, func(i, j int) bool { return impact(as[i]) > impact(as[j]) })
	blocks := []slack.Block{header(fmt.Sprintf("Open anomalies · %d", len(as)))}
	for i, a := range as {
		if i == 20 {
			blocks = append(blocks, contextLine(fmt.Sprintf("… and %d more", len(as)-20)))
			break
		}
		cur := a.Currency
		if cur == "" {
			cur = e.snap.currency
		}
		line := fmt.Sprintf("*%s*\n%s", a.Title, a.Scope.String())
		if d := a.Anomaly; d != nil {
			line += fmt.Sprintf(" · %s: %s vs expected %s (%s, %s/day)", d.Day.Format("Mon 2 Jan"),
				cost.Money(d.Observed, cur), cost.Money(d.Expected, cur), percentChange(d.Observed, d.Expected), signedMoney(d.Impact, cur))
			if !d.Since.IsZero() && d.Since.Before(d.Day) {
				line += " · since " + d.Since.Format("Mon 2 Jan")
			}
		}
		line += fmt.Sprintf(" · `%s`", a.Fingerprint)
		blocks = append(blocks, section(line))
	}
	text := fmt.Sprintf("%d open anomalies", len(as))
	if len(as) == 1 {
		text = "1 open anomaly"
	}
	return reply{Text: text, Blocks: blocks}, nil
}

func cmdCard(e *env) (reply, error) {
	s := e.snap
	cards := map[string]cost.Card{}
	for _, c := range s.data.Cards {
		cards[c.Account] = c
	}
	rows := [][]string{{"Account", "Card", "Expires", "Left"}}
	var warn []string
	for _, a := range s.data.Accounts {
		c, ok := cards[a.ID]
		if !ok {
			rows = append(rows, []string{truncate(displayAccount(a), 24), "none", "–", "–"})
			continue
		}
		exp := c.ExpiresAt()
		left := int(math.Floor(float64(exp.Sub(e.now)) / float64(day)))
		last4 := c.Last4()
		if last4 == "" {
			last4 = "????"
		}
		status := fmt.Sprintf("%d d", left)
		switch {
		case left <= 0:
			status = "EXPIRED"
			warn = append(warn, fmt.Sprintf(":red_circle: *%s*: card •••• %s has expired", displayAccount(a), last4))
		case left <= 60:
			warn = append(warn, fmt.Sprintf(":large_yellow_circle: *%s*: card •••• %s expires in %d days", displayAccount(a), last4, left))
		}
		rows = append(rows, []string{truncate(displayAccount(a), 24), "•••• " + last4, fmt.Sprintf("%02d/%d", c.ExpiryMonth, c.ExpiryYear), status})
	}
	blocks := []slack.Block{header("Payment cards"), section(table(rows))}
	if len(warn) > 0 {
		blocks = append(blocks, section(strings.Join(warn, "\n")))
	}
	return reply{Text: fmt.Sprintf("Payment cards for %d accounts", len(s.data.Accounts)), Blocks: blocks}, nil
}
