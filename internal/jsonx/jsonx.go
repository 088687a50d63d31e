// Package jsonx is a strict JSON (RFC 8259) scanner for JOSE headers and
// JWT claim sets. It accepts exactly one JSON object surrounded by optional
// whitespace, in valid UTF-8, with no two member names in one object, at
// any depth, that encoding/json could take for the same struct field (see
// [ErrCaseFold]; names compared after unescaping), no lone surrogate
// escapes, and nesting no deeper than MaxDepth. It never allocates for
// documents whose objects have at most 16 members each and whose member
// names carry no escapes.
//
// The rules are stricter than encoding/json, which takes the last of
// duplicate members, matches member names to struct fields without regard
// to case (so "sub" and "Sub" land in one field, the last one winning),
// replaces invalid UTF-8 and lone surrogates with U+FFFD and nests 10,000
// levels deep. Two decoders that disagree on such inputs would let two
// backends, or a verifier and the application behind it, read different
// claims from one signed token.
package jsonx

import (
	"bytes"
	"encoding/binary"
	"errors"
	"math/bits"
	"unicode"
	"unicode/utf8"
)

// MaxDepth is the deepest nesting of objects and arrays accepted; the
// top-level object is depth 1.
const MaxDepth = 64

// Errors returned by the scanner. Their text never quotes the input.
var (
	ErrSyntax    = errors.New("invalid JSON")
	ErrNotObject = errors.New("not a JSON object")
	ErrTrailing  = errors.New("data after the JSON object")
	ErrDuplicate = errors.New("duplicate member name")
	ErrUTF8      = errors.New("invalid UTF-8 or lone surrogate")
	ErrDepth     = errors.New("JSON nested too deeply")

	// ErrCaseFold reports two different member names of one object that
	// encoding/json matches to one struct field: equal under Unicode simple
	// case folding (bytes.EqualFold), such as "sub", "Sub", "SUB", "ſub"
	// (U+017F) and "\u0053ub"; or "kid" and "\u212aid" (U+212A KELVIN SIGN).
	ErrCaseFold = errors.New("member names equal under case folding")
)

type scanner struct {
	data  []byte
	pos   int
	depth int
	fold  []byte // scratch for folded names in objects of more than inlineNames members
}

func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }

func (s *scanner) skipSpace() {
	for s.pos < len(s.data) && isSpace(s.data[s.pos]) {
		s.pos++
	}
}

// Object validates data as one strict JSON object and calls fn, if not nil,
// for each top-level member in order with the member's unescaped name and
// its raw value (a validated JSON value without surrounding whitespace).
// The slices alias data or a scratch buffer and are valid only during the
// call. An error from fn stops the scan and is returned as is.
func Object(data []byte, fn func(name, value []byte) error) error {
	s := scanner{data: data}
	s.skipSpace()
	if s.pos >= len(data) || data[s.pos] != '{' {
		if s.pos < len(data) && !validStart(data[s.pos]) {
			return ErrSyntax
		}
		return ErrNotObject
	}
	if err := s.object(fn); err != nil {
		return err
	}
	s.skipSpace()
	if s.pos != len(data) {
		return ErrTrailing
	}
	return nil
}

func validStart(c byte) bool {
	switch c {
	case '{', '[', '"', 't', 'f', 'n', '-':
		return true
	}
	return c >= '0' && c <= '9'
}

func (s *scanner) value() error {
	if s.pos >= len(s.data) {
		return ErrSyntax
	}
	switch c := s.data[s.pos]; {
	case c == '{':
		return s.object(nil)
	case c == '[':
		return s.array(nil)
	case c == '"':
		_, _, _, _, err := s.str()
		return err
	case c == 't':
		return s.literal("true")
	case c == 'f':
		return s.literal("false")
	case c == 'n':
		return s.literal("null")
	case c == '-' || (c >= '0' && c <= '9'):
		return s.number()
	}
	return ErrSyntax
}

func (s *scanner) literal(lit string) error {
	if len(s.data)-s.pos < len(lit) || string(s.data[s.pos:s.pos+len(lit)]) != lit {
		return ErrSyntax
	}
	s.pos += len(lit)
	return nil
}

