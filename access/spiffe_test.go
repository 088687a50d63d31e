package access_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/jwtverify/jwtverify"
	"github.com/jwtverify/jwtverify/access"
)

// Issue 11: SPIFFEID allows a verified token whose sub is a valid SPIFFE ID
// that one of its patterns matches, and nothing else.
func TestSPIFFEID(t *testing.T) {
	e := newEnv(t)
	exact := access.SPIFFEID("spiffe://example.org/ns/prod/sa/api")
	prod := access.SPIFFEID("spiffe://example.org/ns/prod/*")
	domain := access.SPIFFEID("spiffe://example.org/*")
	long := "spiffe://example.org/ns/prod/" + strings.Repeat("a", 2048-len("spiffe://example.org/ns/prod/"))
	for _, tt := range []struct {
		name   string
		sub    string
		policy access.Policy
		grant  bool
	}{
		{"exact", "spiffe://example.org/ns/prod/sa/api", exact, true},
		{"exact, longer", "spiffe://example.org/ns/prod/sa/api/x", exact, false},
		{"exact, other trust domain", "spiffe://example.com/ns/prod/sa/api", exact, false},
		{"prefix", "spiffe://example.org/ns/prod/sa/api", prod, true},
		{"prefix, not at a segment boundary", "spiffe://example.org/ns/production/sa/api", prod, false},
		{"prefix, the prefix itself", "spiffe://example.org/ns/prod", prod, false},
		{"trust domain", "spiffe://example.org/anything/at/all", domain, true},
		{"trust domain, trust domain ID", "spiffe://example.org", domain, false},
		{"trust domain, suffix look-alike", "spiffe://example.org.evil.com/a", domain, false},
		{"trust domain, trailing dot", "spiffe://example.org./a", domain, false},
		{"uppercase trust domain", "spiffe://EXAMPLE.ORG/ns/prod/sa/api", prod, false},
		{"uppercase scheme", "SPIFFE://example.org/ns/prod/sa/api", prod, false},
		{"percent-encoded slash", "spiffe://example.org/ns/prod%2Fsa/api", domain, false},
		{"percent-encoded prefix", "spiffe://example.org/ns%2Fprod/sa", prod, false},
		{"empty segment", "spiffe://example.org//ns/prod/sa/api", domain, false},
		{"empty segment inside prefix", "spiffe://example.org/ns/prod//api", prod, false},
		{"dot-dot escapes the prefix", "spiffe://example.org/ns/prod/../admin", prod, false},
		{"dot segment", "spiffe://example.org/ns/prod/./api", prod, false},
		{"trailing slash", "spiffe://example.org/ns/prod/sa/api/", prod, false},
		{"query", "spiffe://example.org/ns/prod/sa/api?x", prod, false},
		{"fragment", "spiffe://example.org/ns/prod/sa/api#x", prod, false},
		{"port", "spiffe://example.org:443/ns/prod/sa/api", prod, false},
		{"userinfo", "spiffe://u@example.org/ns/prod/sa/api", prod, false},
		{"Cyrillic look-alike in the trust domain", "spiffe://exаmple.org/ns/prod/sa/api", domain, false},
		{"Cyrillic look-alike in the path", "spiffe://example.org/ns/prоd/sa/api", domain, false},
		{"not a SPIFFE ID", "alice", domain, false},
		{"2048 bytes", long, prod, true},
		{"2049 bytes", long + "a", prod, false},
		{"very long", "spiffe://example.org/ns/prod/" + strings.Repeat("a/", 4000) + "a", prod, false},
		{"second pattern", "spiffe://other.org/x", access.SPIFFEID("spiffe://example.org/*", "spiffe://other.org/x"), true},
		{"no patterns", "spiffe://example.org/x", access.SPIFFEID(), false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if got := grant(t, e, tt.policy, e.token(map[string]any{"sub": tt.sub})); got != tt.grant {
				t.Errorf("sub %.60q: allows %v, want %v", tt.sub, got, tt.grant)
			}
		})
	}

	if grant(t, e, domain, e.tokenWithout("sub", nil)) {
		t.Error("a token without sub is allowed")
	}
	verified, err := e.v.Verify(t.Context(), e.token(map[string]any{"sub": "spiffe://example.org/ns/production/x"}))
	if err != nil {
		t.Fatal(err)
	}
	var d *access.Denied
	if err := prod(&access.Subject{Token: verified}); !errors.As(err, &d) || strings.Contains(d.Reason, "production") {
		t.Errorf("refusal %v: want a *Denied that does not echo the claim", err)
	}
}

// Verify refuses a sub that is not a string, so this Token is made by hand
// to check the policy's own defence: a non-string sub matches nothing.
func TestSPIFFEIDNonStringSub(t *testing.T) {
	p := access.SPIFFEID("spiffe://example.org/*")
	for _, raw := range []string{`{"sub":["spiffe://example.org/a"]}`, `{"sub":5}`, `{"sub":null}`, `{"sub":{"id":"spiffe://example.org/a"}}`, `not json`} {
		tok := &jwtverify.Token{Claims: jwtverify.Claims{Raw: raw}}
		if p(&access.Subject{Token: tok}) == nil {
			t.Errorf("payload %s is allowed", raw)
		}
	}
	ok := &jwtverify.Token{Claims: jwtverify.Claims{Raw: `{"sub":"spiffe://example.org/a"}`}}
	if err := p(&access.Subject{Token: ok}); err != nil {
		t.Errorf("a string sub is refused: %v", err)
	}
}

// An invalid pattern is a programmer error: SPIFFEID panics when the
// policy is built, never on a request.
func TestSPIFFEIDBadPatternPanics(t *testing.T) {
	for _, p := range []string{"", "example.org", "spiffe://Example.org/a", "spiffe://example.org/", "spiffe://example.org/ns/*/sa",
		"spiffe://example.org/ns/prod*", "spiffe://example.org/**", "spiffe://example.org/a/../b", "spiffe://example.org:1/a"} {
		t.Run(p, func(t *testing.T) {
			defer func() {
				if recover() == nil {
					t.Errorf("SPIFFEID(%q) did not panic", p)
				}
			}()
			access.SPIFFEID("spiffe://example.org/ok", p)
		})
	}
}
