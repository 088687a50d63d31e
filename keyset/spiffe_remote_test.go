package keyset_test

import (
	"context"
	"crypto/rsa"
	"encoding/json"
	"errors"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/jwtverify/jwtverify"
	"github.com/jwtverify/jwtverify/backends/golangjwt"
	"github.com/jwtverify/jwtverify/internal/mint"
	"github.com/jwtverify/jwtverify/jwtsvid"
	"github.com/jwtverify/jwtverify/keyset"
)

// Tests of NewSPIFFERemote: a SPIFFE bundle endpoint (https_web) through
// the Remote machinery, in fake time against the in-memory origin.

// bundleKey is one key of a test bundle.
type bundleKey struct {
	kid string
	key *rsa.PrivateKey
	use string // "jwt-svid", "x509-svid" or "" (none)
}

// bundle returns a SPIFFE bundle of keys with the given members; a
// negative seq or hint leaves that member out.
func bundle(t *testing.T, seq, hint int64, keys ...bundleKey) []byte {
	t.Helper()
	list := []any{}
	for _, k := range keys {
		m, err := mint.JWK(&k.key.PublicKey, k.kid, "")
		if err != nil {
			t.Fatal(err)
		}
		if k.use != "" {
			m["use"] = k.use
		}
		list = append(list, m)
	}
	doc := map[string]any{"keys": list}
	if seq >= 0 {
		doc["spiffe_sequence"] = seq
	}
	if hint >= 0 {
		doc["spiffe_refresh_hint"] = hint
	}
	b, err := json.Marshal(doc)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// spiffeRemote returns a Remote of NewSPIFFERemote for o, closed by
// t.Cleanup, recording the outcome of every request.
func spiffeRemote(t *testing.T, o *origin, mod func(*keyset.RemoteConfig)) (*keyset.Remote, *events) {
	t.Helper()
	ev := &events{}
	cfg := keyset.RemoteConfig{Client: o.client(), OnRefresh: ev.add}
	if mod != nil {
		mod(&cfg)
	}
	r, err := keyset.NewSPIFFERemote("https://spire.example/bundle", cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Close() })
	return r, ev
}

// events records RefreshEvents.
type events struct {
	mu   sync.Mutex
	list []keyset.RefreshEvent
}

func (e *events) add(_ context.Context, ev keyset.RefreshEvent) {
	e.mu.Lock()
	e.list = append(e.list, ev)
	e.mu.Unlock()
}

func (e *events) last() keyset.RefreshEvent {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.list[len(e.list)-1]
}

// svids returns a JWT-SVID verifier for example.org over r, and a signer
// of SVIDs for sub with kid and key.
func svids(t *testing.T, r *keyset.Remote) (*jwtsvid.Verifier, func(kid string, key *rsa.PrivateKey) string) {
	t.Helper()
	v, err := jwtsvid.New(golangjwt.Backend{}, jwtsvid.Config{
		Bundles:   map[string]jwtverify.KeySource{"example.org": r},
		Audiences: []string{"orders"},
	})
	if err != nil {
		t.Fatal(err)
	}
	return v, func(kid string, key *rsa.PrivateKey) string {
		t.Helper()
		tok, err := mint.Token("RS256", key, map[string]any{"kid": kid, "typ": "JWT"}, map[string]any{
			"sub": "spiffe://example.org/ns/prod/sa/api", "aud": "orders", "exp": time.Now().Add(time.Hour).Unix(),
		})
		if err != nil {
			t.Fatal(err)
		}
		return tok
	}
}

