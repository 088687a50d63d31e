// Package spiffeid parses SPIFFE IDs strictly, as the SPIFFE ID
// specification (SPIFFE-ID.md §2) defines them, and the ID patterns of
// access.SPIFFEID. The access policies and the JWT-SVID verifier share it.
package spiffeid

import (
	"errors"
	"strings"
)

// MaxLen is the longest SPIFFE ID, in bytes, that Parse accepts: the
// 2048 bytes the specification requires implementations to support.
const MaxLen = 2048

const scheme = "spiffe://"

// ID is a valid SPIFFE ID. The zero value is no ID.
type ID struct {
	TrustDomain string // the trust domain name, e.g. "example.org"
	Path        string // "" or "/" and segments joined by "/", e.g. "/ns/prod"
}

// String returns the ID as Parse read it.
func (id ID) String() string { return scheme + id.TrustDomain + id.Path }

// The reasons Parse gives. They never contain the input, which may be a
// claim value.
var (
	ErrTooLong     = errors.New("SPIFFE ID longer than 2048 bytes")
	ErrScheme      = errors.New(`SPIFFE ID scheme is not "spiffe://"`)
	ErrTrustDomain = errors.New("SPIFFE ID trust domain is empty or has a character other than a-z 0-9 . - _")
	ErrPath        = errors.New("SPIFFE ID path has an empty, \".\" or \"..\" segment, or a character other than a-z A-Z 0-9 . - _")
)

// Parse reads s as a SPIFFE ID: "spiffe://", a trust domain of one or more
// of a-z 0-9 . - _ (lower case only), then nothing or a path of one or more
// "/segment", each segment one or more of a-z A-Z 0-9 . - _ and neither "."
// nor "..". There is no normalisation: no percent-decoding, no case
// folding, no trailing slash. A port, userinfo, query or fragment is
// refused by these character sets (':', '@', '?', '#' and '%' are in none
// of them). The error is one of the Err values.
func Parse(s string) (ID, error) {
	if len(s) > MaxLen {
		return ID{}, ErrTooLong
	}
	rest, ok := strings.CutPrefix(s, scheme)
	if !ok {
		return ID{}, ErrScheme
	}
	td, path := rest, ""
	if i := strings.IndexByte(rest, '/'); i >= 0 {
		td, path = rest[:i], rest[i:]
	}
	if td == "" || !all(td, isTrustDomainChar) {
		return ID{}, ErrTrustDomain
	}
	if path != "" {
		for seg := range strings.SplitSeq(path[1:], "/") {
			if seg == "" || seg == "." || seg == ".." || !all(seg, isPathChar) {
				return ID{}, ErrPath
			}
		}
	}
	return ID{TrustDomain: td, Path: path}, nil
}

func all(s string, ok func(byte) bool) bool {
	for i := 0; i < len(s); i++ {
		if !ok(s[i]) {
			return false
		}
	}
	return true
}

func isTrustDomainChar(c byte) bool {
	return 'a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '.' || c == '-' || c == '_'
}

func isPathChar(c byte) bool {
	return isTrustDomainChar(c) || 'A' <= c && c <= 'Z'
}

// Pattern is a set of SPIFFE IDs: one ID, or every ID under a prefix. The
// zero value matches nothing.
type Pattern struct {
	id    ID
	under bool // match the IDs strictly under id, not id itself
	valid bool
}

// ErrPattern is the error of ParsePattern for a "*" anywhere but as the
// whole last segment.
var ErrPattern = errors.New(`SPIFFE ID pattern has a "*" other than a final "/*"`)

// ParsePattern reads a pattern: a SPIFFE ID, which matches that ID only,
// or a SPIFFE ID followed by "/*", which matches every ID whose trust
// domain is the same and whose path is the ID's path followed by one or
// more segments: "spiffe://example.org/ns/prod/*" matches
// spiffe://example.org/ns/prod/sa/api but neither spiffe://example.org/ns/prod
// nor spiffe://example.org/ns/production, and "spiffe://example.org/*"
// every ID of that trust domain except the trust domain's own ID
// spiffe://example.org. The error is ErrPattern or one of Parse's.
func ParsePattern(s string) (Pattern, error) {
	base, under := strings.CutSuffix(s, "/*")
	if strings.Contains(base, "*") {
		return Pattern{}, ErrPattern
	}
	id, err := Parse(base)
	if err != nil {
		return Pattern{}, err
	}
	return Pattern{id: id, under: under, valid: true}, nil
}

// Match reports whether id, a valid ID, is one of p's.
func (p Pattern) Match(id ID) bool {
	if !p.valid || id.TrustDomain != p.id.TrustDomain {
		return false
	}
	if !p.under {
		return id.Path == p.id.Path
	}
	return len(id.Path) > len(p.id.Path)+1 && strings.HasPrefix(id.Path, p.id.Path) && id.Path[len(p.id.Path)] == '/'
}

// String returns the pattern as ParsePattern read it.
func (p Pattern) String() string {
	if p.under {
		return p.id.String() + "/*"
	}
	return p.id.String()
}
