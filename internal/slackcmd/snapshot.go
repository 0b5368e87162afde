package slackcmd

import (
	"math"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/costbot/costbot/internal/cost"
)

// Data is what the daemon knows after its last cycle. The app hands a fresh
// value to (*Handler).SetData after every cycle; commands answer from it.
type Data struct {
	Accounts []cost.Account
	Usage    []cost.Usage // daily rows of every account, ~120 days; not read when History is set
	// History, when set, gives the rows one account at a time instead of
	// Usage (the daemon's compact history): the snapshot keeps the figures
	// it needs, not a copy of the rows, and a forecast reads the rows of
	// its accounts. It must not change once handed to SetData.
	History   History
	Cards     []cost.Card         // one per account when known
	Budgets   []cost.BudgetStatus // current periods
	Problems  []cost.Finding      // rule_problem findings: rules that cannot be evaluated
	Open      []cost.Alert        // currently firing alerts
	FetchedAt time.Time           // last successful fetch
	Interval  time.Duration       // fetch interval: older data says how old it is
	// CardStages evaluates the card rules this data was evaluated with, for
	// /costbot card; nil warns only about expired cards.
	CardStages CardFunc
}

// History is usage handed over one account at a time.
type History interface {
	// Accounts lists the ids of the accounts with rows, sorted.
	Accounts() []string
	// Rows returns the account's rows, ordered by day, appended to buf[:0]
	// (buf may be nil). The caller owns the result; Rows must be safe for
	// concurrent use.
	Rows(account string, buf []cost.Usage) []cost.Usage
}

const day = 24 * time.Hour

type scopeKind int

const (
	scopeAll scopeKind = iota
	scopeAccount
	scopeFamily
	scopeService
)

var kindLabel = [...]string{"all", "account", "family", "service"}

// series is the daily cost of one scope on the snapshot's day axis.
type series struct {
	kind    scopeKind
	name    string // display name
	account string // account id (accounts and account/service series)
	family  string // service family (services)
	lower   string // lower-case name
	alias   string // lower-case alternative name (account id)
	words   []string
	daily   []float64 // cost per axis day; a sum over currencies when mixed
	cum     []float64 // prefix sums: cum[i] = sum(daily[:i])
	// currency is the one currency of the scope's usage, or "" when it has
	// usage in several; then byCur holds one series per currency, and daily
	// must not be shown.
	currency string
	byCur    map[string]*series
	// children break the scope down by service, largest total first.
	children []*series
}

// label names the scope for replies, e.g. "service Workers Standard Requests".
func (s *series) label() string {
	if s.kind == scopeAll {
		return "all accounts"
	}
	return kindLabel[s.kind] + " " + s.name
}

// snapshot is Data plus indexes computed once per SetData, so a request only
// sums a few prefix-sum differences.
type snapshot struct {
	data     Data
	start    time.Time // first axis day (UTC midnight)
	ndays    int
	lastDay  time.Time // last day with a known cost; zero when none
	currency string    // the one currency of the usage; "" when mixed
	mixed    bool      // more than one currency in the usage
	currs    []string  // every currency in the usage, sorted
	total    *series
	named    []*series  // accounts, families, services: the lookup index
	fuzzy    *nameIndex // "did you mean" index of named
	services []*series  // services merged over accounts
	accounts map[string]string
	withRows map[string]bool         // the accounts with rows
	rows     map[string][]cost.Usage // every row of each account, for forecasts (Data.Usage)
	hist     History                 // Data.History: forecasts read the rows from it
	cache    replyCache
}

// maxCachedReplies bounds the per-snapshot reply cache; it is emptied when full.
const maxCachedReplies = 1024

// replyCache holds rendered replies for one snapshot.
type replyCache struct {
	mu sync.Mutex
	m  map[string][]byte
}

func (c *replyCache) get(k string) []byte {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.m[k]
}

func (c *replyCache) put(k string, b []byte) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.m == nil || len(c.m) >= maxCachedReplies {
		c.m = make(map[string][]byte)
	}
	c.m[k] = b
}

