package cli

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jwtverify/jwtverify/internal/mint"
	"github.com/jwtverify/jwtverify/internal/testkeys"
)

// The --spiffe-bundle contract of issue 11, driven as the checks outside
// the project drive it: bundles shaped as `spire-server bundle show
// -format spiffe` prints them (an x509-svid key beside the jwt-svid keys,
// spiffe_sequence and spiffe_refresh_hint), from a file and from a bundle
// endpoint over TLS with a CA of its own.

// spiffeKeys are the test trust domains' keys: example.org's JWT key "j1"
// and X.509 authority "x1", its next JWT key "j2", and other.org's "o1".
type spiffeKeys struct {
	j1, j2, x1, o1 *ecdsa.PrivateKey
}

func newSPIFFEKeys(t *testing.T) spiffeKeys {
	ks := testkeys.Load()
	j2, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return spiffeKeys{j1: ks.P256, j2: j2, x1: ks.P384, o1: ks.P521}
}

// spiffeBundle returns a bundle of sequence seq holding, for each kid, the
// key in keys with use "jwt-svid", or "x509-svid" for a kid starting "x".
func spiffeBundle(t *testing.T, seq int, keys map[string]*ecdsa.PrivateKey) []byte {
	t.Helper()
	list := []any{}
	for kid, k := range keys {
		m, err := mint.JWK(&k.PublicKey, kid, "")
		if err != nil {
			t.Fatal(err)
		}
		m["use"] = "jwt-svid"
		if strings.HasPrefix(kid, "x") {
			m["use"] = "x509-svid"
			delete(m, "kid") // SPIRE's x509-svid entries have none
		}
		list = append(list, m)
	}
	b, err := json.Marshal(map[string]any{"keys": list, "spiffe_sequence": seq, "spiffe_refresh_hint": 300})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// svid signs a JWT-SVID for sub (absent when nil) with kid and key, for
// audience "orders", valid for an hour.
func svid(t *testing.T, key crypto.Signer, kid string, sub any) string {
	t.Helper()
	alg := map[int]string{256: "ES256", 384: "ES384", 521: "ES512"}[key.Public().(*ecdsa.PublicKey).Curve.Params().BitSize]
	c := map[string]any{"aud": []string{"orders"}, "exp": time.Now().Add(time.Hour).Unix(), "iat": time.Now().Unix()}
	if sub != nil {
		c["sub"] = sub
	}
	tok, err := mint.Token(alg, key, map[string]any{"kid": kid, "typ": "JWT"}, c)
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

// bundleServer is a SPIFFE bundle endpoint (https_web) with a certificate
// of its own CA, serving a bundle the test can change.
type bundleServer struct {
	srv  *httptest.Server
	ca   string // CA file for --ca-file
	mu   sync.Mutex
	body []byte
}

func newBundleServer(t *testing.T, body []byte) *bundleServer {
	t.Helper()
	caPEM, leaf := clusterCA(t)
	b := &bundleServer{body: body, ca: writeFile(t, "ca.pem", caPEM)}
	b.srv = httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b.mu.Lock()
		defer b.mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		w.Write(b.body)
	}))
	b.srv.TLS = &tls.Config{Certificates: []tls.Certificate{leaf}}
	b.srv.StartTLS()
	t.Cleanup(b.srv.Close)
	return b
}

