package keyset_test

import (
	"context"
	"crypto/rsa"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/jwtverify/jwtverify"
	"github.com/jwtverify/jwtverify/backends/golangjwt"
	"github.com/jwtverify/jwtverify/internal/mint"
	"github.com/jwtverify/jwtverify/internal/testkeys"
	"github.com/jwtverify/jwtverify/keyset"
)

// The tests of Remote are split along its parts: this file has the
// fixture and the life cycle (first use, the lock-free snapshot, Close);
// fetch_test.go the conditional GET, its limits and its URL rules;
// admission_test.go unknown kids; schedule_test.go refresh, staleness and
// backoff. Tests that depend on time run in a synctest bubble, where time
// is fake and moves only when every goroutine waits, against an origin
// reached through an in-memory transport (a loopback socket is not a
// durable block in a bubble).

// The defaults RemoteConfig documents, which these tests rely on
// (TestDocumentedDefaults checks that NewRemote applies them), and the
// bound ParseJWKS documents.
const (
	defaultMinRefresh         = 5 * time.Minute
	defaultUnknownKIDInterval = 30 * time.Second
	defaultMaxStale           = 24 * time.Hour
	maxKeys                   = 4096
)

// jwksURL is the URL of the tests' origin; the in-memory transport
// ignores the host.
const jwksURL = "https://issuer.example/jwks"

// origin is a JWKS endpoint whose answers the test controls, reached in
// memory: it is its own http.RoundTripper. It counts requests, answers a
// matching If-None-Match with 304, and never calls t.Fatal.
type origin struct {
	requests atomic.Int32
	active   atomic.Int32 // requests in the handler

	mu      sync.Mutex
	body    []byte
	status  int
	header  http.Header
	down    bool          // requests fail as if the host were unreachable
	hang    chan struct{} // when set, requests block until it is closed or they are cancelled
	entered chan struct{} // when set, receives one value per hanging request
	lastReq *http.Request
}

// newOrigin returns an origin serving body. In a bubble it must be made
// inside it; t.Cleanup releases hanging requests.
func newOrigin(t *testing.T, body []byte) *origin {
	o := &origin{body: body, status: http.StatusOK, header: http.Header{}}
	t.Cleanup(func() { o.release() })
	return o
}

func (o *origin) client() *http.Client { return &http.Client{Transport: o} }

// RoundTrip serves req in memory. A request cancelled while the handler
// waits fails as a real one would.
func (o *origin) RoundTrip(req *http.Request) (*http.Response, error) {
	o.mu.Lock()
	down := o.down
	o.mu.Unlock()
	if down {
		return nil, errors.New("dial tcp: connection refused")
	}
	rec := httptest.NewRecorder()
	o.ServeHTTP(rec, req)
	if err := req.Context().Err(); err != nil {
		return nil, err
	}
	return rec.Result(), nil
}

func (o *origin) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	o.requests.Add(1)
	o.active.Add(1)
	defer o.active.Add(-1)
	o.mu.Lock()
	body, status, hang, entered := o.body, o.status, o.hang, o.entered
	for k, v := range o.header {
		w.Header()[k] = v
	}
	o.lastReq = r.Clone(context.Background())
	o.mu.Unlock()
	if hang != nil {
		if entered != nil {
			entered <- struct{}{}
		}
		select {
		case <-hang:
		case <-r.Context().Done():
			return
		}
	}
	if etag := w.Header().Get("ETag"); etag != "" && r.Header.Get("If-None-Match") == etag {
		w.WriteHeader(http.StatusNotModified)
		return
	}
	w.WriteHeader(status)
	w.Write(body)
}

func (o *origin) set(f func(o *origin)) {
	o.mu.Lock()
	defer o.mu.Unlock()
	f(o)
}

// hangRequests makes the next requests block until release; each one
// sends a value on the returned channel once it is blocked.
func (o *origin) hangRequests() <-chan struct{} {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.hang, o.entered = make(chan struct{}), make(chan struct{}, 100)
	return o.entered
}

// release lets hanging requests answer; later ones do not hang.
func (o *origin) release() {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.hang != nil {
		close(o.hang)
		o.hang = nil
	}
}

