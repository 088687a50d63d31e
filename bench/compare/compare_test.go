package main

import (
	"testing"
	"time"

	"github.com/jwtverify/jwtverify/internal/benchsuite"
	"github.com/jwtverify/jwtverify/internal/mint"
)

func all(tb testing.TB) []benchsuite.Contender {
	cases, err := benchsuite.Cases()
	if err != nil {
		tb.Fatal(err)
	}
	ours, closeFn, err := benchsuite.Ours(cases)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(closeFn)
	alts, err := Alternatives(cases)
	if err != nil {
		tb.Fatal(err)
	}
	return benchsuite.Ordered(append(ours, alts...))
}

// BenchmarkVerify runs every contender, ours and the alternatives, in one
// run: BenchmarkVerify/<alg>/<verifier>, with anchor=<library> for the
// alternatives and limit for the raw standard-library work.
func BenchmarkVerify(b *testing.B) { benchsuite.Bench(b, all(b)) }

// BenchmarkVerifyParallel: RS256 and HS256 from all Ps (-cpu 1,2).
func BenchmarkVerifyParallel(b *testing.B) { benchsuite.BenchParallel(b, all(b)) }

// TestAlternativesApplyTheSameChecks: every alternative accepts the token
// and rejects one with another audience, another issuer, or one that has
// expired, so the comparison measures the same work.
func TestAlternativesApplyTheSameChecks(t *testing.T) {
	cases, err := benchsuite.Cases()
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range cases {
		vs, err := alternativesFor(c)
		if err != nil {
			t.Fatal(err)
		}
		bad := map[string]map[string]any{
			"audience": {"aud": "api://other"},
			"issuer":   {"iss": "https://evil.example"},
			"expired":  {"exp": benchsuite.Now.Add(-time.Hour).Unix()},
			"no exp":   {"exp": nil},
		}
		for name, v := range vs {
			if err := v(c.Token); err != nil {
				t.Errorf("%s %s rejects the token: %v", c.Alg, name, err)
			}
			for what, mod := range bad {
				claims := benchsuite.Claims()
				for k, val := range mod {
					if val == nil {
						delete(claims, k)
					} else {
						claims[k] = val
					}
				}
				tok, err := mint.Token(c.Alg, c.Private, map[string]any{"kid": c.Kid, "typ": "at+jwt"}, claims)
				if err != nil {
					t.Fatal(err)
				}
				if err := v(tok); err == nil {
					t.Errorf("%s %s accepts a token with a bad %s", c.Alg, name, what)
				}
			}
		}
	}
}
