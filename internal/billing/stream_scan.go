package billing

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math/bits"
	"strconv"
)

// scanner reads JSON from an io.Reader through a buffer that it refills in
// place, validating the syntax the way encoding/json does (the same grammar,
// the same nesting limit) without building any values. Positions are stream
// offsets; the bytes from mark on stay in the buffer until mark is released,
// so a row's values can be read after the row has been scanned.
//
// Errors travel as panics of type scanError and are recovered by the caller
// that owns the scanner (usageStream.run), as encoding/json does internally.
type scanner struct {
	r     io.Reader
	buf   []byte
	base  int // stream offset of buf[0]
	pos   int // index in buf of the next unread byte
	end   int // buf[pos:end] is read but not scanned
	mark  int // index in buf of the first byte to keep, or -1
	read  int64
	limit int64
	eof   bool
	depth int
}

// maxNestingDepth is encoding/json's limit on nested objects and arrays.
const maxNestingDepth = 10000

// scanError is how the scanner stops: a syntax error (syntax), a body over
// the limit (tooLarge) or a failed read of the body (read).
type scanError struct {
	syntax   error
	tooLarge bool
	read     error
}

func newScanner(r io.Reader, limit int64) *scanner {
	return &scanner{r: r, buf: make([]byte, 64<<10), mark: -1, limit: limit}
}

// off is the stream offset of the next unread byte.
func (s *scanner) off() int { return s.base + s.pos }

// bytes returns the scanned bytes at stream offsets [from, to); they must
// not be before the mark.
func (s *scanner) bytes(from, to int) []byte { return s.buf[from-s.base : to-s.base] }

// keep makes the buffer hold everything from the next unread byte on until
// release.
func (s *scanner) keep() { s.mark = s.pos }

func (s *scanner) release() { s.mark = -1 }

// fill reads more of the body, dropping bytes before pos (or mark) and
// growing the buffer when it is full of kept bytes. It reports whether it
// read anything.
func (s *scanner) fill() bool {
	if s.eof {
		return false
	}
	drop := s.pos
	if s.mark >= 0 && s.mark < drop {
		drop = s.mark
	}
	if drop > 0 {
		copy(s.buf, s.buf[drop:s.end])
		s.end -= drop
		s.pos -= drop
		if s.mark >= 0 {
			s.mark -= drop
		}
		s.base += drop
	}
	if s.end == len(s.buf) {
		nb := make([]byte, 2*len(s.buf))
		copy(nb, s.buf[:s.end])
		s.buf = nb
	}
	for {
		n, err := s.r.Read(s.buf[s.end:])
		s.end += n
		s.read += int64(n)
		if s.read > s.limit {
			panic(scanError{tooLarge: true})
		}
		if err != nil {
			if !errors.Is(err, io.EOF) {
				panic(scanError{read: err})
			}
			s.eof = true
			return n > 0
		}
		if n > 0 {
			return true
		}
	}
}

// ws skips whitespace and returns the next byte without consuming it; ok is
// false at the end of the body.
func (s *scanner) ws() (c byte, ok bool) {
	for {
		for s.pos < s.end {
			c = s.buf[s.pos]
			if c == ' ' && s.pos+8 <= s.end {
				// Indentation: a run of spaces, up to 8 a step (x's
				// lowest byte is zero, so the step is at least one).
				if x := binary.LittleEndian.Uint64(s.buf[s.pos:s.pos+8]) ^ 0x2020202020202020; x == 0 {
					s.pos += 8
				} else {
					s.pos += bits.TrailingZeros64(x) >> 3
				}
				continue
			}
			if c != ' ' && c != '\t' && c != '\n' && c != '\r' {
				return c, true
			}
			s.pos++
		}
		if !s.fill() {
			return 0, false
		}
	}
}

// next is ws that fails at the end of the body.
func (s *scanner) next() byte {
	if s.pos < s.end { // compact JSON: usually no whitespace
		if c := s.buf[s.pos]; c > ' ' {
			return c
		}
	}
	c, ok := s.ws()
	if !ok {
		s.eofError()
	}
	return c
}

func (s *scanner) eofError() {
	panic(scanError{syntax: errors.New("unexpected end of JSON input")})
}

func (s *scanner) fail(c byte, context string) {
	panic(scanError{syntax: fmt.Errorf("invalid character %s %s", quoteChar(c), context)})
}

// quoteChar formats c as encoding/json's syntax errors do.
func quoteChar(c byte) string {
	if c == '\'' {
		return `'\''`
	}
	if c == '"' {
		return `'"'`
	}
	q := strconv.Quote(string(c))
	return "'" + q[1:len(q)-1] + "'"
}

// peekRaw returns the next byte without skipping whitespace; ok is false at
// the end of the body.
func (s *scanner) peekRaw() (byte, bool) {
	if s.pos == s.end && !s.fill() {
		return 0, false
	}
	return s.buf[s.pos], true
}

func (s *scanner) push(c byte) {
	s.depth++
	if s.depth > maxNestingDepth {
		s.fail(c, "exceeded max depth")
	}
}

