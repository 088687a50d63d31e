package middleware_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"errors"
	"math/big"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/jwtverify/jwtverify/access"
	"github.com/jwtverify/jwtverify/backends/golangjwt"
	"github.com/jwtverify/jwtverify/dpop"
	"github.com/jwtverify/jwtverify/jwttest"
	"github.com/jwtverify/jwtverify/middleware"
)

const api = "https://api.example/orders"

func newECKey(t *testing.T) *ecdsa.PrivateKey {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func newChecker(t *testing.T, mod func(*dpop.Config)) *dpop.Checker {
	t.Helper()
	var cfg dpop.Config
	if mod != nil {
		mod(&cfg)
	}
	c, err := dpop.New(golangjwt.Backend{}, cfg)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// request is a GET of api with Authorization "scheme token" and the
// given DPoP headers.
func request(scheme, token string, proofs ...string) *http.Request {
	r := httptest.NewRequest("GET", api, nil)
	if token != "" {
		r.Header.Set("Authorization", scheme+" "+token)
	}
	for _, p := range proofs {
		r.Header.Add("DPoP", p)
	}
	return r
}

type failingStore struct{}

func (failingStore) Remember(context.Context, string, time.Time) (bool, error) {
	return false, errors.New("connection refused")
}

// TestDPoPBinding: the binding rules in the three modes of the proxy's
// --dpop (off: no Checker; allowed; required), each refusal with its
// status, class and challenge.
func TestDPoPBinding(t *testing.T) {
	e := newEnv(t)
	key, other := newECKey(t), newECKey(t)
	unbound := e.token(nil)
	bound := e.token(map[string]any{"cnf": map[string]any{"jkt": jwttest.Thumbprint(key)}})
	proof := func(k *ecdsa.PrivateKey, method, u, tok string, claims map[string]any) string {
		return jwttest.DPoPProof("ES256", k, method, u, tok, claims)
	}
	type want struct {
		status int
		class  string // Outcome.Class; "" for passed on
	}
	replayed := proof(key, "GET", api, bound, nil)
	for _, tc := range []struct {
		name             string
		req              func() *http.Request
		off, allow, requ want
	}{
		{"unbound Bearer", func() *http.Request { return request("Bearer", unbound) },
			want{200, ""}, want{200, ""}, want{401, "binding"}},
		{"bound Bearer", func() *http.Request { return request("Bearer", bound) },
			want{401, "binding"}, want{401, "binding"}, want{401, "binding"}},
		{"bound Bearer with a good proof", func() *http.Request { return request("Bearer", bound, proof(key, "GET", api, bound, nil)) },
			want{401, "binding"}, want{401, "binding"}, want{401, "binding"}},
		{"bound DPoP, good proof", func() *http.Request { return request("DPoP", bound, proof(key, "GET", api, bound, nil)) },
			want{401, "missing"}, want{200, ""}, want{200, ""}},
		{"bound DPoP, scheme in lower case", func() *http.Request { return request("dpop", bound, proof(key, "GET", api, bound, nil)) },
			want{401, "missing"}, want{200, ""}, want{200, ""}},
		{"bound DPoP, no proof", func() *http.Request { return request("DPoP", bound) },
			want{401, "missing"}, want{401, "dpop_proof"}, want{401, "dpop_proof"}},
		{"bound DPoP, two proofs", func() *http.Request {
			return request("DPoP", bound, proof(key, "GET", api, bound, nil), proof(key, "GET", api, bound, nil))
		}, want{401, "missing"}, want{401, "dpop_proof"}, want{401, "dpop_proof"}},
		{"bound DPoP, proof for POST", func() *http.Request { return request("DPoP", bound, proof(key, "POST", api, bound, nil)) },
			want{401, "missing"}, want{401, "dpop_proof"}, want{401, "dpop_proof"}},
		{"bound DPoP, proof for another URL", func() *http.Request {
			return request("DPoP", bound, proof(key, "GET", "https://api.example/admin", bound, nil))
		}, want{401, "missing"}, want{401, "dpop_proof"}, want{401, "dpop_proof"}},
		{"bound DPoP, proof by another key", func() *http.Request { return request("DPoP", bound, proof(other, "GET", api, bound, nil)) },
			want{401, "missing"}, want{401, "dpop_proof"}, want{401, "dpop_proof"}},
		{"bound DPoP, proof for another token", func() *http.Request { return request("DPoP", bound, proof(key, "GET", api, unbound, nil)) },
			want{401, "missing"}, want{401, "dpop_proof"}, want{401, "dpop_proof"}},
		{"bound DPoP, stale proof", func() *http.Request {
			return request("DPoP", bound, proof(key, "GET", api, bound, map[string]any{"iat": time.Now().Add(-2 * time.Minute).Unix()}))
		}, want{401, "missing"}, want{401, "dpop_proof"}, want{401, "dpop_proof"}},
		{"unbound token, DPoP scheme", func() *http.Request { return request("DPoP", unbound, proof(key, "GET", api, unbound, nil)) },
			want{401, "missing"}, want{401, "binding"}, want{401, "binding"}},
		{"cnf not an object", func() *http.Request { return request("Bearer", e.token(map[string]any{"cnf": "x"})) },
			want{401, "binding"}, want{401, "binding"}, want{401, "binding"}},
		{"cnf.jkt not a string", func() *http.Request {
			return request("Bearer", e.token(map[string]any{"cnf": map[string]any{"jkt": 7}}))
		},
			want{401, "binding"}, want{401, "binding"}, want{401, "binding"}},
		{"cnf.jwk (RFC 7800), not enforced", func() *http.Request {
			return request("Bearer", e.token(map[string]any{"cnf": map[string]any{"jwk": map[string]any{"kty": "EC"}}}))
		}, want{401, "binding"}, want{401, "binding"}, want{401, "binding"}},
		{"cnf.kid", func() *http.Request {
			return request("Bearer", e.token(map[string]any{"cnf": map[string]any{"kid": "k"}}))
		},
			want{401, "binding"}, want{401, "binding"}, want{401, "binding"}},
		{"cnf.JKT", func() *http.Request {
			return request("Bearer", e.token(map[string]any{"cnf": map[string]any{"JKT": "x"}}))
		},
			want{401, "binding"}, want{401, "binding"}, want{401, "binding"}},
		{"cnf empty", func() *http.Request { return request("Bearer", e.token(map[string]any{"cnf": map[string]any{}})) },
			want{401, "binding"}, want{401, "binding"}, want{401, "binding"}},
		{"cnf.jkt and an unknown member", func() *http.Request {
			return request("DPoP", e.token(map[string]any{"cnf": map[string]any{"jkt": jwttest.Thumbprint(key), "x5t": "y"}}), proof(key, "GET", api, bound, nil))
		}, want{401, "missing"}, want{401, "binding"}, want{401, "binding"}},
	} {
		for mode, w := range map[string]want{"off": tc.off, "allowed": tc.allow, "required": tc.requ} {
			t.Run(tc.name+"/"+mode, func(t *testing.T) {
				opts := middleware.Options{}
				if mode != "off" {
					opts.DPoP, opts.RequireDPoP = newChecker(t, nil), mode == "required"
				}
				var got middleware.Outcome
				opts.Observe = func(_ context.Context, o middleware.Outcome) { got = o }
				mw, err := middleware.New(e.v, opts)
				if err != nil {
					t.Fatal(err)
				}
				rec := serve(t, mw.Handler(ok), tc.req())
				if rec.Code != w.status || got.Class != w.class {
					t.Fatalf("status %d class %q, want %d %q (%v)", rec.Code, got.Class, w.status, w.class, got.Err)
				}
				challenges := strings.Join(rec.Header().Values("WWW-Authenticate"), " | ")
				switch {
				case w.class == "binding" && !strings.Contains(challenges, `error="invalid_token"`):
					t.Errorf("challenge %q, want invalid_token", challenges)
				case w.class == "dpop_proof" && !strings.Contains(challenges, `DPoP realm="api", error="invalid_dpop_proof", algs="`):
					t.Errorf("challenge %q, want a DPoP invalid_dpop_proof challenge", challenges)
				case w.status == 401 && mode != "off" && !strings.Contains(challenges, "DPoP realm"):
					t.Errorf("challenge %q, want a DPoP challenge beside Bearer", challenges)
				case mode == "off" && strings.Contains(challenges, "DPoP"):
					t.Errorf("challenge %q with DPoP off", challenges)
				}
				for _, secret := range []string{bound, unbound} {
					if strings.Contains(rec.Body.String()+challenges, secret) {
						t.Error("the answer echoes the token")
					}
				}
			})
		}
	}
	// A proof is accepted once.
	mw, _ := middleware.New(e.v, middleware.Options{DPoP: newChecker(t, nil)})
	if rec := serve(t, mw.Handler(ok), request("DPoP", bound, replayed)); rec.Code != 200 {
		t.Fatalf("first use: %d", rec.Code)
	}
	if rec := serve(t, mw.Handler(ok), request("DPoP", bound, replayed)); rec.Code != 401 || !strings.Contains(rec.Header().Get("WWW-Authenticate"), "invalid_dpop_proof") {
		t.Fatalf("replay: %d %q", rec.Code, rec.Header().Values("WWW-Authenticate"))
	}
}

// TestDPoPNonceAndStore: with server nonces, a proof without one is 401
// use_dpop_nonce with the nonce in DPoP-Nonce, and the retry with it
// passes; a replay store that cannot answer is 503 with Retry-After.
func TestDPoPNonceAndStore(t *testing.T) {
	e := newEnv(t)
	key := newECKey(t)
	bound := e.token(map[string]any{"cnf": map[string]any{"jkt": jwttest.Thumbprint(key)}})
	mw, _ := middleware.New(e.v, middleware.Options{DPoP: newChecker(t, func(c *dpop.Config) { c.NonceSecret = []byte("0123456789abcdef0123456789abcdef") })})
	rec := serve(t, mw.Handler(ok), request("DPoP", bound, jwttest.DPoPProof("ES256", key, "GET", api, bound, nil)))
	nonce := rec.Header().Get("DPoP-Nonce")
	if rec.Code != 401 || nonce == "" || !strings.Contains(rec.Header().Get("WWW-Authenticate"), `error="use_dpop_nonce"`) {
		t.Fatalf("no nonce: %d %q %q", rec.Code, nonce, rec.Header().Values("WWW-Authenticate"))
	}
	if rec := serve(t, mw.Handler(ok), request("DPoP", bound, jwttest.DPoPProof("ES256", key, "GET", api, bound, map[string]any{"nonce": nonce}))); rec.Code != 200 {
		t.Fatalf("with the nonce: %d %q", rec.Code, rec.Header().Values("WWW-Authenticate"))
	}
	mw, _ = middleware.New(e.v, middleware.Options{DPoP: newChecker(t, func(c *dpop.Config) { c.Store = failingStore{} })})
	rec = serve(t, mw.Handler(ok), request("DPoP", bound, jwttest.DPoPProof("ES256", key, "GET", api, bound, nil)))
	if rec.Code != 503 || rec.Header().Get("Retry-After") == "" {
		t.Fatalf("store down: %d, Retry-After %q", rec.Code, rec.Header().Get("Retry-After"))
	}
}

// TestDPoPPublicURL: behind a proxy, htu is judged against PublicURL, or
// against the X-Forwarded-Proto and X-Forwarded-Host of a trusted proxy,
// never those of another peer.
func TestDPoPPublicURL(t *testing.T) {
	e := newEnv(t)
	key := newECKey(t)
	bound := e.token(map[string]any{"cnf": map[string]any{"jkt": jwttest.Thumbprint(key)}})
	trusted := []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")}
	behind := func(peer string, headers ...string) *http.Request {
		r := httptest.NewRequest("GET", "http://10.1.2.3:8080/orders", nil)
		r.RemoteAddr = peer + ":4000"
		r.Header.Set("Authorization", "DPoP "+bound)
		r.Header.Set("DPoP", jwttest.DPoPProof("ES256", key, "GET", api, bound, nil))
		for i := 0; i < len(headers); i += 2 {
			r.Header.Add(headers[i], headers[i+1])
		}
		return r
	}
	for _, tc := range []struct {
		name string
		opts middleware.Options
		req  *http.Request
		want int
	}{
		{"PublicURL", middleware.Options{PublicURL: "https://api.example"}, behind("192.0.2.1"), 200},
		{"PublicURL with a port", middleware.Options{PublicURL: "https://api.example:443"}, behind("192.0.2.1"), 200},
		{"trusted proxy headers", middleware.Options{TrustedProxies: trusted},
			behind("10.0.0.1", "X-Forwarded-Proto", "https", "X-Forwarded-Host", "api.example"), 200},
		{"trusted proxy appends to the client's", middleware.Options{TrustedProxies: trusted},
			behind("10.0.0.1", "X-Forwarded-Proto", "http, https", "X-Forwarded-Host", "evil.example, api.example"), 200},
		{"untrusted peer's headers", middleware.Options{TrustedProxies: trusted},
			behind("192.0.2.1", "X-Forwarded-Proto", "https", "X-Forwarded-Host", "api.example"), 401},
		{"no public URL", middleware.Options{}, behind("10.0.0.1"), 401},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tc.opts.DPoP = newChecker(t, nil)
			mw, err := middleware.New(e.v, tc.opts)
			if err != nil {
				t.Fatal(err)
			}
			if rec := serve(t, mw.Handler(ok), tc.req); rec.Code != tc.want {
				t.Fatalf("%d, want %d", rec.Code, tc.want)
			}
		})
	}
	for _, bad := range []string{"api.example", "https://api.example/base", "https://u:p@api.example", "ftp://api.example", "https://api.example?x"} {
		if _, err := middleware.New(e.v, middleware.Options{DPoP: newChecker(t, nil), PublicURL: bad}); err == nil {
			t.Errorf("PublicURL %q accepted", bad)
		}
	}
	if _, err := middleware.New(e.v, middleware.Options{RequireDPoP: true}); err == nil {
		t.Error("RequireDPoP without DPoP accepted")
	}
}

