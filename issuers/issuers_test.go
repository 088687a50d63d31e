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
	"testing/synctest"
	"time"
	"unicode/utf8"

	"github.com/jwtverify/jwtverify"
	"github.com/jwtverify/jwtverify/backends/golangjwt"
	"github.com/jwtverify/jwtverify/internal/mint"
	"github.com/jwtverify/jwtverify/internal/testkeys"
	"github.com/jwtverify/jwtverify/issuers"
	"github.com/jwtverify/jwtverify/keyset"
)

var now = time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC)

func verifierFor(t testing.TB, iss string, keys jwtverify.KeySource) issuers.Verifier {
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
	rb, err := keyset.NewRemote(srv.URL, keyset.RemoteConfig{})
	if err != nil {
		t.Fatal(err)
	}
	defer rb.Close()
	r, err := issuers.NewRouter(map[string]issuers.Verifier{
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
	if _, err := issuers.NewRouter(map[string]issuers.Verifier{"https://a.example": r}, -1); !errors.Is(err, jwtverify.ErrInvalidConfig) {
		t.Fatalf("NewRouter with a negative maxTokenBytes: %v, want ErrInvalidConfig", err)
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

// counting returns a release that counts its calls in n.
func counting(n *atomic.Int32) func() { return func() { n.Add(1) } }

// TestTenantsReleases: the release New returns is called exactly once for
// each evicted verifier and each held at Close; a nil release is allowed;
// the release of a failed New is not called (New frees what it made), and
// that of a New that returned no verifier and no error is.
func TestTenantsReleases(t *testing.T) {
	secret := testkeys.Load().HMAC
	key, _ := jwtverify.NewSecretKey("", "", secret)
	static, _ := keyset.NewStatic(key)
	var released [7]atomic.Int32 // by tenant number
	tn, err := issuers.NewTenants(issuers.TenantsConfig{
		Allow: allow, Size: 2, BuildsPerSecond: 1e9,
		New: func(_ context.Context, iss string) (issuers.Verifier, func(), error) {
			var i int
			fmt.Sscanf(iss[strings.LastIndex(iss, "/t")+2:], "%d", &i)
			switch i {
			case 1, 3:
				return verifierFor(t, iss, static), nil, nil // nothing to free
			case 5:
				return nil, counting(&released[i]), errors.New("discovery failed")
			case 6:
				return nil, counting(&released[i]), nil
			}
			return verifierFor(t, iss, static), counting(&released[i]), nil
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 5; i++ { // t0..t4: t0, t1 and t2 evicted, t3 and t4 held
		if _, err := tn.Verify(context.Background(), sign(t, "HS256", secret, "", tenantIssuer(i))); err != nil {
			t.Fatalf("tenant %d: %v", i, err)
		}
	}
	for _, i := range []int{5, 6} {
		if _, err := tn.Verify(context.Background(), sign(t, "HS256", secret, "", tenantIssuer(i))); !errors.Is(err, jwtverify.ErrKeysUnavailable) {
			t.Fatalf("tenant %d: %v, want keys_unavailable", i, err)
		}
	}
	tn.Close()
	for i, want := range []int32{1, 0, 1, 0, 1, 0, 1} {
		if got := released[i].Load(); got != want {
			t.Errorf("tenant %d released %d times, want %d", i, got, want)
		}
	}
}

// TestCloseWaitsForBuildInProgress: Close cancels a build in progress,
// waits for it, and releases what it built before returning.
func TestCloseWaitsForBuildInProgress(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		secret := testkeys.Load().HMAC
		key, _ := jwtverify.NewSecretKey("", "", secret)
		static, _ := keyset.NewStatic(key)
		var released atomic.Int32
		tn, err := issuers.NewTenants(issuers.TenantsConfig{
			Allow: allow,
			New: func(ctx context.Context, iss string) (issuers.Verifier, func(), error) {
				<-ctx.Done()            // a discovery that Close cancels
				time.Sleep(time.Second) // and that takes a while to notice
				return verifierFor(t, iss, static), counting(&released), nil
			},
		})
		if err != nil {
			t.Fatal(err)
		}
		go tn.Verify(context.Background(), sign(t, "HS256", secret, "", tenantIssuer(1)))
		synctest.Wait() // the build is in New
		tn.Close()
		if n := released.Load(); n != 1 {
			t.Fatalf("Close returned with %d releases of the build in progress, want 1", n)
		}
		if _, err := tn.Verify(context.Background(), sign(t, "HS256", secret, "", tenantIssuer(1))); !errors.Is(err, jwtverify.ErrKeysUnavailable) {
			t.Fatalf("Verify after Close: %v, want keys_unavailable", err)
		}
	})
}

func TestTenantsBoundedAt100000Issuers(t *testing.T) {
	secret := testkeys.Load().HMAC
	key, _ := jwtverify.NewSecretKey("", "", secret)
	static, _ := keyset.NewStatic(key)
	var builds, closed atomic.Int32
	const size = 1000
	tn, err := issuers.NewTenants(issuers.TenantsConfig{
		Allow: allow,
		New: func(_ context.Context, iss string) (issuers.Verifier, func(), error) {
			builds.Add(1)
			return verifierFor(t, iss, static), counting(&closed), nil
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
	tn.Close()
	if got := closed.Load(); got != issuers {
		t.Fatalf("%d verifiers closed, want %d (evicted and at Close)", got, issuers)
	}
}

func TestTenantsCoalesceAndGate(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		secret := testkeys.Load().HMAC
		key, _ := jwtverify.NewSecretKey("", "", secret)
		static, _ := keyset.NewStatic(key)
		var builds atomic.Int32
		release := make(chan struct{})
		fail := atomic.Bool{}
		tn, err := issuers.NewTenants(issuers.TenantsConfig{
			Allow: allow,
			New: func(ctx context.Context, iss string) (issuers.Verifier, func(), error) {
				builds.Add(1)
				<-release
				if fail.Load() {
					return nil, nil, errors.New("discovery failed")
				}
				return verifierFor(t, iss, static), nil, nil
			},
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
		synctest.Wait() // the build has started and waits for release
		if builds.Load() != 1 {
			t.Fatalf("%d builds started, want 1", builds.Load())
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
		time.Sleep(30 * time.Second) // the default FailureTTL
		if _, err := tn.Verify(context.Background(), bad); err != nil {
			t.Fatalf("after FailureTTL: %v", err)
		}
	})
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
		New: func(ctx context.Context, iss string) (issuers.Verifier, func(), error) {
			r, err := keyset.NewRemote(srv.URL, keyset.RemoteConfig{})
			if err != nil {
				return nil, nil, err
			}
			return verifierFor(t, iss, r), r.Close, nil
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

// Failing issuers are remembered apart and never evict working ones; builds
// are rate limited.
func TestFailuresDoNotEvictAndBuildsAreLimited(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		secret := testkeys.Load().HMAC
		key, _ := jwtverify.NewSecretKey("", "", secret)
		static, _ := keyset.NewStatic(key)
		var builds atomic.Int32
		tn, err := issuers.NewTenants(issuers.TenantsConfig{
			Allow: allow, Size: 10, BuildsPerSecond: 5,
			New: func(_ context.Context, iss string) (issuers.Verifier, func(), error) {
				builds.Add(1)
				if iss == tenantIssuer(1) {
					return verifierFor(t, iss, static), nil, nil
				}
				return nil, nil, errors.New("no such tenant")
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
		// The good tenant took one of the 5; the first half of the burst is
		// admitted as it comes, the rest by chance.
		n := builds.Load()
		if n < 3 || n > 5 {
			t.Fatalf("%d builds within one second, want 3 to 5 (the bucket)", n)
		}
		if _, err := tn.Verify(ctx, good); err != nil || builds.Load() != n {
			t.Fatalf("the working tenant was evicted or rebuilt: %v, %d builds", err, builds.Load())
		}
		time.Sleep(time.Second) // the bucket refills
		if _, err := tn.Verify(ctx, sign(t, "HS256", secret, "", tenantIssuer(200))); !errors.Is(err, jwtverify.ErrKeysUnavailable) || builds.Load() != n+1 {
			t.Fatalf("after refill: %v, %d builds", err, builds.Load())
		}
	})
}

// A build that ends after Close is closed, not kept.
func TestBuildEndingAfterClose(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		secret := testkeys.Load().HMAC
		key, _ := jwtverify.NewSecretKey("", "", secret)
		static, _ := keyset.NewStatic(key)
		var closed atomic.Int32
		started, proceed := make(chan struct{}), make(chan struct{})
		tn, err := issuers.NewTenants(issuers.TenantsConfig{
			Allow: allow,
			New: func(ctx context.Context, iss string) (issuers.Verifier, func(), error) {
				close(started)
				<-proceed
				return verifierFor(t, iss, static), counting(&closed), nil
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
		synctest.Wait() // Close has marked the Tenants closed and waits for the build
		close(proceed)
		<-done
		<-closeDone
		if tn.Len() != 0 || closed.Load() != 1 {
			t.Fatalf("after Close: %d held, %d closed", tn.Len(), closed.Load())
		}
	})
}

// TestTenantsFloodOfFailingIssuers reproduces issue 9's flood: twelve
// unsigned tokens a second, each naming another issuer that Allow admits
// but whose build fails, for 40 s of simulated time. Tenants built before
// (here evicted again and again: Size is 2 for three of them) are never
// refused; a new tenant whose first token comes 10 s into the flood is
// built within 5 s; the flood's builds stay within the budget.
func TestTenantsFloodOfFailingIssuers(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		secret := testkeys.Load().HMAC
		key, _ := jwtverify.NewSecretKey("", "", secret)
		static, _ := keyset.NewStatic(key)
		good := map[string]bool{tenantIssuer(1): true, tenantIssuer(2): true, tenantIssuer(3): true, tenantIssuer(4): true}
		var floodBuilds atomic.Int32
		tn, err := issuers.NewTenants(issuers.TenantsConfig{
			Allow: allow, Size: 2,
			New: func(_ context.Context, iss string) (issuers.Verifier, func(), error) {
				if good[iss] {
					return verifierFor(t, iss, static), nil, nil
				}
				floodBuilds.Add(1)
				return nil, nil, errors.New("no such tenant")
			},
		})
		if err != nil {
			t.Fatal(err)
		}
		defer tn.Close()
		ctx := context.Background()
		tokens := map[int]string{}
		for i := 1; i <= 4; i++ {
			tokens[i] = sign(t, "HS256", secret, "", tenantIssuer(i))
		}
		for _, i := range []int{1, 2, 3} { // built before the flood; 1 is evicted at once
			if _, err := tn.Verify(ctx, tokens[i]); err != nil {
				t.Fatal(err)
			}
		}
		start := time.Now()
		const tick = time.Second / 12
		newFirst, newBuilt := time.Duration(-1), time.Duration(-1)
		refused := 0
		for n := 0; n < 12*40; n++ {
			flood := sign(t, "HS256", secret, "", tenantIssuer(1000+n))
			if _, err := tn.Verify(ctx, flood); !errors.Is(err, jwtverify.ErrKeysUnavailable) {
				t.Fatalf("flood token %d: %v", n, err)
			}
			at := time.Since(start)
			if n%6 == 0 { // every 500 ms, right after a flood token: the tenants built before
				for _, i := range []int{1, 2, 3} {
					if _, err := tn.Verify(ctx, tokens[i]); err != nil {
						refused++
						t.Errorf("at %v: tenant %d, built before, refused: %v", at, i, err)
					}
				}
			}
			if at >= 10*time.Second && n%3 == 0 { // every 250 ms: the new tenant
				if newFirst < 0 {
					newFirst = at
				}
				_, err := tn.Verify(ctx, tokens[4])
				switch {
				case err == nil && newBuilt < 0:
					newBuilt = at
				case err != nil && newBuilt >= 0:
					t.Errorf("at %v: the new tenant, built at %v, refused: %v", at, newBuilt, err)
				}
			}
			if refused > 10 {
				t.Fatal("too many refusals")
			}
			time.Sleep(tick)
		}
		elapsed := time.Since(start)
		if newBuilt < 0 || newBuilt-newFirst > 5*time.Second {
			t.Errorf("the new tenant's first token came at %v; built at %v (-1: never), want within 5 s", newFirst, newBuilt)
		}
		const perSecond = 10 // the default BuildsPerSecond, and so the burst
		if max := int32(elapsed.Seconds()*perSecond) + perSecond; floodBuilds.Load() > max {
			t.Errorf("%d builds of failing issuers in %v, want at most %d", floodBuilds.Load(), elapsed, max)
		}
		t.Logf("%d of %d failing issuers built in %v; the new tenant built %v after its first token", floodBuilds.Load(), 12*40, elapsed, newBuilt-newFirst)
	})
}

// TestTenantsBuildEvents: OnBuild reports every build with its outcome,
// one of the strings BuildEvent documents, and, for a failure, New's own
// error; the issuer it names is cut to 256 bytes on a character boundary;
// Verify's error carries neither. Issuers built before
// are rebuilt after eviction even with the budget spent.
func TestTenantsBuildEvents(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		secret := testkeys.Load().HMAC
		key, _ := jwtverify.NewSecretKey("", "", secret)
		static, _ := keyset.NewStatic(key)
		errNoTenant := errors.New("discovery: HTTP status 404 for this tenant")
		var mu sync.Mutex
		var events []issuers.BuildEvent
		tn, err := issuers.NewTenants(issuers.TenantsConfig{
			Allow:           func(iss string) bool { return strings.HasPrefix(iss, "https://login.example/") },
			Size:            1,
			BuildsPerSecond: 1,
			New: func(_ context.Context, iss string) (issuers.Verifier, func(), error) {
				if strings.HasSuffix(iss, "/bad") || len(iss) > 1000 {
					return nil, nil, errNoTenant
				}
				return verifierFor(t, iss, static), nil, nil
			},
			OnBuild: func(ev issuers.BuildEvent) { mu.Lock(); events = append(events, ev); mu.Unlock() },
		})
		if err != nil {
			t.Fatal(err)
		}
		defer tn.Close()
		long := "https://login.example/" + strings.Repeat("é", 1000) // 2 bytes a character
		iss := map[string]string{"good1": tenantIssuer(1), "good2": tenantIssuer(2), "good3": tenantIssuer(3), "bad": "https://login.example/bad", "long": long}
		for _, step := range []struct {
			name    string
			advance time.Duration
			outcome string
			known   bool
		}{
			{"good1", 0, "built", false},
			{"bad", 0, "limited", false}, // the bucket (1) is spent
			{"bad", time.Second, "failed", false},
			{"bad", 0, "", false}, // the failure is served: no build
			{"long", time.Second, "failed", false},
			{"good2", time.Second, "built", false}, // evicts good1 (Size 1)
			{"good1", 0, "built", true},            // the bucket is spent, but good1 is known
			{"good3", 0, "limited", false},
		} {
			time.Sleep(step.advance)
			mu.Lock()
			before := len(events)
			mu.Unlock()
			_, verr := tn.Verify(context.Background(), sign(t, "HS256", secret, "", iss[step.name]))
			mu.Lock()
			got := events[before:]
			mu.Unlock()
			if (verr == nil) != (step.outcome == "built") {
				t.Fatalf("%s: Verify = %v", step.name, verr)
			}
			if verr != nil && (strings.Contains(verr.Error(), "404") || strings.Contains(verr.Error(), "login.example")) {
				t.Errorf("%s: Verify's error carries the reason or the issuer: %v", step.name, verr)
			}
			if step.outcome == "" {
				if len(got) != 0 {
					t.Errorf("%s: events %+v, want none", step.name, got)
				}
				continue
			}
			if len(got) != 1 {
				t.Fatalf("%s: events %+v, want one", step.name, got)
			}
			ev := got[0]
			if ev.Outcome != step.outcome || ev.Known != step.known {
				t.Errorf("%s: event %+v, want outcome %s, known %v", step.name, ev, step.outcome, step.known)
			}
			if (step.outcome == "failed") != errors.Is(ev.Err, errNoTenant) {
				t.Errorf("%s: event error %v", step.name, ev.Err)
			}
			if step.name == "long" {
				// 22 bytes of prefix and 117 two-byte characters: the cut at 256
				// falls on a character boundary.
				if len(ev.Issuer) != 256 || !utf8.ValidString(ev.Issuer) || !strings.HasPrefix(long, ev.Issuer) {
					t.Errorf("long issuer reported as %d bytes %q", len(ev.Issuer), ev.Issuer)
				}
			} else if ev.Issuer != iss[step.name] {
				t.Errorf("%s: event issuer %q", step.name, ev.Issuer)
			}
		}
	})
}

// A budget below one build a second still admits builds.
func TestTenantsFractionalBudget(t *testing.T) {
	secret := testkeys.Load().HMAC
	key, _ := jwtverify.NewSecretKey("", "", secret)
	static, _ := keyset.NewStatic(key)
	tn, err := issuers.NewTenants(issuers.TenantsConfig{
		Allow: allow, BuildsPerSecond: 0.5,
		New: func(_ context.Context, iss string) (issuers.Verifier, func(), error) {
			return verifierFor(t, iss, static), nil, nil
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	defer tn.Close()
	if _, err := tn.Verify(context.Background(), sign(t, "HS256", secret, "", tenantIssuer(1))); err != nil {
		t.Fatal(err)
	}
}
