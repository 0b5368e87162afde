package slackcmd

import (
	"math/bits"
	"slices"
	"sort"
	"strings"
	"sync"
	"unicode/utf8"
)

// maxTermRunes is how many runes of a name or query editDistance compares.
const maxTermRunes = 64

// term is a lower-case name or word prepared for bounded edit distance: its
// first maxTermRunes runes, a 64-bit signature of the runes it holds and a
// count of its runes in 32 buckets.
type term struct {
	runes []rune
	sig   uint64
	hist  [32]uint8
}

func newTerm(s string) term {
	r := []rune(s)
	if len(r) > maxTermRunes {
		r = r[:maxTermRunes]
	}
	t := term{runes: r}
	for _, c := range r {
		t.sig |= 1 << (uint32(c) % 64)
		t.hist[uint32(c)%32]++ // at most maxTermRunes
	}
	return t
}

// lowerBound is a lower bound of editDistance(a, b): the length difference,
// and the runes of one that the other lacks (each edit removes at most one
// rune and adds at most one; a signature bit one side lacks stands for at
// least one rune the other side does not hold).
func lowerBound(a, b *term) int {
	return max(abs(len(a.runes)-len(b.runes)), bits.OnesCount64(a.sig&^b.sig), bits.OnesCount64(b.sig&^a.sig))
}

func abs(n int) int {
	if n < 0 {
		return -n
	}
	return n
}

// nameIndex is the "did you mean" index of a snapshot's named series, built
// once per SetData: each name's term, and its words as indexes into the
// distinct words of all names (names share most of their words, so a query
// is compared with each word once).
type nameIndex struct {
	names []term
	words [][]int32 // per name
	terms []term    // distinct words

	// exact maps each lower-case name and alias to its names, ascending.
	exact map[string][]int32
	// byLower and byAlias are the names (with an alias) sorted by their
	// lower-case name and by their alias.
	byLower, byAlias []int32
	// sorted are the distinct words in order, posts[i] the names holding
	// sorted[i] (ascending) and cum[i] the sum of len(posts[:i]).
	sorted []string
	posts  [][]int32
	cum    []int

	// grams maps each rune bigram of the names' terms to the names holding
	// it with how often (ascending by name): the count filter's postings.
	grams map[uint64][]gramPost
	// byLen lists the distinct words by rune count; rank maps a word's id
	// to its place in sorted (and posts).
	byLen [][]int32
	rank  []int32
	pool  sync.Pool // *scratch
}

// gramPost is one name holding a bigram n times.
type gramPost struct {
	name int32
	n    int32
}

// bigram is the key of the rune pair a, b.
func bigram(a, b rune) uint64 { return uint64(uint32(a))<<32 | uint64(uint32(b)) }

// gramBound is the q-gram lemma's lower bound of editDistance for strings
// of m and n runes sharing common bigrams (as multisets): an edit destroys
// at most two bigrams of the longer string, so distance k leaves at least
// max(m, n) - 1 - 2k of them shared.
func gramBound(m, n, common int) int {
	if v := max(m, n) - 1 - common; v > 0 {
		return (v + 1) / 2
	}
	return 0
}

