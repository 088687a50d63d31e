package native_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"fmt"
	"time"

	"github.com/jwtverify/jwtverify"
	"github.com/jwtverify/jwtverify/backends/native"
	"github.com/jwtverify/jwtverify/jwttest"
	"github.com/jwtverify/jwtverify/keyset"
)

// New returns a jwtverify.Verifier whose signatures the native backend checks, with each key prepared once.
func ExampleNew() {
	priv, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader) // the issuer's key
	if err != nil {
		panic(err)
	}
	key, err := jwtverify.NewPublicKey("k1", "ES256", &priv.PublicKey)
	if err != nil {
		panic(err)
	}
	keys, err := keyset.NewStatic(key)
	if err != nil {
		panic(err)
	}
	v, err := native.New(jwtverify.Config{Keys: keys, Issuers: []string{"https://issuer.example"}, Audiences: []string{"api"}})
	if err != nil {
		panic(err)
	}
	token := jwttest.Sign("ES256", priv, map[string]any{"kid": "k1"},
		map[string]any{"iss": "https://issuer.example", "sub": "alice", "aud": "api", "exp": time.Now().Add(time.Hour).Unix()})
	tok, err := v.Verify(context.Background(), token)
	fmt.Println(v.BackendName(), v.Algorithms(), tok.Claims.Subject, err)
	// Output:
	// native [ES256] alice <nil>
}
