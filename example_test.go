package jwtverify_test

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"errors"
	"fmt"
	"time"

	"github.com/jwtverify/jwtverify"
	"github.com/jwtverify/jwtverify/backends/golangjwt"
	"github.com/jwtverify/jwtverify/jwttest"
	"github.com/jwtverify/jwtverify/keyset"
)

func Example() {
	// The issuer's side, played by jwttest; a real token comes from your issuer.
	priv := ed25519.NewKeyFromSeed(bytes.Repeat([]byte{7}, 32))
	header := map[string]any{"kid": "k1", "typ": "at+jwt"}
	token := jwttest.Sign("EdDSA", priv, header,
		map[string]any{"iss": "https://issuer.example", "sub": "alice", "aud": "api", "exp": 1700003600, "scope": "read"})

	// The verifier's side: the issuer's public key, from PEM, a JWKS or a value.
	key, err := jwtverify.NewPublicKey("k1", "EdDSA", priv.Public())
	if err != nil {
		panic(err)
	}
	keys, err := keyset.NewStatic(key)
	if err != nil {
		panic(err)
	}
	v, err := golangjwt.New(jwtverify.Config{
		Keys:      keys,
		Issuers:   []string{"https://issuer.example"},
		Audiences: []string{"api"},
		Types:     []string{"at+jwt"},
		Now:       func() time.Time { return time.Unix(1700000000, 0) },
	})
	if err != nil {
		panic(err)
	}

	tok, err := v.Verify(context.Background(), token)
	if err != nil {
		panic(err)
	}
	var custom struct {
		Scope string `json:"scope"`
	}
	if err := tok.Claims.Decode(&custom); err != nil {
		panic(err)
	}
	fmt.Println(tok.Claims.Subject, tok.Claims.Audience, tok.Claims.ExpiresAt.UTC().Format(time.RFC3339), custom.Scope)

	forged := jwttest.Sign("EdDSA", ed25519.NewKeyFromSeed(bytes.Repeat([]byte{8}, 32)), header,
		map[string]any{"iss": "https://issuer.example", "sub": "mallory", "aud": "api", "exp": 1700003600})
	_, err = v.Verify(context.Background(), forged)
	fmt.Println(err, errors.Is(err, jwtverify.ErrSignature))
	// Output:
	// alice [api] 2023-11-14T23:13:20Z read
	// signature: signature does not verify true
}

func ExampleClass() {
	err := fmt.Errorf("handling request: %w", jwtverify.ErrExpired)
	fmt.Println(jwtverify.Class(err))
	fmt.Println(jwtverify.Class(errors.New("unrelated")) == "")
	// Output:
	// expired
	// true
}

func ExampleVerifier_Verify_rejections() {
	priv := ed25519.NewKeyFromSeed(bytes.Repeat([]byte{7}, 32))
	key, _ := jwtverify.NewPublicKey("k1", "", priv.Public())
	keys, _ := keyset.NewStatic(key)
	v, _ := golangjwt.New(jwtverify.Config{
		Keys: keys, Issuers: []string{"https://issuer.example"}, Audiences: []string{"api"},
		Now: func() time.Time { return time.Unix(1700000000, 0) },
	})
	k1, k2 := map[string]any{"kid": "k1"}, map[string]any{"kid": "k2"}
	for _, token := range []string{
		jwttest.Sign("none", nil, nil, map[string]any{"sub": "admin"}),
		jwttest.Sign("EdDSA", priv, k1, map[string]any{"iss": "https://issuer.example", "aud": "api", "exp": 1600000000}),
		jwttest.Sign("EdDSA", priv, k1, map[string]any{"iss": "https://issuer.example", "aud": "web", "exp": 1800000000}),
		jwttest.Sign("EdDSA", priv, k1, map[string]any{"iss": "https://issuer.example", "aud": "api", "exp": "tomorrow"}),
		jwttest.Sign("EdDSA", priv, k2, map[string]any{}),
		"not.a.jwt.at.all",
	} {
		_, err := v.Verify(context.Background(), token)
		fmt.Println(jwtverify.Class(err))
	}
	// Output:
	// algorithm
	// expired
	// audience
	// malformed
	// unknown_key
	// unsupported
}
