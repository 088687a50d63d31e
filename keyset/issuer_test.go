package keyset_test

import (
	"context"
	"encoding/json"
	"errors"
	"testing"
	"testing/synctest"

	"github.com/jwtverify/jwtverify"
	"github.com/jwtverify/jwtverify/internal/mint"
	"github.com/jwtverify/jwtverify/keyset"
)

// TestKeyIssuerBinding: with EnforceKeyIssuer, a key with an issuer
// member serves only lookups whose Issuer is that issuer or fills that
// template; any other lookup, one without Issuer included, is unknown_key
// and costs no request. A key without the member serves every issuer.
// Without EnforceKeyIssuer the member is ignored (an Entra v1 token, iss
// https://sts.windows.net/{tid}/, verifies with a key bound to the v2
// issuer); ParseJWKS keeps no binding.
func TestKeyIssuerBinding(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := newFixture()
		a, _ := mint.JWK(&f.a.PublicKey, "A", "")
		a["issuer"] = "https://login.example/{tenantid}/v2.0"
		b, _ := mint.JWK(&f.b.PublicKey, "B", "")
		b["issuer"] = "https://login.example/t1/v2.0"
		c, _ := mint.JWK(&f.b.PublicKey, "C", "")
		body, _ := json.Marshal(map[string]any{"keys": []any{a, b, c}})
		o := newOrigin(t, body)
		r := f.remote(t, o, func(c *keyset.RemoteConfig) { c.EnforceKeyIssuer = true })
		ctx := context.Background()
		look := func(kid, iss string) error {
			_, err := r.Key(ctx, jwtverify.Lookup{KID: kid, Alg: "RS256", MayFetch: true, Issuer: iss})
			return err
		}
		for _, tc := range []struct {
			kid, iss string
			ok       bool
		}{
			{"A", "https://login.example/t1/v2.0", true},
			{"A", "https://login.example/t2/v2.0", true},
			{"A", "https://login.example/t2/v1.0", false},
			{"A", "https://login.example/{tenantid}/v2.0", false},
			{"A", "https://login.example/a/b/v2.0", false},
			{"A", "", false},
			{"B", "https://login.example/t1/v2.0", true},
			{"B", "https://login.example/t2/v2.0", false},
			{"B", "", false},
			{"C", "https://anything.example", true},
			{"C", "", true},
		} {
			err := look(tc.kid, tc.iss)
			if tc.ok != (err == nil) || (err != nil && !errors.Is(err, jwtverify.ErrUnknownKey)) {
				t.Errorf("kid %s, iss %q: %v, want ok %v", tc.kid, tc.iss, err, tc.ok)
			}
		}
		if n := o.requests.Load(); n != 1 {
			t.Errorf("%d requests, want 1: a bound key refused must not refresh", n)
		}
		off := f.remote(t, newOrigin(t, body), nil)
		for _, iss := range []string{"https://sts.windows.net/t2/", "", "https://login.example/t2/v2.0"} {
			if _, err := off.Key(ctx, jwtverify.Lookup{KID: "B", Alg: "RS256", Issuer: iss}); err != nil {
				t.Errorf("without EnforceKeyIssuer, iss %q: %v", iss, err)
			}
		}
		keys, _, err := keyset.ParseJWKS(body)
		if err != nil || len(keys) != 3 {
			t.Fatalf("ParseJWKS: %v", err)
		}
		// A non-string issuer member skips the key only when binding.
		a["issuer"] = 7
		body, _ = json.Marshal(map[string]any{"keys": []any{a, c}})
		if keys, skipped, err := keyset.ParseJWKS(body); err != nil || len(keys) != 2 || len(skipped) != 0 {
			t.Fatalf("ParseJWKS with a numeric issuer: %d keys, %v, %v", len(keys), skipped, err)
		}
		bound := f.remote(t, newOrigin(t, body), func(c *keyset.RemoteConfig) { c.EnforceKeyIssuer = true })
		if _, err := bound.Key(ctx, jwtverify.Lookup{KID: "A", Alg: "RS256", Issuer: "https://login.example/t1/v2.0"}); !errors.Is(err, jwtverify.ErrUnknownKey) {
			t.Fatalf("key with a numeric issuer, binding: %v", err)
		}
	})
}