func digits(data []byte, i int) int {
	for i < len(data) && data[i] >= '0' && data[i] <= '9' {
		i++
	}
	return i
}

func (s *scanner) number() error {
	d, i := s.data, s.pos
	if i < len(d) && d[i] == '-' {
		i++
	}
	switch {
	case i < len(d) && d[i] == '0':
		i++
	case i < len(d) && d[i] >= '1' && d[i] <= '9':
		i = digits(d, i)
	default:
		return ErrSyntax
	}
	if i < len(d) && d[i] == '.' {
		j := digits(d, i+1)
		if j == i+1 {
			return ErrSyntax
		}
		i = j
	}
	if i < len(d) && (d[i] == 'e' || d[i] == 'E') {
		i++
		if i < len(d) && (d[i] == '+' || d[i] == '-') {
			i++
		}
		j := digits(d, i)
		if j == i {
			return ErrSyntax
		}
		i = j
	}
	s.pos = i
	return nil
}

func hex4(d []byte) (rune, bool) {
	if len(d) < 4 {
		return 0, false
	}
	var r rune
	for _, c := range d[:4] {
		switch {
		case c >= '0' && c <= '9':
			c -= '0'
		case c >= 'a' && c <= 'f':
			c = c - 'a' + 10
		case c >= 'A' && c <= 'F':
			c = c - 'A' + 10
		default:
			return 0, false
		}
		r = r<<4 | rune(c)
	}
	return r, true
}

// str validates the string starting at s.pos (an opening quote) and returns
// the span of its contents, whether it contains escapes, and whether it
// contains bytes that are not ASCII.
func (s *scanner) str() (start, end int, escaped, nonASCII bool, err error) {
	d := s.data
	i := s.pos + 1
	start = i
	for {
		// Skip 8 plain bytes at a time: none is '"', '\\', a control
		// character or non-ASCII (SWAR: a high bit marks each such byte).
		// The lowest marked byte is always a true one (borrows only carry
		// upwards), so the scan resumes exactly there.
		for i+8 <= len(d) {
			w := binary.LittleEndian.Uint64(d[i:])
			const ones, highs = 0x0101010101010101, 0x8080808080808080
			q, b := w^(ones*'"'), w^(ones*'\\')
			if m := ((w - ones*0x20) | (q - ones) | (b - ones) | w) & highs; m != 0 {
				i += bits.TrailingZeros64(m) / 8
				break
			}
			i += 8
		}
		if i >= len(d) {
			return 0, 0, false, false, ErrSyntax
		}
		c := d[i]
		switch {
		case c == '"':
			s.pos = i + 1
			return start, i, escaped, nonASCII, nil
		case c < 0x20:
			return 0, 0, false, false, ErrSyntax
		case c == '\\':
			escaped = true
			if i+1 >= len(d) {
				return 0, 0, false, false, ErrSyntax
			}
			switch d[i+1] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
				i += 2
			case 'u':
				r, ok := hex4(d[i+2:])
				if !ok {
					return 0, 0, false, false, ErrSyntax
				}
				i += 6
				if r >= 0xd800 && r < 0xdc00 {
					// A high surrogate must be followed by an escaped low one.
					if i+1 >= len(d) || d[i] != '\\' || d[i+1] != 'u' {
						return 0, 0, false, false, ErrUTF8
					}
					r2, ok := hex4(d[i+2:])
					if !ok {
						return 0, 0, false, false, ErrSyntax
					}
					if r2 < 0xdc00 || r2 > 0xdfff {
						return 0, 0, false, false, ErrUTF8
					}
					i += 6
				} else if r >= 0xdc00 && r <= 0xdfff {
					return 0, 0, false, false, ErrUTF8
				}
			default:
				return 0, 0, false, false, ErrSyntax
			}
		case c < utf8.RuneSelf:
			i++
		default:
			r, size := utf8.DecodeRune(d[i:])
			if r == utf8.RuneError && size <= 1 {
				return 0, 0, false, false, ErrUTF8
			}
			nonASCII = true
			i += size
		}
	}
}

func (s *scanner) enter() error {
	s.depth++
	if s.depth > MaxDepth {
		return ErrDepth
	}
	return nil
}

