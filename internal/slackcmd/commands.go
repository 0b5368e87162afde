package slackcmd

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/slack-go/slack"

	"github.com/costbot/costbot/internal/cost"
)

// ForecastFunc is the budget rules' forecast (the app passes
// rules.BillingForecast): for the rows match selects (nil: all) among rows,
// every row of one account, it returns the current billing period, the spend
// so far, the forecast for the whole period and the days left, in the rows'
// currency, or an error saying why there is none. /costbot forecast thus
// shows what a budget over the same scope and billing period computes.
type ForecastFunc func(rows []cost.Usage, match func(cost.Usage) bool, now time.Time) (cost.BudgetStatus, error)

// CardFunc returns the card rules' findings for cards as of now (the app
// evaluates the rules set of the cycle with only the cards): one
// card_expiry finding per card at one of the rules' warning stages (30, 7
// and 1 days by default) or expired. /costbot card warns exactly where these
// findings do.
type CardFunc func(now time.Time, accounts []cost.Account, cards []cost.Card) []cost.Finding

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
	if snap != nil && len(sc.Text) <= maxCachedText && !writesSilences(c.Name) {
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
	if writesSilences(c.Name) {
		return h.silenceCommand(ctx, sc, now), true
	}
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
		h.log.ErrorContext(ctx, "slash command failed", "subcommand", c.Name, "text", truncate(sc.Text, 200), "user", sc.UserID, "channel", sc.ChannelID, "error", err)
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
	"• `/costbot forecast [scope]` forecast for the billing period, as budgets compute it\n" +
	"• `/costbot anomalies` open anomalies\n" +
	"• `/costbot card` payment card expiry per account\n" +
	"• `/costbot silences`, `/costbot silence add [4h] matcher... comment`, `/costbot silence expire ID` hold alerts (Alertmanager matchers: `service=~\"R2.*\"`)\n" +
	"Periods: `mtd` (default), `today`, `yesterday`, `7d`, `30d`, `last-month`; they count complete days only, so `7d` ends yesterday. " +
	"Names are fuzzy: `workers req` finds _Workers Standard Requests_; narrow with `service:`, `family:`, `account:`."

func cmdHelp(*env) (reply, error) {
	return reply{Text: "costbot commands: spend, top, budgets, forecast, anomalies, card, silences", Blocks: []slack.Block{section(helpText)}}, nil
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

// mismatch is the line shown instead of a sum over several currencies, in
// the words budget rules use for the same condition.
func mismatch(x *series) string {
	return fmt.Sprintf(":warning: currency mismatch: %s has usage in %s; amounts are shown per currency, never summed.",
		x.label(), strings.Join(x.currencies(), ", "))
}

func cmdSpend(e *env) (reply, error) {
	q, ps := scopeArgs(e.args, "mtd")
	x, alt := resolveScope(e, q, "spend")
	if alt != nil {
		return *alt, nil
	}
	s := e.snap
	today := cost.Day(e.now)
	p, label, note := ps.resolve(today, s.dataEnd(today))
	pp := previous(p)
	ndays := max(1, int(p.End.Sub(p.Start)/day))
	blocks := []slack.Block{header(truncate(fmt.Sprintf("Spend · %s · %s", x.name, label), maxHeaderText))}
	if note != "" {
		blocks = append(blocks, contextLine(note))
	}
	var sums []string
	for _, cur := range x.currencies() {
		xc := x.in(cur)
		total, prev := s.sum(xc, p), s.sum(xc, pp)
		sums = append(sums, cost.Money(total, cur))
		spent := "Spent"
		if x.currency == "" {
			spent += " in " + cur
		}
		blocks = append(blocks, fieldsSection(
			spent, cost.Money(total, cur),
			"Period", cost.FormatPeriod(p),
			"Previous period", fmt.Sprintf("%s (%s)", cost.Money(prev, cur), cost.Change(total, prev)),
			"Daily average", cost.Money(total/float64(ndays), cur),
		))
	}
	text := fmt.Sprintf("Spend for %s, %s (%s): %s", x.label(), label, cost.FormatPeriod(p), strings.Join(sums, " + "))
	if x.currency == "" {
		text = fmt.Sprintf("Spend for %s, %s (%s), per currency: %s", x.label(), label, cost.FormatPeriod(p), strings.Join(sums, ", "))
		blocks = append(blocks, section(mismatch(x)))
		return reply{Text: text, Blocks: blocks}, nil
	}
	cur := x.currency
	total := s.sum(x, p)
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
			contextLine(fmt.Sprintf("`%s` %s", sparkline(vals), cost.FormatPeriod(cost.Period{Start: days[0], End: days[len(days)-1].Add(day)}))),
		)
	}
	return reply{Text: text, Blocks: blocks}, nil
}