func newNameIndex(named []*series) *nameIndex {
	ix := &nameIndex{names: make([]term, len(named)), words: make([][]int32, len(named))}
	at := map[string]int32{}
	var strs []string // the distinct words, by id
	for i, x := range named {
		ix.names[i] = newTerm(x.lower)
		ws := make([]int32, len(x.words))
		for j, w := range x.words {
			id, ok := at[w]
			if !ok {
				id = int32(len(ix.terms))
				at[w] = id
				ix.terms = append(ix.terms, newTerm(w))
				strs = append(strs, w)
			}
			ws[j] = id
		}
		ix.words[i] = ws
	}
	ix.exact = map[string][]int32{}
	for i, x := range named {
		ix.exact[x.lower] = append(ix.exact[x.lower], int32(i))
		if x.alias != "" && x.alias != x.lower {
			ix.exact[x.alias] = append(ix.exact[x.alias], int32(i))
		}
		ix.byLower = append(ix.byLower, int32(i))
		if x.alias != "" {
			ix.byAlias = append(ix.byAlias, int32(i))
		}
	}
	sort.SliceStable(ix.byLower, func(a, b int) bool { return named[ix.byLower[a]].lower < named[ix.byLower[b]].lower })
	sort.SliceStable(ix.byAlias, func(a, b int) bool { return named[ix.byAlias[a]].alias < named[ix.byAlias[b]].alias })
	order := make([]int32, len(ix.terms))
	for i := range order {
		order[i] = int32(i)
	}
	word := func(id int32) string { return strs[id] }
	sort.Slice(order, func(a, b int) bool { return word(order[a]) < word(order[b]) })
	rank := make([]int32, len(ix.terms))
	ix.sorted = make([]string, len(order))
	for r, id := range order {
		rank[id] = int32(r)
		ix.sorted[r] = word(id)
	}
	ix.rank = rank
	ix.posts = make([][]int32, len(order))
	for i, ws := range ix.words {
		for _, id := range ws {
			p := &ix.posts[rank[id]]
			if n := len(*p); n == 0 || (*p)[n-1] != int32(i) {
				*p = append(*p, int32(i))
			}
		}
	}
	ix.cum = make([]int, len(order)+1)
	for r, p := range ix.posts {
		ix.cum[r+1] = ix.cum[r] + len(p)
	}
	ix.grams = map[uint64][]gramPost{}
	for i := range ix.names {
		rs := ix.names[i].runes
		for j := 1; j < len(rs); j++ {
			g := bigram(rs[j-1], rs[j])
			p := ix.grams[g]
			if n := len(p); n > 0 && p[n-1].name == int32(i) {
				p[n-1].n++
				continue
			}
			ix.grams[g] = append(p, gramPost{name: int32(i), n: 1})
		}
	}
	for id := range ix.terms {
		n := len(ix.terms[id].runes)
		for len(ix.byLen) <= n {
			ix.byLen = append(ix.byLen, nil)
		}
		ix.byLen[n] = append(ix.byLen[n], int32(id))
	}
	return ix
}

// scratch is one query's per-name and per-word working space, reused
// through nameIndex.pool: arrays as long as the index, reset only where a
// query wrote them.
type scratch struct {
	common  []int32 // per name: bigrams shared with the query
	best    []int32 // per name: 1 + the distance to its closest word, or 0 (none close)
	touched []int32 // names with a non-zero common or best
	wd      []int32 // per word: the distance, or 0 (not close)
	close   []int32 // words with a non-zero wd
	byBound [][]int32
	pending []cand
	top     []cand
}

// cand is a name and its distance.
type cand struct{ i, d int32 }

func (ix *nameIndex) getScratch() *scratch {
	if sc, ok := ix.pool.Get().(*scratch); ok {
		return sc
	}
	return &scratch{common: make([]int32, len(ix.names)), best: make([]int32, len(ix.names)), wd: make([]int32, len(ix.terms))}
}

func (ix *nameIndex) putScratch(sc *scratch) {
	for _, i := range sc.touched {
		sc.common[i], sc.best[i] = 0, 0
	}
	for _, w := range sc.close {
		sc.wd[w] = 0
	}
	sc.touched, sc.close = sc.touched[:0], sc.close[:0]
	for b := range sc.byBound {
		sc.byBound[b] = sc.byBound[b][:0]
	}
	sc.pending, sc.top = sc.pending[:0], sc.top[:0]
	ix.pool.Put(sc)
}

func (sc *scratch) touch(i int32) {
	if sc.common[i] == 0 && sc.best[i] == 0 {
		sc.touched = append(sc.touched, i)
	}
}

// commonGrams counts, per name, the rune bigrams it shares with q
// (multiset intersection), from the postings of q's bigrams only, into
// sc.common, listing the names it touches.
func (ix *nameIndex) commonGrams(q *term, sc *scratch) {
	rs := q.runes
	seen := make(map[uint64]int32, len(rs))
	for j := 1; j < len(rs); j++ {
		seen[bigram(rs[j-1], rs[j])]++
	}
	for g, nq := range seen {
		for _, p := range ix.grams[g] {
			sc.touch(p.name)
			sc.common[p.name] += min(nq, p.n)
		}
	}
}

