package cli

import (
	"bytes"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"math/big"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/jwtverify/jwtverify/backends/backendtest"
	"github.com/jwtverify/jwtverify/internal/b64url"
	"github.com/jwtverify/jwtverify/internal/mint"
	"github.com/jwtverify/jwtverify/internal/testkeys"
)

type result struct {
	code           int
	stdout, stderr string
}

func run(stdin string, args ...string) result {
	var out, errb bytes.Buffer
	code := Run(args, strings.NewReader(stdin), &out, &errb)
	return result{code, out.String(), errb.String()}
}

func writeFile(t *testing.T, name string, data []byte) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, data, 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

var backendNames = []string{"golang-jwt", "jwx", "native"}

// checkRejected asserts exit 1 and one stderr line "jwtverify: rejected: CLASS: detail"
// that does not echo the token.
func checkRejected(t *testing.T, r result, class, token string) {
	t.Helper()
	if r.code != ExitRejected {
		t.Fatalf("exit = %d, want 1; stderr %q", r.code, r.stderr)
	}
	if r.stdout != "" {
		t.Fatalf("stdout = %q, want empty", r.stdout)
	}
	prefix := "jwtverify: rejected: " + class + ": "
	if !strings.HasPrefix(r.stderr, prefix) || strings.Count(r.stderr, "\n") != 1 || !strings.HasSuffix(r.stderr, "\n") {
		t.Fatalf("stderr = %q, want one line starting %q", r.stderr, prefix)
	}
	for _, seg := range strings.Split(token, ".") {
		if len(seg) >= 4 && strings.Contains(r.stderr, seg) {
			t.Fatalf("stderr echoes the token: %q", r.stderr)
		}
	}
}

func TestRFCVectors(t *testing.T) {
	vectors, err := backendtest.Vectors()
	if err != nil {
		t.Fatal(err)
	}
	const wantClaims = `{"iss":"joe","exp":1300819380,"http://example.com/is_root":true}` + "\n"
	for _, vec := range vectors {
		var keyArgs []string
		var k struct{ Kty, K string }
		if err := json.Unmarshal(vec.JWK, &k); err != nil {
			t.Fatal(err)
		}
		if k.Kty == "oct" {
			secret, err := b64url.DecodeString(k.K)
			if err != nil {
				t.Fatal(err)
			}
			keyArgs = []string{"--secret-file", writeFile(t, "secret", secret)}
		} else {
			keyArgs = []string{"--key", writeFile(t, "key.jwk", vec.JWK)}
		}
		for _, backend := range backendNames {
			for _, now := range []string{"1300819000", "2011-03-22T18:36:40Z"} {
				t.Run(vec.Name+"/"+backend+"/"+now, func(t *testing.T) {
					args := append([]string{"verify", "--backend", backend, "--now", now}, keyArgs...)
					r := run("", append(args, vec.Token)...)
					if !vec.JWT {
						checkRejected(t, r, "malformed", vec.Token)
						return
					}
					// No --issuer or --audience: an accepted token comes with both warnings.
					if r.code != ExitValid || r.stdout != wantClaims || r.stderr != issWarning+audWarning {
						t.Fatalf("got %+v, want exit 0, %q and the two warnings", r, wantClaims)
					}
				})
			}
			if vec.JWT {
				t.Run(vec.Name+"/"+backend+"/expired-today", func(t *testing.T) {
					r := run("", append(append([]string{"verify", "--backend", backend}, keyArgs...), vec.Token)...)
					checkRejected(t, r, "expired", vec.Token)
				})
			}
		}
	}
}

// fixture tokens signed by the committed test keys.
func fixture(t *testing.T) (*backendtest.Fixture, map[string]any) {
	t.Helper()
	f, err := backendtest.NewFixture()
	if err != nil {
		t.Fatal(err)
	}
	c := backendtest.Claims()
	c["exp"] = time.Now().Add(time.Hour).Unix()
	c["nbf"] = time.Now().Add(-time.Minute).Unix()
	c["iat"] = time.Now().Add(-time.Minute).Unix()
	return f, c
}