func TestVerifySPIFFEBundle(t *testing.T) {
	k := newSPIFFEKeys(t)
	orgBundle := spiffeBundle(t, 1, map[string]*ecdsa.PrivateKey{"x1": k.x1, "j1": k.j1})
	orgFile := writeFile(t, "example.org.json", orgBundle)
	otherFile := writeFile(t, "other.org.json", spiffeBundle(t, 1, map[string]*ecdsa.PrivateKey{"o1": k.o1}))
	srv := newBundleServer(t, orgBundle)
	api := "spiffe://example.org/ns/prod/sa/api"

	sources := map[string][]string{
		"file": {"--spiffe-bundle", "example.org=" + orgFile},
		"url":  {"--spiffe-bundle", "example.org=" + srv.srv.URL + "/bundle", "--ca-file", srv.ca},
	}
	for name, source := range sources {
		for _, backend := range backendNames {
			base := append([]string{"verify", "--backend", backend, "--audience", "orders",
				"--spiffe-bundle", "other.org=" + otherFile}, source...)
			t.Run(name+"/"+backend, func(t *testing.T) {
				tok := svid(t, k.j1, "j1", api)
				r := run("", append(base, tok)...)
				if r.code != ExitValid || !strings.Contains(r.stdout, `"sub":"`+api+`"`) {
					t.Fatalf("valid SVID: %+v", r)
				}
				for _, tc := range []struct{ name, class, token string }{
					{"trust domain without bundle", "issuer", svid(t, k.j1, "j1", "spiffe://third.org/api")},
					{"sub missing", "missing_claim", svid(t, k.j1, "j1", nil)},
					{"sub not a SPIFFE ID", "malformed", svid(t, k.j1, "j1", "https://example.org/api")},
					{"sub with a port", "malformed", svid(t, k.j1, "j1", "spiffe://example.org:443/api")},
					{"sub with upper case", "malformed", svid(t, k.j1, "j1", "spiffe://Example.org/api")},
					{"sub a number", "malformed", svid(t, k.j1, "j1", 7)},
					{"x509-svid key", "unknown_key", svid(t, k.x1, "x1", api)},
					{"other trust domain's key", "unknown_key", svid(t, k.o1, "o1", api)},
					{"other trust domain's key under our kid", "unknown_key", svid(t, k.o1, "j1", api)}, // ES512: no key of ours supports it
					{"another P-256 key under our kid", "signature", svid(t, k.j2, "j1", api)},
					{"x509-svid key without kid", "unknown_key", mustToken(t, "ES384", k.x1, "", map[string]any{"sub": api, "aud": "orders", "exp": time.Now().Add(time.Hour).Unix()})},
					{"alg outside JWT-SVID's", "algorithm", mustToken(t, "EdDSA", testkeys.Load().Ed25519, "j1", map[string]any{"sub": api, "aud": "orders", "exp": time.Now().Add(time.Hour).Unix()})},
					{"wrong audience", "audience", mustToken(t, "ES256", k.j1, "j1", map[string]any{"sub": api, "aud": "billing", "exp": time.Now().Add(time.Hour).Unix()})},
					{"no exp", "missing_claim", mustToken(t, "ES256", k.j1, "j1", map[string]any{"sub": api, "aud": "orders"})},
				} {
					checkRejected(t, run("", append(base, tc.token)...), tc.class, tc.token)
				}
				// other.org's own SVIDs verify with its bundle only.
				if r := run("", append(base, svid(t, k.o1, "o1", "spiffe://other.org/billing"))...); r.code != ExitValid {
					t.Fatalf("federated trust domain's SVID: %+v", r)
				}
			})
		}
	}
}