// TestSPIFFERefreshHint: the refresh interval is spiffe_refresh_hint,
// clamped by MinRefresh and MaxRefresh, whatever Cache-Control says; a
// zero hint is none (Cache-Control then counts), and a 304 keeps the hint.
func TestSPIFFERefreshHint(t *testing.T) {
	f := newFixture()
	for _, tc := range []struct {
		name   string
		hint   int64
		header string
		due    time.Duration // the set is refreshed in [0.95·due, due]
	}{
		{name: "hint beats max-age", hint: 120, header: "max-age=3600", due: 120 * time.Second},
		{name: "hint beats no-store", hint: 120, header: "no-store", due: 120 * time.Second},
		{name: "hint below MinRefresh", hint: 5, header: "", due: time.Minute},
		{name: "hint above MaxRefresh", hint: 2419200, header: "", due: 2 * time.Hour},
		{name: "zero hint is none", hint: 0, header: "max-age=600", due: 600 * time.Second},
		{name: "no hint", hint: -1, header: "max-age=600", due: 600 * time.Second},
	} {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				o := newOrigin(t, bundle(t, 1, tc.hint, bundleKey{"A", f.a, "jwt-svid"}))
				o.set(func(o *origin) {
					o.header.Set("ETag", `"v1"`)
					if tc.header != "" {
						o.header.Set("Cache-Control", tc.header)
					}
				})
				r, ev := spiffeRemote(t, o, func(c *keyset.RemoteConfig) {
					c.MinRefresh, c.MaxRefresh = time.Minute, 2*time.Hour
				})
				ctx := context.Background()
				for round := range 3 { // the first fetch, then two 304s
					if _, err := r.Key(ctx, plausible("A")); err != nil {
						t.Fatal(err)
					}
					synctest.Wait()
					want := int32(round + 1)
					if n := o.requests.Load(); n != want {
						t.Fatalf("round %d: %d requests, want %d", round, n, want)
					}
					time.Sleep(tc.due*95/100 - time.Second)
					r.Key(ctx, plausible("A"))
					synctest.Wait()
					if n := o.requests.Load(); n != want {
						t.Fatalf("round %d: refreshed before 95%% of %v", round, tc.due)
					}
					time.Sleep(tc.due/20 + time.Second)
					if round > 0 && ev.last().Outcome != "not_modified" {
						t.Fatalf("round %d: outcome %q, want not_modified", round, ev.last().Outcome)
					}
				}
			})
		})
	}
}

// TestSPIFFESequence: spiffe_sequence never goes backwards. A smaller
// sequence, or none after one, is refused and the bundle in use serves
// on; an equal or larger one is installed.
func TestSPIFFESequence(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := newFixture()
		a, b := bundleKey{"A", f.a, "jwt-svid"}, bundleKey{"B", f.b, "jwt-svid"}
		o := newOrigin(t, bundle(t, 5, 300, a))
		r, ev := spiffeRemote(t, o, nil)
		v, sign := svids(t, r)
		ctx := context.Background()
		tokA, tokB := sign("A", f.a), sign("B", f.b)
		if _, err := v.Verify(ctx, tokA); err != nil {
			t.Fatal(err)
		}
		for _, tc := range []struct {
			name    string
			body    []byte
			refused string // substring of the refusal; "" installs
			serves  string // the kid that verifies afterwards
		}{
			{name: "backwards", body: bundle(t, 4, 300, b), refused: "went backwards, from 5 to 4", serves: "A"},
			{name: "sequence removed", body: bundle(t, -1, 300, b), refused: "no spiffe_sequence; the bundle in use has 5", serves: "A"},
			{name: "zero", body: bundle(t, 0, 300, b), refused: "from 5 to 0", serves: "A"},
			{name: "equal", body: bundle(t, 5, 300, b), serves: "B"},
			{name: "forward", body: bundle(t, 6, 300, a), serves: "A"},
			{name: "backwards again", body: bundle(t, 5, 300, b), refused: "from 6 to 5", serves: "A"},
		} {
			o.set(func(o *origin) { o.body = tc.body })
			err := r.Refresh(ctx)
			if tc.refused == "" {
				if err != nil {
					t.Fatalf("%s: %v", tc.name, err)
				}
			} else if err == nil || !strings.Contains(err.Error(), tc.refused) || !errors.Is(err, keyset.ErrInvalidKey) {
				t.Fatalf("%s: refresh error %v, want one with %q", tc.name, err, tc.refused)
			} else if got := ev.last(); got.Outcome != "failed" {
				t.Fatalf("%s: outcome %q, want failed", tc.name, got.Outcome)
			}
			good, bad := tokA, tokB
			if tc.serves == "B" {
				good, bad = tokB, tokA
			}
			if _, err := v.Verify(ctx, good); err != nil {
				t.Fatalf("%s: key %s: %v", tc.name, tc.serves, err)
			}
			if _, err := v.Verify(ctx, bad); !errors.Is(err, jwtverify.ErrUnknownKey) {
				t.Fatalf("%s: the other key: %v, want unknown_key", tc.name, err)
			}
			time.Sleep(time.Minute) // past the unknown-kid interval and the backoff
		}
	})
}

