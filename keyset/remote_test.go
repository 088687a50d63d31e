package keyset_test

import (
	"bytes"
	"context"
	"crypto/rsa"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jwtverify/jwtverify"
	"github.com/jwtverify/jwtverify/backends/golangjwt"
	"github.com/jwtverify/jwtverify/cache"
	"github.com/jwtverify/jwtverify/internal/mint"
	"github.com/jwtverify/jwtverify/internal/testkeys"
	"github.com/jwtverify/jwtverify/keyset"
)

// clock is an injectable clock, safe for concurrent use.
type clock struct{ ns atomic.Int64 }

func newClock() *clock {
	c := &clock{}
	c.ns.Store(time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC).UnixNano())
	return c
}
func (c *clock) Now() time.Time          { return time.Unix(0, c.ns.Load()) }
func (c *clock) Add(d time.Duration)     { c.ns.Add(int64(d)) }
func (c *clock) Since(t time.Time) int64 { return c.ns.Load() - t.UnixNano() }

// server is a JWKS endpoint whose answers the test controls. It counts
// requests and never calls t.Fatal from its goroutine.
type server struct {
	*httptest.Server
	requests atomic.Int32

	mu      sync.Mutex
	body    []byte
	status  int
	header  http.Header
	hang    chan struct{} // when set, requests block until it is closed
	entered chan struct{} // receives one value per hanging request
	lastReq http.Header
}

func newServer(t *testing.T, body []byte) *server {
	s := &server{body: body, status: 200, header: http.Header{}}
	s.Server = httptest.NewServer(http.HandlerFunc(s.serve))
	t.Cleanup(func() {
		s.mu.Lock()
		if s.hang != nil {
			select {
			case <-s.hang:
			default:
				close(s.hang)
			}
		}
		s.mu.Unlock()
		s.Close()
	})
	return s
}

