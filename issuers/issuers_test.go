package issuers_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
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
	"github.com/jwtverify/jwtverify/internal/mint"
	"github.com/jwtverify/jwtverify/internal/testkeys"
	"github.com/jwtverify/jwtverify/issuers"
	"github.com/jwtverify/jwtverify/keyset"
)

var now = time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC)

func verifierFor(t testing.TB, iss string, keys jwtverify.KeySource) jwtverify.Verifier {
	t.Helper()
	v, err := golangjwt.New(jwtverify.Config{
		Keys: keys, Issuers: []string{iss}, Audiences: []string{"api"}, Now: func() time.Time { return now },
	})
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func sign(t testing.TB, alg string, key any, kid, iss string) string {
	t.Helper()
	tok, err := mint.Token(alg, key, map[string]any{"kid": kid}, map[string]any{"iss": iss, "aud": "api", "exp": now.Add(time.Hour).Unix()})
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

func TestRouter(t *testing.T) {
	ks := testkeys.Load()
	ka, _ := jwtverify.NewPublicKey("a", "", &ks.RSA1.PublicKey)
	sa, _ := keyset.NewStatic(ka)
	// Issuer B's keys come from a JWKS endpoint that counts requests.
	var requests atomic.Int32
	jwk, _ := mint.JWK(&ks.P256.PublicKey, "b", "")
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		requests.Add(1)
		fmt.Fprintf(w, `{"keys":[%s]}`, mustJSON(jwk))
	}))
	defer srv.Close()
	rb, err := keyset.NewRemote(srv.URL, keyset.RemoteConfig{Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	defer rb.Close()
	r, err := issuers.NewRouter(map[string]jwtverify.Verifier{
		"https://a.example": verifierFor(t, "https://a.example", sa),
		"https://b.example": verifierFor(t, "https://b.example", rb),
	}, 0)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	for name, tt := range map[string]struct {
		token string
		want  error
	}{
		"a valid":                    {sign(t, "RS256", ks.RSA1, "a", "https://a.example"), nil},
		"b valid":                    {sign(t, "ES256", ks.P256, "b", "https://b.example"), nil},
		"a's key, b's iss":           {sign(t, "RS256", ks.RSA1, "a", "https://b.example"), jwtverify.ErrUnknownKey},
		"b's key, a's iss":           {sign(t, "ES256", ks.P256, "b", "https://a.example"), jwtverify.ErrAlgorithm}, // a has no EC key
		"unknown issuer":             {sign(t, "RS256", ks.RSA1, "a", "https://evil.example"), jwtverify.ErrIssuer},
		"issuer with trailing slash": {sign(t, "RS256", ks.RSA1, "a", "https://a.example/"), jwtverify.ErrIssuer},
		"no iss":                     {"eyJhbGciOiJSUzI1NiJ9.e30.AAAA", jwtverify.ErrMissingClaim},
		"iss not a string":           {"eyJhbGciOiJSUzI1NiJ9.eyJpc3MiOjF9.AAAA", jwtverify.ErrMalformed},
		"payload not base64url":      {"eyJhbGciOiJSUzI1NiJ9.e30=.AAAA", jwtverify.ErrMalformed},
		"duplicate iss":              {"e30." + b64(`{"iss":"https://evil.example","iss":"https://a.example"}`) + ".AAAA", jwtverify.ErrMalformed},
		"JWE":                        {"a.b.c.d.e", jwtverify.ErrUnsupported},
		"two segments":               {"a.b", jwtverify.ErrMalformed},
		"too large":                  {strings.Repeat("a", 17<<10), jwtverify.ErrTooLarge},
	} {
		before := requests.Load()
		_, err := r.Verify(ctx, tt.token)
		if !errors.Is(err, tt.want) || (tt.want != nil && jwtverify.Class(err) != tt.want.Error()) {
			t.Errorf("%s: %v, want %v", name, err, tt.want)
		}
		if tt.want == jwtverify.ErrIssuer && requests.Load() != before {
			t.Errorf("%s: an unknown issuer caused a fetch", name)
		}
		if err != nil && strings.Contains(err.Error(), "evil") {
			t.Errorf("%s: error echoes the token's iss: %v", name, err)
		}
	}
	if _, err := issuers.NewRouter(nil, 0); !errors.Is(err, jwtverify.ErrInvalidConfig) {
		t.Fatal(err)
	}
}

func b64(s string) string { return base64.RawURLEncoding.EncodeToString([]byte(s)) }

func mustJSON(m map[string]any) string {
	b, err := json.Marshal(m)
	if err != nil {
		panic(err)
	}
	return string(b)
}

// tenantIssuer is the issuer of tenant i.
func tenantIssuer(i int) string { return fmt.Sprintf("https://login.example/t%d", i) }

func allow(iss string) bool {
	rest, ok := strings.CutPrefix(iss, "https://login.example/t")
	if !ok || rest == "" || len(rest) > 8 {
		return false
	}
	for _, c := range rest {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

// closer is a verifier that counts its Close calls.
type closer struct {
	jwtverify.Verifier
	closed *atomic.Int32
}

func (c closer) Close() error { c.closed.Add(1); return nil }

func TestTenantsBoundedAt100000Issuers(t *testing.T) {
	secret := testkeys.Load().HMAC
	key, _ := jwtverify.NewSecretKey("", "", secret)
	static, _ := keyset.NewStatic(key)
	var builds, closed atomic.Int32
	const size = 1000
	tn, err := issuers.NewTenants(issuers.TenantsConfig{
		Allow: allow,
		New: func(_ context.Context, iss string) (jwtverify.Verifier, error) {
			builds.Add(1)
			return closer{verifierFor(t, iss, static), &closed}, nil
		},
		Size:            size,
		BuildsPerSecond: 1e9,
	})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	const issuers = 100000
	for i := 0; i < issuers; i++ {
		tok := sign(t, "HS256", secret, "", tenantIssuer(i))
		if _, err := tn.Verify(ctx, tok); err != nil {
			t.Fatalf("tenant %d: %v", i, err)
		}
	}
	runtime.GC()
	runtime.ReadMemStats(&after)
	if tn.Len() != size {
		t.Fatalf("%d tenants held, want %d", tn.Len(), size)
	}
	growth := int64(after.HeapAlloc) - int64(before.HeapAlloc)
	t.Logf("heap growth after %d issuers with %d held: %d KiB", issuers, size, growth>>10)
	if growth > 32<<20 {
		t.Fatalf("heap grew by %d MiB for %d issuers; the LRU should bound it", growth>>20, issuers)
	}
	if builds.Load() != issuers {
		t.Fatalf("%d builds, want %d", builds.Load(), issuers)
	}
	if err := tn.Close(); err != nil {
		t.Fatal(err)
	}
	if got := closed.Load(); got != issuers {
		t.Fatalf("%d verifiers closed, want %d (evicted and at Close)", got, issuers)
	}
}

func TestTenantsCoalesceAndGate(t *testing.T) {
	secret := testkeys.Load().HMAC
	key, _ := jwtverify.NewSecretKey("", "", secret)
	static, _ := keyset.NewStatic(key)
	var builds atomic.Int32
	release := make(chan struct{})
	fail := atomic.Bool{}
	clock := now
	var mu sync.Mutex
	tn, err := issuers.NewTenants(issuers.TenantsConfig{
		Allow: allow,
		New: func(ctx context.Context, iss string) (jwtverify.Verifier, error) {
			builds.Add(1)
			<-release
			if fail.Load() {
				return nil, errors.New("discovery failed")
			}
			return verifierFor(t, iss, static), nil
		},
		Now: func() time.Time { mu.Lock(); defer mu.Unlock(); return clock },
	})
	if err != nil {
		t.Fatal(err)
	}
	defer tn.Close()
	tok := sign(t, "HS256", secret, "", tenantIssuer(7))

	// One caller gives up; the others still get the shared build.
	cctx, cancel := context.WithCancel(context.Background())
	gaveUp := make(chan error, 1)
	go func() { _, err := tn.Verify(cctx, tok); gaveUp <- err }()
	for builds.Load() == 0 {
		time.Sleep(time.Millisecond)
	}
	var wg sync.WaitGroup
	errs := make(chan error, 100)
	for i := 0; i < 100; i++ {
		wg.Add(1)
		go func() { defer wg.Done(); _, err := tn.Verify(context.Background(), tok); errs <- err }()
	}
	cancel()
	if err := <-gaveUp; !errors.Is(err, jwtverify.ErrKeysUnavailable) {
		t.Fatalf("cancelled caller: %v", err)
	}
	close(release)
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	if builds.Load() != 1 {
		t.Fatalf("%d builds for one issuer, want 1", builds.Load())
	}

	// Issuers that Allow refuses cost no build.
	for _, iss := range []string{"https://login.example/tx", "https://evil.example/t1", "https://login.example/t123456789"} {
		if _, err := tn.Verify(context.Background(), sign(t, "HS256", secret, "", iss)); !errors.Is(err, jwtverify.ErrIssuer) {
			t.Fatalf("%s: %v", iss, err)
		}
	}
	if builds.Load() != 1 {
		t.Fatalf("refused issuers were built")
	}

	// A failed build is remembered for FailureTTL.
	fail.Store(true)
	bad := sign(t, "HS256", secret, "", tenantIssuer(8))
	for i := 0; i < 10; i++ {
		if _, err := tn.Verify(context.Background(), bad); !errors.Is(err, jwtverify.ErrKeysUnavailable) {
			t.Fatal(err)
		}
	}
	if builds.Load() != 2 {
		t.Fatalf("%d builds, want 2: a failure must not be retried at once", builds.Load())
	}
	fail.Store(false)
	mu.Lock()
	clock = clock.Add(issuers.DefaultFailureTTL)
	mu.Unlock()
	if _, err := tn.Verify(context.Background(), bad); err != nil {
		t.Fatalf("after FailureTTL: %v", err)
	}
}

// An evicted tenant whose verifier an in-flight Verify still uses is closed
// only when that Verify ends.
func TestEvictionWaitsForVerify(t *testing.T) {
	ks := testkeys.Load()
	jwk, _ := mint.JWK(&ks.P256.PublicKey, "k", "")
	release := make(chan struct{})
	entered := make(chan struct{}, 10)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		entered <- struct{}{}
		select {
		case <-release:
		case <-r.Context().Done():
			return
		}
		fmt.Fprintf(w, `{"keys":[%s]}`, mustJSON(jwk))
	}))
	defer srv.Close()
	tn, err := issuers.NewTenants(issuers.TenantsConfig{
		Allow: allow, Size: 1,
		New: func(ctx context.Context, iss string) (jwtverify.Verifier, error) {
			r, err := keyset.NewRemote(srv.URL, keyset.RemoteConfig{Now: func() time.Time { return now }})
			if err != nil {
				return nil, err
			}
			return remoteVerifier{verifierFor(t, iss, r), r}, nil
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	defer tn.Close()
	errc := make(chan error, 1)
	go func() {
		_, err := tn.Verify(context.Background(), sign(t, "ES256", ks.P256, "k", tenantIssuer(1)))
		errc <- err
	}()
	<-entered // tenant 1's first fetch is in flight
	done2 := make(chan struct{})
	go func() { tn.Verify(context.Background(), sign(t, "ES256", ks.P256, "k", tenantIssuer(2))); close(done2) }() // evicts tenant 1
	<-entered
	close(release)
	if err := <-errc; err != nil {
		t.Fatalf("Verify of an evicted tenant in flight: %v", err)
	}
	<-done2
}

type remoteVerifier struct {
	jwtverify.Verifier
	r *keyset.Remote
}

func (c remoteVerifier) Close() error { return c.r.Close() }

// Failing issuers are remembered apart and never evict working ones; builds
// are rate limited.
func TestFailuresDoNotEvictAndBuildsAreLimited(t *testing.T) {
	secret := testkeys.Load().HMAC
	key, _ := jwtverify.NewSecretKey("", "", secret)
	static, _ := keyset.NewStatic(key)
	var builds atomic.Int32
	clock := now
	tn, err := issuers.NewTenants(issuers.TenantsConfig{
		Allow: allow, Size: 10, BuildsPerSecond: 5,
		Now: func() time.Time { return clock },
		New: func(_ context.Context, iss string) (jwtverify.Verifier, error) {
			builds.Add(1)
			if iss == tenantIssuer(1) {
				return verifierFor(t, iss, static), nil
			}
			return nil, errors.New("no such tenant")
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	defer tn.Close()
	ctx := context.Background()
	good := sign(t, "HS256", secret, "", tenantIssuer(1))
	if _, err := tn.Verify(ctx, good); err != nil {
		t.Fatal(err)
	}
	for i := 100; i < 120; i++ { // 20 allowed names that do not exist
		if _, err := tn.Verify(ctx, sign(t, "HS256", secret, "", tenantIssuer(i))); !errors.Is(err, jwtverify.ErrKeysUnavailable) {
			t.Fatal(err)
		}
	}
	if n := builds.Load(); n != 5 {
		t.Fatalf("%d builds within one second, want 5 (the bucket)", n)
	}
	if _, err := tn.Verify(ctx, good); err != nil || builds.Load() != 5 {
		t.Fatalf("the working tenant was evicted or rebuilt: %v, %d builds", err, builds.Load())
	}
	clock = clock.Add(time.Second) // the bucket refills
	if _, err := tn.Verify(ctx, sign(t, "HS256", secret, "", tenantIssuer(200))); !errors.Is(err, jwtverify.ErrKeysUnavailable) || builds.Load() != 6 {
		t.Fatalf("after refill: %v, %d builds", err, builds.Load())
	}
}

// A build that ends after Close is closed, not kept.
func TestBuildEndingAfterClose(t *testing.T) {
	secret := testkeys.Load().HMAC
	key, _ := jwtverify.NewSecretKey("", "", secret)
	static, _ := keyset.NewStatic(key)
	var closed atomic.Int32
	started, proceed := make(chan struct{}), make(chan struct{})
	tn, err := issuers.NewTenants(issuers.TenantsConfig{
		Allow: allow,
		New: func(ctx context.Context, iss string) (jwtverify.Verifier, error) {
			close(started)
			<-proceed
			return closer{verifierFor(t, iss, static), &closed}, nil
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() { tn.Verify(context.Background(), sign(t, "HS256", secret, "", tenantIssuer(1))); close(done) }()
	<-started
	closeDone := make(chan struct{})
	go func() { tn.Close(); close(closeDone) }()
	time.Sleep(10 * time.Millisecond) // Close has marked the Tenants closed
	close(proceed)
	<-done
	<-closeDone
	if tn.Len() != 0 || closed.Load() != 1 {
		t.Fatalf("after Close: %d held, %d closed", tn.Len(), closed.Load())
	}
}