// prefixRange is the range of xs (sorted by key) whose key starts with p.
func prefixRange(n int, key func(int) string, p string) (int, int) {
	lo := sort.Search(n, func(i int) bool { return key(i) >= p })
	hi := lo + sort.Search(n-lo, func(i int) bool { return !strings.HasPrefix(key(lo+i), p) })
	return lo, hi
}

// matches returns what a scan of named in order would collect for the
// lower-case, trimmed query q (words qw): the names equal to q (name or
// alias) and, when there are none, the names q is a prefix of or whose
// words the query words are prefixes of, in order. want narrows the kind.
func (ix *nameIndex) matches(named []*series, q string, qw []string, want scopeKind) (exact, partial []*series) {
	ok := func(x *series) bool { return want == scopeAll || x.kind == want }
	for _, i := range ix.exact[q] {
		if x := named[i]; ok(x) {
			exact = append(exact, x)
		}
	}
	if len(exact) > 0 {
		return exact, nil
	}
	var cand []int32
	lo, hi := prefixRange(len(ix.byLower), func(i int) string { return named[ix.byLower[i]].lower }, q)
	cand = append(cand, ix.byLower[lo:hi]...)
	lo, hi = prefixRange(len(ix.byAlias), func(i int) string { return named[ix.byAlias[i]].alias }, q)
	cand = append(cand, ix.byAlias[lo:hi]...)
	// Every query word starts some word of a partial name: take the names
	// of the query word whose words hold the fewest.
	best, blo, bhi := -1, 0, 0
	for _, w := range qw {
		lo, hi := prefixRange(len(ix.sorted), func(i int) string { return ix.sorted[i] }, w)
		if n := ix.cum[hi] - ix.cum[lo]; best < 0 || n < best {
			best, blo, bhi = n, lo, hi
		}
	}
	for r := blo; r < bhi; r++ {
		cand = append(cand, ix.posts[r]...)
	}
	slices.Sort(cand)
	cand = slices.Compact(cand)
	for _, i := range cand {
		x := named[i]
		if ok(x) && (strings.HasPrefix(x.lower, q) || (x.alias != "" && strings.HasPrefix(x.alias, q)) || wordPrefixes(qw, x.words)) {
			partial = append(partial, x)
		}
	}
	return nil, partial
}

