package keyset_test

import (
	"bytes"
	"context"
	"crypto/rsa"
	"errors"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/jwtverify/jwtverify"
	"github.com/jwtverify/jwtverify/keyset"
)

// Tests of the schedule (schedule.go): rotation, scheduled refresh,
// bounded staleness and backoff, in fake time.

func TestRotation(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := newFixture()
		o := newOrigin(t, jwks(t, map[string]*rsa.PrivateKey{"A": f.a}))
		o.set(func(o *origin) { o.header.Set("Cache-Control", "max-age=600") })
		r := f.remote(t, o, nil)
		v := f.verifier(t, r)
		ctx := context.Background()
		tokA, tokB := f.token(t, "A", f.a, nil), f.token(t, "B", f.b, nil)

		if _, err := v.Verify(ctx, tokA); err != nil {
			t.Fatal(err)
		}
		// B is published next to A: a token signed by B refreshes once.
		o.set(func(o *origin) { o.body = jwks(t, map[string]*rsa.PrivateKey{"A": f.a, "B": f.b}) })
		if _, err := v.Verify(ctx, tokB); err != nil {
			t.Fatalf("token of the new key: %v", err)
		}
		if _, err := v.Verify(ctx, tokA); err != nil {
			t.Fatalf("old key while both are published: %v", err)
		}
		if n := o.requests.Load(); n != 2 {
			t.Fatalf("%d requests, want 2", n)
		}
		// A is retired: after the next refresh its tokens fail.
		o.set(func(o *origin) { o.body = jwks(t, map[string]*rsa.PrivateKey{"B": f.b}) })
		time.Sleep(10 * time.Minute)
		if err := r.Refresh(ctx); err != nil {
			t.Fatal(err)
		}
		if _, err := v.Verify(ctx, tokA); !errors.Is(err, jwtverify.ErrUnknownKey) {
			t.Fatalf("retired key: %v, want unknown_key", err)
		}
		if _, err := v.Verify(ctx, tokB); err != nil {
			t.Fatal(err)
		}
	})
}

// TestScheduledRefreshRetiresKey: with max-age 600, the set serves
// unchanged until 570 s, is due by 600 s, and the lookup that finds it due
// is served from it while the refresh runs; the refresh retires A.
func TestScheduledRefreshRetiresKey(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := newFixture()
		o := newOrigin(t, jwks(t, map[string]*rsa.PrivateKey{"A": f.a, "B": f.b}))
		o.set(func(o *origin) { o.header.Set("Cache-Control", "max-age=600") })
		var mu sync.Mutex
		events := map[string]string{}
		r := f.remote(t, o, func(c *keyset.RemoteConfig) {
			c.OnRefresh = func(_ context.Context, ev keyset.RefreshEvent) {
				mu.Lock()
				events[ev.Trigger] = ev.Outcome
				mu.Unlock()
			}
		})
		v := f.verifier(t, r)
		tokA := f.token(t, "A", f.a, nil)
		if _, err := v.Verify(context.Background(), tokA); err != nil {
			t.Fatal(err)
		}
		o.set(func(o *origin) { o.body = jwks(t, map[string]*rsa.PrivateKey{"B": f.b}) })
		time.Sleep(570*time.Second - 1) // before 95% of max-age: no refresh
		if _, err := v.Verify(context.Background(), tokA); err != nil {
			t.Fatal(err)
		}
		synctest.Wait()
		if n := o.requests.Load(); n != 1 {
			t.Fatalf("%d requests before 95%% of max-age, want 1", n)
		}
		time.Sleep(30*time.Second + 1) // 600 s: max-age, due
		if _, err := v.Verify(context.Background(), tokA); err != nil {
			t.Fatalf("the due set still serves while the refresh runs: %v", err)
		}
		synctest.Wait() // the refresh has ended
		mu.Lock()
		outcome := events["scheduled"]
		mu.Unlock()
		if outcome != "updated" {
			t.Fatalf("scheduled refresh outcome %q", outcome)
		}
		if _, err := v.Verify(context.Background(), tokA); !errors.Is(err, jwtverify.ErrUnknownKey) {
			t.Fatalf("retired key after scheduled refresh: %v", err)
		}
	})
}