// TestSPIFFESequenceRollbackFailsClosed: a bundle endpoint that keeps
// serving an older sequence never gets it installed; the bundle in use
// serves for MaxStale, then lookups fail as keys_unavailable.
func TestSPIFFESequenceRollbackFailsClosed(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := newFixture()
		o := newOrigin(t, bundle(t, 9, 60, bundleKey{"A", f.a, "jwt-svid"}))
		r, _ := spiffeRemote(t, o, func(c *keyset.RemoteConfig) {
			c.MinRefresh, c.MaxRefresh, c.MaxStale = time.Minute, time.Minute, time.Hour
		})
		v, sign := svids(t, r)
		ctx := context.Background()
		tokA, tokB := sign("A", f.a), sign("B", f.b)
		if _, err := v.Verify(ctx, tokA); err != nil {
			t.Fatal(err)
		}
		o.set(func(o *origin) { o.body = bundle(t, 8, 60, bundleKey{"B", f.b, "jwt-svid"}) })
		for range 59 {
			time.Sleep(time.Minute)
			if _, err := v.Verify(ctx, tokA); err != nil {
				t.Fatalf("within MaxStale: %v", err)
			}
			synctest.Wait()
		}
		if _, err := v.Verify(ctx, tokB); !errors.Is(err, jwtverify.ErrUnknownKey) {
			t.Fatalf("key of the rolled-back bundle: %v, want unknown_key", err)
		}
		time.Sleep(time.Minute + time.Second)
		if _, err := v.Verify(ctx, tokA); !errors.Is(err, jwtverify.ErrKeysUnavailable) {
			t.Fatalf("past MaxStale: %v, want keys_unavailable", err)
		}
	})
}

// TestSPIFFERotationAndRevocation follows a SPIRE rotation: the next key
// is published before it signs anything (sequence 2), so the scheduled
// refresh has it before the first SVID it signs arrives, which then costs
// no request; the old key is then revoked (sequence 3, without it), and
// once the bundle is refreshed its SVIDs are unknown_key.
func TestSPIFFERotationAndRevocation(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := newFixture()
		a, b := bundleKey{"A", f.a, "jwt-svid"}, bundleKey{"B", f.b, "jwt-svid"}
		x509 := bundleKey{"X", f.b, "x509-svid"}
		o := newOrigin(t, bundle(t, 1, 120, x509, a))
		r, _ := spiffeRemote(t, o, func(c *keyset.RemoteConfig) { c.MinRefresh = time.Minute })
		v, sign := svids(t, r)
		ctx := context.Background()
		tokA, tokB := sign("A", f.a), sign("B", f.b)
		if _, err := v.Verify(ctx, tokA); err != nil {
			t.Fatal(err)
		}
		o.set(func(o *origin) { o.body = bundle(t, 2, 120, x509, a, b) }) // B prepared
		time.Sleep(121 * time.Second)
		if _, err := v.Verify(ctx, tokA); err != nil { // due: a scheduled refresh in the background
			t.Fatal(err)
		}
		synctest.Wait()
		before := o.requests.Load()
		if _, err := v.Verify(ctx, tokB); err != nil { // B activated
			t.Fatalf("SVID of the prepared key: %v", err)
		}
		if n := o.requests.Load(); n != before {
			t.Fatalf("the prepared key cost %d requests; the scheduled refresh should have had it", n-before)
		}
		o.set(func(o *origin) { o.body = bundle(t, 3, 120, x509, b) }) // A revoked
		if _, err := v.Verify(ctx, tokA); err != nil {
			t.Fatalf("before the next refresh, A still serves: %v", err)
		}
		time.Sleep(121 * time.Second)
		v.Verify(ctx, tokB) // due: refresh
		synctest.Wait()
		if _, err := v.Verify(ctx, tokA); !errors.Is(err, jwtverify.ErrUnknownKey) {
			t.Fatalf("SVID of the revoked key: %v, want unknown_key", err)
		}
		if _, err := v.Verify(ctx, tokB); err != nil {
			t.Fatal(err)
		}
	})
}