func TestKeyFormatsAndTokenInput(t *testing.T) {
	f, c := fixture(t)
	rsa := f.Keys.RSA1
	token := f.Sign("RS256", nil, c)
	spki := writeFile(t, "spki.pem", testkeys.PublicPEM(&rsa.PublicKey))
	pkcs1 := writeFile(t, "pkcs1.pem", pem.EncodeToMemory(&pem.Block{Type: "RSA PUBLIC KEY", Bytes: x509.MarshalPKCS1PublicKey(&rsa.PublicKey)}))
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "test"}, NotBefore: time.Now(), NotAfter: time.Now().Add(time.Hour)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &rsa.PublicKey, rsa)
	if err != nil {
		t.Fatal(err)
	}
	cert := writeFile(t, "cert.pem", pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}))
	jwk, _ := mint.JWK(&rsa.PublicKey, "rsa-1", "RS256")
	jwkBytes, _ := json.Marshal(jwk)
	jwks, _ := json.Marshal(map[string]any{"keys": []any{jwk}})
	single := writeFile(t, "key.jwk", jwkBytes)
	set := writeFile(t, "keys.jwks", jwks)

	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/jwks" {
			http.NotFound(w, r)
			return
		}
		w.Write(jwks)
	}))
	defer srv.Close()

	common := []string{"--issuer", backendtest.Issuer, "--audience", backendtest.Audience}
	for _, backend := range backendNames {
		for name, keyArgs := range map[string][]string{
			"spki": {"--key", spki}, "pkcs1": {"--key", pkcs1}, "certificate": {"--key", cert},
			"jwk": {"--key", single}, "jwks-as-key": {"--key", set}, "jwks-file": {"--jwks", set},
			"jwks-url": {"--jwks", srv.URL + "/jwks"},
		} {
			for input, how := range map[string]func() result{
				"argument": func() result {
					return run("", append(append(append([]string{"verify", "--backend", backend}, keyArgs...), common...), token)...)
				},
				"stdin": func() result {
					return run(token+"\n", append(append([]string{"verify", "--backend", backend}, keyArgs...), common...)...)
				},
				"stdin-dash": func() result {
					return run(" Bearer "+token+" \n", append(append([]string{"verify", "--backend", backend}, keyArgs...), append(common, "-")...)...)
				},
				"bearer-arg": func() result {
					return run("", append(append(append([]string{"verify", "--backend", backend}, keyArgs...), common...), "bearer "+token)...)
				},
				"flags-after": func() result {
					return run("", append(append([]string{"verify", token, "--backend", backend}, keyArgs...), common...)...)
				},
			} {
				t.Run(backend+"/"+name+"/"+input, func(t *testing.T) {
					r := how()
					if r.code != ExitValid || r.stderr != "" {
						t.Fatalf("got %+v", r)
					}
					var got map[string]any
					if err := json.Unmarshal([]byte(r.stdout), &got); err != nil || got["sub"] != "user-1" || strings.Count(r.stdout, "\n") != 1 {
						t.Fatalf("stdout = %q (%v)", r.stdout, err)
					}
				})
			}
		}
	}
}