// fixture holds the tests' two RSA keys, "A" and "B".
type fixture struct {
	a, b   *rsa.PrivateKey
	issuer string
}

func newFixture() *fixture {
	ks := testkeys.Load()
	return &fixture{a: ks.RSA1, b: ks.RSA2, issuer: "https://issuer.example"}
}

func jwks(t *testing.T, keys map[string]*rsa.PrivateKey) []byte {
	t.Helper()
	var list []any
	for _, kid := range []string{"A", "B", "C"} {
		if k, ok := keys[kid]; ok {
			m, err := mint.JWK(&k.PublicKey, kid, "RS256")
			if err != nil {
				t.Fatal(err)
			}
			list = append(list, m)
		}
	}
	b, _ := json.Marshal(map[string]any{"keys": list})
	return b
}

// token returns a plausible token (configured issuer, exp a year ahead of
// the clock, real or fake) naming kid, signed by key.
func (f *fixture) token(t *testing.T, kid string, key *rsa.PrivateKey, claims map[string]any) string {
	t.Helper()
	c := map[string]any{"iss": f.issuer, "aud": "api", "exp": time.Now().Add(365 * 24 * time.Hour).Unix()}
	for k, v := range claims {
		c[k] = v
	}
	tok, err := mint.Token("RS256", key, map[string]any{"kid": kid}, c)
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

// remote returns a Remote for o, closed by t.Cleanup.
func (f *fixture) remote(t *testing.T, o *origin, mod func(*keyset.RemoteConfig)) *keyset.Remote {
	t.Helper()
	cfg := keyset.RemoteConfig{Client: o.client()}
	if mod != nil {
		mod(&cfg)
	}
	r, err := keyset.NewRemote(jwksURL, cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Close() })
	return r
}

// verifier returns a verifier over r, for the tests whose promise
// involves Verify (which computes Lookup.MayFetch).
func (f *fixture) verifier(t *testing.T, r *keyset.Remote) *jwtverify.Verifier {
	t.Helper()
	v, err := golangjwt.New(jwtverify.Config{
		Keys: r, Algorithms: []string{"RS256"}, Issuers: []string{f.issuer}, Audiences: []string{"api"},
	})
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// plausible is the Lookup Verify makes for a plausible RS256 token.
func plausible(kid string) jwtverify.Lookup {
	return jwtverify.Lookup{KID: kid, Alg: "RS256", MayFetch: kid != ""}
}

func TestRemoteFirstUseAndHotPath(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := newFixture()
		o := newOrigin(t, jwks(t, map[string]*rsa.PrivateKey{"A": f.a}))
		r := f.remote(t, o, nil)
		v := f.verifier(t, r)
		if _, err := v.Verify(context.Background(), f.token(t, "A", f.a, nil)); err != nil {
			t.Fatal(err)
		}
		if n := o.requests.Load(); n != 1 {
			t.Fatalf("%d requests, want 1", n)
		}
		allocs := testing.AllocsPerRun(200, func() {
			if _, err := r.Key(context.Background(), plausible("A")); err != nil {
				t.Fatal(err)
			}
		})
		if allocs != 0 {
			t.Fatalf("warm lookup allocates %v times", allocs)
		}
		if _, err := r.Key(context.Background(), jwtverify.Lookup{KID: "A", Alg: "PS256", MayFetch: true}); !errors.Is(err, jwtverify.ErrAlgorithm) {
			t.Fatalf("RS256-only key for PS256: %v", err)
		}
		if n := o.requests.Load(); n != 1 {
			t.Fatalf("%d requests after warm lookups, want 1", n)
		}
	})
}

