package cache_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jwtverify/jwtverify"
	"github.com/jwtverify/jwtverify/backends/backendtest"
	"github.com/jwtverify/jwtverify/backends/golangjwt"
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
	if err != nil || b.Claims.Subject != "ok-a" || f.calls.Load() != 1 {
		t.Fatalf("second lookup: %v, %v, calls=%d", err, b, f.calls.Load())
	}
	if b == a {
		t.Fatal("two callers got the same Token")
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
	// A hit allocates the caller's copy of the Token, and nothing else.
	allocs := testing.AllocsPerRun(100, func() { c.Verify(ctx, "ok-a") })
	if allocs != 1 {
		t.Fatalf("hit allocates %v times, want 1", allocs)
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

// counting is a verifier in front of a real one that counts the tokens
// reaching it, that is the cache's misses.
type counting struct {
	next  cache.Verifier
	calls atomic.Int32
}

func (c *counting) Verify(ctx context.Context, token string) (*jwtverify.Token, error) {
	c.calls.Add(1)
	return c.next.Verify(ctx, token)
}

// core returns a real verifier of the conformance fixture whose clock, like
// the cache's, is clk, adjusted by mod, behind a call counter.
func core(t *testing.T, clk *clock, mod func(*jwtverify.Config)) (*backendtest.Fixture, *counting) {
	t.Helper()
	f, err := backendtest.NewFixture()
	if err != nil {
		t.Fatal(err)
	}
	cfg := f.Config()
	cfg.Now = clk.now
	if mod != nil {
		mod(&cfg)
	}
	v, err := golangjwt.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return f, &counting{next: v}
}

// TestVerifiedStopsAtVerifierBound checks that an entry is served exactly
// while the verifier would accept the token, with the verifier's MaxAge and
// Leeway, whatever the TTL: iat + MaxAge passing before exp, exp with
// leeway, and nbf with leeway on a clock that goes back.
func TestVerifiedStopsAtVerifierBound(t *testing.T) {
	const maxAge, leeway = 10 * time.Minute, 30 * time.Second
	t0 := backendtest.Now()
	claims := func(kv ...any) map[string]any {
		c := map[string]any{"iss": backendtest.Issuer, "aud": backendtest.Audience}
		for i := 0; i < len(kv); i += 2 {
			c[kv[i].(string)] = kv[i+1].(time.Time).Unix()
		}
		return c
	}
	tests := []struct {
		name     string
		maxAge   time.Duration
		claims   map[string]any
		last     time.Time // the last instant the verifier accepts
		step     time.Duration
		wantPast error
	}{
		// The case of issue 9: TTL = MaxAge, iat two minutes old.
		{"iat+MaxAge before exp", maxAge, claims("iat", t0.Add(-2*time.Minute), "exp", t0.Add(time.Hour)),
			t0.Add(-2*time.Minute + maxAge + leeway), time.Nanosecond, jwtverify.ErrExpired},
		{"exp", 0, claims("exp", t0.Add(time.Minute)),
			t0.Add(time.Minute + leeway - time.Nanosecond), time.Nanosecond, jwtverify.ErrExpired},
		{"nbf", 0, claims("nbf", t0.Add(10*time.Second), "exp", t0.Add(time.Hour)),
			t0.Add(10*time.Second - leeway), -time.Nanosecond, jwtverify.ErrNotYetValid},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clk := &clock{}
			clk.t.Store(t0.UnixNano())
			f, v := core(t, clk, func(cfg *jwtverify.Config) { cfg.MaxAge, cfg.Leeway = tt.maxAge, leeway })
			c, err := cache.NewVerified(v, cache.VerifiedConfig{TTL: maxAge, Now: clk.now})
			if err != nil {
				t.Fatal(err)
			}
			token := f.Sign("ES256", nil, tt.claims)
			ctx := context.Background()
			if _, err := c.Verify(ctx, token); err != nil || v.calls.Load() != 1 {
				t.Fatalf("first: %v, %d calls", err, v.calls.Load())
			}
			clk.t.Store(tt.last.UnixNano())
			if _, err := c.Verify(ctx, token); err != nil || v.calls.Load() != 1 {
				t.Fatalf("at the last valid instant: %v, %d calls (want a hit)", err, v.calls.Load())
			}
			clk.add(tt.step) // one nanosecond outside the verifier's bound
			for i := 0; i < 2; i++ {
				if tok, err := c.Verify(ctx, token); !errors.Is(err, tt.wantPast) {
					t.Fatalf("past the bound: %v, %v; want %v", tok, err, tt.wantPast)
				}
			}
			if v.calls.Load() != 3 {
				t.Fatalf("%d calls: the cache answered past the bound", v.calls.Load())
			}
		})
	}
}

// TestVerifiedCallersOwnTheirToken checks that each caller gets a Token of
// its own: concurrent callers that change their Token's Subject, KeyID and
// Audience (an element, and an append, which for one value writes into the
// Token's inline array) see no other caller's change and leave the cache's
// next answer unchanged. Under -race a shared Token is also a reported race.
func TestVerifiedCallersOwnTheirToken(t *testing.T) {
	clk := &clock{}
	clk.t.Store(backendtest.Now().UnixNano())
	f, v := core(t, clk, nil)
	c, err := cache.NewVerified(v, cache.VerifiedConfig{Now: clk.now})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	for _, aud := range [][]string{{backendtest.Audience}, {backendtest.Audience, "b", "c"}} {
		claims := backendtest.Claims()
		claims["aud"] = aud
		token := f.Sign("ES256", nil, claims)
		check := func(tok *jwtverify.Token, err error) error {
			switch {
			case err != nil:
				return err
			case tok.Claims.Subject != "user-1" || tok.Header.KeyID != "ec-256" || !slices.Equal(tok.Claims.Audience, aud):
				return fmt.Errorf("another caller's change reached this one: sub %q kid %q aud %q", tok.Claims.Subject, tok.Header.KeyID, tok.Claims.Audience)
			}
			return nil
		}
		mutate := func(tok *jwtverify.Token, mark string) {
			tok.Claims.Subject, tok.Header.KeyID = mark, mark
			tok.Claims.Audience[0] = mark
			tok.Claims.Audience = append(tok.Claims.Audience, mark)
		}
		// The caller whose miss filled the cache owns its Token too.
		first, err := c.Verify(ctx, token)
		if err := check(first, err); err != nil {
			t.Fatal(err)
		}
		mutate(first, "first")
		var wg sync.WaitGroup
		for g := 0; g < 8; g++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				mark := fmt.Sprint("caller-", g)
				for i := 0; i < 200; i++ {
					tok, err := c.Verify(ctx, token)
					if err := check(tok, err); err != nil {
						t.Error(err)
						return
					}
					mutate(tok, mark)
					if _, err := c.Verify(ctx, token); err != nil {
						t.Error(err)
						return
					}
					if tok.Claims.Subject != mark || tok.Header.KeyID != mark || tok.Claims.Audience[0] != mark || tok.Claims.Audience[len(aud)] != mark {
						t.Errorf("%s's own Token was changed by another caller: %+v", mark, tok)
						return
					}
				}
			}()
		}
		wg.Wait()
		if err := check(c.Verify(ctx, token)); err != nil {
			t.Fatal(err)
		}
	}
	if v.calls.Load() != 2 {
		t.Fatalf("%d calls reached the verifier, want one per token", v.calls.Load())
	}
}
