package slackcmd

import (
	"fmt"
	"math/rand/v2"
	"sort"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/costbot/costbot/internal/cost"
	"github.com/costbot/costbot/internal/cputime"
)

// suggestScan is the linear scan the name index replaced, kept as the
// baseline of its tests and benchmarks. It returns up to three names closest to q by edit distance, against
// the whole name and each of its words.
func (s *snapshot) suggestScan(q string, want scopeKind) []*series {
	type cand struct {
		x *series
		d int
	}
	var cs []cand
	for _, x := range s.named {
		if want != scopeAll && x.kind != want {
			continue
		}
		d := editDistance(q, x.lower)
		for _, w := range x.words {
			d = min(d, editDistance(q, w)+1)
		}
		if d <= max(2, utf8.RuneCountInString(q)/2) {
			cs = append(cs, cand{x, d})
		}
	}
	sort.SliceStable(cs, func(i, j int) bool { return cs[i].d < cs[j].d })
	var out []*series
	for i := 0; i < len(cs) && i < 3; i++ {
		out = append(out, cs[i].x)
	}
	return out
}

// editDistance is the Levenshtein distance over runes, capped input length.
func editDistance(a, b string) int {
	ra, rb := []rune(a), []rune(b)
	if len(ra) > 64 {
		ra = ra[:64]
	}
	if len(rb) > 64 {
		rb = rb[:64]
	}
	prev := make([]int, len(rb)+1)
	cur := make([]int, len(rb)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(ra); i++ {
		cur[0] = i
		for j := 1; j <= len(rb); j++ {
			c := 1
			if ra[i-1] == rb[j-1] {
				c = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+c)
		}
		prev, cur = cur, prev
	}
	return prev[len(rb)]
}

// lookupScan is the lookup the name index replaced: every named series
// compared with the query in order.
func (s *snapshot) lookupScan(q string) lookupResult {
	q = strings.ToLower(strings.TrimSpace(q))
	want := scopeAll
	for k := scopeAccount; k <= scopeService; k++ {
		if rest, ok := strings.CutPrefix(q, kindLabel[k]+":"); ok {
			want, q = k, strings.TrimSpace(rest)
		}
	}
	qw := strings.Fields(q)
	if len(qw) == 0 {
		return lookupResult{hit: s.total}
	}
	var exact, partial []*series
	for _, x := range s.named {
		if want != scopeAll && x.kind != want {
			continue
		}
		switch {
		case x.lower == q || x.alias == q:
			exact = append(exact, x)
		case strings.HasPrefix(x.lower, q) || (x.alias != "" && strings.HasPrefix(x.alias, q)) || wordPrefixes(qw, x.words):
			partial = append(partial, x)
		}
	}
	switch {
	case len(exact) == 1:
		return lookupResult{hit: exact[0]}
	case len(exact) > 1:
		return lookupResult{candidates: exact}
	case len(partial) == 1:
		return lookupResult{hit: partial[0]}
	case len(partial) > 1:
		return lookupResult{candidates: partial}
	}
	return lookupResult{suggestions: s.suggestScan(q, want)}
}

func TestSnapshot_Lookup_SameAsScan(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	for _, n := range []int{30, 1_000} {
		d := manyNames(n)
		d.Usage = append(d.Usage, cost.Usage{Account: "acct0", Family: "Workers", Service: "Workers", Day: d.Usage[0].Day, Cost: 1, CostKnown: true, Currency: "USD"},
			cost.Usage{Account: "acct1", Family: "R2", Service: "staging", Day: d.Usage[0].Day, Cost: 1, CostKnown: true, Currency: "USD"})
		s := newSnapshot(d)
		queries := append([]string{
			"workers", "Workers", "service:workers", "family:workers", "account:prod", "acct0", "ACCT", "staging", "account:staging",
			"workers req", "w", "r", "1", "17", "class a", "d1 global", "storage gb", "family: r2", "service: r2 class", "  workers   standard  ",
			"minutes delivered 4242", "load", "prod", "unknown thing",
		}, typos...)
		for range 40 {
			x := s.named[r.IntN(len(s.named))]
			ws := x.words
			w := ws[r.IntN(len(ws))]
			queries = append(queries, x.lower, x.lower[:1+r.IntN(len(x.lower))], w[:1+r.IntN(len(w))], typo(r, x.lower))
			if len(ws) > 2 {
				queries = append(queries, ws[0][:1]+" "+ws[2])
			}
		}
		for _, q := range queries {
			t.Run(fmt.Sprintf("OK/%d names/%q", n, q), func(t *testing.T) {
				got, want := s.lookup(q), s.lookupScan(q)
				g := fmt.Sprint(labelsOf([]*series{got.hit}), labelsOf(got.candidates), labelsOf(got.suggestions))
				w := fmt.Sprint(labelsOf([]*series{want.hit}), labelsOf(want.candidates), labelsOf(want.suggestions))
				if g != w {
					t.Errorf("lookup(%q) = %s, the scan gives %s", q, g, w)
				}
			})
		}
	}
}

// manyNames is Data with n distinct service names over 3 accounts, built
// like real Cloudflare names ("Workers Standard Requests 17"), a day each.
func manyNames(n int) Data {
	fams := []string{"Workers", "R2", "D1", "Queues", "Images", "Stream", "Argo", "Load Balancing", "Vectorize", "Durable Objects"}
	kinds := []string{"Standard", "Unbound", "Class A", "Class B", "Paid", "Infrequent Access", "Regional", "Global"}
	units := []string{"Requests", "CPU ms", "Storage GB-month", "Operations", "Rows Read", "Rows Written", "Minutes Delivered", "Egress GB"}
	day := time.Date(2026, 11, 20, 0, 0, 0, 0, time.UTC)
	d := Data{Accounts: []cost.Account{{ID: "acct0", Name: "production"}, {ID: "acct1", Name: "staging"}, {ID: "acct2", Name: "dev"}}}
	for i := range n {
		f := fams[i%len(fams)]
		name := fmt.Sprintf("%s %s %s %d", f, kinds[(i/len(fams))%len(kinds)], units[(i/len(fams)/len(kinds))%len(units)], i)
		d.Usage = append(d.Usage, cost.Usage{Account: fmt.Sprintf("acct%d", i%3), Family: f, Service: name, Day: day,
			BillingPeriod: cost.Period{Start: time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC), End: time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)},
			Cost:          float64(i%97) + 0.25, CostKnown: true, Currency: "USD"})
	}
	return d
}