// TestKnownKidUnaffectedByHangingRefresh: lookups while a refresh hangs are
// served at once from the snapshot: no fake time passes, and they start no
// further request.
func TestKnownKidUnaffectedByHangingRefresh(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := newFixture()
		o := newOrigin(t, jwks(t, map[string]*rsa.PrivateKey{"A": f.a}))
		r := f.remote(t, o, func(c *keyset.RemoteConfig) { c.FetchTimeout = time.Minute })
		v := f.verifier(t, r)
		tokA := f.token(t, "A", f.a, nil)
		if _, err := v.Verify(context.Background(), tokA); err != nil {
			t.Fatal(err)
		}
		entered := o.hangRequests()
		time.Sleep(defaultMinRefresh * 11 / 10) // due: the next lookup starts a refresh that hangs
		if _, err := v.Verify(context.Background(), tokA); err != nil {
			t.Fatal(err)
		}
		<-entered // the refresh is in flight and blocked
		start := time.Now()
		for i := 0; i < 100; i++ {
			if _, err := v.Verify(context.Background(), tokA); err != nil {
				t.Fatal(err)
			}
		}
		if waited := time.Since(start); waited != 0 {
			t.Fatalf("verification of a known kid waited %v behind a hanging refresh", waited)
		}
		if n := o.requests.Load(); n != 2 {
			t.Fatalf("%d requests, want 2 (lookups during the hang must not start more)", n)
		}
	})
}

// TestConcurrentNewKidMakesOneRequest: 10,000 verifications of a token
// with a new kid, all waiting while the request hangs, make one request,
// and all succeed.
func TestConcurrentNewKidMakesOneRequest(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := newFixture()
		o := newOrigin(t, jwks(t, map[string]*rsa.PrivateKey{"A": f.a}))
		r := f.remote(t, o, nil)
		v := f.verifier(t, r)
		if _, err := v.Verify(context.Background(), f.token(t, "A", f.a, nil)); err != nil {
			t.Fatal(err)
		}
		o.set(func(o *origin) { o.body = jwks(t, map[string]*rsa.PrivateKey{"A": f.a, "B": f.b}) })
		o.hangRequests()
		tokB := f.token(t, "B", f.b, nil)
		const n = 10000
		var wg sync.WaitGroup
		var failed atomic.Int32
		for i := 0; i < n; i++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				if _, err := v.Verify(context.Background(), tokB); err != nil {
					failed.Add(1)
				}
			}()
		}
		synctest.Wait() // every verification waits for the one request
		o.release()
		wg.Wait()
		if got := o.requests.Load(); got != 2 {
			t.Fatalf("%d requests for %d concurrent tokens with a new kid, want 1 (+1 initial)", got-1, n)
		}
		if failed.Load() != 0 {
			t.Fatalf("%d of %d verifications failed", failed.Load(), n)
		}
	})
}

// TestCallerCancellationDoesNotCancelSharedFetch: a caller that gives up
// gets keys_unavailable at once; the request it started goes on for the
// caller that joined it.
func TestCallerCancellationDoesNotCancelSharedFetch(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := newFixture()
		o := newOrigin(t, jwks(t, map[string]*rsa.PrivateKey{"A": f.a}))
		entered := o.hangRequests()
		r := f.remote(t, o, nil)

		ctxA, cancelA := context.WithCancel(context.Background())
		errA := make(chan error, 1)
		go func() { _, err := r.Key(ctxA, plausible("A")); errA <- err }()
		<-entered
		errB := make(chan error, 1)
		go func() { _, err := r.Key(context.Background(), plausible("A")); errB <- err }()
		synctest.Wait() // B waits for A's request

		cancelA()
		if err := <-errA; !errors.Is(err, jwtverify.ErrKeysUnavailable) {
			t.Fatalf("cancelled caller: %v", err)
		}
		o.release()
		if err := <-errB; err != nil {
			t.Fatalf("the other caller lost the shared fetch: %v", err)
		}
		if n := o.requests.Load(); n != 1 {
			t.Fatalf("%d requests, want 1", n)
		}
	})
}