func TestRejections(t *testing.T) {
	f, c := fixture(t)
	es := f.Sign("ES256", nil, c)
	s := strings.Split(es, ".")
	ecPEM := writeFile(t, "ec.pem", testkeys.PublicPEM(&f.Keys.P256.PublicKey))
	rsaPEMBytes := testkeys.PublicPEM(&f.Keys.RSA1.PublicKey)
	rsaPEM := writeFile(t, "rsa.pem", rsaPEMBytes)
	confused, _ := mint.Token("HS256", rsaPEMBytes, nil, c)
	c2 := backendtest.Claims()
	c2["exp"] = time.Now().Add(-time.Hour).Unix()
	expired := f.Sign("ES256", nil, c2)
	tests := []struct {
		name, class, token string
		args               []string
	}{
		{"none", "algorithm", b64(`{"alg":"none"}`) + "." + s[1] + ".", []string{"--key", ecPEM}},
		{"key-confusion", "algorithm", confused, []string{"--key", rsaPEM}},
		{"tampered", "signature", s[0] + "." + b64(`{"sub":"admin"}`) + "." + s[2], []string{"--key", ecPEM}},
		{"wrong-issuer", "issuer", es, []string{"--key", ecPEM, "--issuer", "https://other.example"}},
		{"wrong-audience", "audience", es, []string{"--key", ecPEM, "--audience", "nobody"}},
		{"expired", "expired", expired, []string{"--key", ecPEM}},
		{"leeway-does-not-cover", "expired", expired, []string{"--key", ecPEM, "--leeway", "5m"}},
		{"alg-not-allowed", "algorithm", es, []string{"--key", ecPEM, "--secret-file", writeFile(t, "s", bytes.Repeat([]byte("k"), 32)), "--alg", "HS256"}},
		{"jwe", "unsupported", "a.b.c.d.e", []string{"--key", ecPEM}},
		{"garbage", "malformed", "not a token", []string{"--key", ecPEM}},
		{"empty-stdin", "malformed", "", []string{"--key", ecPEM, "-"}},
		{"too-large", "too_large", strings.Repeat("a", 17<<10), []string{"--key", ecPEM}},
	}
	for _, backend := range backendNames {
		for _, tt := range tests {
			t.Run(backend+"/"+tt.name, func(t *testing.T) {
				args := append([]string{"verify", "--backend", backend}, tt.args...)
				var r result
				if len(tt.args) > 0 && tt.args[len(tt.args)-1] == "-" {
					r = run(tt.token, args...)
				} else {
					r = run("", append(args, tt.token)...)
				}
				checkRejected(t, r, tt.class, tt.token)
			})
		}
	}
}

func b64(s string) string { return base64.RawURLEncoding.EncodeToString([]byte(s)) }

func TestUsageErrors(t *testing.T) {
	f, c := fixture(t)
	token := f.Sign("ES256", nil, c)
	ecPEM := writeFile(t, "ec.pem", testkeys.PublicPEM(&f.Keys.P256.PublicKey))
	privPEM := writeFile(t, "priv.pem", func() []byte {
		der, _ := x509.MarshalPKCS8PrivateKey(f.Keys.P256)
		return pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})
	}())
	weak := writeFile(t, "weak.pem", testkeys.PublicPEM(&f.Keys.RSA1024.PublicKey))
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/huge" {
			w.Write(bytes.Repeat([]byte(" "), maxKeyBytes+1))
			return
		}
		http.NotFound(w, r)
	}))
	defer srv.Close()
	tests := map[string][]string{
		"no-command":       {},
		"unknown-command":  {"frobnicate"},
		"no-keys":          {"verify", token},
		"bad-flag":         {"verify", "--nope", "--key", ecPEM, token},
		"missing-key-file": {"verify", "--key", filepath.Join(t.TempDir(), "absent.pem"), token},
		"private-key":      {"verify", "--key", privPEM, token},
		"weak-rsa":         {"verify", "--key", weak, token},
		"alg-none":         {"verify", "--key", ecPEM, "--alg", "none", token},
		"alg-unknown":      {"verify", "--key", ecPEM, "--alg", "XS256", token},
		"alg-without-key":  {"verify", "--key", ecPEM, "--alg", "RS256", token},
		"unknown-backend":  {"verify", "--key", ecPEM, "--backend", "openssl", token},
		"leeway-too-large": {"verify", "--key", ecPEM, "--leeway", "10m", token},
		"bad-now":          {"verify", "--key", ecPEM, "--now", "yesterday", token},
		"two-tokens":       {"verify", "--key", ecPEM, token, token},
		"short-secret":     {"verify", "--secret-file", writeFile(t, "short", []byte("short")), token},
		"jwks-404":         {"verify", "--jwks", srv.URL + "/jwks", token},
		"jwks-not-jwks":    {"verify", "--jwks", ecPEM, token},
		"demo-with-args":   {"demo", "extra"},
	}
	for name, args := range tests {
		t.Run(name, func(t *testing.T) {
			r := run("", args...)
			if r.code != ExitUsage || r.stdout != "" || r.stderr == "" {
				t.Fatalf("got %+v, want exit 2 with a message", r)
			}
			if strings.Contains(r.stderr, token) {
				t.Fatalf("stderr echoes the token")
			}
		})
	}
	if r := run("", "verify", "-h"); r.code != ExitValid || !strings.Contains(r.stderr, "--secret-file") && !strings.Contains(r.stderr, "-secret-file") {
		t.Fatalf("verify -h: %+v", r)
	}
}