func share(v, total float64) string {
	if total == 0 {
		return "–"
	}
	return cost.Percent(v, total)
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
	s := e.snap
	today := cost.Day(e.now)
	p, label, note := ps.resolve(today, s.dataEnd(today))
	pp := previous(p)
	blocks := []slack.Block{header(fmt.Sprintf("Top services · %s", label))}
	if note != "" {
		blocks = append(blocks, contextLine(note))
	}
	var totals []string
	for _, cur := range s.currs {
		b, total := topBlocks(s, cur, n, p, pp)
		blocks = append(blocks, b...)
		totals = append(totals, cost.Money(total, cur))
	}
	if s.mixed {
		blocks = append(blocks, contextLine(fmt.Sprintf(":warning: currency mismatch: usage is in %s; services are ranked per currency, never summed.", strings.Join(s.currs, ", "))))
	}
	text := fmt.Sprintf("Top services, %s (%s): total %s", label, cost.FormatPeriod(p), strings.Join(totals, ", "))
	return reply{Text: text, Blocks: blocks}, nil
}

// topBlocks ranks the services' spend in currency cur over p and their
// change against pp.
func topBlocks(s *snapshot, cur string, n int, p, pp cost.Period) ([]slack.Block, float64) {
	type row struct {
		name      string
		cur, prev float64
	}
	rows := make([]row, 0, len(s.services))
	var total float64
	for _, x := range s.services {
		xc := x.in(cur)
		if xc == nil {
			continue
		}
		r := row{x.name, s.sum(xc, p), s.sum(xc, pp)}
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
		movers = append(movers, []string{truncate(r.name, 32), cost.SignedMoney(r.cur-r.prev, cur), cost.Change(r.cur, r.prev), cost.Money(r.cur, cur)})
	}
	in := ""
	if s.mixed {
		in = " in " + cur
	}
	blocks := []slack.Block{
		section(fmt.Sprintf("*Top %d by cost%s* (%s, total %s)\n%s", min(n, len(rows)), in, cost.FormatPeriod(p), cost.Money(round2(total), cur), table(top))),
	}
	if len(movers) > 1 {
		blocks = append(blocks, section(fmt.Sprintf("*Top movers%s* vs %s\n%s", in, cost.FormatPeriod(pp), table(movers))))
	} else {
		blocks = append(blocks, section(fmt.Sprintf("*Top movers%s* vs %s: no change", in, cost.FormatPeriod(pp))))
	}
	return blocks, round2(total)
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
		line := fmt.Sprintf("%s *%s* (%s, %s)\n`%s` %s of %s (*%s*) · forecast %s · %s",
			icon, b.Rule, b.Scope.String(), cost.FormatPeriod(b.Period),
			bar(b.Percent()), cost.Money(b.Actual, cur), cost.Money(b.Budget, cur), cost.Percent(b.Actual, b.Budget),
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

// errNoForecast is returned when the handler was built without the rules' forecast.
var errNoForecast = &userError{msg: "Forecasts are not available: costbot runs without its budget rules here."}

// accountIDs lists every account with usage: configured order, then the
// rest sorted.
func (s *snapshot) accountIDs() []string {
	var out []string
	seen := map[string]bool{}
	for _, a := range s.data.Accounts {
		if !seen[a.ID] && s.withRows[a.ID] {
			out = append(out, a.ID)
		}
		seen[a.ID] = true
	}
	var extra []string
	for id := range s.withRows {
		if !seen[id] {
			extra = append(extra, id)
		}
	}
	sort.Strings(extra)
	return append(out, extra...)
}

// accountRows returns every row of account id, ordered by day: shared
// with the snapshot (Data.Usage) or read for the caller (Data.History).
func (s *snapshot) accountRows(id string) []cost.Usage {
	if s.hist != nil {
		if !s.withRows[id] {
			return nil
		}
		return s.hist.Rows(id, nil)
	}
	return s.rows[id]
}

// scopeRows is how a slash-command scope maps onto budget rows: the
// accounts it covers and the rows of each it selects (nil: all).
func (s *snapshot) scopeRows(x *series) ([]string, func(cost.Usage) bool) {
	ids := s.accountIDs()
	if x.account != "" {
		ids = []string{x.account}
	}
	switch x.kind {
	case scopeFamily:
		return ids, func(u cost.Usage) bool { return u.Family == x.name }
	case scopeService:
		return ids, func(u cost.Usage) bool { return u.Service == x.name }
	}
	return ids, nil
}

func cmdForecast(e *env) (reply, error) {
	q := strings.Join(e.args, " ")
	x, alt := resolveScope(e, q, "forecast")
	if alt != nil {
		return *alt, nil
	}
	if e.forecast == nil {
		return reply{}, errNoForecast
	}
	s := e.snap
	ids, match := s.scopeRows(x)
	type result struct {
		account string
		st      cost.BudgetStatus
	}
	var ok []result
	var problems []string
	for _, id := range ids {
		rows := s.accountRows(id)
		if match != nil && !slices.ContainsFunc(rows, match) {
			continue
		}
		st, err := e.forecast(rows, match, e.now)
		if err != nil {
			problems = append(problems, fmt.Sprintf(":warning: *%s*: %s", s.accountName(id), err))
			continue
		}
		ok = append(ok, result{s.accountName(id), st})
	}
	// One total only when every account shares the currency and the billing
	// period: mixed currencies are never summed.
	same := len(ok) > 0 && len(problems) == 0
	for _, r := range ok {
		same = same && r.st.Currency == ok[0].st.Currency && r.st.Period == ok[0].st.Period
	}
	var blocks []slack.Block
	var text string
	switch {
	case same:
		var sum cost.BudgetStatus
		sum.Period, sum.Currency, sum.DaysLeft = ok[0].st.Period, ok[0].st.Currency, ok[0].st.DaysLeft
		for _, r := range ok {
			sum.Actual += r.st.Actual
			sum.Forecast += r.st.Forecast
		}
		cur, per := sum.Currency, cost.FormatPeriod(sum.Period)
		text = fmt.Sprintf("Forecast for %s, billing period %s: %s", x.label(), per, cost.Money(sum.Forecast, cur))
		blocks = append(blocks,
			header(truncate(fmt.Sprintf("Forecast · %s · %s", x.name, per), maxHeaderText)),
			fieldsSection(
				"Forecast for the billing period", cost.Money(sum.Forecast, cur),
				"Spent so far", cost.Money(sum.Actual, cur),
				"Still to come", cost.Money(sum.Forecast-sum.Actual, cur),
				"Days left", strconv.Itoa(sum.DaysLeft),
			))
	default:
		text = fmt.Sprintf("Forecast for %s, per account", x.label())
		blocks = append(blocks, header(truncate(fmt.Sprintf("Forecast · %s · billing period", x.name), maxHeaderText)))
	}
	if len(ok) > 1 || (!same && len(ok) > 0) {
		rows := [][]string{{"Account", "Billing period", "Spent", "Forecast"}}
		for _, r := range ok {
			rows = append(rows, []string{truncate(r.account, 24), cost.FormatPeriod(r.st.Period), cost.Money(r.st.Actual, r.st.Currency), cost.Money(r.st.Forecast, r.st.Currency)})
		}
		blocks = append(blocks, section(table(rows)))
	}
	if len(problems) > 0 {
		blocks = append(blocks, section(strings.Join(problems, "\n")))
	}
	if !same && len(ok) > 1 && len(problems) == 0 {
		why := "the accounts' billing periods differ"
		for _, r := range ok {
			if r.st.Currency != ok[0].st.Currency {
				why = "currency mismatch: the accounts bill in different currencies"
			}
		}
		blocks = append(blocks, contextLine(":warning: No total: "+why+"; amounts are never summed across them."))
	}
	if len(ok) == 0 && len(problems) == 0 {
		blocks = append(blocks, section("No usage to forecast for "+x.label()+"."))
	}
	blocks = append(blocks, contextLine("The budget rules' weekday-aware forecast over each account's current billing period, from complete days only."))
	return reply{Text: text, Blocks: blocks}, nil
}

// accountName is the configured name of account id, else the id.
func (s *snapshot) accountName(id string) string {
	if n := s.accounts[id]; n != "" {
		return n
	}
	return id
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
				cost.Money(d.Observed, cur), cost.Money(d.Expected, cur), cost.Change(d.Observed, d.Expected), cost.SignedMoney(d.Impact, cur))
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
	var list []cost.Card
	for _, c := range s.data.Cards {
		cards[c.Account] = c
		list = append(list, c)
	}
	// The card rules decide the stages (30, 7 and 1 days by default), so this
	// warns exactly where an alert fires.
	stage := map[string]cost.Finding{}
	if s.data.CardStages != nil {
		for _, f := range s.data.CardStages(e.now, s.data.Accounts, list) {
			if f.Kind == cost.KindCardExpiry && f.Clear == "" {
				stage[f.Scope.Account] = f
			}
		}
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
		if !e.now.Before(exp) {
			status = "EXPIRED"
		}
		f, warned := stage[displayAccount(a)]
		if !warned {
			f, warned = stage[a.ID]
		}
		switch {
		case warned:
			icon := ":information_source:"
			switch f.Severity {
			case cost.SeverityCritical:
				icon = ":red_circle:"
			case cost.SeverityWarning:
				icon = ":large_yellow_circle:"
			}
			warn = append(warn, fmt.Sprintf("%s %s (`%s`)", icon, f.Title, f.Threshold))
		case status == "EXPIRED":
			warn = append(warn, fmt.Sprintf(":red_circle: *%s*: card •••• %s has expired", displayAccount(a), last4))
		}
		rows = append(rows, []string{truncate(displayAccount(a), 24), "•••• " + last4, fmt.Sprintf("%02d/%d", c.ExpiryMonth, c.ExpiryYear), status})
	}
	blocks := []slack.Block{header("Payment cards"), section(table(rows))}
	if len(warn) > 0 {
		blocks = append(blocks, section(strings.Join(warn, "\n")))
	}
	return reply{Text: fmt.Sprintf("Payment cards for %d accounts", len(s.data.Accounts)), Blocks: blocks}, nil
}