// suggest returns up to three names closest to q by edit distance against
// the whole name and each of its words (a word counts one more), within
// max(2, half q's length), ties in name order: the same names in the same
// order as a scan computing every distance (suggestScan in the tests).
// Each distinct word of a length that can matter is compared once; lower
// bounds (length, rune set and counts, shared bigrams) order the names,
// and only names whose bound can still enter the three best are compared,
// each once, with Myers' bit-parallel distance.
func (ix *nameIndex) suggest(named []*series, q string, want scopeKind) []*series {
	qt := newTerm(q)
	pat := newPattern(qt.runes)
	m := len(qt.runes)
	limit := max(2, utf8.RuneCountInString(q)/2)
	sc := ix.getScratch()
	defer ix.putScratch(sc)
	// The words closer than limit (only a length within limit of q's can
	// be), and for each name holding one, 1 + its closest word's distance.
	for n := max(0, m-limit+1); n < len(ix.byLen) && n < m+limit; n++ {
		for _, w := range ix.byLen[n] {
			if lowerBound(&qt, &ix.terms[w]) >= limit {
				continue
			}
			if d := pat.distance(ix.terms[w].runes); d < limit {
				sc.wd[w] = int32(d) + 1
				sc.close = append(sc.close, w)
			}
		}
	}
	for _, w := range sc.close {
		r := ix.rank[w]
		for _, i := range ix.posts[r] {
			sc.touch(i)
			if d := sc.wd[w]; sc.best[i] == 0 || d < sc.best[i] {
				sc.best[i] = d
			}
		}
	}
	ix.commonGrams(&qt, sc)
	// A name's distance is at least its bound: its closest word's distance
	// plus one (exact) or the lower bound of its whole name's.
	wordDist := func(i int32) int {
		if b := sc.best[i]; b > 0 {
			return int(b) // (distance + 1)
		}
		return limit + 1
	}
	nameBound := func(i int32) int {
		return max(lowerBound(&qt, &ix.names[i]), gramBound(m, len(ix.names[i].runes), int(sc.common[i])))
	}
	for len(sc.byBound) <= limit {
		sc.byBound = append(sc.byBound, nil)
	}
	byBound := sc.byBound
	add := func(i int32) {
		if want != scopeAll && named[i].kind != want {
			return
		}
		if b := min(wordDist(i), nameBound(i)); b <= limit {
			byBound[b] = append(byBound[b], i)
		}
	}
	for _, i := range sc.touched {
		add(i)
	}
	// A name sharing no bigram and no close word with q is at least
	// gramBound(m, m, 0) away: it need not be looked at unless the search
	// widens that far.
	untouched := gramBound(m, m, 0)
	// Widen the distance t one step at a time: at each t, the names whose
	// bound is t get their distance, and every name known to be within t
	// joins the best. Once three names are within t the rest, further than
	// t, cannot enter.
	// top: the names within t, by distance then name order. The scratch
	// keeps what both grew to; putScratch empties them.
	pending, top := sc.pending, sc.top
	defer func() { sc.pending, sc.top = pending, top }()
	for t := 0; t <= limit && len(top) < 3; t++ {
		if t == untouched {
			for i := range named {
				if sc.common[i] == 0 && sc.best[i] == 0 {
					add(int32(i)) // its bound is at least t
				}
			}
		}
		for _, i := range byBound[t] {
			d := wordDist(i)
			if nameBound(i) < d {
				d = min(d, pat.distance(ix.names[i].runes))
			}
			pending = append(pending, cand{i, int32(d)})
		}
		rest := pending[:0]
		for _, c := range pending {
			if int(c.d) <= t {
				top = append(top, c)
			} else {
				rest = append(rest, c)
			}
		}
		pending = rest
	}
	sort.Slice(top, func(a, b int) bool {
		if top[a].d != top[b].d {
			return top[a].d < top[b].d
		}
		return top[a].i < top[b].i
	})
	top = top[:min(3, len(top))]
	out := make([]*series, 0, len(top))
	for _, c := range top {
		out = append(out, named[c.i])
	}
	if len(out) == 0 {
		return nil
	}
	return out
}

// pattern is a query of at most 64 runes prepared for Myers' bit-parallel
// edit distance: per rune, the bit mask of the positions holding it.
type pattern struct {
	m     int
	ascii [128]uint64
	other map[rune]uint64
}

func newPattern(rs []rune) *pattern {
	p := &pattern{m: len(rs)}
	for i, c := range rs { // len(rs) <= maxTermRunes = 64
		if c >= 0 && c < 128 {
			p.ascii[c] |= 1 << uint(i)
		} else {
			if p.other == nil {
				p.other = map[rune]uint64{}
			}
			p.other[c] |= 1 << uint(i)
		}
	}
	return p
}

// distance is the edit distance (Levenshtein: insert, delete, substitute)
// between the pattern and text, by Myers' bit-vector algorithm in Hyyrö's
// formulation for whole strings: one pass over text, a few word operations
// per rune.
func (p *pattern) distance(text []rune) int {
	if p.m == 0 {
		return len(text)
	}
	var pv, mv uint64 = ^uint64(0), 0
	high := uint64(1) << uint(p.m-1)
	score := p.m
	for _, c := range text {
		var eq uint64
		if c >= 0 && c < 128 {
			eq = p.ascii[c]
		} else if p.other != nil {
			eq = p.other[c]
		}
		xv := eq | mv
		xh := (((eq & pv) + pv) ^ pv) | eq
		ph := mv | ^(xh | pv)
		mh := pv & xh
		if ph&high != 0 {
			score++
		} else if mh&high != 0 {
			score--
		}
		ph = ph<<1 | 1
		mh <<= 1
		pv = mh | ^(xv | ph)
		mv = ph & xv
	}
	return score
}
