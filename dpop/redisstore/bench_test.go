package redisstore_test

import (
	"context"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/jwtverify/jwtverify/dpop/redisstore"
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