func TestDemo(t *testing.T) {
	r := run("", "demo")
	if r.code != ExitValid {
		t.Fatalf("demo exit %d:\n%s%s", r.code, r.stdout, r.stderr)
	}
	if strings.Contains(r.stdout, "UNEXPECTED") {
		t.Fatalf("demo output has unexpected results:\n%s", r.stdout)
	}
	for _, class := range []string{"valid", "algorithm", "signature", "unknown_key", "expired", "not_yet_valid", "issued_in_future", "audience", "issuer", "missing_claim", "malformed", "unsupported", "too_large"} {
		if !strings.Contains(r.stdout, class) {
			t.Errorf("demo output lacks class %s", class)
		}
	}
	if !strings.Contains(r.stdout, "golang-jwt") || !strings.Contains(r.stdout, "jwx") {
		t.Errorf("demo does not show both backends")
	}
}

func TestOIDCIssuer(t *testing.T) {
	f, c := fixture(t)
	jwk, _ := mint.JWK(&f.Keys.P256.PublicKey, "ec-256", "ES256")
	jwks, _ := json.Marshal(map[string]any{"keys": []any{jwk}})
	var docIssuer string
	var srv *httptest.Server
	srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/.well-known/openid-configuration":
			json.NewEncoder(w).Encode(map[string]string{"issuer": docIssuer, "jwks_uri": srv.URL + "/jwks"})
		case "/jwks":
			w.Write(jwks)
		default:
			http.NotFound(w, r)
		}
	}))
	defer srv.Close()
	docIssuer = srv.URL
	c["iss"] = srv.URL
	good := f.Sign("ES256", nil, c)
	c["iss"] = "https://other.example"
	other := f.Sign("ES256", nil, c)
	for _, backend := range backendNames {
		r := run("", "verify", "--backend", backend, "--oidc-issuer", srv.URL, "--audience", backendtest.Audience, good)
		if r.code != ExitValid {
			t.Fatalf("%s: %+v", backend, r)
		}
		checkRejected(t, run("", "verify", "--backend", backend, "--oidc-issuer", srv.URL, other), "issuer", other)
		// --issuer replaces the discovered issuer as the required iss.
		if r := run("", "verify", "--backend", backend, "--oidc-issuer", srv.URL, "--issuer", "https://other.example", other); r.code != ExitValid {
			t.Fatalf("%s with --issuer: %+v", backend, r)
		}
	}
	for name, args := range map[string][]string{
		"with --key":      {"verify", "--oidc-issuer", srv.URL, "--key", "x.pem", good},
		"with --jwks url": {"verify", "--oidc-issuer", srv.URL, "--jwks", srv.URL + "/jwks", good},
		"plain http":      {"verify", "--oidc-issuer", "http://issuer.example", good},
	} {
		if r := run("", args...); r.code != ExitUsage {
			t.Errorf("%s: %+v, want exit 2", name, r)
		}
	}
	docIssuer = srv.URL + "/"
	if r := run("", "verify", "--oidc-issuer", srv.URL, good); r.code != ExitUsage || !strings.Contains(r.stderr, "another issuer") {
		t.Fatalf("mismatched discovery issuer: %+v", r)
	}
}

