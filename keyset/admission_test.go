package keyset_test

import (
	"bytes"
	"context"
	"crypto/rsa"
	"errors"
	"fmt"
	"log/slog"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/jwtverify/jwtverify"
	"github.com/jwtverify/jwtverify/internal/mint"
	"github.com/jwtverify/jwtverify/keyset"
)

// Tests of admission (admission.go): when a kid the set lacks may cost a
// request.

// TestImplausibleTokensCauseNoRequest: through a verifier, tokens that are
// not plausible (Lookup.MayFetch false) never cost a request for their
// unknown kid; a plausible one does.
func TestImplausibleTokensCauseNoRequest(t *testing.T) {
	f := newFixture()
	o := newOrigin(t, jwks(t, map[string]*rsa.PrivateKey{"A": f.a}))
	r := f.remote(t, o, nil)
	v := f.verifier(t, r)
	ctx := context.Background()
	if _, err := v.Verify(ctx, f.token(t, "A", f.a, nil)); err != nil {
		t.Fatal(err)
	}
	for name, tok := range map[string]string{
		"other issuer":    f.token(t, "new", f.b, map[string]any{"iss": "https://evil.example"}),
		"no issuer":       f.token(t, "new", f.b, map[string]any{"iss": nil}),
		"expired":         f.token(t, "new", f.b, map[string]any{"exp": time.Now().Add(-time.Hour).Unix()}),
		"no exp":          f.token(t, "new", f.b, map[string]any{"exp": nil}),
		"bad payload":     rawToken(t, f.b, `{"alg":"RS256","kid":"new"}`, `not json`),
		"alg not in list": rawToken(t, f.b, `{"alg":"PS256","kid":"new"}`, `{}`),
	} {
		if _, err := v.Verify(ctx, tok); err == nil {
			t.Fatalf("%s: accepted", name)
		}
	}
	if _, err := r.Key(ctx, jwtverify.Lookup{KID: "new", Alg: "RS256"}); !errors.Is(err, jwtverify.ErrUnknownKey) {
		t.Fatalf("MayFetch false: %v", err)
	}
	if n := o.requests.Load(); n != 1 {
		t.Fatalf("%d requests, want 1: implausible tokens made requests", n)
	}
	if _, err := v.Verify(ctx, f.token(t, "new", f.b, nil)); !errors.Is(err, jwtverify.ErrUnknownKey) {
		t.Fatalf("plausible token, unknown kid: %v", err)
	}
	if n := o.requests.Load(); n != 2 {
		t.Fatalf("%d requests, want 2: a plausible token's unknown kid refreshes once", n)
	}
}

func rawToken(t *testing.T, key *rsa.PrivateKey, header, payload string) string {
	t.Helper()
	alg := "RS256"
	if strings.Contains(header, "PS256") {
		alg = "PS256"
	}
	tok, err := mint.Raw(alg, key, []byte(header), []byte(payload))
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

// TestRandomKidFloodIsRateLimited: 100,000 plausible lookups of random
// kids over 100 s make at most one request per UnknownKIDInterval.
func TestRandomKidFloodIsRateLimited(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := newFixture()
		o := newOrigin(t, jwks(t, map[string]*rsa.PrivateKey{"A": f.a}))
		var misses atomic.Int32
		r := f.remote(t, o, func(c *keyset.RemoteConfig) {
			c.OnMiss = func(keyset.MissEvent) { misses.Add(1) }
			c.MaxRefresh, c.MinRefresh = 24*time.Hour, 24*time.Hour // no scheduled refresh during the flood
		})
		ctx := context.Background()
		if _, err := r.Key(ctx, plausible("A")); err != nil {
			t.Fatal(err)
		}
		const tokens, step = 100000, time.Millisecond // 100 s of clock
		for i := 0; i < tokens; i++ {
			if _, err := r.Key(ctx, plausible(fmt.Sprintf("junk-%d", i))); !errors.Is(err, jwtverify.ErrUnknownKey) {
				t.Fatalf("junk kid: %v", err)
			}
			if i%100 == 99 {
				time.Sleep(100 * step)
			}
		}
		limit := int32(1 + (tokens*step)/defaultUnknownKIDInterval + 1) // per interval, plus the initial fetch
		if got := o.requests.Load(); got > limit || got < 2 {
			t.Fatalf("%d requests for %d random kids over %v, want at most %d", got, tokens, tokens*step, limit)
		}
		if misses.Load() < tokens-limit {
			t.Fatalf("only %d misses reported", misses.Load())
		}
	})
}