func (s *server) serve(w http.ResponseWriter, r *http.Request) {
	s.requests.Add(1)
	s.mu.Lock()
	body, status, hang, entered := s.body, s.status, s.hang, s.entered
	for k, v := range s.header {
		w.Header()[k] = v
	}
	s.lastReq = r.Header.Clone()
	s.mu.Unlock()
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

func (s *server) set(f func(s *server)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	f(s)
}

// keys of the tests: two RSA keys, "A" and "B".
type fixture struct {
	a, b   *rsa.PrivateKey
	clock  *clock
	issuer string
}

func newFixture() *fixture {
	ks := testkeys.Load()
	return &fixture{a: ks.RSA1, b: ks.RSA2, clock: newClock(), issuer: "https://issuer.example"}
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

func (f *fixture) token(t *testing.T, kid string, key *rsa.PrivateKey, claims map[string]any) string {
	t.Helper()
	c := map[string]any{"iss": f.issuer, "aud": "api", "exp": f.clock.Now().Add(365 * 24 * time.Hour).Unix()}
	for k, v := range claims {
		c[k] = v
	}
	tok, err := mint.Token("RS256", key, map[string]any{"kid": kid}, c)
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

func (f *fixture) remote(t *testing.T, url string, mod func(*keyset.RemoteConfig)) *keyset.Remote {
	t.Helper()
	cfg := keyset.RemoteConfig{Now: f.clock.Now}
	if mod != nil {
		mod(&cfg)
	}
	r, err := keyset.NewRemote(url, cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Close() })
	return r
}

func (f *fixture) verifier(t *testing.T, r *keyset.Remote) jwtverify.Verifier {
	t.Helper()
	v, err := golangjwt.New(jwtverify.Config{
		Keys: r, Algorithms: []string{"RS256"}, Issuers: []string{f.issuer}, Audiences: []string{"api"}, Now: f.clock.Now,
	})
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func TestRemoteFirstUseAndHotPath(t *testing.T) {
	f := newFixture()
	srv := newServer(t, jwks(t, map[string]*rsa.PrivateKey{"A": f.a}))
	r := f.remote(t, srv.URL, nil)
	v := f.verifier(t, r)
	if _, err := v.Verify(context.Background(), f.token(t, "A", f.a, nil)); err != nil {
		t.Fatal(err)
	}
	if n := srv.requests.Load(); n != 1 {
		t.Fatalf("%d requests, want 1", n)
	}
	allocs := testing.AllocsPerRun(200, func() {
		if _, err := r.Key(context.Background(), "A", "RS256"); err != nil {
			t.Fatal(err)
		}
	})
	if allocs != 0 {
		t.Fatalf("warm lookup allocates %v times", allocs)
	}
	if _, err := r.Key(context.Background(), "A", "PS256"); !errors.Is(err, jwtverify.ErrAlgorithm) {
		t.Fatalf("RS256-only key for PS256: %v", err)
	}
	if n := srv.requests.Load(); n != 1 {
		t.Fatalf("%d requests after warm lookups, want 1", n)
	}
}

func TestRotation(t *testing.T) {
	f := newFixture()
	srv := newServer(t, jwks(t, map[string]*rsa.PrivateKey{"A": f.a}))
	srv.set(func(s *server) { s.header.Set("Cache-Control", "max-age=600") })
	r := f.remote(t, srv.URL, nil)
	v := f.verifier(t, r)
	ctx := context.Background()
	tokA, tokB := f.token(t, "A", f.a, nil), f.token(t, "B", f.b, nil)

	if _, err := v.Verify(ctx, tokA); err != nil {
		t.Fatal(err)
	}
	// B is published next to A: a token signed by B refreshes once.
	srv.set(func(s *server) { s.body = jwks(t, map[string]*rsa.PrivateKey{"A": f.a, "B": f.b}) })
	if _, err := v.Verify(ctx, tokB); err != nil {
		t.Fatalf("token of the new key: %v", err)
	}
	if _, err := v.Verify(ctx, tokA); err != nil {
		t.Fatalf("old key while both are published: %v", err)
	}
	if n := srv.requests.Load(); n != 2 {
		t.Fatalf("%d requests, want 2", n)
	}
	// A is retired: after the next scheduled refresh its tokens fail.
	srv.set(func(s *server) { s.body = jwks(t, map[string]*rsa.PrivateKey{"B": f.b}) })
	f.clock.Add(10 * time.Minute)
	if err := r.Refresh(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := v.Verify(ctx, tokA); !errors.Is(err, jwtverify.ErrUnknownKey) {
		t.Fatalf("retired key: %v, want unknown_key", err)
	}
	if _, err := v.Verify(ctx, tokB); err != nil {
		t.Fatal(err)
	}
}

func TestScheduledRefreshRetiresKey(t *testing.T) {
	f := newFixture()
	srv := newServer(t, jwks(t, map[string]*rsa.PrivateKey{"A": f.a, "B": f.b}))
	srv.set(func(s *server) { s.header.Set("Cache-Control", "max-age=600") })
	var events sync.Map
	done := make(chan struct{}, 10)
	r := f.remote(t, srv.URL, func(c *keyset.RemoteConfig) {
		c.OnRefresh = func(ev keyset.RefreshEvent) { events.Store(ev.Trigger, ev.Outcome); done <- struct{}{} }
	})
	v := f.verifier(t, r)
	tokA := f.token(t, "A", f.a, nil)
	if _, err := v.Verify(context.Background(), tokA); err != nil {
		t.Fatal(err)
	}
	<-done
	srv.set(func(s *server) { s.body = jwks(t, map[string]*rsa.PrivateKey{"B": f.b}) })
	f.clock.Add(9*time.Minute + 1) // past 90% of max-age: due
	if _, err := v.Verify(context.Background(), tokA); err != nil {
		t.Fatalf("the due set still serves while the refresh runs: %v", err)
	}
	waitFor(t, done)
	if o, _ := events.Load(keyset.TriggerScheduled); o != keyset.OutcomeUpdated {
		t.Fatalf("scheduled refresh outcome %v", o)
	}
	if _, err := v.Verify(context.Background(), tokA); !errors.Is(err, jwtverify.ErrUnknownKey) {
		t.Fatalf("retired key after scheduled refresh: %v", err)
	}
}

func waitFor(t *testing.T, ch <-chan struct{}) {
	t.Helper()
	select {
	case <-ch:
	case <-time.After(10 * time.Second):
		t.Fatal("timed out waiting for a refresh")
	}
}

func TestConcurrentNewKidMakesOneRequest(t *testing.T) {
	f := newFixture()
	srv := newServer(t, jwks(t, map[string]*rsa.PrivateKey{"A": f.a}))
	r := f.remote(t, srv.URL, nil)
	v := f.verifier(t, r)
	if _, err := v.Verify(context.Background(), f.token(t, "A", f.a, nil)); err != nil {
		t.Fatal(err)
	}
	srv.set(func(s *server) { s.body = jwks(t, map[string]*rsa.PrivateKey{"A": f.a, "B": f.b}) })
	tokB := f.token(t, "B", f.b, nil)
	const n = 10000
	var wg sync.WaitGroup
	var failed atomic.Int32
	start := make(chan struct{})
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			if _, err := v.Verify(context.Background(), tokB); err != nil {
				failed.Add(1)
			}
		}()
	}
	close(start)
	wg.Wait()
	if got := srv.requests.Load(); got != 2 {
		t.Fatalf("%d requests for %d concurrent tokens with a new kid, want 1 (+1 initial)", got-1, n)
	}
	if failed.Load() != 0 {
		t.Fatalf("%d of %d verifications failed", failed.Load(), n)
	}
}

func TestRandomKidFloodIsRateLimited(t *testing.T) {
	f := newFixture()
	srv := newServer(t, jwks(t, map[string]*rsa.PrivateKey{"A": f.a}))
	var misses atomic.Int32
	r := f.remote(t, srv.URL, func(c *keyset.RemoteConfig) {
		c.OnMiss = func(keyset.MissEvent) { misses.Add(1) }
		c.MaxRefresh, c.MinRefresh = 24*time.Hour, 24*time.Hour // no scheduled refresh during the flood
	})
	ctx := context.Background()
	if _, err := r.Key(ctx, "A", "RS256"); err != nil {
		t.Fatal(err)
	}
	const tokens, step = 100000, time.Millisecond // 100 s of clock
	for i := 0; i < tokens; i++ {
		if _, err := r.RefreshKey(ctx, fmt.Sprintf("junk-%d", i), "RS256"); !errors.Is(err, jwtverify.ErrUnknownKey) {
			t.Fatalf("junk kid: %v", err)
		}
		f.clock.Add(step)
	}
	limit := int32(1 + (tokens*step)/keyset.DefaultUnknownKIDInterval + 1) // per interval, plus the initial fetch
	if got := srv.requests.Load(); got > limit || got < 2 {
		t.Fatalf("%d requests for %d random kids over %v, want at most %d", got, tokens, tokens*step, limit)
	}
	if misses.Load() < tokens-limit {
		t.Fatalf("only %d misses reported", misses.Load())
	}
}

func TestFloodDoesNotStarveRotation(t *testing.T) {
	f := newFixture()
	srv := newServer(t, jwks(t, map[string]*rsa.PrivateKey{"A": f.a}))
	var negHits atomic.Int32
	r := f.remote(t, srv.URL, func(c *keyset.RemoteConfig) {
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
	f.clock.Add(keyset.DefaultUnknownKIDInterval)
	flood()
	if n := srv.requests.Load(); n != 2 {
		t.Fatalf("%d requests, want 2", n)
	}
	if negHits.Load() < 1000 {
		t.Fatalf("%d negative-cache hits", negHits.Load())
	}
	// B is published right after the flood; its first token gets the budget.
	srv.set(func(s *server) { s.body = jwks(t, map[string]*rsa.PrivateKey{"A": f.a, "B": f.b}) })
	f.clock.Add(time.Second)
	if _, err := v.Verify(ctx, f.token(t, "B", f.b, nil)); err != nil {
		t.Fatalf("new key after a flood: %v", err)
	}
}

func TestImplausibleTokensCauseNoRequest(t *testing.T) {
	f := newFixture()
	srv := newServer(t, jwks(t, map[string]*rsa.PrivateKey{"A": f.a}))
	r := f.remote(t, srv.URL, nil)
	v := f.verifier(t, r)
	ctx := context.Background()
	if _, err := v.Verify(ctx, f.token(t, "A", f.a, nil)); err != nil {
		t.Fatal(err)
	}
	for name, tok := range map[string]string{
		"other issuer":    f.token(t, "new", f.b, map[string]any{"iss": "https://evil.example"}),
		"no issuer":       f.token(t, "new", f.b, map[string]any{"iss": nil}),
		"expired":         f.token(t, "new", f.b, map[string]any{"exp": f.clock.Now().Add(-time.Hour).Unix()}),
		"no exp":          f.token(t, "new", f.b, map[string]any{"exp": nil}),
		"bad payload":     rawToken(t, f.b, `{"alg":"RS256","kid":"new"}`, `not json`),
		"alg not in list": rawToken(t, f.b, `{"alg":"PS256","kid":"new"}`, `{}`),
	} {
		if _, err := v.Verify(ctx, tok); err == nil {
			t.Fatalf("%s: accepted", name)
		}
	}
	if n := srv.requests.Load(); n != 1 {
		t.Fatalf("%d requests, want 1: implausible tokens made requests", n)
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

func TestBoundedStaleness(t *testing.T) {
	for _, mode := range []string{"down", "500", "garbage", "empty-set", "5MiB", "hangs", "too-many-keys"} {
		t.Run(mode, func(t *testing.T) {
			f := newFixture()
			srv := newServer(t, jwks(t, map[string]*rsa.PrivateKey{"A": f.a}))
			r := f.remote(t, srv.URL, func(c *keyset.RemoteConfig) {
				if mode == "hangs" {
					c.FetchTimeout = 200 * time.Millisecond
				}
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
				srv.CloseClientConnections()
				srv.set(func(s *server) { s.status = 0 })
				srv.Listener.Close()
			case "500":
				srv.set(func(s *server) { s.status = 500 })
			case "garbage":
				srv.set(func(s *server) { s.body = []byte("<html>oops</html>") })
			case "empty-set":
				srv.set(func(s *server) { s.body = []byte(`{"keys":[]}`) })
			case "5MiB":
				srv.set(func(s *server) {
					s.body = append(jwks(t, map[string]*rsa.PrivateKey{"A": f.a}), bytes.Repeat([]byte(" "), 5<<20)...)
				})
			case "too-many-keys":
				srv.set(func(s *server) { s.body = jwks(t, map[string]*rsa.PrivateKey{"A": f.b, "B": f.b, "C": f.b}) })
			case "hangs":
				srv.set(func(s *server) { s.hang = make(chan struct{}); s.entered = make(chan struct{}, 100) })
			}
			// Due, failing: the last good set keeps serving, each lookup immediately.
			for i := 0; i < 5; i++ {
				f.clock.Add(10 * time.Minute)
				if _, err := v.Verify(ctx, tokA); err != nil {
					t.Fatalf("after %v: %v", time.Duration(i+1)*10*time.Minute, err)
				}
				if err := r.Refresh(ctx); err == nil {
					t.Fatal("a failing refresh reported success")
				}
			}
			// Past MaxStale: fail closed.
			f.clock.Add(20 * time.Minute)
			if _, err := v.Verify(ctx, tokA); !errors.Is(err, jwtverify.ErrKeysUnavailable) {
				t.Fatalf("past MaxStale: %v, want keys_unavailable", err)
			}
		})
	}
}

func TestKnownKidUnaffectedByHangingRefresh(t *testing.T) {
	f := newFixture()
	srv := newServer(t, jwks(t, map[string]*rsa.PrivateKey{"A": f.a}))
	r := f.remote(t, srv.URL, func(c *keyset.RemoteConfig) { c.FetchTimeout = time.Minute })
	v := f.verifier(t, r)
	tokA := f.token(t, "A", f.a, nil)
	if _, err := v.Verify(context.Background(), tokA); err != nil {
		t.Fatal(err)
	}
	srv.set(func(s *server) { s.hang = make(chan struct{}); s.entered = make(chan struct{}, 10) })
	f.clock.Add(keyset.DefaultMinRefresh) // due: the next lookup starts a refresh that hangs
	if _, err := v.Verify(context.Background(), tokA); err != nil {
		t.Fatal(err)
	}
	<-srv.entered // the refresh is now in flight and blocked
	done := make(chan error, 1)
	go func() {
		for i := 0; i < 100; i++ {
			if _, err := v.Verify(context.Background(), tokA); err != nil {
				done <- err
				return
			}
		}
		done <- nil
	}()
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("verification of a known kid blocked behind a hanging refresh")
	}
	if n := srv.requests.Load(); n != 2 {
		t.Fatalf("%d requests, want 2 (lookups during the hang must not start more)", n)
	}
}

func TestNotModified(t *testing.T) {
	f := newFixture()
	srv := newServer(t, jwks(t, map[string]*rsa.PrivateKey{"A": f.a}))
	srv.set(func(s *server) {
		s.header.Set("ETag", `"v1"`)
		s.header.Set("Last-Modified", "Mon, 01 Jun 2026 00:00:00 GMT")
		s.header.Set("Cache-Control", "max-age=300")
	})
	var last keyset.RefreshEvent
	r := f.remote(t, srv.URL, func(c *keyset.RemoteConfig) { c.OnRefresh = func(ev keyset.RefreshEvent) { last = ev } })
	ctx := context.Background()
	if _, err := r.Key(ctx, "A", "RS256"); err != nil {
		t.Fatal(err)
	}
	f.clock.Add(time.Hour)
	if err := r.Refresh(ctx); err != nil {
		t.Fatal(err)
	}
	srv.mu.Lock()
	inm, ims := srv.lastReq.Get("If-None-Match"), srv.lastReq.Get("If-Modified-Since")
	srv.mu.Unlock()
	if inm != `"v1"` || ims == "" {
		t.Fatalf("conditional headers %q %q", inm, ims)
	}
	if last.Outcome != keyset.OutcomeNotModified || last.Keys != 1 || last.Age != 0 {
		t.Fatalf("event %+v", last)
	}
	// The 304 reset the age: 23h later (past the old fetch + MaxStale) it still serves.
	f.clock.Add(23 * time.Hour)
	srv.set(func(s *server) { s.status = 500; s.header.Del("ETag") })
	if _, err := r.Key(ctx, "A", "RS256"); err != nil {
		t.Fatalf("after 304 the age should have reset: %v", err)
	}
}

func TestCallerCancellationDoesNotCancelSharedFetch(t *testing.T) {
	f := newFixture()
	srv := newServer(t, jwks(t, map[string]*rsa.PrivateKey{"A": f.a}))
	hang := make(chan struct{})
	srv.set(func(s *server) { s.hang = hang; s.entered = make(chan struct{}, 10) })
	r := f.remote(t, srv.URL, nil)

	ctxA, cancelA := context.WithCancel(context.Background())
	errA := make(chan error, 1)
	go func() { _, err := r.Key(ctxA, "A", "RS256"); errA <- err }()
	<-srv.entered
	errB := make(chan error, 1)
	go func() { _, err := r.Key(context.Background(), "A", "RS256"); errB <- err }()

	cancelA()
	if err := <-errA; !errors.Is(err, jwtverify.ErrKeysUnavailable) {
		t.Fatalf("cancelled caller: %v", err)
	}
	srv.set(func(s *server) { s.hang = nil })
	close(hang)
	if err := <-errB; err != nil {
		t.Fatalf("the other caller lost the shared fetch: %v", err)
	}
	if n := srv.requests.Load(); n != 1 {
		t.Fatalf("%d requests, want 1", n)
	}
}

func TestBackoff(t *testing.T) {
	f := newFixture()
	srv := newServer(t, nil)
	srv.set(func(s *server) { s.status = 503 })
	r := f.remote(t, srv.URL, nil)
	ctx := context.Background()
	if _, err := r.Key(ctx, "A", "RS256"); !errors.Is(err, jwtverify.ErrKeysUnavailable) {
		t.Fatalf("first use with the endpoint down: %v", err)
	}
	// While backing off, lookups fail fast without requests.
	for i := 0; i < 100; i++ {
		if _, err := r.Key(ctx, "A", "RS256"); !errors.Is(err, jwtverify.ErrKeysUnavailable) {
			t.Fatal(err)
		}
	}
	if n := srv.requests.Load(); n != 1 {
		t.Fatalf("%d requests while backing off, want 1", n)
	}
	// Each failure at least doubles the wait (with jitter in [d/2, d]).
	var gaps []time.Duration
	for i := 0; i < 6; i++ {
		before := srv.requests.Load()
		var waited time.Duration
		for srv.requests.Load() == before {
			f.clock.Add(100 * time.Millisecond)
			waited += 100 * time.Millisecond
			r.Key(ctx, "A", "RS256")
			if waited > time.Hour {
				t.Fatal("no retry within an hour")
			}
		}
		gaps = append(gaps, waited)
	}
	for i := 1; i < len(gaps); i++ {
		lo := (time.Second << i) / 2
		if gaps[i] < lo-100*time.Millisecond || gaps[i] > (time.Second<<i)+100*time.Millisecond {
			t.Fatalf("retry gaps %v: gap %d outside [%v, %v]", gaps, i, lo, time.Second<<i)
		}
	}
	srv.set(func(s *server) { s.status = 200; s.body = jwks(t, map[string]*rsa.PrivateKey{"A": f.a}) })
	f.clock.Add(keyset.DefaultMinRefresh)
	if _, err := r.Key(ctx, "A", "RS256"); err != nil {
		t.Fatalf("after recovery: %v", err)
	}
}

func TestStrictResponses(t *testing.T) {
	f := newFixture()
	good := jwks(t, map[string]*rsa.PrivateKey{"A": f.a})
	weak, _ := mint.JWK(&testkeys.Load().RSA1024.PublicKey, "W", "")
	withWeak, _ := json.Marshal(map[string]any{"keys": []any{json.RawMessage(good[9 : len(good)-2]), weak}})
	for name, tt := range map[string]struct {
		status int
		body   []byte
		ok     bool
	}{
		"201":              {201, good, false},
		"204":              {204, nil, false},
		"private-key":      {200, []byte(`{"keys":[{"kty":"RSA","n":"AQAB","e":"AQAB","d":"AQAB","kid":"A"}]}`), false},
		"weak-key-skipped": {200, withWeak, true},
		"duplicate-member": {200, []byte(`{"keys":[],"keys":[]}`), false},
	} {
		t.Run(name, func(t *testing.T) {
			srv := newServer(t, tt.body)
			srv.set(func(s *server) { s.status = tt.status })
			var skipped int
			r := f.remote(t, srv.URL, func(c *keyset.RemoteConfig) {
				c.OnRefresh = func(ev keyset.RefreshEvent) { skipped = len(ev.Skipped) }
			})
			_, err := r.Key(context.Background(), "A", "RS256")
			if tt.ok != (err == nil) {
				t.Fatalf("Key = %v, want ok=%v", err, tt.ok)
			}
			if name == "weak-key-skipped" {
				if skipped != 1 {
					t.Fatalf("%d keys reported skipped, want 1", skipped)
				}
				if _, err := r.Key(context.Background(), "W", "RS256"); !errors.Is(err, jwtverify.ErrUnknownKey) {
					t.Fatalf("weak key usable: %v", err)
				}
			}
		})
	}
}

func TestRedirects(t *testing.T) {
	f := newFixture()
	target := newServer(t, jwks(t, map[string]*rsa.PrivateKey{"A": f.a}))
	same := httptest.NewServer(http.RedirectHandler(target.URL+"/jwks", http.StatusFound))
	defer same.Close()
	// 127.0.0.1 and localhost are different hosts to the redirect check.
	other := httptest.NewServer(http.RedirectHandler(strings.Replace(target.URL, "127.0.0.1", "localhost", 1)+"/jwks", http.StatusFound))
	defer other.Close()
	tlsTarget := httptest.NewTLSServer(target.Config.Handler)
	defer tlsTarget.Close()
	toTLS := httptest.NewServer(http.RedirectHandler(tlsTarget.URL+"/jwks", http.StatusFound))
	defer toTLS.Close()
	if _, err := f.remote(t, other.URL, nil).Key(context.Background(), "A", "RS256"); !errors.Is(err, jwtverify.ErrKeysUnavailable) {
		t.Fatalf("cross-host redirect followed: %v", err)
	}
	if _, err := f.remote(t, toTLS.URL, func(c *keyset.RemoteConfig) {
		c.AllowCrossHostRedirect, c.Client = true, tlsTarget.Client()
	}).Key(context.Background(), "A", "RS256"); err != nil {
		t.Fatalf("allowed cross-host redirect to https: %v", err)
	}
	// A redirect's Location is learned from a response: to another host
	// over http it is refused even when cross-host redirects are allowed.
	for _, insecure := range []bool{false, true} {
		if _, err := f.remote(t, other.URL, func(c *keyset.RemoteConfig) {
			c.AllowCrossHostRedirect, c.AllowInsecureHTTP = true, insecure
		}).Key(context.Background(), "A", "RS256"); !errors.Is(err, jwtverify.ErrKeysUnavailable) {
			t.Fatalf("cross-host redirect to http followed (AllowInsecureHTTP=%v): %v", insecure, err)
		}
	}
	// A redirect to another port of the same host name is another host too
	// (Host includes the port); the check compares host:port.
	if _, err := f.remote(t, same.URL, nil).Key(context.Background(), "A", "RS256"); !errors.Is(err, jwtverify.ErrKeysUnavailable) {
		t.Fatalf("redirect to another port followed: %v", err)
	}
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
		"too many keys":       {MaxKeys: keyset.MaxKeys + 1},
	} {
		if _, err := keyset.NewRemote("https://issuer.example/jwks", cfg); !errors.Is(err, jwtverify.ErrInvalidConfig) {
			t.Errorf("%s: %v", name, err)
		}
	}
}

func TestDiscover(t *testing.T) {
	f := newFixture()
	body := jwks(t, map[string]*rsa.PrivateKey{"A": f.a})
	var issuer string
	var disco *httptest.Server
	disco = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/tenant/.well-known/openid-configuration":
			json.NewEncoder(w).Encode(map[string]string{"issuer": issuer, "jwks_uri": disco.URL + "/tenant/jwks"})
		case "/tenant/jwks":
			w.Write(body)
		default:
			http.NotFound(w, r)
		}
	}))
	defer disco.Close()
	iss := disco.URL + "/tenant"

	issuer = iss
	r, err := keyset.Discover(context.Background(), iss, keyset.RemoteConfig{Now: f.clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	if r.URL() != iss+"/jwks" {
		t.Fatalf("jwks_uri %q", r.URL())
	}
	if _, err := r.Key(context.Background(), "A", "RS256"); err != nil {
		t.Fatal(err)
	}

	issuer = iss + "/"
	if _, err := keyset.Discover(context.Background(), iss, keyset.RemoteConfig{}); !errors.Is(err, jwtverify.ErrInvalidConfig) {
		t.Fatalf("mismatched issuer: %v", err)
	}
	if _, err := keyset.Discover(context.Background(), disco.URL+"/other", keyset.RemoteConfig{}); !errors.Is(err, jwtverify.ErrKeysUnavailable) {
		t.Fatalf("404: %v", err)
	}
	for _, bad := range []string{"http://issuer.example", iss + "?x=1", iss + "#frag", iss + "?"} {
		if _, err := keyset.Discover(context.Background(), bad, keyset.RemoteConfig{}); !errors.Is(err, jwtverify.ErrInvalidConfig) {
			t.Fatalf("issuer %s: %v", bad, err)
		}
	}
}

// TestNoGoroutineLeak: everything a Remote starts ends by Close.
func TestNoGoroutineLeak(t *testing.T) {
	f := newFixture()
	srv := newServer(t, jwks(t, map[string]*rsa.PrivateKey{"A": f.a}))
	hang := make(chan struct{})
	defer close(hang)
	before := runtime.NumGoroutine()
	for i := 0; i < 20; i++ {
		r, err := keyset.NewRemote(srv.URL, keyset.RemoteConfig{Now: f.clock.Now})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := r.Key(context.Background(), "A", "RS256"); err != nil {
			t.Fatal(err)
		}
		// Leave a refresh hanging in flight, then Close.
		srv.set(func(s *server) { s.hang = hang; s.entered = make(chan struct{}, 1) })
		f.clock.Add(keyset.DefaultMinRefresh)
		r.Key(context.Background(), "A", "RS256")
		<-srv.entered // the request is in flight
		r.Close()
		srv.set(func(s *server) { s.hang = nil })
	}
	srv.CloseClientConnections()
	deadline := time.Now().Add(10 * time.Second)
	for runtime.NumGoroutine() > before+2 {
		if time.Now().After(deadline) {
			buf := make([]byte, 1<<16)
			t.Fatalf("%d goroutines before, %d after Close:\n%s", before, runtime.NumGoroutine(), buf[:runtime.Stack(buf, true)])
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestParsedKeyCache(t *testing.T) {
	f := newFixture()
	shared, err := cache.NewKeys(16)
	if err != nil {
		t.Fatal(err)
	}
	srv := newServer(t, jwks(t, map[string]*rsa.PrivateKey{"A": f.a, "B": f.b}))
	r := f.remote(t, srv.URL, func(c *keyset.RemoteConfig) { c.Cache = shared })
	ctx := context.Background()
	a1, err := r.Key(ctx, "A", "RS256")
	if err != nil {
		t.Fatal(err)
	}
	if err := r.Refresh(ctx); err != nil {
		t.Fatal(err)
	}
	a2, _ := r.Key(ctx, "A", "RS256")
	if a1 != a2 {
		t.Fatal("a refresh returning the same key parsed it again")
	}
	if shared.Len() != 2 {
		t.Fatalf("cache holds %d keys, want 2", shared.Len())
	}
	// Retiring B: it stays in the cache but is no longer usable.
	srv.set(func(s *server) { s.body = jwks(t, map[string]*rsa.PrivateKey{"A": f.a}) })
	if err := r.Refresh(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := r.Key(ctx, "B", "RS256"); !errors.Is(err, jwtverify.ErrUnknownKey) {
		t.Fatalf("retired key usable through the cache: %v", err)
	}
	// A second key set shares the cache: same key material and kid, same parsed key.
	r2 := f.remote(t, srv.URL, func(c *keyset.RemoteConfig) { c.Cache = shared })
	a3, err := r2.Key(ctx, "A", "RS256")
	if err != nil || a3 != a1 {
		t.Fatalf("second key set did not reuse the parsed key: %v", err)
	}
	// The same material under another kid is another key.
	srv.set(func(s *server) { s.body = jwks(t, map[string]*rsa.PrivateKey{"C": f.a}) })
	if err := r2.Refresh(ctx); err != nil {
		t.Fatal(err)
	}
	c, err := r2.Key(ctx, "C", "RS256")
	if err != nil || c == a1 || c.ID() != "C" {
		t.Fatalf("kid C: %v, %v", c.ID(), err)
	}
}

func TestLoggerNeverLogsTokens(t *testing.T) {
	f := newFixture()
	srv := newServer(t, jwks(t, map[string]*rsa.PrivateKey{"A": f.a}))
	var buf bytes.Buffer
	var mu sync.Mutex
	logger := slog.New(slog.NewJSONHandler(lockedWriter{&buf, &mu}, &slog.HandlerOptions{Level: slog.LevelDebug}))
	r := f.remote(t, srv.URL, func(c *keyset.RemoteConfig) { c.Logger = logger })
	v := f.verifier(t, r)
	good := f.token(t, "A", f.a, nil)
	junk := f.token(t, "junk-kid-"+strings.Repeat("x", 10), f.a, nil)
	for _, tok := range []string{good, junk, junk} {
		v.Verify(context.Background(), tok)
	}
	srv.set(func(s *server) { s.status = 500 })
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

type lockedWriter struct {
	b  *bytes.Buffer
	mu *sync.Mutex
}

func (w lockedWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.b.Write(p)
}

// A token with a newly published kid that joins a request begun before the
// key was published must not be negative-cached: it tries once more.
func TestNewKidJoiningAnOlderRequest(t *testing.T) {
	f := newFixture()
	srv := newServer(t, jwks(t, map[string]*rsa.PrivateKey{"A": f.a}))
	r := f.remote(t, srv.URL, nil)
	v := f.verifier(t, r)
	ctx := context.Background()
	if _, err := v.Verify(ctx, f.token(t, "A", f.a, nil)); err != nil {
		t.Fatal(err)
	}
	hang := make(chan struct{})
	srv.set(func(s *server) { s.hang = hang; s.entered = make(chan struct{}, 10) })
	f.clock.Add(keyset.DefaultMinRefresh) // due: a scheduled request starts and hangs
	v.Verify(ctx, f.token(t, "A", f.a, nil))
	<-srv.entered
	srv.set(func(s *server) { s.body = jwks(t, map[string]*rsa.PrivateKey{"A": f.a, "B": f.b}); s.hang = nil })
	done := make(chan error)
	go func() { _, err := v.Verify(ctx, f.token(t, "B", f.b, nil)); done <- err }()
	// Whether B joins the hanging request or arrives after it, it must end
	// with B verified and exactly one more request.
	time.Sleep(20 * time.Millisecond)
	close(hang) // the old request answers with the old set
	if err := <-done; err != nil {
		t.Fatalf("new kid after joining an older request: %v", err)
	}
	if n := srv.requests.Load(); n != 3 {
		t.Fatalf("%d requests, want 3 (initial, scheduled, one for the new kid)", n)
	}
}

func TestFirstTokenWithUnknownKidMakesOneRequest(t *testing.T) {
	f := newFixture()
	srv := newServer(t, jwks(t, map[string]*rsa.PrivateKey{"A": f.a}))
	r := f.remote(t, srv.URL, nil)
	v := f.verifier(t, r)
	if _, err := v.Verify(context.Background(), f.token(t, "B", f.b, nil)); !errors.Is(err, jwtverify.ErrUnknownKey) {
		t.Fatal(err)
	}
	if n := srv.requests.Load(); n != 1 {
		t.Fatalf("%d requests, want 1: the initial fetch already answered for this token", n)
	}
}

// Manual refreshes always make or join a real request, even during a flood
// of random kids.
func TestManualRefreshDuringFlood(t *testing.T) {
	f := newFixture()
	srv := newServer(t, jwks(t, map[string]*rsa.PrivateKey{"A": f.a}))
	r := f.remote(t, srv.URL, nil)
	ctx := context.Background()
	r.Key(ctx, "A", "RS256")
	r.RefreshKey(ctx, "junk0", "RS256") // spends the budget
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
				r.RefreshKey(ctx, fmt.Sprint("j", g, "-", i), "RS256")
			}
		}(g)
	}
	for i := 0; i < 200; i++ {
		if err := r.Refresh(ctx); err != nil {
			t.Errorf("Refresh %d during a flood: %v", i, err)
			break
		}
	}
	close(stop)
	wg.Wait()
}

func TestRateLimitedLookupIsCheap(t *testing.T) {
	f := newFixture()
	srv := newServer(t, jwks(t, map[string]*rsa.PrivateKey{"A": f.a}))
	r := f.remote(t, srv.URL, nil)
	ctx := context.Background()
	r.Key(ctx, "A", "RS256")
	r.RefreshKey(ctx, "junk0", "RS256")
	before := runtime.NumGoroutine()
	allocs := testing.AllocsPerRun(1000, func() { r.RefreshKey(ctx, "junk", "RS256") })
	if allocs > 0 || runtime.NumGoroutine() > before {
		t.Fatalf("a rate-limited unknown kid costs %v allocations and starts goroutines", allocs)
	}
}

func TestLookupAfterCloseStartsNothing(t *testing.T) {
	f := newFixture()
	srv := newServer(t, jwks(t, map[string]*rsa.PrivateKey{"A": f.a}))
	r := f.remote(t, srv.URL, nil)
	ctx := context.Background()
	r.Key(ctx, "A", "RS256")
	r.Close()
	f.clock.Add(keyset.DefaultMinRefresh) // due
	allocs := testing.AllocsPerRun(1000, func() {
		if _, err := r.Key(ctx, "A", "RS256"); err != nil {
			t.Fatal(err)
		}
	})
	if allocs > 0 || srv.requests.Load() != 1 {
		t.Fatalf("after Close a due lookup allocates %v times; %d requests", allocs, srv.requests.Load())
	}
}

func TestAge(t *testing.T) {
	f := newFixture()
	srv := newServer(t, jwks(t, map[string]*rsa.PrivateKey{"A": f.a}))
	r := f.remote(t, srv.URL, nil)
	if _, ok := r.Age(); ok {
		t.Fatal("age before the first fetch")
	}
	r.Key(context.Background(), "A", "RS256")
	f.clock.Add(time.Minute)
	if age, ok := r.Age(); !ok || age != time.Minute {
		t.Fatalf("Age = %v, %v", age, ok)
	}
}

// withSecrets returns srvURL+path with a user name, a password and an API
// key in its query, as an operator might configure a protected endpoint.
func withSecrets(srvURL, path string) string {
	return strings.Replace(srvURL, "://", "://user:pass@", 1) + path + "?api_key=s3cret"
}

// checkNoSecrets fails if any text holds a part of withSecrets' URL that is
// a secret.
func checkNoSecrets(t *testing.T, texts []string) {
	t.Helper()
	for _, s := range texts {
		for _, secret := range []string{"pass", "s3cret", "api_key", "user"} {
			if strings.Contains(s, secret) {
				t.Errorf("%q shows %q", s, secret)
				break
			}
		}
	}
}

// TestURLSecretsNeverShown: the userinfo and query of a JWKS URL reach the
// endpoint but no log line, event, error or accessor, whatever fails.
func TestURLSecretsNeverShown(t *testing.T) {
	f := newFixture()
	srv := newServer(t, jwks(t, map[string]*rsa.PrivateKey{"A": f.a}))
	var gotQuery, gotUser, gotPass string
	srv.Config.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		srv.mu.Lock()
		gotQuery = r.URL.RawQuery
		gotUser, gotPass, _ = r.BasicAuth()
		srv.mu.Unlock()
		srv.serve(w, r)
	})
	rawURL := withSecrets(srv.URL, "/jwks")
	var mu sync.Mutex
	var texts []string
	keep := func(s string) { mu.Lock(); texts = append(texts, s); mu.Unlock() }
	var logBuf bytes.Buffer
	var refreshes, misses int
	r := f.remote(t, rawURL, func(c *keyset.RemoteConfig) {
		c.Logger = slog.New(slog.NewTextHandler(lockedWriter{&logBuf, &mu}, &slog.HandlerOptions{Level: slog.LevelDebug}))
		c.OnRefresh = func(ev keyset.RefreshEvent) {
			keep(fmt.Sprintf("%+v", ev))
			if ev.Err != nil {
				keep(ev.Err.Error())
			}
			mu.Lock()
			refreshes++
			mu.Unlock()
		}
		c.OnMiss = func(ev keyset.MissEvent) { keep(fmt.Sprintf("%+v", ev)); mu.Lock(); misses++; mu.Unlock() }
	})
	v := f.verifier(t, r)
	ctx := context.Background()
	good := f.token(t, "A", f.a, nil)
	verify := func(tok string) error {
		_, err := v.Verify(ctx, tok)
		if err != nil {
			keep(err.Error())
		}
		return err
	}
	refresh := func() error {
		err := r.Refresh(ctx)
		if err != nil {
			keep(err.Error())
		}
		return err
	}

	srv.set(func(s *server) { s.status = 500 })
	if err := verify(good); !errors.Is(err, jwtverify.ErrKeysUnavailable) {
		t.Fatalf("first fetch answered 500: %v", err)
	}
	srv.set(func(s *server) { s.status = 200 })
	if err := refresh(); err != nil {
		t.Fatal(err)
	}
	if err := verify(good); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	if gotQuery != "api_key=s3cret" || gotUser != "user" || gotPass != "pass" {
		t.Errorf("the endpoint got query %q and user %q:%q; the configured URL must be used as given", gotQuery, gotUser, gotPass)
	}
	mu.Unlock()
	unknown := f.token(t, "B", f.b, nil)
	verify(unknown) // refreshes: B is absent
	verify(unknown) // negative cache
	srv.set(func(s *server) { s.body = []byte("<html>oops</html>") })
	if err := refresh(); err == nil {
		t.Fatal("bad body accepted")
	}
	srv.Close() // unreachable from now on
	if err := refresh(); err == nil {
		t.Fatal("unreachable endpoint: no error")
	}
	f.clock.Add(keyset.DefaultMaxStale + time.Hour)
	if err := verify(good); !errors.Is(err, jwtverify.ErrKeysUnavailable) {
		t.Fatalf("past MaxStale: %v", err)
	}
	keep(r.URL())
	if want := srv.URL + "/jwks"; r.URL() != want {
		t.Errorf("URL() = %q, want %q", r.URL(), want)
	}

	// Configuration errors quote the URL without its secrets too.
	for _, bad := range []string{
		withSecrets("http://issuer.example", "/jwks"), // plain http, not loopback
		withSecrets("ftp://issuer.example", "/jwks"),
		withSecrets("https://issuer.example", "/%zz"),
		"user:pass@issuer.example/jwks?api_key=s3cret", // no scheme
	} {
		_, err := keyset.NewRemote(bad, keyset.RemoteConfig{})
		if !errors.Is(err, jwtverify.ErrInvalidConfig) {
			t.Errorf("NewRemote(%q) = %v", bad, err)
			continue
		}
		keep(err.Error())
	}

	mu.Lock()
	defer mu.Unlock()
	texts = append(texts, logBuf.String())
	if refreshes < 5 || misses < 2 || !strings.Contains(logBuf.String(), "jwks refresh failed") {
		t.Fatalf("%d refresh events, %d miss events; log:\n%s", refreshes, misses, logBuf.String())
	}
	if !strings.Contains(logBuf.String(), "url="+r.URL()) {
		t.Errorf("log lines do not name the redacted URL %s:\n%s", r.URL(), logBuf.String())
	}
	checkNoSecrets(t, texts)
}

// TestDiscoverSecretsNeverShown: errors of Discover do not show the
// userinfo or query of the issuer URL, nor of a URL a document names.
func TestDiscoverSecretsNeverShown(t *testing.T) {
	var docIssuer string
	disco := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/tenant/.well-known/openid-configuration" {
			http.Error(w, "nope", http.StatusInternalServerError)
			return
		}
		json.NewEncoder(w).Encode(map[string]string{"issuer": docIssuer, "jwks_uri": withSecrets("http://issuer.example", "/jwks")})
	}))
	defer disco.Close()
	down := httptest.NewServer(http.NotFoundHandler())
	down.Close()
	var texts []string
	for name, issuer := range map[string]string{
		"500":              strings.Replace(disco.URL, "://", "://user:pass@", 1) + "/other",
		"unreachable":      strings.Replace(down.URL, "://", "://user:pass@", 1) + "/tenant",
		"issuer has query": withSecrets(disco.URL, "/tenant"),
		"not a URL":        withSecrets("https://issuer.example", "/%zz"),
		"another issuer":   disco.URL + "/tenant",
		"http jwks_uri":    "http://" + strings.TrimPrefix(disco.URL, "http://") + "/tenant",
	} {
		docIssuer = withSecrets("https://issuer.example", "/tenant")
		if name == "http jwks_uri" {
			docIssuer = issuer
		}
		_, err := keyset.Discover(context.Background(), issuer, keyset.RemoteConfig{})
		if err == nil {
			t.Errorf("%s: no error", name)
			continue
		}
		t.Logf("%s: %v", name, err)
		texts = append(texts, err.Error())
	}
	checkNoSecrets(t, texts)
}