// skipValue scans one value whose first byte, c, has been peeked.
func (s *scanner) skipValue(c byte) {
	switch {
	case c == '{':
		s.skipObject()
	case c == '[':
		s.skipArray()
	case c == '"':
		s.skipString()
	case c == '-' || c >= '0' && c <= '9':
		s.skipNumber()
	case c == 't':
		s.literal("true")
	case c == 'f':
		s.literal("false")
	case c == 'n':
		s.literal("null")
	default:
		s.fail(c, "looking for beginning of value")
	}
}

func (s *scanner) skipObject() {
	s.push('{')
	s.pos++
	c := s.next()
	if c == '}' {
		s.pos++
		s.depth--
		return
	}
	for {
		if c != '"' {
			s.fail(c, "looking for beginning of object key string")
		}
		s.skipString()
		if c = s.next(); c != ':' {
			s.fail(c, "after object key")
		}
		s.pos++
		s.skipValue(s.next())
		switch c = s.next(); c {
		case ',':
			s.pos++
			c = s.next()
		case '}':
			s.pos++
			s.depth--
			return
		default:
			s.fail(c, "after object key:value pair")
		}
	}
}

func (s *scanner) skipArray() {
	s.push('[')
	s.pos++
	c := s.next()
	if c == ']' {
		s.pos++
		s.depth--
		return
	}
	for {
		s.skipValue(c)
		switch c = s.next(); c {
		case ',':
			s.pos++
			c = s.next()
		case ']':
			s.pos++
			s.depth--
			return
		default:
			s.fail(c, "after array element")
		}
	}
}

// plain marks the bytes a string can hold as they are: not a quote, a
// backslash, a control character or a non-ASCII byte.
var plain = func() (t [256]bool) {
	for c := 0x20; c < 0x80; c++ {
		t[c] = c != '"' && c != '\\'
	}
	return t
}()

// special reports whether any of the 8 bytes in x is not plain (the SWAR
// zero-byte test on x, x^'"' and x^'\\', and x<0x20 per byte).
func special(x uint64) bool {
	const lo, hi = 0x0101010101010101, 0x8080808080808080
	q, b := x^(lo*'"'), x^(lo*'\\')
	return ((x-lo*0x20)&^x|(q-lo)&^q|(b-lo)&^b|x)&hi != 0
}

// skipString scans a string (the quotes included). simple reports that it
// has no escapes and no non-ASCII bytes, so its text is its bytes.
func (s *scanner) skipString() (simple bool) {
	s.pos++ // opening quote
	simple = true
	for {
		i := s.pos
		for i+8 <= s.end && !special(binary.LittleEndian.Uint64(s.buf[i:])) {
			i += 8
		}
		for i < s.end && plain[s.buf[i]] {
			i++
		}
		s.pos = i
		if i == s.end {
			if !s.fill() {
				s.eofError()
			}
			continue
		}
		switch c := s.buf[i]; {
		case c == '"':
			s.pos++
			return simple
		case c == '\\':
			simple = false
			s.pos++
			s.escape()
		case c < 0x20:
			s.fail(c, "in string literal")
		default: // non-ASCII: any byte is valid JSON, as in encoding/json
			simple = false
			s.pos++
		}
	}
}

// must returns the next byte inside a token. encoding/json reads the end of
// the input as a space, so the error at the end is the one for ' ' in the
// token's context.
func (s *scanner) must(context string) byte {
	c, ok := s.peekRaw()
	if !ok {
		s.fail(' ', context)
	}
	return c
}

func (s *scanner) escape() {
	switch c := s.must("in string escape code"); c {
	case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
		s.pos++
	case 'u':
		s.pos++
		for range 4 {
			c := s.must(`in \u hexadecimal character escape`)
			if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F') {
				s.fail(c, `in \u hexadecimal character escape`)
			}
			s.pos++
		}
	default:
		s.fail(c, "in string escape code")
	}
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

// skipNumber scans a number; the byte after it is left to the caller, as
// encoding/json reports it in the enclosing value's context.
func (s *scanner) skipNumber() {
	c, _ := s.peekRaw()
	if c == '-' {
		s.pos++
		c = s.must("in numeric literal")
		if !isDigit(c) {
			s.fail(c, "in numeric literal")
		}
	}
	s.pos++
	if c != '0' {
		s.digits()
	}
	if c, ok := s.peekRaw(); ok && c == '.' {
		s.pos++
		if c := s.must("after decimal point in numeric literal"); !isDigit(c) {
			s.fail(c, "after decimal point in numeric literal")
		}
		s.digits()
	}
	if c, ok := s.peekRaw(); ok && (c == 'e' || c == 'E') {
		s.pos++
		c := s.must("in exponent of numeric literal")
		if c == '+' || c == '-' {
			s.pos++
			c = s.must("in exponent of numeric literal")
		}
		if !isDigit(c) {
			s.fail(c, "in exponent of numeric literal")
		}
		s.digits()
	}
}

func (s *scanner) digits() {
	i := s.pos
	for i < s.end && isDigit(s.buf[i]) {
		i++
	}
	s.pos = i
	for {
		c, ok := s.peekRaw()
		if !ok || !isDigit(c) {
			return
		}
		s.pos++
	}
}

func (s *scanner) literal(lit string) {
	for i := 0; i < len(lit); i++ {
		c, ok := s.peekRaw()
		if !ok {
			c = ' '
		}
		if c != lit[i] {
			s.fail(c, fmt.Sprintf("in literal %s (expecting %s)", lit, quoteChar(lit[i])))
		}
		s.pos++
	}
}