// TestRequestWhileOneReports: a request triggered after the one before it
// has stored its result, while that one is still being reported (OnRefresh
// runs before singleflight releases it), is a new request, not a join of
// the one that ended; and Close still returns.
func TestRequestWhileOneReports(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := newFixture()
		o := newOrigin(t, jwks(t, map[string]*rsa.PrivateKey{"A": f.a}))
		var reports atomic.Int32
		reporting, unblock := make(chan struct{}), make(chan struct{})
		r := f.remote(t, o, func(c *keyset.RemoteConfig) {
			c.OnRefresh = func(context.Context, keyset.RefreshEvent) {
				if reports.Add(1) == 1 {
					close(reporting)
					<-unblock
				}
			}
		})
		first := make(chan error, 1)
		go func() { _, err := r.Key(context.Background(), plausible("A")); first <- err }()
		<-reporting // the initial request has stored its set and is reporting it
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		if err := r.Refresh(ctx); err != nil {
			t.Fatalf("Refresh while the previous request reports: %v", err)
		}
		if n := o.requests.Load(); n != 2 {
			t.Fatalf("%d requests, want 2: Refresh joined a request that had ended", n)
		}
		close(unblock)
		if err := <-first; err != nil {
			t.Fatal(err)
		}
		done := make(chan struct{})
		go func() { r.Close(); close(done) }()
		select {
		case <-done:
		case <-time.After(time.Minute):
			t.Fatal("Close did not return")
		}
	})
}

// TestNoGoroutineLeak: a Remote's only goroutine runs a request, and
// Close cancels a request in flight and returns once it has ended.
func TestNoGoroutineLeak(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := newFixture()
		o := newOrigin(t, jwks(t, map[string]*rsa.PrivateKey{"A": f.a}))
		for i := 0; i < 20; i++ {
			r, err := keyset.NewRemote(jwksURL, keyset.RemoteConfig{Client: o.client()})
			if err != nil {
				t.Fatal(err)
			}
			if _, err := r.Key(context.Background(), plausible("A")); err != nil {
				t.Fatal(err)
			}
			synctest.Wait()
			if n := requestGoroutines(); n != 0 {
				t.Fatalf("%d request goroutines after a request ended", n)
			}
			// Leave a refresh hanging in flight, then Close.
			entered := o.hangRequests()
			time.Sleep(defaultMinRefresh * 11 / 10)
			r.Key(context.Background(), plausible("A"))
			<-entered
			if n := requestGoroutines(); n != 1 {
				t.Fatalf("%d request goroutines with a request in flight, want 1", n)
			}
			r.Close()
			if n := o.active.Load(); n != 0 {
				t.Fatalf("Close returned with %d requests still in the handler", n)
			}
			synctest.Wait()
			if n := requestGoroutines(); n != 0 {
				t.Fatalf("%d request goroutines after Close", n)
			}
			o.release()
		}
	})
}

// requestGoroutines counts the goroutines running a Remote's request.
func requestGoroutines() int {
	buf := make([]byte, 1<<20)
	return strings.Count(string(buf[:runtime.Stack(buf, true)]), "keyset.(*Remote).run(")
}

func TestLookupAfterCloseStartsNothing(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := newFixture()
		o := newOrigin(t, jwks(t, map[string]*rsa.PrivateKey{"A": f.a}))
		r := f.remote(t, o, nil)
		ctx := context.Background()
		r.Key(ctx, plausible("A"))
		r.Close()
		time.Sleep(defaultMinRefresh * 11 / 10) // due
		allocs := testing.AllocsPerRun(1000, func() {
			if _, err := r.Key(ctx, plausible("A")); err != nil {
				t.Fatal(err)
			}
			if _, err := r.Key(ctx, plausible("new")); !errors.Is(err, jwtverify.ErrUnknownKey) {
				t.Fatal(err)
			}
		})
		if allocs > 0 || o.requests.Load() != 1 {
			t.Fatalf("after Close a due lookup allocates %v times; %d requests", allocs, o.requests.Load())
		}
		if err := r.Refresh(ctx); err == nil {
			t.Fatal("Refresh after Close succeeded")
		}
		time.Sleep(defaultMaxStale) // past MaxStale: no request, keys_unavailable
		if _, err := r.Key(ctx, plausible("A")); !errors.Is(err, jwtverify.ErrKeysUnavailable) || o.requests.Load() != 1 {
			t.Fatalf("closed, past MaxStale: %v; %d requests", err, o.requests.Load())
		}
	})
}

