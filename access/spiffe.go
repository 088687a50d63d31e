package access

import (
	"fmt"

	"github.com/jwtverify/jwtverify/internal/spiffeid"
)

// SPIFFEID requires the "sub" claim to be a SPIFFE ID that one of patterns
// matches, as a JWT-SVID's sub is. A pattern is either
//
//   - a SPIFFE ID, which matches that ID only:
//     "spiffe://example.org/ns/prod/sa/api"; or
//   - a SPIFFE ID followed by "/*", which matches the IDs of the same trust
//     domain whose path continues that ID's path with one or more whole
//     segments: "spiffe://example.org/ns/prod/*" matches
//     spiffe://example.org/ns/prod/sa/api but neither
//     spiffe://example.org/ns/production/sa/api nor
//     spiffe://example.org/ns/prod itself, and "spiffe://example.org/*"
//     matches every workload of the trust domain example.org (but not the
//     trust domain's own ID spiffe://example.org: list it as well to accept
//     it).
//
// IDs compare byte by byte after a strict check against the SPIFFE ID
// specification: scheme "spiffe://" in lower case; a trust domain of
// a-z 0-9 . - _ (lower case only, so no port, userinfo or upper case); a path
// of segments of a-z A-Z 0-9 . - _, none empty, "." or ".."; no trailing
// slash, query, fragment or percent-encoding; at most 2048 bytes. A sub
// that fails the check (spiffe://Example.org/a, spiffe://example.org//a,
// spiffe://example.org/a/../b, spiffe://example.org/a%2Fb), a sub that is
// not a string, and an absent sub match no pattern. Trust domains are not
// normalised: spiffe://example.org./a is in the trust domain
// "example.org.", not "example.org".
//
// SPIFFEID panics if a pattern is not a SPIFFE ID, optionally followed by
// "/*": patterns are a program's constants, and a typo in one is a
// programmer error, as for regexp.MustCompile. SPIFFEID() refuses every
// token. The policy keeps no reference to patterns.
func SPIFFEID(patterns ...string) Policy {
	ps := make([]spiffeid.Pattern, len(patterns))
	for i, p := range patterns {
		var err error
		if ps[i], err = spiffeid.ParsePattern(p); err != nil {
			panic(fmt.Sprintf("access.SPIFFEID: pattern %d: %v", i, err))
		}
	}
	return func(s *Subject) error {
		v, found := s.Lookup("sub")
		if !found {
			return &Denied{Reason: "claim sub absent"}
		}
		str, isStr := v.(string)
		if !isStr {
			return &Denied{Reason: "claim sub is not a SPIFFE ID"}
		}
		id, err := spiffeid.Parse(str)
		if err != nil {
			return &Denied{Reason: "claim sub is not a SPIFFE ID"}
		}
		for _, p := range ps {
			if p.Match(id) {
				return nil
			}
		}
		return &Denied{Reason: "claim sub matches none of the SPIFFE ID patterns"}
	}
}