// TestFloodDoesNotStarveRotation: a repeated junk kid is answered by the
// negative cache and spends nothing, so a key published right after the
// flood verifies at once.
func TestFloodDoesNotStarveRotation(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := newFixture()
		o := newOrigin(t, jwks(t, map[string]*rsa.PrivateKey{"A": f.a}))
		var negHits atomic.Int32
		r := f.remote(t, o, func(c *keyset.RemoteConfig) {
			c.OnMiss = func(ev keyset.MissEvent) {
				if ev.Reason == "negative_cache" {
					negHits.Add(1)
				}
			}
		})
		v := f.verifier(t, r)
		ctx := context.Background()
		if _, err := v.Verify(ctx, f.token(t, "A", f.a, nil)); err != nil {
			t.Fatal(err)
		}
		// A flood of plausible tokens naming one junk kid: one request.
		junk := f.token(t, "junk", f.a, nil)
		flood := func() {
			for i := 0; i < 1000; i++ {
				if _, err := v.Verify(ctx, junk); !errors.Is(err, jwtverify.ErrUnknownKey) {
					t.Fatal(err)
				}
			}
		}
		flood()
		// An interval later the same junk still spends nothing: the negative
		// cache answers, and the unknown-kid budget stays unspent.
		time.Sleep(defaultUnknownKIDInterval)
		flood()
		if n := o.requests.Load(); n != 2 {
			t.Fatalf("%d requests, want 2", n)
		}
		if negHits.Load() < 1000 {
			t.Fatalf("%d negative-cache hits", negHits.Load())
		}
		// B is published right after the flood; its first token gets the budget.
		o.set(func(o *origin) { o.body = jwks(t, map[string]*rsa.PrivateKey{"A": f.a, "B": f.b}) })
		time.Sleep(time.Second)
		if _, err := v.Verify(ctx, f.token(t, "B", f.b, nil)); err != nil {
			t.Fatalf("new key after a flood: %v", err)
		}
	})
}

// TestNegativeCacheExpires: a kid remembered absent refreshes again after
// max(MinRefresh, UnknownKIDInterval), or as soon as a newer set is in use.
func TestNegativeCacheExpires(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := newFixture()
		o := newOrigin(t, jwks(t, map[string]*rsa.PrivateKey{"A": f.a}))
		o.set(func(o *origin) { o.header.Set("Cache-Control", "max-age=3600") }) // no scheduled refresh in the test
		r := f.remote(t, o, func(c *keyset.RemoteConfig) { c.MinRefresh, c.MaxRefresh = time.Minute, time.Hour })
		ctx := context.Background()
		for _, step := range []struct {
			sleep time.Duration
			want  int32 // requests after the lookup of "B"
		}{
			{0, 1},                // the initial fetch answers: B is absent
			{59 * time.Second, 1}, // negative cache
			{time.Second, 2},      // a minute: it expired
			{0, 2},                // absent again
		} {
			time.Sleep(step.sleep)
			if _, err := r.Key(ctx, plausible("B")); !errors.Is(err, jwtverify.ErrUnknownKey) {
				t.Fatal(err)
			}
			if n := o.requests.Load(); n != step.want {
				t.Fatalf("after %v: %d requests, want %d", step.sleep, n, step.want)
			}
		}
		if err := r.Refresh(ctx); err != nil { // a newer set: B may be looked for again
			t.Fatal(err)
		}
		time.Sleep(defaultUnknownKIDInterval + time.Second) // the budget has refilled
		r.Key(ctx, plausible("B"))
		if n := o.requests.Load(); n != 4 {
			t.Fatalf("after a newer set: %d requests, want 4", n)
		}
	})
}

// TestNewKidJoiningAnOlderRequest: a token with a newly published kid that
// joins a request sent before the key was published must not be
// negative-cached: it tries once more.
func TestNewKidJoiningAnOlderRequest(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := newFixture()
		o := newOrigin(t, jwks(t, map[string]*rsa.PrivateKey{"A": f.a}))
		r := f.remote(t, o, nil)
		ctx := context.Background()
		if _, err := r.Key(ctx, plausible("A")); err != nil {
			t.Fatal(err)
		}
		entered := o.hangRequests()
		time.Sleep(defaultMinRefresh * 11 / 10) // due: a scheduled request starts and hangs
		r.Key(ctx, plausible("A"))
		<-entered // it has read the old set
		o.set(func(o *origin) { o.body = jwks(t, map[string]*rsa.PrivateKey{"A": f.a, "B": f.b}) })
		done := make(chan error)
		go func() { _, err := r.Key(ctx, plausible("B")); done <- err }()
		synctest.Wait() // B has joined the hanging request
		o.release()     // which answers with the old set
		if err := <-done; err != nil {
			t.Fatalf("new kid after joining an older request: %v", err)
		}
		if n := o.requests.Load(); n != 3 {
			t.Fatalf("%d requests, want 3 (initial, scheduled, one for the new kid)", n)
		}
	})
}

func TestFirstTokenWithUnknownKidMakesOneRequest(t *testing.T) {
	f := newFixture()
	o := newOrigin(t, jwks(t, map[string]*rsa.PrivateKey{"A": f.a}))
	r := f.remote(t, o, nil)
	if _, err := r.Key(context.Background(), plausible("B")); !errors.Is(err, jwtverify.ErrUnknownKey) {
		t.Fatal(err)
	}
	if n := o.requests.Load(); n != 1 {
		t.Fatalf("%d requests, want 1: the initial fetch already answered for this token", n)
	}
}

