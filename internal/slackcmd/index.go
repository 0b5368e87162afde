package slackcmd

import (
	"math/bits"
	"slices"
	"sort"
	"strings"
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

// histBound is a lower bound of editDistance(a, b) from the rune counts:
// an edit takes at most one rune from a bucket and adds at most one to a
// bucket, so it shrinks each of the surplus of a over b and of b over a
// by at most one.
func histBound(a, b *term) int {
	var more, less int
	for i := range a.hist {
		d := int(a.hist[i]) - int(b.hist[i])
		if d > 0 {
			more += d
		} else {
			less -= d
		}
	}
	return max(more, less)
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

// boundedDistance is editDistance(a, b) when it is at most k, and some
// value above k otherwise, computed on the diagonal band of width 2k+1 (a
// cell further off the diagonal is above k). buf is scratch space it may
// grow.
func boundedDistance(a, b *term, k int, buf *[]int) int {
	if k < 0 || lowerBound(a, b) > k || histBound(a, b) > k {
		return k + 1
	}
	ra, rb := a.runes, b.runes
	n := len(rb)
	if cap(*buf) < 2*(n+1) {
		*buf = make([]int, 2*(maxTermRunes+1))
	}
	prev, cur := (*buf)[:n+1], (*buf)[n+1:2*(n+1)]
	big := k + 1
	for j := range prev {
		prev[j] = min(j, big)
	}
	for i := 1; i <= len(ra); i++ {
		lo, hi := max(1, i-k), min(n, i+k)
		cur[lo-1] = big
		if lo == 1 {
			cur[0] = min(i, big)
		}
		low := cur[lo-1]
		for j := lo; j <= hi; j++ {
			c := 1
			if ra[i-1] == rb[j-1] {
				c = 0
			}
			v := min(prev[j]+1, cur[j-1]+1, prev[j-1]+c, big)
			cur[j] = v
			low = min(low, v)
		}
		if hi < n {
			cur[hi+1] = big
		}
		if low > k {
			return big
		}
		prev, cur = cur, prev
	}
	return prev[n]
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
	return ix
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
// Each distinct word is compared once; lower bounds order the names and
// skip most of them, and a name is only compared as far as it could still
// enter the three best.
func (ix *nameIndex) suggest(named []*series, q string, want scopeKind) []*series {
	qt := newTerm(q)
	limit := max(2, utf8.RuneCountInString(q)/2)
	var buf []int
	// wd[w] is editDistance(q, word w) when below limit, else limit.
	wd := make([]int32, len(ix.terms))
	for i := range ix.terms {
		wd[i] = int32(min(limit, boundedDistance(&qt, &ix.terms[i], limit-1, &buf)))
	}
	// A name's distance is at least its bound: its word distance (exact)
	// or the lower bound of its whole name's.
	wordDist := func(i int) int {
		d := limit + 1
		for _, w := range ix.words[i] {
			d = min(d, int(wd[w])+1)
		}
		return d
	}
	byBound := make([][]int32, limit+1)
	for i, x := range named {
		if want != scopeAll && x.kind != want {
			continue
		}
		if b := min(wordDist(i), lowerBound(&qt, &ix.names[i])); b <= limit {
			byBound[b] = append(byBound[b], int32(i))
		}
	}
	// Widen the distance t one step at a time: at each t, every name whose
	// bound is at most t and whose distance is not yet known to be below
	// it is compared up to t. Once three names are within t the rest,
	// further than t, cannot enter.
	type cand struct{ i, d int }
	var active []int32
	var top []cand // names within t, by distance then name order
	for t := 0; t <= limit && len(top) < 3; t++ {
		active = append(active, byBound[t]...)
		rest := active[:0]
		for _, i := range active {
			d := wordDist(int(i))
			if c := min(t, d-1); c >= 0 {
				d = min(d, boundedDistance(&qt, &ix.names[i], c, &buf))
			}
			if d > t {
				rest = append(rest, i)
				continue
			}
			top = append(top, cand{int(i), d})
		}
		active = rest
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
