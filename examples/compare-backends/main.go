// Command compare-backends verifies the same tokens with the three
// backends, golang-jwt, jwx and native, under one configuration, and shows that they give the
// same verdict and class for each: the backends only check signatures,
// everything else is shared.
package main

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"fmt"
	"io"
	"log"
	"os"
	"time"

	"github.com/jwtverify/jwtverify"
	"github.com/jwtverify/jwtverify/backends/golangjwt"
	"github.com/jwtverify/jwtverify/backends/jwx"
	"github.com/jwtverify/jwtverify/backends/native"
	"github.com/jwtverify/jwtverify/jwttest"
	"github.com/jwtverify/jwtverify/keyset"
)

func main() {
	if err := run(os.Stdout); err != nil {
		log.Fatal(err)
	}
}

func run(out io.Writer) error {
	priv, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return err
	}
	key, err := jwtverify.NewPublicKey("rsa-1", "RS256", &priv.PublicKey)
	if err != nil {
		return err
	}
	keys, err := keyset.NewStatic(key)
	if err != nil {
		return err
	}
	cfg := jwtverify.Config{Keys: keys, Issuers: []string{"https://issuer.example"}, Audiences: []string{"api"}}
	a, err := golangjwt.New(cfg)
	if err != nil {
		return err
	}
	b, err := jwx.New(cfg)
	if err != nil {
		return err
	}
	n, err := native.New(cfg)
	if err != nil {
		return err
	}
	// Tokens, signed by jwttest standing in for the issuer.
	claims := func(exp time.Duration, aud string) map[string]any {
		return map[string]any{"iss": "https://issuer.example", "aud": aud, "exp": time.Now().Add(exp).Unix()}
	}
	sign := func(c map[string]any) string { return jwttest.Sign("RS256", priv, map[string]any{"kid": "rsa-1"}, c) }
	good := sign(claims(time.Hour, "api"))
	for _, c := range []struct{ name, token string }{
		{"valid", good},
		{"expired", sign(claims(-time.Hour, "api"))},
		{"wrong audience", sign(claims(time.Hour, "web"))},
		{"tampered", good[:len(good)-6] + "AAAAAA"},
		{"alg none", jwttest.Sign("none", nil, nil, claims(time.Hour, "api"))},
	} {
		_, errA := a.Verify(context.Background(), c.token)
		_, errB := b.Verify(context.Background(), c.token)
		_, errN := n.Verify(context.Background(), c.token)
		verdict := func(err error) string {
			if err == nil {
				return "valid"
			}
			return jwtverify.Class(err)
		}
		agree := "agree"
		if verdict(errA) != verdict(errB) || verdict(errA) != verdict(errN) {
			agree = "DISAGREE"
		}
		fmt.Fprintf(out, "%-15s %s=%-10s %s=%-10s %s=%-10s %s\n", c.name, a.BackendName(), verdict(errA), b.BackendName(), verdict(errB),
			n.BackendName(), verdict(errN), agree)
	}
	return nil
}
