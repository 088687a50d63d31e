// Command multi-issuer accepts tokens from two issuers, each with its own
// key set and policy, routed by the token's iss: a key of one issuer never
// verifies a token of the other, and a token naming an unknown issuer is
// refused before any key lookup. The issuers are fakes on loopback
// (package jwttest).
package main

import (
	"context"
	"fmt"
	"io"
	"log"
	"os"
	"time"

	"github.com/jwtverify/jwtverify"
	"github.com/jwtverify/jwtverify/backends/golangjwt"
	"github.com/jwtverify/jwtverify/issuers"
	"github.com/jwtverify/jwtverify/jwttest"
	"github.com/jwtverify/jwtverify/keyset"
)

func main() {
	if err := run(os.Stdout); err != nil {
		log.Fatal(err)
	}
}

func run(out io.Writer) error {
	corp := jwttest.NewIssuer("ES256")
	defer corp.Close()
	partner := jwttest.NewIssuer("ES256")
	defer partner.Close()

	routes := map[string]issuers.Verifier{}
	for _, is := range []*jwttest.Issuer{corp, partner} {
		keys, err := keyset.Discover(context.Background(), is.URL, keyset.RemoteConfig{})
		if err != nil {
			return err
		}
		defer keys.Close()
		v, err := golangjwt.New(jwtverify.Config{Keys: keys, Algorithms: []string{"ES256"}, Issuers: []string{is.URL}, Audiences: []string{"api"}})
		if err != nil {
			return err
		}
		routes[is.URL] = v
	}
	router, err := issuers.NewRouter(routes, 0)
	if err != nil {
		return err
	}

	token := func(is *jwttest.Issuer, sub string) string {
		return is.Sign(nil, map[string]any{"iss": is.URL, "sub": sub, "aud": "api", "exp": time.Now().Add(time.Hour).Unix()})
	}
	stranger := jwttest.NewIssuer("ES256")
	defer stranger.Close()
	for _, c := range []struct{ who, token string }{
		{"corp", token(corp, "alice")},
		{"partner", token(partner, "bob")},
		{"stranger", token(stranger, "eve")},
	} {
		tok, err := router.Verify(context.Background(), c.token)
		if err != nil {
			fmt.Fprintf(out, "%-8s token: rejected (%s)\n", c.who, jwtverify.Class(err))
			continue
		}
		fmt.Fprintf(out, "%-8s token: valid for %s\n", c.who, tok.Claims.Subject)
	}
	return nil
}
