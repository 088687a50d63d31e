package cache_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jwtverify/jwtverify"
	"github.com/jwtverify/jwtverify/cache"
)

// fake is a verifier that accepts tokens starting with "ok" and counts calls.
type fake struct {
	calls atomic.Int32
	exp   time.Time
	nbf   time.Time
}

func (f *fake) Verify(_ context.Context, token string) (*jwtverify.Token, error) {
	f.calls.Add(1)
	if !strings.HasPrefix(token, "ok") {
		return nil, jwtverify.Reject(jwtverify.ErrSignature, "no")
	}
	return &jwtverify.Token{Claims: jwtverify.Claims{Subject: token, ExpiresAt: f.exp, NotBefore: f.nbf}}, nil
}

type clock struct{ t atomic.Int64 }

func (c *clock) now() time.Time      { return time.Unix(0, c.t.Load()) }
func (c *clock) add(d time.Duration) { c.t.Add(int64(d)) }

func setup(t *testing.T, cfg cache.VerifiedConfig) (*cache.Verified, *fake, *clock) {
	t.Helper()
	clk := &clock{}
	clk.t.Store(time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC).UnixNano())
	f := &fake{exp: clk.now().Add(time.Hour), nbf: clk.now().Add(-time.Minute)}
	cfg.Now = clk.now
	c, err := cache.NewVerified(f, cfg)
	if err != nil {
		t.Fatal(err)
	}
	return c, f, clk
}

func TestVerifiedHitsAndMisses(t *testing.T) {
	c, f, _ := setup(t, cache.VerifiedConfig{})
	ctx := context.Background()
	a, err := c.Verify(ctx, "ok-a")
	if err != nil {
		t.Fatal(err)
	}
	b, err := c.Verify(ctx, "ok-a")
	if err != nil || b != a || f.calls.Load() != 1 {
		t.Fatalf("second lookup: %v, same=%v, calls=%d", err, a == b, f.calls.Load())
	}
	// A different token, even one differing in a single byte, is never served another's claims.
	if tok, _ := c.Verify(ctx, "ok-b"); tok.Claims.Subject != "ok-b" || f.calls.Load() != 2 {
		t.Fatalf("other token got %q", tok.Claims.Subject)
	}
	// Rejections are not cached.
	for i := 0; i < 3; i++ {
		if _, err := c.Verify(ctx, "bad"); !errors.Is(err, jwtverify.ErrSignature) {
			t.Fatal(err)
		}
	}
	if f.calls.Load() != 5 || c.Len() != 2 {
		t.Fatalf("calls %d, len %d", f.calls.Load(), c.Len())
	}
	allocs := testing.AllocsPerRun(100, func() { c.Verify(ctx, "ok-a") })
	if allocs != 0 {
		t.Fatalf("hit allocates %v times", allocs)
	}
}

func TestVerifiedNeverOutlivesExpOrTTL(t *testing.T) {
	c, f, clk := setup(t, cache.VerifiedConfig{TTL: 10 * time.Minute})
	ctx := context.Background()
	c.Verify(ctx, "ok")
	clk.add(9 * time.Minute)
	c.Verify(ctx, "ok")
	if f.calls.Load() != 1 {
		t.Fatal("hit within TTL missed")
	}
	clk.add(time.Minute) // TTL reached
	c.Verify(ctx, "ok")
	if f.calls.Load() != 2 {
		t.Fatal("entry served past its TTL")
	}
	// exp: the entry stops at exp even within TTL.
	f.exp = clk.now().Add(time.Minute)
	c2, _ := cache.NewVerified(f, cache.VerifiedConfig{Now: clk.now, TTL: time.Hour})
	c2.Verify(ctx, "ok-exp")
	clk.add(time.Minute - 1)
	c2.Verify(ctx, "ok-exp")
	calls := f.calls.Load()
	clk.add(1)
	c2.Verify(ctx, "ok-exp")
	if f.calls.Load() != calls+1 {
		t.Fatal("entry served at exp")
	}
}

func TestVerifiedRespectsNotBefore(t *testing.T) {
	c, f, clk := setup(t, cache.VerifiedConfig{})
	f.nbf = clk.now().Add(time.Minute) // the verifier accepted it within its leeway
	c.Verify(context.Background(), "ok")
	c.Verify(context.Background(), "ok")
	if f.calls.Load() != 2 {
		t.Fatal("a token before its nbf was served from the cache")
	}
}

func TestVerifiedOnLookup(t *testing.T) {
	var hits, misses atomic.Int32
	c, _, _ := setup(t, cache.VerifiedConfig{OnLookup: func(hit bool) {
		if hit {
			hits.Add(1)
		} else {
			misses.Add(1)
		}
	}})
	for i := 0; i < 3; i++ {
		c.Verify(context.Background(), "ok")
	}
	if hits.Load() != 2 || misses.Load() != 1 {
		t.Fatalf("hits %d misses %d", hits.Load(), misses.Load())
	}
}

func TestVerifiedGeneration(t *testing.T) {
	var gen atomic.Uint64
	c, f, _ := setup(t, cache.VerifiedConfig{Generation: gen.Load})
	ctx := context.Background()
	c.Verify(ctx, "ok")
	c.Verify(ctx, "ok")
	gen.Add(1) // the key set changed: verify again
	c.Verify(ctx, "ok")
	c.Verify(ctx, "ok")
	if f.calls.Load() != 2 {
		t.Fatalf("%d calls, want 2", f.calls.Load())
	}
}

func TestVerifiedBounds(t *testing.T) {
	c, _, _ := setup(t, cache.VerifiedConfig{MaxEntries: 3, MaxBytes: 1 << 20})
	ctx := context.Background()
	for i := 0; i < 10; i++ {
		c.Verify(ctx, "ok-"+string(rune('a'+i)))
	}
	if c.Len() != 3 {
		t.Fatalf("%d entries, want 3", c.Len())
	}
	c2, _, _ := setup(t, cache.VerifiedConfig{MaxEntries: 100, MaxBytes: 100})
	for i := 0; i < 10; i++ {
		c2.Verify(ctx, "ok-"+strings.Repeat(string(rune('a'+i)), 38)) // 41 bytes each
	}
	if c2.Len() != 2 {
		t.Fatalf("%d entries within 100 bytes, want 2", c2.Len())
	}
	if _, err := cache.NewVerified(nil, cache.VerifiedConfig{}); !errors.Is(err, jwtverify.ErrInvalidConfig) {
		t.Fatal(err)
	}
}

func TestVerifiedConcurrent(t *testing.T) {
	c, _, _ := setup(t, cache.VerifiedConfig{MaxEntries: 8, MaxBytes: 200})
	var wg sync.WaitGroup
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func(g int) {
			defer wg.Done()
			for i := 0; i < 500; i++ {
				tok := "ok-" + string(rune('a'+(i+g)%20))
				got, err := c.Verify(context.Background(), tok)
				if err != nil || got.Claims.Subject != tok {
					t.Errorf("%s: %v %v", tok, got, err)
					return
				}
			}
		}(g)
	}
	wg.Wait()
	if c.Len() > 8 {
		t.Fatalf("%d entries", c.Len())
	}
}