// TestBadRedirectLocationNotShown: net/http quotes a Location header that
// does not parse in its error; neither Remote nor Discover may pass that
// server-chosen text (secrets, or megabytes) on.
func TestBadRedirectLocationNotShown(t *testing.T) {
	filler := strings.Repeat("x", 64<<10)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Location", "http://user:pass@"+r.Host+"/%zz?api_key=s3cret&"+filler)
		w.WriteHeader(http.StatusFound)
	}))
	defer srv.Close()
	var texts []string
	r, err := keyset.NewRemote(srv.URL+"/jwks", keyset.RemoteConfig{
		OnRefresh: func(ev keyset.RefreshEvent) {
			if ev.Err != nil {
				texts = append(texts, ev.Err.Error())
			}
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	if err := r.Refresh(context.Background()); err == nil {
		t.Fatal("Refresh followed a redirect to a Location that does not parse")
	} else {
		texts = append(texts, err.Error())
	}
	if _, err := keyset.Discover(context.Background(), srv.URL, keyset.RemoteConfig{}); err == nil {
		t.Fatal("Discover followed a redirect to a Location that does not parse")
	} else {
		texts = append(texts, err.Error())
	}
	if len(texts) != 3 {
		t.Fatalf("got %d error texts, want 3 (Refresh, its event, Discover): %q", len(texts), texts)
	}
	for _, text := range texts {
		if len(text) > 512 || strings.Contains(text, "xxxx") {
			t.Errorf("error text carries the server's Location (%d bytes)", len(text))
		}
	}
	checkNoSecrets(t, texts)
}

// TestLearnedURLsMustBeHTTPS: a jwks_uri taken from a discovery document
// must be https, whatever AllowInsecureHTTP says; http is accepted only on
// the very origin (scheme, host, port) of the issuer URL the operator gave.
// A refused URL is never requested.
func TestLearnedURLsMustBeHTTPS(t *testing.T) {
	f := newFixture()
	body := jwks(t, map[string]*rsa.PrivateKey{"A": f.a})
	var loopbackHits atomic.Int32
	loopback := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		loopbackHits.Add(1)
		w.Write(body)
	}))
	defer loopback.Close()
	var jwksURI atomic.Value
	var srv *httptest.Server
	handler := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/.well-known/openid-configuration":
			json.NewEncoder(w).Encode(map[string]string{"issuer": srv.URL, "jwks_uri": jwksURI.Load().(string)})
		case "/jwks":
			w.Write(body)
		default:
			http.NotFound(w, r)
		}
	})
	tlsSrv := httptest.NewTLSServer(handler)
	defer tlsSrv.Close()
	plainSrv := httptest.NewServer(handler)
	defer plainSrv.Close()

	for _, tt := range []struct {
		name     string
		issuer   *httptest.Server
		jwksURI  string
		insecure bool
		ok       bool
	}{
		{"https issuer, https jwks_uri", tlsSrv, tlsSrv.URL + "/jwks", false, true},
		{"https issuer, http loopback jwks_uri", tlsSrv, loopback.URL + "/jwks", false, false},
		{"https issuer, http loopback jwks_uri, AllowInsecureHTTP", tlsSrv, loopback.URL + "/jwks", true, false},
		{"https issuer, http jwks_uri on its own host and port", tlsSrv, strings.Replace(tlsSrv.URL, "https:", "http:", 1) + "/jwks", true, false},
		{"https issuer, http metadata address, AllowInsecureHTTP", tlsSrv, "http://169.254.169.254/latest/meta-data", true, false},
		{"http loopback issuer, same-origin http jwks_uri", plainSrv, plainSrv.URL + "/jwks", false, true},
		{"http loopback issuer, http jwks_uri on another port", plainSrv, loopback.URL + "/jwks", false, false},
		{"http loopback issuer, http jwks_uri on another port, AllowInsecureHTTP", plainSrv, loopback.URL + "/jwks", true, false},
		{"http loopback issuer, https jwks_uri", plainSrv, tlsSrv.URL + "/jwks", false, true},
		{"relative jwks_uri", tlsSrv, "/jwks", false, false},
		{"jwks_uri of another scheme", tlsSrv, "file:///etc/passwd", false, false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			srv = tt.issuer
			jwksURI.Store(tt.jwksURI)
			before := loopbackHits.Load()
			cfg := keyset.RemoteConfig{Now: f.clock.Now, Client: tlsSrv.Client(), AllowInsecureHTTP: tt.insecure}
			r, err := keyset.Discover(context.Background(), tt.issuer.URL, cfg)
			if !tt.ok {
				if !errors.Is(err, jwtverify.ErrInvalidConfig) {
					t.Fatalf("Discover = %v, want invalid configuration", err)
				}
				if loopbackHits.Load() != before {
					t.Fatal("the refused jwks_uri was requested")
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			defer r.Close()
			if _, err := r.Key(context.Background(), "A", "RS256"); err != nil {
				t.Fatal(err)
			}
		})
	}
}