func TestBench(t *testing.T) {
	r := run("", "bench", "--duration", "600ms")
	if r.code != ExitValid {
		t.Fatalf("bench: %+v", r)
	}
	for _, want := range []string{"RS256", "PS256", "ES256", "EdDSA", "HS256", "limit", "floor", "native", "golang-jwt", "jwx", "native/remote", "golang-jwt/remote", "cached", "vs limit"} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("bench table lacks %q:\n%s", want, r.stdout)
		}
	}
	if !strings.Contains(r.stderr, "[1/") {
		t.Errorf("no progress on stderr: %q", r.stderr)
	}
	r = run("", "bench", "--duration", "300ms", "--format", "json")
	var results []map[string]any
	if r.code != ExitValid || json.Unmarshal([]byte(r.stdout), &results) != nil || len(results) != 42 { // 4 asymmetric algorithms × (limit, floor, 3 backends static and remote, cached) + HS256 × 6
		t.Fatalf("bench json: %d results, %+v", len(results), r)
	}
	for _, res := range results {
		if res["alg"] == "" || res["ns_per_op"].(float64) <= 0 || res["ratio_to_limit"].(float64) <= 0 {
			t.Fatalf("bad result %v", res)
		}
	}
	if r := run("", "bench", "--format", "xml"); r.code != ExitUsage {
		t.Fatalf("bad format: %+v", r)
	}
}

func pemOf(t *testing.T, f *backendtest.Fixture) []byte {
	t.Helper()
	return testkeys.PublicPEM(&f.Keys.P256.PublicKey)
}

// TestRemoteURLSecretsNeverShown: a --jwks or --oidc-issuer URL's userinfo
// and query never appear in the command's output, whatever fails.
func TestRemoteURLSecretsNeverShown(t *testing.T) {
	f, c := fixture(t)
	good := f.Sign("ES256", nil, c)
	down := httptest.NewServer(http.NotFoundHandler())
	down.Close()
	failing := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/garbage" {
			w.Write([]byte("<html>oops</html>"))
			return
		}
		http.Error(w, "no", http.StatusInternalServerError)
	}))
	defer failing.Close()
	secrets := func(base, path string) string {
		return strings.Replace(base, "://", "://user:pass@", 1) + path + "?api_key=s3cret"
	}
	for name, args := range map[string][]string{
		"unreachable jwks":   {"verify", "--jwks", secrets(down.URL, "/jwks"), good},
		"jwks 500":           {"verify", "--jwks", secrets(failing.URL, "/jwks"), good},
		"jwks garbage":       {"verify", "--jwks", secrets(failing.URL, "/garbage"), good},
		"jwks plain http":    {"verify", "--jwks", secrets("http://issuer.example", "/jwks"), good},
		"jwks upper case":    {"verify", "--jwks", secrets(strings.Replace(down.URL, "http:", "HTTP:", 1), "/jwks"), good},
		"jwks other scheme":  {"verify", "--jwks", secrets("ftp://issuer.example", "/jwks"), good},
		"unreachable issuer": {"verify", "--oidc-issuer", strings.Replace(down.URL, "://", "://user:pass@", 1), good},
		"issuer 500":         {"verify", "--oidc-issuer", strings.Replace(failing.URL, "://", "://user:pass@", 1), good},
		"issuer with query":  {"verify", "--oidc-issuer", secrets(failing.URL, ""), good},
	} {
		r := run("", args...)
		if r.code != ExitUsage || r.stdout != "" {
			t.Errorf("%s: %+v, want exit 2", name, r)
		}
		for _, secret := range []string{"pass", "s3cret", "api_key", "user"} {
			if strings.Contains(r.stderr, secret) {
				t.Errorf("%s: stderr shows %q: %q", name, secret, r.stderr)
			}
		}
		if !strings.Contains(r.stderr, "issuer.") && !strings.Contains(r.stderr, "127.0.0.1") {
			t.Errorf("%s: stderr does not name the host: %q", name, r.stderr)
		}
	}
}
