package keyset_test

import (
	"crypto/sha256"
	"encoding/base64"
	"testing"

	"github.com/jwtverify/jwtverify"
	"github.com/jwtverify/jwtverify/internal/testkeys"
	"github.com/jwtverify/jwtverify/keyset"
)

// TestThumbprint: RFC 7638 §3.1's example key has the thumbprint the RFC
// gives, and a key parsed from a JWK has the thumbprint of its members.
func TestThumbprint(t *testing.T) {
	rfc := `{"kty":"RSA","n":"0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw","e":"AQAB","alg":"RS256","kid":"2011-04-29"}`
	k, err := keyset.ParseJWK([]byte(rfc))
	if err != nil {
		t.Fatal(err)
	}
	if got, err := keyset.Thumbprint(k); err != nil || got != "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs" {
		t.Fatalf("RFC 7638 example: %q, %v", got, err)
	}
	ks := testkeys.Load()
	ec := `{"kty":"EC","crv":"P-256","x":"f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU","y":"x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0"}`
	if k, err := keyset.ParseJWK([]byte(ec)); err != nil {
		t.Fatal(err)
	} else {
		sum := sha256.Sum256([]byte(`{"crv":"P-256","kty":"EC","x":"f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU","y":"x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0"}`))
		if got, _ := keyset.Thumbprint(k); got != base64.RawURLEncoding.EncodeToString(sum[:]) {
			t.Errorf("EC thumbprint %q", got)
		}
	}
	for name, pub := range map[string]any{"P-384": &ks.P384.PublicKey, "P-521": &ks.P521.PublicKey, "Ed25519": ks.Ed25519.Public(), "RSA": &ks.RSA1.PublicKey} {
		k, err := jwtverify.NewPublicKey("", "", pub)
		if err != nil {
			t.Fatal(err)
		}
		tp, err := keyset.Thumbprint(k)
		if err != nil || len(tp) != 43 {
			t.Errorf("%s: %q, %v", name, tp, err)
		}
	}
	secret, _ := jwtverify.NewSecretKey("", "HS256", make([]byte, 32))
	for _, k := range []jwtverify.Key{secret, {}} {
		if _, err := keyset.Thumbprint(k); err == nil {
			t.Error("a secret or zero key has a thumbprint")
		}
	}
}