func TestAge(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := newFixture()
		o := newOrigin(t, jwks(t, map[string]*rsa.PrivateKey{"A": f.a}))
		r := f.remote(t, o, nil)
		if _, ok := r.Age(); ok {
			t.Fatal("age before the first fetch")
		}
		if g := r.Generation(); g != 0 {
			t.Fatalf("Generation before the first fetch = %d", g)
		}
		r.Key(context.Background(), plausible("A"))
		time.Sleep(time.Minute)
		if age, ok := r.Age(); !ok || age != time.Minute {
			t.Fatalf("Age = %v, %v", age, ok)
		}
		g := r.Generation()
		if err := r.Refresh(context.Background()); err != nil {
			t.Fatal(err)
		}
		if age, _ := r.Age(); age != 0 || r.Generation() == g {
			t.Fatalf("after a refresh: Age = %v, Generation %d (was %d)", age, r.Generation(), g)
		}
	})
}

func TestNewRemoteValidation(t *testing.T) {
	for url, ok := range map[string]bool{
		"https://issuer.example/jwks": true,
		"http://127.0.0.1:8080/jwks":  true,
		"http://[::1]/jwks":           true,
		"http://localhost/jwks":       true,
		"http://issuer.example/jwks":  false,
		"ftp://issuer.example/jwks":   false,
		"/relative":                   false,
		"":                            false,
	} {
		_, err := keyset.NewRemote(url, keyset.RemoteConfig{})
		if ok != (err == nil) || (err != nil && !errors.Is(err, jwtverify.ErrInvalidConfig)) {
			t.Errorf("NewRemote(%q) = %v, want ok=%v", url, err, ok)
		}
	}
	if _, err := keyset.NewRemote("http://issuer.example/jwks", keyset.RemoteConfig{AllowInsecureHTTP: true}); err != nil {
		t.Errorf("AllowInsecureHTTP: %v", err)
	}
	for name, cfg := range map[string]keyset.RemoteConfig{
		"min above max":       {MinRefresh: time.Hour, MaxRefresh: time.Minute},
		"stale below refresh": {MaxRefresh: time.Hour, MaxStale: time.Minute},
		"negative timeout":    {FetchTimeout: -1},
		"too many keys":       {MaxKeys: maxKeys + 1},
	} {
		if _, err := keyset.NewRemote("https://issuer.example/jwks", cfg); !errors.Is(err, jwtverify.ErrInvalidConfig) {
			t.Errorf("%s: %v", name, err)
		}
	}
}

// TestParsedKeyCache: a refresh returning a key seen before reuses the
// parsed key; membership in the current set, not the cache, decides what
// verifies.
func TestParsedKeyCache(t *testing.T) {
	f := newFixture()
	o := newOrigin(t, jwks(t, map[string]*rsa.PrivateKey{"A": f.a, "B": f.b}))
	r := f.remote(t, o, nil)
	ctx := context.Background()
	a1, err := r.Key(ctx, plausible("A"))
	if err != nil {
		t.Fatal(err)
	}
	if err := r.Refresh(ctx); err != nil {
		t.Fatal(err)
	}
	a2, _ := r.Key(ctx, plausible("A"))
	if a1 != a2 {
		t.Fatal("a refresh returning the same key parsed it again")
	}
	// Retiring B: the cache still holds it, but it is no longer usable.
	o.set(func(o *origin) { o.body = jwks(t, map[string]*rsa.PrivateKey{"A": f.a}) })
	if err := r.Refresh(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := r.Key(ctx, jwtverify.Lookup{KID: "B", Alg: "RS256"}); !errors.Is(err, jwtverify.ErrUnknownKey) {
		t.Fatalf("retired key usable through the cache: %v", err)
	}
	// The same material under another kid is another key.
	o.set(func(o *origin) { o.body = jwks(t, map[string]*rsa.PrivateKey{"C": f.a}) })
	if err := r.Refresh(ctx); err != nil {
		t.Fatal(err)
	}
	c, err := r.Key(ctx, plausible("C"))
	if err != nil || c == a1 || c.ID() != "C" {
		t.Fatalf("kid C: %v, %v", c.ID(), err)
	}
}