func newSnapshot(d Data) *snapshot {
	s := &snapshot{data: d, accounts: make(map[string]string), withRows: make(map[string]bool), hist: d.History}
	for _, a := range d.Accounts {
		s.accounts[a.ID] = a.Name
	}
	// each calls f for every row: those of Data.Usage in order, or those
	// of Data.History account by account, read into one buffer.
	each := func(f func(u *cost.Usage)) {
		if d.History == nil {
			for i := range d.Usage {
				f(&d.Usage[i])
			}
			return
		}
		var buf []cost.Usage
		for _, id := range d.History.Accounts() {
			buf = d.History.Rows(id, buf)
			for i := range buf {
				f(&buf[i])
			}
		}
	}
	var first, last time.Time
	currs := map[string]bool{}
	if d.History == nil {
		s.rows = make(map[string][]cost.Usage)
		perAccount := map[string]int{}
		for _, u := range d.Usage {
			perAccount[u.Account]++
		}
		for id, n := range perAccount {
			s.rows[id] = make([]cost.Usage, 0, n)
		}
		for _, u := range d.Usage {
			s.rows[u.Account] = append(s.rows[u.Account], u)
		}
	}
	each(func(u *cost.Usage) {
		s.withRows[u.Account] = true
		if !u.CostKnown {
			return
		}
		if u.Currency != "" {
			currs[u.Currency] = true
		}
		dd := cost.Day(u.Day)
		if first.IsZero() || dd.Before(first) {
			first = dd
		}
		if dd.After(last) {
			last = dd
		}
	})
	for c := range currs {
		s.currs = append(s.currs, c)
	}
	sort.Strings(s.currs)
	switch len(s.currs) {
	case 0:
		s.currency, s.currs = "USD", []string{"USD"}
	case 1:
		s.currency = s.currs[0]
	default:
		s.mixed = true
	}
	s.start, s.lastDay = first, last
	if !first.IsZero() {
		s.ndays = int(last.Sub(first)/day) + 1
	}

	newSeries := func(kind scopeKind, name string) *series {
		return &series{kind: kind, name: name, lower: strings.ToLower(name), words: strings.Fields(strings.ToLower(name)), daily: make([]float64, s.ndays)}
	}
	s.total = newSeries(scopeAll, "all accounts")
	accts := map[string]*series{}
	fams := map[string]*series{}
	svcs := map[string]*series{}
	acctSvcs := map[[2]string]*series{}
	famKids := map[[2]*series]bool{} // (family, service) already a child
	for _, a := range d.Accounts {
		as := newSeries(scopeAccount, displayAccount(a))
		as.account, as.alias = a.ID, strings.ToLower(a.ID)
		accts[a.ID] = as
	}
	each(func(u *cost.Usage) {
		if !u.CostKnown {
			return
		}
		i := int(cost.Day(u.Day).Sub(first) / day)
		as := accts[u.Account]
		if as == nil {
			as = newSeries(scopeAccount, u.Account)
			as.account, as.alias = u.Account, strings.ToLower(u.Account)
			accts[u.Account] = as
		}
		sv := svcs[u.Service]
		if sv == nil {
			sv = newSeries(scopeService, u.Service)
			sv.family = u.Family
			svcs[u.Service] = sv
		}
		asv := acctSvcs[[2]string{u.Account, u.Service}]
		if asv == nil {
			asv = newSeries(scopeService, u.Service)
			asv.account, asv.family = u.Account, u.Family
			acctSvcs[[2]string{u.Account, u.Service}] = asv
			as.children = append(as.children, asv)
		}
		add := func(x *series) {
			x.daily[i] += u.Cost
			if !s.mixed {
				return
			}
			if x.byCur == nil {
				x.byCur = map[string]*series{}
			}
			c := x.byCur[u.Currency]
			if c == nil {
				c = newSeries(x.kind, x.name)
				c.account, c.family, c.currency = x.account, x.family, u.Currency
				x.byCur[u.Currency] = c
			}
			c.daily[i] += u.Cost
		}
		add(s.total)
		add(as)
		add(sv)
		add(asv)
		if u.Family != "" {
			fs := fams[u.Family]
			if fs == nil {
				fs = newSeries(scopeFamily, u.Family)
				fams[u.Family] = fs
			}
			add(fs)
			if k := [2]*series{fs, sv}; !famKids[k] {
				famKids[k] = true
				fs.children = append(fs.children, sv)
			}
		}
	})
	for _, m := range []map[string]*series{accts, fams, svcs} {
		for _, x := range m {
			s.named = append(s.named, x)
		}
	}
	for _, x := range svcs {
		s.services = append(s.services, x)
		s.total.children = append(s.total.children, x)
	}
	all := append([]*series{s.total}, s.named...)
	for _, x := range acctSvcs {
		all = append(all, x)
	}
	for _, x := range all {
		x.cum = prefixSums(x.daily)
		switch {
		case !s.mixed:
			x.currency = s.currency
		case len(x.byCur) <= 1:
			x.currency = s.currs[0] // no usage at all: any currency reads $0.00 right
			for c := range x.byCur {
				x.currency = c
			}
			x.byCur = nil
		default:
			for _, c := range x.byCur {
				c.cum = prefixSums(c.daily)
			}
		}
	}
	sort.Slice(s.named, func(i, j int) bool {
		if s.named[i].kind != s.named[j].kind {
			return s.named[i].kind < s.named[j].kind
		}
		return s.named[i].name < s.named[j].name
	})
	s.fuzzy = newNameIndex(s.named)
	sortByName(s.services)
	for _, x := range all {
		sort.SliceStable(x.children, func(i, j int) bool {
			a, b := x.children[i].cum[s.ndays], x.children[j].cum[s.ndays]
			if a != b {
				return a > b
			}
			return x.children[i].name < x.children[j].name
		})
	}
	return s
}