// selfSigned returns a certificate and its x5t#S256.
func selfSigned(t *testing.T) (*x509.Certificate, string) {
	t.Helper()
	k := newECKey(t)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "client"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &k.PublicKey, k)
	if err != nil {
		t.Fatal(err)
	}
	c, _ := x509.ParseCertificate(der)
	sum := sha256.Sum256(der)
	return c, base64.RawURLEncoding.EncodeToString(sum[:])
}

// TestCertificateBinding: a token with cnf["x5t#S256"] passes only with
// that client certificate: the TLS connection's, or, from a trusted
// proxy only, the one ClientCertHeader carries.
func TestCertificateBinding(t *testing.T) {
	e := newEnv(t)
	cert, x5t := selfSigned(t)
	otherCert, _ := selfSigned(t)
	bound := e.token(map[string]any{"cnf": map[string]any{"x5t#S256": x5t}})
	trusted := []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")}
	pemHeader := url.PathEscape("-----BEGIN CERTIFICATE-----\n" + base64.StdEncoding.EncodeToString(cert.Raw) + "\n-----END CERTIFICATE-----\n")
	req := func(peer string, tlsCert *x509.Certificate, header string) *http.Request {
		r := request("Bearer", bound)
		r.RemoteAddr = peer + ":4000"
		if tlsCert != nil {
			r.TLS = &tls.ConnectionState{PeerCertificates: []*x509.Certificate{tlsCert}}
		} else {
			r.TLS = nil
		}
		if header != "" {
			r.Header.Set("X-Client-Cert", header)
		}
		return r
	}
	opts := middleware.Options{TrustedProxies: trusted, ClientCertHeader: "X-Client-Cert"}
	mw, err := middleware.New(e.v, opts)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		req  *http.Request
		want int
	}{
		{"its certificate over TLS", req("192.0.2.1", cert, ""), 200},
		{"another certificate", req("192.0.2.1", otherCert, ""), 401},
		{"no certificate, plain HTTP", req("192.0.2.1", nil, ""), 401},
		{"its certificate from a trusted proxy", req("10.0.0.1", nil, pemHeader), 200},
		{"the header from an untrusted peer", req("192.0.2.1", nil, pemHeader), 401},
		{"a trusted proxy without the header", req("10.0.0.1", nil, ""), 401},
		{"a trusted proxy with garbage", req("10.0.0.1", nil, "not a certificate"), 401},
		{"Envoy XFCC Hash from a trusted proxy", req("10.0.0.1", nil, "By=spiffe://proxy;Hash="+hexSHA256(cert.Raw)), 200},
		{"unbound token over plain HTTP", func() *http.Request { r := request("Bearer", e.token(nil)); r.TLS = nil; return r }(), 200},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if rec := serve(t, mw.Handler(ok), tc.req); rec.Code != tc.want {
				t.Fatalf("%d, want %d (%q)", rec.Code, tc.want, rec.Header().Values("WWW-Authenticate"))
			}
		})
	}
}

func hexSHA256(b []byte) string {
	sum := sha256.Sum256(b)
	const digits = "0123456789abcdef"
	out := make([]byte, 0, 64)
	for _, c := range sum {
		out = append(out, digits[c>>4], digits[c&15])
	}
	return string(out)
}

// TestRequireRequest: a RequestPolicy sees the request and the token.
func TestRequireRequest(t *testing.T) {
	e := newEnv(t)
	mw, _ := middleware.New(e.v, middleware.Options{})
	onlyGET := mw.RequireRequest(func(r *http.Request, s *access.Subject) error {
		if r.Method != http.MethodGet || s.Token.Claims.Subject != "alice" {
			return &access.Denied{Reason: "GET by alice only"}
		}
		return nil
	})
	h := mw.Handler(onlyGET(ok))
	if rec := serve(t, h, request("Bearer", e.token(nil))); rec.Code != 200 {
		t.Fatalf("GET: %d", rec.Code)
	}
	r := request("Bearer", e.token(nil))
	r.Method = http.MethodDelete
	if rec := serve(t, h, r); rec.Code != 403 {
		t.Fatalf("DELETE: %d", rec.Code)
	}
}