// array validates the array at s.pos; fn, if not nil, sees each element.
func (s *scanner) array(fn func(elem []byte) error) error {
	if err := s.enter(); err != nil {
		return err
	}
	s.pos++ // '['
	s.skipSpace()
	if s.pos < len(s.data) && s.data[s.pos] == ']' {
		s.pos++
		s.depth--
		return nil
	}
	for {
		s.skipSpace()
		start := s.pos
		if err := s.value(); err != nil {
			return err
		}
		if fn != nil {
			if err := fn(s.data[start:s.pos]); err != nil {
				return err
			}
		}
		s.skipSpace()
		if s.pos >= len(s.data) {
			return ErrSyntax
		}
		switch s.data[s.pos] {
		case ',':
			s.pos++
		case ']':
			s.pos++
			s.depth--
			return nil
		default:
			return ErrSyntax
		}
	}
}

// inlineNames is how many member names an object compares pairwise before
// it switches to a map.
const inlineNames = 16

// object validates the object at s.pos, rejecting two names that are equal
// under case folding; fn, if not nil, sees each member.
func (s *scanner) object(fn func(name, value []byte) error) error {
	if err := s.enter(); err != nil {
		return err
	}
	s.pos++ // '{'
	s.skipSpace()
	if s.pos < len(s.data) && s.data[s.pos] == '}' {
		s.pos++
		s.depth--
		return nil
	}
	var inline [inlineNames][]byte
	var sigs [inlineNames]uint32 // cheap prefilter: see foldSig
	n := 0
	var seen map[string][]byte // folded name -> name, once an object outgrows inline
	for {
		s.skipSpace()
		if s.pos >= len(s.data) || s.data[s.pos] != '"' {
			return ErrSyntax
		}
		start, end, escaped, nonASCII, err := s.str()
		if err != nil {
			return err
		}
		name := s.data[start:end]
		if escaped {
			name = unescape(nil, name)
		}
		switch {
		case seen != nil:
			if err := s.remember(seen, name); err != nil {
				return err
			}
		default:
			var sig uint32
			if escaped || nonASCII {
				sig = foldSig(name)
			} else if len(name) > 0 {
				sig = signature(len(name), name[0], name[len(name)-1])
			}
			for k, prev := range sigs[:n] {
				if prev == sig && bytes.EqualFold(inline[k], name) {
					return collision(inline[k], name)
				}
			}
			if n < inlineNames {
				inline[n], sigs[n] = name, sig
				n++
				break
			}
			seen = make(map[string][]byte, 2*inlineNames)
			for _, prev := range inline {
				_ = s.remember(seen, prev) // inline names are pairwise distinct
			}
			_ = s.remember(seen, name) // and name differs from each of them
		}
		s.skipSpace()
		if s.pos >= len(s.data) || s.data[s.pos] != ':' {
			return ErrSyntax
		}
		s.pos++
		s.skipSpace()
		vstart := s.pos
		if err := s.value(); err != nil {
			return err
		}
		if fn != nil {
			if err := fn(name, s.data[vstart:s.pos]); err != nil {
				return err
			}
		}
		s.skipSpace()
		if s.pos >= len(s.data) {
			return ErrSyntax
		}
		switch s.data[s.pos] {
		case ',':
			s.pos++
		case '}':
			s.pos++
			s.depth--
			return nil
		default:
			return ErrSyntax
		}
	}
}

// remember adds name to seen, keyed by its folded form, unless a name
// equal under folding is there already.
func (s *scanner) remember(seen map[string][]byte, name []byte) error {
	s.fold = appendFold(s.fold[:0], name)
	if prev, dup := seen[string(s.fold)]; dup {
		return collision(prev, name)
	}
	seen[string(s.fold)] = name
	return nil
}

// collision is the error for two names equal under folding.
func collision(a, b []byte) error {
	if bytes.Equal(a, b) {
		return ErrDuplicate
	}
	return ErrCaseFold
}

