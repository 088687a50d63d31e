package jwtsvid

import (
	"testing"

	"github.com/jwtverify/jwtverify"
)

// TestCheckVerified: whatever a trust domain's verifier returns, a token
// whose verified sub is not a SPIFFE ID of that trust domain is not passed
// on, and neither is a typ other than JWT or JOSE.
func TestCheckVerified(t *testing.T) {
	for _, tc := range []struct {
		sub, typ, class string
	}{
		{"spiffe://example.org/a", "", ""},
		{"spiffe://example.org/a", "JOSE", ""},
		{"spiffe://other.org/a", "", "issuer"},
		{"spiffe://example.org./a", "", "issuer"},
		{"", "", "issuer"},
		{"https://example.org/a", "", "issuer"},
		{"spiffe://example.org/a", "jwt", "type"},
	} {
		tok := &jwtverify.Token{Header: jwtverify.Header{Type: tc.typ}, Claims: jwtverify.Claims{Subject: tc.sub}}
		got, err := checkVerified("example.org", tok, nil)
		if jwtverify.Class(err) != tc.class || (err == nil) != (got == tok) {
			t.Errorf("sub %q typ %q: %v, %v; want class %q", tc.sub, tc.typ, got, err, tc.class)
		}
	}
	if _, err := checkVerified("example.org", nil, errUnknownDomain); err != errUnknownDomain {
		t.Errorf("error not passed on: %v", err)
	}
}
