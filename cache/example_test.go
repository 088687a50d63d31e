package cache_test

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"fmt"
	"time"

	"github.com/jwtverify/jwtverify"
	"github.com/jwtverify/jwtverify/backends/golangjwt"
	"github.com/jwtverify/jwtverify/cache"
	"github.com/jwtverify/jwtverify/jwttest"
	"github.com/jwtverify/jwtverify/keyset"
)

// A Verified in front of a verifier: a token presented again skips the
// signature check until it expires; a rejected token is never cached.
func ExampleVerified() {
	pub, priv, err := ed25519.GenerateKey(rand.Reader) // the issuer's key
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
	now := time.Unix(1700000000, 0)
	clock := func() time.Time { return now } // the verifier's clock, shared with the cache
	v, err := golangjwt.New(jwtverify.Config{
		Keys: keys, Issuers: []string{"https://issuer.example"}, Audiences: []string{"api"}, Now: clock,
	})
	if err != nil {
		panic(err)
	}
	c, err := cache.NewVerified(v, cache.VerifiedConfig{
		Now:      clock,
		OnLookup: func(hit bool) { fmt.Print("hit=", hit, " ") },
	})
	if err != nil {
		panic(err)
	}

	token := jwttest.Sign("EdDSA", priv, map[string]any{"kid": "k1"},
		map[string]any{"iss": "https://issuer.example", "sub": "alice", "aud": "api", "exp": 1700000060})
	verify := func() {
		tok, err := c.Verify(context.Background(), token)
		if err != nil {
			fmt.Println("rejected:", jwtverify.Class(err), "cached:", c.Len())
			return
		}
		fmt.Println("valid:", tok.Claims.Subject, "cached:", c.Len())
	}
	verify()                 // verified, then cached
	verify()                 // served from the cache
	now = now.Add(time.Hour) // past exp: the cache refuses it as the verifier does
	verify()
	// Output:
	// hit=false valid: alice cached: 1
	// hit=true valid: alice cached: 1
	// hit=false rejected: expired cached: 0
}