func prefixSums(daily []float64) []float64 {
	cum := make([]float64, len(daily)+1)
	for i, v := range daily {
		cum[i+1] = cum[i] + v
	}
	return cum
}

// in returns x's part in currency cur: x itself when all of x is in cur,
// nil when x has no usage in cur.
func (x *series) in(cur string) *series {
	if x.currency == cur {
		return x
	}
	return x.byCur[cur]
}

// currencies lists the currencies of x's usage, sorted; one entry unless mixed.
func (x *series) currencies() []string {
	if x.byCur == nil {
		return []string{x.currency}
	}
	out := make([]string, 0, len(x.byCur))
	for c := range x.byCur {
		out = append(out, c)
	}
	sort.Strings(out)
	return out
}

func sortByName(xs []*series) {
	sort.Slice(xs, func(i, j int) bool { return xs[i].name < xs[j].name })
}

func displayAccount(a cost.Account) string {
	if a.Name != "" {
		return a.Name
	}
	return a.ID
}

// index maps t to its position on the day axis, clamped to [0, ndays].
func (s *snapshot) index(t time.Time) int {
	if s.ndays == 0 {
		return 0
	}
	i := int(math.Floor(float64(t.Sub(s.start)) / float64(day)))
	return max(0, min(i, s.ndays))
}

// dataEnd is the end of the complete days: today's UTC midnight, or the
// day after the last day with a known cost when billing data lags further.
func (s *snapshot) dataEnd(today time.Time) time.Time {
	if s.lastDay.IsZero() || !s.lastDay.Add(day).Before(today) {
		return today
	}
	return s.lastDay.Add(day)
}

// sum returns the cost of x over p.
func (s *snapshot) sum(x *series, p cost.Period) float64 {
	return round2(x.cum[s.index(p.End)] - x.cum[s.index(p.Start)])
}

// dayValue returns the cost of x on the UTC day d (0 outside the axis).
func (s *snapshot) dayValue(x *series, d time.Time) float64 {
	i := s.index(d)
	if i >= s.ndays || d.Before(s.start) {
		return 0
	}
	return x.daily[i]
}

func round2(v float64) float64 { return math.Round(v*100) / 100 }