func mustToken(t *testing.T, alg string, key crypto.Signer, kid string, claims map[string]any) string {
	t.Helper()
	header := map[string]any{}
	if kid != "" {
		header["kid"] = kid
	}
	tok, err := mint.Token(alg, key, header, claims)
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

// TestVerifySPIFFERotationAndRevocation: the re-exported bundle (file or
// endpoint) is what counts: a key published next verifies, a key removed
// (revoked at the SPIRE server) is unknown_key.
func TestVerifySPIFFERotationAndRevocation(t *testing.T) {
	k := newSPIFFEKeys(t)
	api := "spiffe://example.org/ns/prod/sa/api"
	old, next := svid(t, k.j1, "j1", api), svid(t, k.j2, "j2", api)
	both := spiffeBundle(t, 2, map[string]*ecdsa.PrivateKey{"x1": k.x1, "j1": k.j1, "j2": k.j2})
	revoked := spiffeBundle(t, 3, map[string]*ecdsa.PrivateKey{"x1": k.x1, "j2": k.j2})
	srv := newBundleServer(t, both)
	for _, tc := range []struct {
		name   string
		source func(body []byte) []string
	}{
		{"file", func(body []byte) []string {
			return []string{"--spiffe-bundle", "example.org=" + writeFile(t, "bundle.json", body)}
		}},
		{"url", func(body []byte) []string {
			srv.mu.Lock()
			srv.body = body
			srv.mu.Unlock()
			return []string{"--spiffe-bundle", "example.org=" + srv.srv.URL, "--ca-file", srv.ca}
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			args := func(body []byte, tok string) []string {
				return append(append([]string{"verify", "--audience", "orders"}, tc.source(body)...), tok)
			}
			for _, tok := range []string{old, next} {
				if r := run("", args(both, tok)...); r.code != ExitValid {
					t.Fatalf("during rotation: %+v", r)
				}
			}
			checkRejected(t, run("", args(revoked, old)...), "unknown_key", old)
			if r := run("", args(revoked, next)...); r.code != ExitValid {
				t.Fatalf("the key kept: %+v", r)
			}
		})
	}
}

// TestSPIFFEBundleUsageErrors: wrong combinations and sources are exit 2,
// and no error shows a URL's secrets.
func TestSPIFFEBundleUsageErrors(t *testing.T) {
	k := newSPIFFEKeys(t)
	file := writeFile(t, "b.json", spiffeBundle(t, 1, map[string]*ecdsa.PrivateKey{"j1": k.j1}))
	x509Only := writeFile(t, "x.json", spiffeBundle(t, 1, map[string]*ecdsa.PrivateKey{"x1": k.x1}))
	jwksFile := writeFile(t, "jwks.json", []byte(`{"keys":[]}`))
	tok := svid(t, k.j1, "j1", "spiffe://example.org/api")
	for name, tc := range map[string]struct {
		args []string
		want string
	}{
		"with --jwks":     {[]string{"--spiffe-bundle", "example.org=" + file, "--jwks", jwksFile}, "instead of --jwks"},
		"with --issuer":   {[]string{"--spiffe-bundle", "example.org=" + file, "--issuer", "https://x"}, "--issuer does not apply"},
		"with --alg":      {[]string{"--spiffe-bundle", "example.org=" + file, "--alg", "ES256"}, "do not apply"},
		"no --audience":   {[]string{"--spiffe-bundle", "example.org=" + file, "--audience", ""}[:2], "needs --audience"},
		"not TD=SOURCE":   {[]string{"--spiffe-bundle", file}, "is not TD=SOURCE"},
		"URL without TD=": {[]string{"--spiffe-bundle", "https://user:hunter2@spire.example/bundle?api_key=hunter2"}, "is not TD=SOURCE"},
		"bearer to two URLs": {[]string{"--spiffe-bundle", "example.org=https://127.0.0.1:1/a", "--spiffe-bundle", "other.org=https://127.0.0.1:1/b",
			"--fetch-bearer-file", file}, "every --spiffe-bundle URL"},
		"trust domain twice":    {[]string{"--spiffe-bundle", "example.org=" + file, "--spiffe-bundle", "example.org=" + file}, "given twice"},
		"bad trust domain":      {[]string{"--spiffe-bundle", "Example.org=" + file}, `"Example.org" is not TD=SOURCE with TD a trust domain name`},
		"spiffe:// as TD":       {[]string{"--spiffe-bundle", "spiffe://example.org=" + file}, "is not TD=SOURCE with TD a trust domain name"},
		"missing file":          {[]string{"--spiffe-bundle", "example.org=/nonexistent/b.json"}, "no such file"},
		"only x509-svid keys":   {[]string{"--spiffe-bundle", "example.org=" + x509Only}, "x509-svid"},
		"plain http elsewhere":  {[]string{"--spiffe-bundle", "example.org=http://spire.example:8443/"}, "https"},
		"unreachable endpoint":  {[]string{"--spiffe-bundle", "example.org=https://user:hunter2@127.0.0.1:1/b?token=hunter2"}, "fetching"},
		"--ca-file with a file": {[]string{"--spiffe-bundle", "example.org=" + file, "--ca-file", file}, "apply to --spiffe-bundle URLs only"},
	} {
		t.Run(name, func(t *testing.T) {
			args := append([]string{"verify"}, tc.args...)
			if name != "no --audience" {
				args = append(args, "--audience", "orders")
			}
			r := run("", append(args, tok)...)
			if r.code != ExitUsage || !strings.Contains(r.stderr, tc.want) || strings.Contains(r.stderr, "hunter2") {
				t.Fatalf("got %+v, want exit 2 with %q and no secret", r, tc.want)
			}
		})
	}
}

// TestProxyRequireSPIFFEID: the proxy verifies JWT-SVIDs with
// --spiffe-bundle, and --require-spiffe-id refuses other identities with
// 403 before the upstream sees them; an invalid pattern is a usage error.
func TestProxyRequireSPIFFEID(t *testing.T) {
	k := newSPIFFEKeys(t)
	srv := newBundleServer(t, spiffeBundle(t, 1, map[string]*ecdsa.PrivateKey{"x1": k.x1, "j1": k.j1}))
	reached := make(chan string, 10)
	upstream := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		reached <- r.Header.Get("X-Jwt-Claims")
	}))
	defer upstream.Close()
	pf := parseProxyFlags(t, "--listen", "127.0.0.1:0", "--upstream", upstream.URL, "--audience", "orders",
		"--spiffe-bundle", "example.org="+srv.srv.URL, "--ca-file", srv.ca,
		"--require-spiffe-id", "spiffe://example.org/ns/prod/*", "--require-spiffe-id", "spiffe://example.org/admin")
	addr, _, stop := startProxy(t, pf)
	defer stop()
	for _, tc := range []struct {
		sub  string
		want int
	}{
		{"spiffe://example.org/ns/prod/sa/api", 200},
		{"spiffe://example.org/admin", 200},
		{"spiffe://example.org/ns/prod", 403},
		{"spiffe://example.org/ns/production/sa/api", 403},
		{"spiffe://example.org/ns/dev/sa/api", 403},
		{"spiffe://example.org/admin/x", 403},
		{"spiffe://other.org/ns/prod/sa/api", 401}, // no bundle: issuer
	} {
		req, _ := http.NewRequest("GET", addr+"/x", nil)
		req.Header.Set("Authorization", "Bearer "+svid(t, k.j1, "j1", tc.sub))
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != tc.want {
			t.Fatalf("%s: status %d, want %d", tc.sub, resp.StatusCode, tc.want)
		}
		select {
		case <-reached:
			if tc.want != 200 {
				t.Fatalf("%s: refused, yet the upstream was reached", tc.sub)
			}
		default:
			if tc.want == 200 {
				t.Fatalf("%s: allowed, yet the upstream was not reached", tc.sub)
			}
		}
	}
	for _, bad := range []string{"spiffe://example.org/ns/*/api", "example.org", "spiffe://example.org/*/*", "spiffe://example.org/a*"} {
		f := parseProxyFlags(t, "--listen", "127.0.0.1:0", "--upstream", upstream.URL, "--audience", "orders",
			"--spiffe-bundle", "example.org="+srv.srv.URL, "--ca-file", srv.ca, "--require-spiffe-id", bad)
		if p, err := newProxy(f, discardLogger()); err == nil || !strings.Contains(err.Error(), "--require-spiffe-id") {
			if p != nil {
				p.close()
			}
			t.Fatalf("pattern %q: %v, want a usage error", bad, err)
		}
	}
}