// typo misspells s: a rune dropped, doubled, swapped with the next or
// replaced, chosen by r.
func typo(r *rand.Rand, s string) string {
	rs := []rune(s)
	if len(rs) < 2 {
		return s + "x"
	}
	i := r.IntN(len(rs) - 1)
	switch r.IntN(4) {
	case 0:
		rs = append(rs[:i], rs[i+1:]...)
	case 1:
		rs = append(rs[:i+1], rs[i:]...)
	case 2:
		rs[i], rs[i+1] = rs[i+1], rs[i]
	default:
		rs[i] = 'a' + rune(r.IntN(26))
	}
	return string(rs)
}

// typos are the hand-picked queries of the tests and benchmarks: a word
// misspelt, a whole name misspelt, names no series is near, short and
// long queries.
var typos = []string{
	"wrokers", "workres standard", "r3", "d11", "qeueus", "imagse unbound requests 17", "strem paid",
	"argo global egress gb 9999", "vectorise", "durable objcts class a", "load balancng", "zzzzqqqq", "x",
	"productoin", "stagign", "devv", "storage gb-mnth", "rows raed", "minutes delivred 4242",
	"workers standard requests 10000", strings.Repeat("workers ", 12), "ŵörkérs", "",
}

func TestNameIndex_Suggest(t *testing.T) {
	r := rand.New(rand.NewPCG(13, 10))
	for _, n := range []int{0, 30, 10_000} {
		s := newSnapshot(manyNames(n))
		queries := append([]string(nil), typos...)
		random := 200
		if n > 1000 {
			random = 5 // the scan takes ~40 ms a query, ten times that under -race
		}
		for range random {
			if len(s.named) == 0 {
				break
			}
			x := s.named[r.IntN(len(s.named))]
			q := typo(r, x.lower)
			if ws := x.words; len(ws) > 1 && r.IntN(2) == 0 {
				q = typo(r, ws[r.IntN(len(ws))])
			}
			queries = append(queries, q)
		}
		for _, q := range queries {
			kinds := []scopeKind{scopeAll, scopeAccount, scopeFamily, scopeService}
			if n > 1000 {
				kinds = kinds[:1]
			}
			for _, want := range kinds {
				t.Run(fmt.Sprintf("OK/%d names/%s/%q", n, kindLabel[want], q), func(t *testing.T) {
					got, exp := s.fuzzy.suggest(s.named, q, want), s.suggestScan(q, want)
					if fmt.Sprint(labelsOf(got)) != fmt.Sprint(labelsOf(exp)) {
						t.Errorf("suggest %q = %q, the scan gives %q", q, labelsOf(got), labelsOf(exp))
					}
				})
			}
		}
	}
}