// Member names are compared the way encoding/json matches them to struct
// fields: two names are one when bytes.EqualFold says so, that is when
// they have as many runes and each pair of runes lies in one orbit of
// unicode.SimpleFold. For ASCII that is letter case alone; beyond it are
// the orbits {K, k, U+212A KELVIN SIGN}, {S, s, U+017F LONG S}, {σ, ς, Σ},
// {ß, ẞ} and the others of the Unicode tables. (encoding/json decoding
// into a map compares names exactly; the rule here is the stricter one.)
// The folded form of a name replaces each rune by the smallest rune of its
// orbit: names are one exactly when their folded forms are equal.

// foldRune returns the smallest rune of r's orbit under unicode.SimpleFold.
func foldRune(r rune) rune {
	least := r
	for f := unicode.SimpleFold(r); f != r; f = unicode.SimpleFold(f) {
		least = min(least, f)
	}
	return least
}

// appendFold appends the folded form of name, valid UTF-8, to dst.
func appendFold(dst, name []byte) []byte {
	for i := 0; i < len(name); {
		c := name[i]
		if c < utf8.RuneSelf {
			if 'a' <= c && c <= 'z' {
				c -= 'a' - 'A'
			}
			dst = append(dst, c)
			i++
			continue
		}
		r, size := utf8.DecodeRune(name[i:])
		dst = utf8.AppendRune(dst, foldRune(r))
		i += size
	}
	return dst
}

// signature packs the length and the first and last bytes of a folded name
// (or of a plain ASCII name: setting bit 0x20 makes letter case vanish) into
// a prefilter: names equal under folding have equal signatures.
func signature(n int, first, last byte) uint32 {
	return uint32(n)<<16 | uint32(first|0x20)<<8 | uint32(last|0x20)
}

// foldSig is the signature of name's folded form, computed without
// building it; for plain ASCII names the signature of the name itself is
// the same.
func foldSig(name []byte) uint32 {
	if len(name) == 0 {
		return 0
	}
	var n int
	var first, last byte
	for i := 0; i < len(name); {
		c := name[i]
		var buf [utf8.UTFMax]byte
		enc := buf[:1]
		buf[0] = c
		if c < utf8.RuneSelf {
			i++
		} else {
			r, size := utf8.DecodeRune(name[i:])
			enc = utf8.AppendRune(buf[:0], foldRune(r))
			i += size
		}
		if n == 0 {
			first = enc[0]
		}
		last = enc[len(enc)-1]
		n += len(enc)
	}
	return signature(n, first, last)
}

// unescape appends the decoded contents of a validated string body to dst.
func unescape(dst, body []byte) []byte {
	for i := 0; i < len(body); {
		c := body[i]
		if c != '\\' {
			dst = append(dst, c)
			i++
			continue
		}
		switch body[i+1] {
		case 'b':
			dst = append(dst, '\b')
		case 'f':
			dst = append(dst, '\f')
		case 'n':
			dst = append(dst, '\n')
		case 'r':
			dst = append(dst, '\r')
		case 't':
			dst = append(dst, '\t')
		case 'u':
			r, _ := hex4(body[i+2:])
			if r >= 0xd800 && r < 0xdc00 {
				r2, _ := hex4(body[i+8:])
				r = 0x10000 + (r-0xd800)<<10 + (r2 - 0xdc00)
				i += 6
			}
			dst = utf8.AppendRune(dst, r)
			i += 6
			continue
		default: // '"', '\\', '/'
			dst = append(dst, body[i+1])
		}
		i += 2
	}
	return dst
}

// String returns the value of raw, a validated JSON value, when it is a
// string, and false otherwise.
func String(raw []byte) (string, bool) {
	if len(raw) < 2 || raw[0] != '"' {
		return "", false
	}
	body := raw[1 : len(raw)-1]
	if bytes.IndexByte(body, '\\') < 0 {
		return string(body), true
	}
	return string(unescape(make([]byte, 0, len(body)), body)), true
}

// IsNumber reports whether raw, a validated JSON value, is a number.
func IsNumber(raw []byte) bool {
	return len(raw) > 0 && (raw[0] == '-' || (raw[0] >= '0' && raw[0] <= '9'))
}

// Array calls fn for each element of raw, a validated JSON value, and
// returns false when raw is not an array.
func Array(raw []byte, fn func(elem []byte) error) (bool, error) {
	if len(raw) == 0 || raw[0] != '[' {
		return false, nil
	}
	s := scanner{data: raw}
	return true, s.array(fn)
}