// TestManualRefreshDuringFlood: Refresh always makes or joins a real
// request, even during a flood of random kids.
func TestManualRefreshDuringFlood(t *testing.T) {
	f := newFixture()
	o := newOrigin(t, jwks(t, map[string]*rsa.PrivateKey{"A": f.a}))
	r := f.remote(t, o, nil)
	ctx := context.Background()
	r.Key(ctx, plausible("A"))
	r.Key(ctx, plausible("junk0")) // spends the budget
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for g := 0; g < 4; g++ {
		wg.Add(1)
		go func(g int) {
			defer wg.Done()
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				r.Key(ctx, plausible(fmt.Sprint("j", g, "-", i)))
			}
		}(g)
	}
	before := o.requests.Load()
	for i := 0; i < 200; i++ {
		if err := r.Refresh(ctx); err != nil {
			t.Errorf("Refresh %d during a flood: %v", i, err)
			break
		}
	}
	close(stop)
	wg.Wait()
	if n := o.requests.Load() - before; n < 1 {
		t.Fatalf("200 Refresh calls made %d requests", n)
	}
}

// TestRateLimitedLookupIsCheap: past the budget, an unknown kid costs no
// allocation and starts nothing.
func TestRateLimitedLookupIsCheap(t *testing.T) {
	f := newFixture()
	o := newOrigin(t, jwks(t, map[string]*rsa.PrivateKey{"A": f.a}))
	var limited atomic.Int32
	r := f.remote(t, o, func(c *keyset.RemoteConfig) {
		c.OnMiss = func(ev keyset.MissEvent) {
			if ev.Reason == "rate_limited" {
				limited.Add(1)
			}
		}
	})
	ctx := context.Background()
	r.Key(ctx, plausible("A"))
	r.Key(ctx, plausible("junk0"))
	before := runtime.NumGoroutine()
	allocs := testing.AllocsPerRun(1000, func() { r.Key(ctx, plausible("junk")) })
	if allocs > 0 || runtime.NumGoroutine() > before {
		t.Fatalf("a rate-limited unknown kid costs %v allocations and starts goroutines", allocs)
	}
	if limited.Load() < 1000 || o.requests.Load() != 2 {
		t.Fatalf("%d rate-limited misses, %d requests", limited.Load(), o.requests.Load())
	}
}

// TestBackoffStopsUnknownKids: while failed requests back off, an unknown
// kid causes no request.
func TestBackoffStopsUnknownKids(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := newFixture()
		o := newOrigin(t, jwks(t, map[string]*rsa.PrivateKey{"A": f.a}))
		var reasons sync.Map
		r := f.remote(t, o, func(c *keyset.RemoteConfig) {
			c.OnMiss = func(ev keyset.MissEvent) { reasons.Store(ev.Reason, true) }
		})
		ctx := context.Background()
		r.Key(ctx, plausible("A"))
		o.set(func(o *origin) { o.status = 503 })
		if err := r.Refresh(ctx); err == nil {
			t.Fatal("503 accepted")
		}
		for i := 0; i < 10; i++ {
			r.Key(ctx, plausible(fmt.Sprint("new-", i)))
		}
		if _, ok := reasons.Load("backoff"); !ok || o.requests.Load() != 2 {
			t.Fatalf("while backing off: %d requests; backoff miss reported: %v", o.requests.Load(), ok)
		}
	})
}

func TestLoggerNeverLogsTokens(t *testing.T) {
	f := newFixture()
	o := newOrigin(t, jwks(t, map[string]*rsa.PrivateKey{"A": f.a}))
	var buf bytes.Buffer
	var mu sync.Mutex
	logger := slog.New(slog.NewJSONHandler(lockedWriter{&buf, &mu}, &slog.HandlerOptions{Level: slog.LevelDebug}))
	r := f.remote(t, o, func(c *keyset.RemoteConfig) { c.Logger = logger })
	v := f.verifier(t, r)
	good := f.token(t, "A", f.a, nil)
	junk := f.token(t, "junk-kid-"+strings.Repeat("x", 10), f.a, nil)
	for _, tok := range []string{good, junk, junk} {
		v.Verify(context.Background(), tok)
	}
	o.set(func(o *origin) { o.status = 500 })
	r.Refresh(context.Background())
	mu.Lock()
	out := buf.String()
	mu.Unlock()
	for _, want := range []string{`"msg":"jwks refresh"`, `"trigger":"initial"`, `"trigger":"unknown_kid"`, `"msg":"jwks refresh failed"`, `"reason":"negative_cache"`} {
		if !strings.Contains(out, want) {
			t.Errorf("log lacks %s:\n%s", want, out)
		}
	}
	for _, tok := range []string{good, junk} {
		for _, seg := range strings.Split(tok, ".") {
			if strings.Contains(out, seg) {
				t.Fatalf("log contains a token segment:\n%s", out)
			}
		}
	}
	if strings.Contains(out, "junk-kid") {
		t.Fatalf("log contains the token's kid:\n%s", out)
	}
}