// TestSPIFFEX509KeyNeverVerifies: a token whose kid names an x509-svid
// key, signed by that key, is unknown_key. A bundle left with only
// x509-svid keys, or none (every JWT key revoked), is installed all the
// same, so the revoked keys stop verifying at once: every SVID is then
// unknown_key. The sequence of such a bundle counts: an older bundle
// after it is refused.
func TestSPIFFEX509KeyNeverVerifies(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := newFixture()
		x509Key, a := bundleKey{"X", f.b, "x509-svid"}, bundleKey{"A", f.a, "jwt-svid"}
		o := newOrigin(t, bundle(t, 1, 300, x509Key, a))
		r, _ := spiffeRemote(t, o, nil)
		v, sign := svids(t, r)
		ctx := context.Background()
		tokA := sign("A", f.a)
		if _, err := v.Verify(ctx, tokA); err != nil {
			t.Fatal(err)
		}
		if _, err := v.Verify(ctx, sign("X", f.b)); !errors.Is(err, jwtverify.ErrUnknownKey) {
			t.Fatalf("SVID signed by the x509-svid key under its kid: %v, want unknown_key", err)
		}
		for _, step := range []struct {
			seq  int64
			body []byte
		}{{2, bundle(t, 2, 300, x509Key)}, {3, bundle(t, 3, 300)}} { // in order: the sequence only rises
			seq := step.seq
			o.set(func(o *origin) { o.body = step.body })
			time.Sleep(time.Minute)
			if err := r.Refresh(ctx); err != nil {
				t.Fatalf("sequence %d without JWT keys: %v", seq, err)
			}
			if _, err := v.Verify(ctx, tokA); !errors.Is(err, jwtverify.ErrUnknownKey) {
				t.Fatalf("sequence %d: the revoked key: %v, want unknown_key", seq, err)
			}
		}
		o.set(func(o *origin) { o.body = bundle(t, 1, 300, x509Key, a) })
		time.Sleep(time.Minute)
		if err := r.Refresh(ctx); err == nil {
			t.Fatal("the bundle of sequence 1 after an empty one of 3 was installed")
		}
		if _, err := v.Verify(ctx, tokA); !errors.Is(err, jwtverify.ErrUnknownKey) {
			t.Fatalf("after the refused rollback: %v, want unknown_key", err)
		}
	})
}

// TestNewRemoteRefusesSPIFFEOnlyKeys: the JWKS Remote keeps the JWKS use
// rule, and ignores the SPIFFE members: a bundle is not a JWKS.
func TestNewRemoteRefusesSPIFFEOnlyKeys(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := newFixture()
		o := newOrigin(t, bundle(t, 1, 300, bundleKey{"A", f.a, "jwt-svid"}))
		r := f.remote(t, o, nil)
		if err := r.Refresh(context.Background()); err == nil || !strings.Contains(err.Error(), "jwt-svid") {
			t.Fatalf("NewRemote with a jwt-svid key: %v, want refused", err)
		}
	})
}