// TestBoundedStaleness: whatever goes wrong, the last good set serves
// until MaxStale, each lookup at once; past it, keys_unavailable.
func TestBoundedStaleness(t *testing.T) {
	for _, mode := range []string{"down", "500", "garbage", "empty-set", "5MiB", "hangs", "too-many-keys"} {
		t.Run(mode, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				f := newFixture()
				o := newOrigin(t, jwks(t, map[string]*rsa.PrivateKey{"A": f.a}))
				r := f.remote(t, o, func(c *keyset.RemoteConfig) {
					c.FetchTimeout = 2 * time.Second
					c.MaxKeys = 2
					c.MinRefresh, c.MaxRefresh, c.MaxStale = time.Minute, time.Minute, time.Hour
				})
				v := f.verifier(t, r)
				ctx := context.Background()
				tokA := f.token(t, "A", f.a, nil)
				if _, err := v.Verify(ctx, tokA); err != nil {
					t.Fatal(err)
				}
				switch mode {
				case "down":
					o.set(func(o *origin) { o.down = true })
				case "500":
					o.set(func(o *origin) { o.status = 500 })
				case "garbage":
					o.set(func(o *origin) { o.body = []byte("<html>oops</html>") })
				case "empty-set":
					o.set(func(o *origin) { o.body = []byte(`{"keys":[]}`) })
				case "5MiB":
					o.set(func(o *origin) {
						o.body = append(jwks(t, map[string]*rsa.PrivateKey{"A": f.a}), bytes.Repeat([]byte(" "), 5<<20)...)
					})
				case "too-many-keys":
					o.set(func(o *origin) { o.body = jwks(t, map[string]*rsa.PrivateKey{"A": f.b, "B": f.b, "C": f.b}) })
				case "hangs":
					o.hangRequests()
				}
				// Due, failing: the last good set keeps serving, each lookup at once.
				for i := 0; i < 5; i++ {
					time.Sleep(10 * time.Minute)
					start := time.Now()
					if _, err := v.Verify(ctx, tokA); err != nil {
						t.Fatalf("after %v: %v", time.Duration(i+1)*10*time.Minute, err)
					}
					if waited := time.Since(start); waited != 0 {
						t.Fatalf("a lookup within MaxStale waited %v", waited)
					}
					if err := r.Refresh(ctx); err == nil {
						t.Fatal("a failing refresh reported success")
					}
				}
				// Past MaxStale: fail closed.
				time.Sleep(20 * time.Minute)
				if _, err := v.Verify(ctx, tokA); !errors.Is(err, jwtverify.ErrKeysUnavailable) {
					t.Fatalf("past MaxStale: %v, want keys_unavailable", err)
				}
			})
		})
	}
}

// TestBackoff: after a failure, lookups fail fast without requests; each
// further failure doubles the wait, with jitter in [d/2, d].
func TestBackoff(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := newFixture()
		o := newOrigin(t, nil)
		o.set(func(o *origin) { o.status = 503 })
		r := f.remote(t, o, nil)
		ctx := context.Background()
		if _, err := r.Key(ctx, plausible("A")); !errors.Is(err, jwtverify.ErrKeysUnavailable) {
			t.Fatalf("first use with the endpoint down: %v", err)
		}
		// While backing off, lookups fail fast without requests.
		for i := 0; i < 100; i++ {
			if _, err := r.Key(ctx, plausible("A")); !errors.Is(err, jwtverify.ErrKeysUnavailable) {
				t.Fatal(err)
			}
		}
		if n := o.requests.Load(); n != 1 {
			t.Fatalf("%d requests while backing off, want 1", n)
		}
		const tick = 10 * time.Millisecond
		var gaps []time.Duration
		for i := 0; i < 8; i++ {
			before := o.requests.Load()
			start := time.Now()
			for o.requests.Load() == before {
				time.Sleep(tick)
				r.Key(ctx, plausible("A"))
				if time.Since(start) > time.Hour {
					t.Fatal("no retry within an hour")
				}
			}
			gaps = append(gaps, time.Since(start))
		}
		for i, gap := range gaps {
			d := min(time.Second<<i, defaultMinRefresh) // the wait after failure i+1
			if gap < d/2 || gap > d+tick {
				t.Fatalf("retry gaps %v: gap %d is %v, outside [%v, %v]", gaps, i, gap, d/2, d)
			}
		}
		o.set(func(o *origin) { o.status = 200; o.body = jwks(t, map[string]*rsa.PrivateKey{"A": f.a}) })
		time.Sleep(defaultMinRefresh)
		if _, err := r.Key(ctx, plausible("A")); err != nil {
			t.Fatalf("after recovery: %v", err)
		}
	})
}
