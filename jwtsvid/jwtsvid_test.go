package jwtsvid_test

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/json"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jwtverify/jwtverify"
	"github.com/jwtverify/jwtverify/backends/golangjwt"
	"github.com/jwtverify/jwtverify/backends/jwx"
	"github.com/jwtverify/jwtverify/internal/mint"
	"github.com/jwtverify/jwtverify/internal/testkeys"
	"github.com/jwtverify/jwtverify/jwtsvid"
	"github.com/jwtverify/jwtverify/jwttest"
	"github.com/jwtverify/jwtverify/keyset"
)

var now = time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC)

// jwkJSON is pub's JWK with kid and, when not "", use.
func jwkJSON(t testing.TB, pub crypto.PublicKey, kid, use string) string {
	t.Helper()
	m, err := mint.JWK(pub, kid, "")
	if err != nil {
		t.Fatal(err)
	}
	if use != "" {
		m["use"] = use
	}
	b, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// bundle parses a SPIFFE bundle of jwks, in SPIRE's format, into a Static.
func bundle(t testing.TB, wantSkipped int, jwks ...string) *keyset.Static {
	t.Helper()
	doc := `{"keys":[` + strings.Join(jwks, ",") + `],"spiffe_sequence":1,"spiffe_refresh_hint":300}`
	keys, skipped, err := keyset.ParseSPIFFEBundle([]byte(doc))
	if err != nil || len(skipped) != wantSkipped {
		t.Fatalf("ParseSPIFFEBundle: %v, skipped %v; want %d skipped", err, skipped, wantSkipped)
	}
	s, err := keyset.NewStatic(keys...)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// counting counts the key lookups of a source.
type counting struct {
	jwtverify.KeySource
	n atomic.Int32
}

func (c *counting) Key(ctx context.Context, l jwtverify.Lookup) (jwtverify.Key, error) {
	c.n.Add(1)
	return c.KeySource.Key(ctx, l)
}

func newEC(t testing.TB) *ecdsa.PrivateKey {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func backends(t *testing.T) map[string]jwtverify.Backend {
	jb, err := jwx.NewBackend()
	if err != nil {
		t.Fatal(err)
	}
	return map[string]jwtverify.Backend{"golang-jwt": golangjwt.Backend{}, "jwx": jb}
}

func TestVerify(t *testing.T) {
	ks := testkeys.Load()
	keyA, keyB, keyX := newEC(t), newEC(t), newEC(t) // example.org's, other.org's, example.org's X.509 authority
	// example.org: a jwt-svid key, an x509-svid key whose kid is other.org's
	// JWT key's, and a Workload API key without use.
	exampleOrg := &counting{KeySource: bundle(t, 1,
		jwkJSON(t, &keyA.PublicKey, "a1", "jwt-svid"),
		jwkJSON(t, &keyX.PublicKey, "b1", "x509-svid"),
		jwkJSON(t, &ks.RSA1.PublicKey, "w1", ""))}
	otherOrg := &counting{KeySource: bundle(t, 0, jwkJSON(t, &keyB.PublicKey, "b1", "jwt-svid"))}

	const sub = "spiffe://example.org/ns/prod/sa/api"
	claims := func(edit func(map[string]any)) map[string]any {
		c := map[string]any{"sub": sub, "aud": []string{"api"}, "exp": now.Add(5 * time.Minute).Unix(), "iat": now.Unix()}
		if edit != nil {
			edit(c)
		}
		return c
	}
	kid := func(k string) map[string]any { return map[string]any{"kid": k} }
	for _, tc := range []struct {
		name    string
		token   string
		class   string // "" for accepted
		lookups bool   // whether a key lookup happens
	}{
		{"valid ES256", jwttest.Sign("ES256", keyA, kid("a1"), claims(nil)), "", true},
		{"valid typ JWT", jwttest.Sign("ES256", keyA, map[string]any{"kid": "a1", "typ": "JWT"}, claims(nil)), "", true},
		{"valid Workload API key RS256", jwttest.Sign("RS256", ks.RSA1, kid("w1"), claims(nil)), "", true},
		{"valid Workload API key PS512", jwttest.Sign("PS512", ks.RSA1, kid("w1"), claims(nil)), "", true},
		{"valid aud string", jwttest.Sign("ES256", keyA, kid("a1"), claims(func(c map[string]any) { c["aud"] = "api" })), "", true},
		{"valid federated other.org", jwttest.Sign("ES256", keyB, kid("b1"), claims(func(c map[string]any) { c["sub"] = "spiffe://other.org/db" })), "", true},
		{"valid trust domain ID", jwttest.Sign("ES256", keyA, kid("a1"), claims(func(c map[string]any) { c["sub"] = "spiffe://example.org" })), "", true},

		{"trust domain without bundle", jwttest.Sign("ES256", keyA, kid("a1"), claims(func(c map[string]any) { c["sub"] = "spiffe://evil.org/ns/prod/sa/api" })), "issuer", false},
		{"trust domain differs by a trailing dot", jwttest.Sign("ES256", keyA, kid("a1"), claims(func(c map[string]any) { c["sub"] = "spiffe://example.org./x" })), "issuer", false},
		{"sub missing", jwttest.Sign("ES256", keyA, kid("a1"), claims(func(c map[string]any) { delete(c, "sub") })), "missing_claim", false},
		{"sub not a string", jwttest.Sign("ES256", keyA, kid("a1"), claims(func(c map[string]any) { c["sub"] = 7 })), "malformed", false},
		{"sub https URL", jwttest.Sign("ES256", keyA, kid("a1"), claims(func(c map[string]any) { c["sub"] = "https://example.org/ns/prod" })), "malformed", false},
		{"sub upper-case trust domain", jwttest.Sign("ES256", keyA, kid("a1"), claims(func(c map[string]any) { c["sub"] = "spiffe://Example.org/x" })), "malformed", false},
		{"sub with port", jwttest.Sign("ES256", keyA, kid("a1"), claims(func(c map[string]any) { c["sub"] = "spiffe://example.org:443/x" })), "malformed", false},
		{"sub with dot-dot", jwttest.Sign("ES256", keyA, kid("a1"), claims(func(c map[string]any) { c["sub"] = "spiffe://example.org/a/../b" })), "malformed", false},
		{"sub with query", jwttest.Sign("ES256", keyA, kid("a1"), claims(func(c map[string]any) { c["sub"] = "spiffe://example.org/a?b" })), "malformed", false},
		{"sub twice", jwttest.Sign("ES256", keyA, kid("a1"), json.RawMessage(`{"sub":"spiffe://example.org/a","sub":"spiffe://other.org/b","aud":"api","exp":1900000000}`)), "malformed", false},
		{"sub and Sub", jwttest.Sign("ES256", keyA, kid("a1"), json.RawMessage(`{"Sub":"spiffe://other.org/b","sub":"spiffe://example.org/a","aud":"api","exp":1900000000}`)), "malformed", false},
		{"not a JWS", "eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiJzcGlmZmU6Ly9leGFtcGxlLm9yZy94In0", "malformed", false},

		{"x509-svid key, its own kid", jwttest.Sign("ES256", keyX, kid("b1"), claims(nil)), "unknown_key", true},
		{"x509-svid key under a jwt-svid kid", jwttest.Sign("ES256", keyX, kid("a1"), claims(nil)), "signature", true},
		{"other.org's key for example.org, its kid", jwttest.Sign("ES256", keyB, kid("b1"), claims(nil)), "unknown_key", true},
		{"other.org's key for example.org, example.org's kid", jwttest.Sign("ES256", keyB, kid("a1"), claims(nil)), "signature", true},
		{"example.org's key for other.org", jwttest.Sign("ES256", keyA, kid("a1"), claims(func(c map[string]any) { c["sub"] = "spiffe://other.org/db" })), "unknown_key", true},
		{"example.org's key for other.org, other.org's kid", jwttest.Sign("ES256", keyA, kid("b1"), claims(func(c map[string]any) { c["sub"] = "spiffe://other.org/db" })), "signature", true},

		{"aud missing", jwttest.Sign("ES256", keyA, kid("a1"), claims(func(c map[string]any) { delete(c, "aud") })), "missing_claim", true},
		{"aud wrong", jwttest.Sign("ES256", keyA, kid("a1"), claims(func(c map[string]any) { c["aud"] = []string{"other"} })), "audience", true},
		{"exp missing", jwttest.Sign("ES256", keyA, kid("a1"), claims(func(c map[string]any) { delete(c, "exp") })), "missing_claim", true},
		{"expired", jwttest.Sign("ES256", keyA, kid("a1"), claims(func(c map[string]any) { c["exp"] = now.Add(-time.Second).Unix() })), "expired", true},
		{"typ not JWT or JOSE", jwttest.Sign("ES256", keyA, map[string]any{"kid": "a1", "typ": "at+jwt"}, claims(nil)), "type", true},

		{"ES384, which no key of the bundle supports", jwttest.Sign("ES384", ks.P384, kid("a1"), claims(nil)), "unknown_key", false},
		{"RS256 under the kid of an EC key", jwttest.Sign("RS256", ks.RSA1, kid("a1"), claims(nil)), "unknown_key", true},

		{"HS256", jwttest.Sign("HS256", ks.HMAC, kid("a1"), claims(nil)), "algorithm", false},
		{"EdDSA", jwttest.Sign("EdDSA", ks.Ed25519, kid("a1"), claims(nil)), "algorithm", false},
		{"none", jwttest.Sign("none", nil, nil, claims(nil)), "algorithm", false},
	} {
		for name, b := range backends(t) {
			t.Run(name+"/"+tc.name, func(t *testing.T) {
				v, err := jwtsvid.New(b, jwtsvid.Config{
					Bundles:   map[string]jwtverify.KeySource{"example.org": exampleOrg, "other.org": otherOrg},
					Audiences: []string{"api"},
					Now:       func() time.Time { return now },
				})
				if err != nil {
					t.Fatal(err)
				}
				before := exampleOrg.n.Load() + otherOrg.n.Load()
				tok, err := v.Verify(context.Background(), tc.token)
				if got := jwtverify.Class(err); got != tc.class {
					t.Fatalf("class %q (%v); want %q", got, err, tc.class)
				}
				if looked := exampleOrg.n.Load()+otherOrg.n.Load() != before; looked != tc.lookups {
					t.Errorf("key lookup happened: %v; want %v", looked, tc.lookups)
				}
				if err != nil {
					if tok != nil {
						t.Error("token returned with an error")
					}
					// The error never echoes token content.
					for _, part := range append(strings.Split(tc.token, "."), "example.org", "evil.org", "other.org", "a1", "b1") {
						if len(part) > 0 && strings.Contains(err.Error(), part) {
							t.Errorf("error %q contains token content %q", err, part)
						}
					}
					return
				}
				if !strings.HasPrefix(tok.Claims.Subject, "spiffe://") {
					t.Errorf("Subject = %q", tok.Claims.Subject)
				}
			})
		}
	}
}

// TestVerifyConcurrent: one Verifier serves concurrent calls (run under
// -race), each getting a Token of its own.
func TestVerifyConcurrent(t *testing.T) {
	key := newEC(t)
	v, err := jwtsvid.New(golangjwt.Backend{}, jwtsvid.Config{
		Bundles:   map[string]jwtverify.KeySource{"example.org": bundle(t, 0, jwkJSON(t, &key.PublicKey, "k", "jwt-svid"))},
		Audiences: []string{"api"},
		Now:       func() time.Time { return now },
	})
	if err != nil {
		t.Fatal(err)
	}
	tok := jwttest.Sign("ES256", key, map[string]any{"kid": "k"}, map[string]any{"sub": "spiffe://example.org/w", "aud": "api", "exp": now.Add(time.Minute).Unix()})
	errs := make(chan error, 8)
	for range 8 {
		go func() {
			got, err := v.Verify(context.Background(), tok)
			if err == nil {
				got.Claims.Subject = "changed"
			}
			errs <- err
		}()
	}
	for range 8 {
		if err := <-errs; err != nil {
			t.Error(err)
		}
	}
	if got, err := v.Verify(context.Background(), tok); err != nil || got.Claims.Subject != "spiffe://example.org/w" {
		t.Errorf("after concurrent use: %v, %v", got, err)
	}
	if tds := v.TrustDomains(); len(tds) != 1 || tds[0] != "example.org" {
		t.Errorf("TrustDomains = %q", tds)
	}
}

func TestNewRefuses(t *testing.T) {
	ks := testkeys.Load()
	ec := bundle(t, 0, jwkJSON(t, &ks.P256.PublicKey, "a1", "jwt-svid"))
	ed, err := jwtverify.NewPublicKey("e", "", ks.Ed25519.Public())
	if err != nil {
		t.Fatal(err)
	}
	edOnly, err := keyset.NewStatic(ed)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		cfg  jwtsvid.Config
	}{
		{"no bundles", jwtsvid.Config{Audiences: []string{"api"}}},
		{"no audiences", jwtsvid.Config{Bundles: map[string]jwtverify.KeySource{"example.org": ec}}},
		{"empty audience", jwtsvid.Config{Bundles: map[string]jwtverify.KeySource{"example.org": ec}, Audiences: []string{""}}},
		{"trust domain with a path", jwtsvid.Config{Bundles: map[string]jwtverify.KeySource{"example.org/x": ec}, Audiences: []string{"api"}}},
		{"trust domain upper case", jwtsvid.Config{Bundles: map[string]jwtverify.KeySource{"Example.org": ec}, Audiences: []string{"api"}}},
		{"trust domain empty", jwtsvid.Config{Bundles: map[string]jwtverify.KeySource{"": ec}, Audiences: []string{"api"}}},
		{"trust domain as an ID", jwtsvid.Config{Bundles: map[string]jwtverify.KeySource{"spiffe://example.org": ec}, Audiences: []string{"api"}}},
		{"nil source", jwtsvid.Config{Bundles: map[string]jwtverify.KeySource{"example.org": nil}, Audiences: []string{"api"}}},
		{"source without SVID algorithms", jwtsvid.Config{Bundles: map[string]jwtverify.KeySource{"example.org": edOnly}, Audiences: []string{"api"}}},
		{"negative MaxTokenBytes", jwtsvid.Config{Bundles: map[string]jwtverify.KeySource{"example.org": ec}, Audiences: []string{"api"}, MaxTokenBytes: -1}},
		{"leeway too large", jwtsvid.Config{Bundles: map[string]jwtverify.KeySource{"example.org": ec}, Audiences: []string{"api"}, Leeway: time.Hour}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := jwtsvid.New(golangjwt.Backend{}, tc.cfg); err == nil || !strings.Contains(err.Error(), jwtverify.ErrInvalidConfig.Error()) {
				t.Fatalf("New = %v; want ErrInvalidConfig", err)
			}
		})
	}
	if _, err := jwtsvid.New(nil, jwtsvid.Config{Bundles: map[string]jwtverify.KeySource{"example.org": ec}, Audiences: []string{"api"}}); err == nil {
		t.Error("New accepted a nil backend")
	}
}
