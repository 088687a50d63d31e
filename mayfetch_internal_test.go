package jwtverify

import (
	"context"
	"encoding/base64"
	"testing"
	"time"

	"github.com/jwtverify/jwtverify/internal/jws"
)

type nopBackend struct{}

func (nopBackend) Name() string                                      { return "nop" }
func (nopBackend) VerifySignature(string, any, string, []byte) error { return nil }

type nopKeys struct{}

func (nopKeys) Key(context.Context, Lookup) (Key, error) { return Key{}, nil }
func (nopKeys) Algorithms() []string                     { return []string{"ES256"} }

// TestMayFetchOneRule: MayFetch is computed from the decoded claims when
// they decode, and from iss and exp alone when they do not; both ways
// apply the one rule, plausible. For every payload that decodes, reading
// iss and exp alone gives the same answer, so the fast path changes no
// verdict.
func TestMayFetchOneRule(t *testing.T) {
	now := time.Unix(1_800_000_000, 0)
	payloads := []string{
		`{}`, `{"iss":"https://a"}`, `{"iss":"https://b"}`, `{"iss":"https://a","exp":1800000060}`,
		`{"iss":"https://a","exp":1800000000}`, `{"iss":"https://a","exp":1799999990}`,
		`{"iss":"https://a","exp":1799999990.5}`, `{"iss":"https://a","exp":1.8e9}`,
		`{"iss":"https://b","exp":1800000060}`, `{"exp":1800000060}`,
		`{"iss":"https://a","exp":1800000060,"aud":["x","y"],"nbf":1,"iat":1,"sub":"s","jti":"j"}`,
		`{"iss":"https:\/\/a","exp":1800000060}`, `{"iss":"https://a","exp":253402300799}`,
		`{"iss":"https://a","exp":0}`, `{"iss":"","exp":1800000060}`,
	}
	for _, cfg := range []Config{
		{Issuers: []string{"https://a"}, SkipAudienceCheck: true},
		{SkipIssuerCheck: true, SkipAudienceCheck: true},
		{SkipIssuerCheck: true, SkipAudienceCheck: true, AllowMissingExpiry: true},
		{Issuers: []string{"https://a", "https://b"}, SkipAudienceCheck: true, Leeway: 15 * time.Second},
	} {
		cfg.Keys = nopKeys{}
		cfg.Now = func() time.Time { return now }
		v, err := New(nopBackend{}, cfg)
		if err != nil {
			t.Fatal(err)
		}
		for _, payload := range payloads {
			token := "e30." + base64.RawURLEncoding.EncodeToString([]byte(payload)) + "."
			p, err := jws.Parse(token, 1<<10)
			if err != nil {
				t.Fatal(err)
			}
			tok := &Token{}
			tok.Claims.Audience = tok.aud[:0]
			has, derr := v.decodeClaims(&p, tok)
			if derr != nil {
				t.Fatalf("%s: %v", payload, derr)
			}
			fast, fastIss := v.mayFetch(&p, &tok.Claims, has, nil)
			slow, slowIss := v.mayFetch(&p, &tok.Claims, has, ErrMalformed) // iss and exp alone
			if fast != slow || fastIss != slowIss {
				t.Errorf("%+v, %s: from the decoded claims %v %q, from iss and exp alone %v %q", cfg.Issuers, payload, fast, fastIss, slow, slowIss)
			}
		}
	}
}
