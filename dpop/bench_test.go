package dpop_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"testing"
	"time"

	"github.com/jwtverify/jwtverify"
	"github.com/jwtverify/jwtverify/backends/golangjwt"
	"github.com/jwtverify/jwtverify/dpop"
	"github.com/jwtverify/jwtverify/internal/testkeys"
	"github.com/jwtverify/jwtverify/jwttest"
	"github.com/jwtverify/jwtverify/keyset"
)

// BenchmarkDPoP measures what DPoP adds to a request: "token" verifies an
// ES256 access token bound to the client's key; "token+proof" does that
// and checks a fresh ES256 proof with the embedded MemoryStore. Their
// ratio is DPoP's cost; the Redis store's is in dpop/redisstore.
func BenchmarkDPoP(b *testing.B) {
	ks := testkeys.Load()
	issuerKey, _ := jwtverify.NewPublicKey("k1", "", &ks.P256.PublicKey)
	static, _ := keyset.NewStatic(issuerKey)
	v, err := golangjwt.New(jwtverify.Config{Keys: static, Issuers: []string{"https://issuer.example"}, Audiences: []string{"api"}})
	if err != nil {
		b.Fatal(err)
	}
	client, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	token := jwttest.Sign("ES256", ks.P256, map[string]any{"kid": "k1"}, map[string]any{
		"iss": "https://issuer.example", "aud": "api", "sub": "alice", "exp": time.Now().Add(time.Hour).Unix(),
		"cnf": map[string]any{"jkt": jwttest.Thumbprint(client)},
	})
	c, err := dpop.New(golangjwt.Backend{}, dpop.Config{})
	if err != nil {
		b.Fatal(err)
	}
	req := dpop.Request{Method: "GET", URL: "https://api.example/orders", AccessToken: token, JKT: jwttest.Thumbprint(client)}
	ctx := context.Background()
	b.Run("token", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := v.Verify(ctx, token); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("token+proof", func(b *testing.B) {
		proofs := make([]string, b.N)
		for i := range proofs {
			proofs[i] = jwttest.DPoPProof("ES256", client, "GET", req.URL, token, nil)
		}
		b.ReportAllocs()
		b.ResetTimer()
		for i := range b.N {
			if _, err := v.Verify(ctx, token); err != nil {
				b.Fatal(err)
			}
			if err := c.Check(ctx, proofs[i], req); err != nil {
				b.Fatal(err)
			}
		}
	})
}
