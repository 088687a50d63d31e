package redisstore_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/jwtverify/jwtverify"
	"github.com/jwtverify/jwtverify/backends/golangjwt"
	"github.com/jwtverify/jwtverify/dpop"
	"github.com/jwtverify/jwtverify/dpop/redisstore"
	"github.com/jwtverify/jwtverify/internal/testkeys"
	"github.com/jwtverify/jwtverify/jwttest"
	"github.com/jwtverify/jwtverify/keyset"
)

// benchStore returns a Store whose client has its connection open already,
// so that the dial is not measured.
func benchStore(b *testing.B) *redisstore.Store {
	s := newStore(b, redisstore.Options{})
	if _, err := s.Remember(context.Background(), newID(b), time.Now().Add(time.Minute)); err != nil {
		b.Fatal(err)
	}
	return s
}

// benchIDs returns n distinct valid ids, made before the timer starts.
func benchIDs(b *testing.B, n int) []string {
	prefix := newID(b)[:20] + "-"
	ids := make([]string, n)
	for i := range ids {
		ids[i] = prefix + strconv.Itoa(i)
	}
	return ids
}

// BenchmarkRemember: one Remember of a new id (a SET NX round trip) on
// the local redis-server.
func BenchmarkRemember(b *testing.B) {
	s := benchStore(b)
	ids := benchIDs(b, b.N)
	until := time.Now().Add(time.Minute)
	ctx := context.Background()
	b.ReportAllocs()
	b.ResetTimer()
	for i := range b.N {
		if _, err := s.Remember(ctx, ids[i], until); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkRememberLatency reports the distribution of one Remember's
// latency, from one goroutine on the local redis-server: p50 and p99 are
// what a DPoP check adds to a request.
func BenchmarkRememberLatency(b *testing.B) {
	s := benchStore(b)
	ids := benchIDs(b, b.N)
	until := time.Now().Add(time.Minute)
	ctx := context.Background()
	lat := make([]time.Duration, b.N)
	b.ResetTimer()
	for i := range b.N {
		start := time.Now()
		if _, err := s.Remember(ctx, ids[i], until); err != nil {
			b.Fatal(err)
		}
		lat[i] = time.Since(start)
	}
	b.StopTimer()
	slices.Sort(lat)
	q := func(p float64) float64 { return float64(lat[int(p*float64(len(lat)-1))].Nanoseconds()) }
	b.ReportMetric(q(0.50), "p50-ns/op")
	b.ReportMetric(q(0.99), "p99-ns/op")
}

// BenchmarkDPoPWithRedis is dpop's BenchmarkDPoP "token+proof" with this
// store: an ES256 access token verified and a fresh ES256 proof checked,
// its jti remembered in the local redis-server. Its ratio to dpop's
// BenchmarkDPoP/token is DPoP's cost for a fleet.
func BenchmarkDPoPWithRedis(b *testing.B) {
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
	c, err := dpop.New(golangjwt.Backend{}, dpop.Config{Store: benchStore(b)})
	if err != nil {
		b.Fatal(err)
	}
	req := dpop.Request{Method: "GET", URL: "https://api.example/orders", AccessToken: token, JKT: jwttest.Thumbprint(client)}
	proofs := make([]string, b.N)
	for i := range proofs {
		proofs[i] = jwttest.DPoPProof("ES256", client, "GET", req.URL, token, nil)
	}
	ctx := context.Background()
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
}
