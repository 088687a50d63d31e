package jwttest_test

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"fmt"
	"time"

	"github.com/jwtverify/jwtverify"
	"github.com/jwtverify/jwtverify/backends/golangjwt"
	"github.com/jwtverify/jwtverify/jwttest"
	"github.com/jwtverify/jwtverify/keyset"
)

// A test of code that verifies tokens from an OpenID Provider: the fake
// issuer publishes its keys, signs tokens, rotates its key and fails.
func ExampleIssuer() {
	is := jwttest.NewIssuer("ES256")
	defer is.Close()

	// The code under test: keys from the issuer's discovery document.
	ctx := context.Background()
	keys, err := keyset.Discover(ctx, is.URL, keyset.RemoteConfig{})
	if err != nil {
		panic(err)
	}
	defer keys.Close()
	v, err := golangjwt.New(jwtverify.Config{Keys: keys, Issuers: []string{is.URL}, Audiences: []string{"api"}})
	if err != nil {
		panic(err)
	}
	verify := func(token string) {
		tok, err := v.Verify(ctx, token)
		if err != nil {
			fmt.Println("rejected:", jwtverify.Class(err))
			return
		}
		fmt.Println("valid:", tok.Claims.Subject, tok.Header.KeyID)
	}

	claims := map[string]any{"iss": is.URL, "sub": "alice", "aud": "api", "exp": time.Now().Add(time.Hour).Unix()}
	verify(is.Sign(nil, claims))
	verify(is.Sign(nil, map[string]any{"iss": is.URL, "sub": "alice", "aud": "web", "exp": time.Now().Add(time.Hour).Unix()}))

	// A new key: its first token makes the verifier fetch the JWKS again.
	is.Rotate()
	verify(is.Sign(nil, claims))
	fmt.Println("JWKS requests:", is.JWKSRequests())

	// An outage: the verifier keeps the keys it has.
	is.SetFailing(true)
	verify(is.Sign(nil, claims))
	// Output:
	// valid: alice key-1
	// rejected: audience
	// valid: alice key-2
	// JWKS requests: 2
	// valid: alice key-2
}

// Sign signs with a key of the test's own, here for a verifier with a
// static key.
func ExampleSign() {
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		panic(err)
	}
	key, err := jwtverify.NewPublicKey("k1", "EdDSA", pub)
	if err != nil {
		panic(err)
	}
	keys, err := keyset.NewStatic(key)
	if err != nil {
		panic(err)
	}
	v, err := golangjwt.New(jwtverify.Config{
		Keys: keys, Issuers: []string{"https://issuer.example"}, Audiences: []string{"api"},
		Now: func() time.Time { return time.Unix(1700000000, 0) },
	})
	if err != nil {
		panic(err)
	}

	claims := map[string]any{"iss": "https://issuer.example", "sub": "job-17", "aud": "api", "exp": 1700003600}
	for _, token := range []string{
		jwttest.Sign("EdDSA", priv, map[string]any{"kid": "k1"}, claims),
		jwttest.Sign("EdDSA", priv, map[string]any{"kid": "k2"}, claims),
		jwttest.Sign("none", nil, nil, claims),
	} {
		tok, err := v.Verify(context.Background(), token)
		if err != nil {
			fmt.Println("rejected:", jwtverify.Class(err))
			continue
		}
		fmt.Println("valid:", tok.Claims.Subject)
	}
	// Output:
	// valid: job-17
	// rejected: unknown_key
	// rejected: algorithm
}