// TestDistance: Myers' bit-parallel distance equals the dynamic
// programme's, and every lower bound stays at or below it.
func TestDistance(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	words := []string{"", "a", "workers", "wrokers", "requests", "ŵörkérs", "r2", "d1", "storage gb-month",
		strings.Repeat("ab", 40), strings.Repeat("ba", 41), strings.Repeat("é", 64), "workers service 1230", "workres servce 123"}
	for range 150 {
		words = append(words, typo(r, words[r.IntN(len(words))]))
	}
	for _, a := range words {
		ta := newTerm(a)
		pat := newPattern(ta.runes)
		for _, b := range words {
			exact := editDistance(a, b)
			tb := newTerm(b)
			if got := pat.distance(tb.runes); got != exact {
				t.Fatalf("distance(%q, %q) = %d, want %d", a, b, got, exact)
			}
			if lb := lowerBound(&ta, &tb); lb > exact {
				t.Fatalf("lowerBound(%q, %q) = %d above the distance %d", a, b, lb, exact)
			}
			ix := newNameIndex([]*series{{lower: b}})
			sc := ix.getScratch()
			ix.commonGrams(&ta, sc)
			if gb := gramBound(len(ta.runes), len(tb.runes), int(sc.common[0])); gb > exact {
				t.Fatalf("gramBound(%q, %q) = %d above the distance %d", a, b, gb, exact)
			}
		}
	}
}

func labelsOf(xs []*series) []string {
	var out []string
	for _, x := range xs {
		if x != nil {
			out = append(out, x.label())
		}
	}
	return out
}

// BenchmarkSuggest compares the name index with the linear scan it
// replaced on 10,000 distinct service names, one typo per op. Run:
//
//	go test -run '^$' -bench 'Suggest|Lookup|NewSnapshot' -benchmem ./internal/slackcmd/
func BenchmarkSuggest(b *testing.B) {
	s := newSnapshot(manyNames(10_000))
	qs := benchTypos(s)
	b.Run("scan", func(b *testing.B) {
		b.ReportAllocs()
		i, cpu := 0, cputime.Process()
		for b.Loop() {
			s.suggestScan(qs[i%len(qs)], scopeAll)
			i++
		}
		reportCPU(b, cpu)
	})
	b.Run("index", func(b *testing.B) {
		b.ReportAllocs()
		i, cpu := 0, cputime.Process()
		for b.Loop() {
			s.fuzzy.suggest(s.named, qs[i%len(qs)], scopeAll)
			i++
		}
		reportCPU(b, cpu)
	})
}

// BenchmarkLookup_Typo is the whole lookup of a mistyped name (exact and
// prefix passes, then suggestions) on 10,000 names, against the scan.
func BenchmarkLookup_Typo(b *testing.B) {
	s := newSnapshot(manyNames(10_000))
	qs := benchTypos(s)
	for _, bc := range []struct {
		name   string
		lookup func(string) lookupResult
	}{{"scan", s.lookupScan}, {"index", s.lookup}} {
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			i, cpu := 0, cputime.Process()
			for b.Loop() {
				bc.lookup(qs[i%len(qs)])
				i++
			}
			reportCPU(b, cpu)
		})
	}
}

// BenchmarkNewSnapshot is what SetData costs on 10,000 names; /index_only
// is the name index's part of it.
func BenchmarkNewSnapshot(b *testing.B) {
	d := manyNames(10_000)
	b.Run("all", func(b *testing.B) {
		b.ReportAllocs()
		cpu := cputime.Process()
		for b.Loop() {
			newSnapshot(d)
		}
		reportCPU(b, cpu)
	})
	s := newSnapshot(d)
	b.Run("index_only", func(b *testing.B) {
		b.ReportAllocs()
		cpu := cputime.Process()
		for b.Loop() {
			newNameIndex(s.named)
		}
		reportCPU(b, cpu)
	})
}

// benchTypos are typos and random misspellings of s's names that lookup
// answers with suggestions.
func benchTypos(s *snapshot) []string {
	r := rand.New(rand.NewPCG(7, 7))
	qs := append([]string(nil), typos...)
	for range 200 {
		qs = append(qs, typo(r, s.named[r.IntN(len(s.named))].lower))
	}
	return qs
}

// reportCPU reports the CPU time per op since start as cpu-ns/op.
func reportCPU(b *testing.B, start time.Duration) {
	b.ReportMetric(float64(cputime.Process()-start)/float64(b.N), "cpu-ns/op")
}
