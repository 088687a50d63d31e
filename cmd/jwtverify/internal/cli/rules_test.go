package cli

import (
	"context"
	"crypto/ecdsa"
	"encoding/base64"
	"encoding/json"
	"flag"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jwtverify/jwtverify/internal/mint"
	"github.com/jwtverify/jwtverify/internal/testkeys"
)

// parseProxyArgs parses args as runProxy does: flags, then the
// environment, then the --config file.
func parseProxyArgs(t *testing.T, getenv func(string) string, args ...string) (*proxyFlags, error) {
	t.Helper()
	f := new(proxyFlags)
	fs := flag.NewFlagSet("proxy", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	f.register(fs)
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	if err := applyEnv(fs, getenv); err != nil {
		return nil, err
	}
	return f, f.loadFile(fs, getenv)
}

// rulesSetup is two issuers with keys from files, a SPIFFE trust domain
// with a bundle file, and the rules of issue 13's example.
type rulesSetup struct {
	config        string // the file's path
	corp, partner func(claims map[string]any) string
	mesh          func(sub string) string
}

func newRulesSetup(t *testing.T, mode string) *rulesSetup {
	t.Helper()
	ks := testkeys.Load()
	sk := newSPIFFEKeys(t)
	corpKey := writeFile(t, "corp.pem", testkeys.PublicPEM(&ks.RSA1.PublicKey))
	partnerKey := writeFile(t, "partner.pem", testkeys.PublicPEM(&ks.P256.PublicKey))
	bundle := writeFile(t, "bundle.json", spiffeBundle(t, 1, map[string]*ecdsa.PrivateKey{"j1": sk.j1}))
	sign := func(alg string, key any, iss string) func(map[string]any) string {
		return func(extra map[string]any) string {
			c := map[string]any{"iss": iss, "aud": "orders", "sub": "alice", "exp": time.Now().Add(time.Hour).Unix()}
			for k, v := range extra {
				c[k] = v
			}
			tok, err := mint.Token(alg, key, map[string]any{}, c)
			if err != nil {
				t.Fatal(err)
			}
			return tok
		}
	}
	s := &rulesSetup{
		corp:    sign("RS256", ks.RSA1, "https://login.example.com"),
		partner: sign("ES256", ks.P256, "https://partner.example"),
		mesh:    func(sub string) string { return svid(t, sk.j1, "j1", sub) },
	}
	cfg := `mode: ` + mode + `
claims_header: X-Claims
forward_claims:
  sub: X-Auth-Subject
  org.plan: X-Auth-Plan
providers:
  corp:
    issuer: https://login.example.com
    keys: ` + corpKey + `
    audiences: [orders]
  partner:
    issuer: https://partner.example
    keys: ` + partnerKey + `
    audiences: [orders]
  mesh:
    spiffe: {trust_domain: example.org, bundle: ` + bundle + `}
    audiences: [orders]
rules:
  - match: {prefix: /healthz}
    allow_anonymous: true
  - match: {prefix: /admin, methods: [POST, DELETE]}
    providers: [corp]
    require_scopes: [admin]
  - match: {prefix: /orders}
    providers: [corp, mesh]
    require_claims: {"org.plan": gold}
  - match: {prefix: /internal}
    providers: [mesh]
    require_spiffe_ids: ["spiffe://example.org/ns/prod/*"]
  - match: {prefix: /partner}
    providers: [partner]
`
	s.config = writeFile(t, "jwtverify.yaml", []byte(cfg))
	return s
}

// TestProxyConfigRules drives a proxy configured by file: the first rule
// that matches decides; a token is judged by the provider its iss (or its
// SPIFFE trust domain) names, among the rule's providers only; the
// claims and --forward-claim headers reach upstream, the client's copies
// never do; no rule: 403; a path that is not canonical: 400.
func TestProxyConfigRules(t *testing.T) {
	s := newRulesSetup(t, "proxy")
	var mu sync.Mutex
	var seen http.Header
	upstream := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		seen = r.Header.Clone()
		mu.Unlock()
		io.WriteString(w, "upstream "+r.URL.Path)
	}))
	defer upstream.Close()
	f, err := parseProxyArgs(t, env(nil), "--config", s.config, "--listen", "127.0.0.1:0", "--upstream", upstream.URL)
	if err != nil {
		t.Fatal(err)
	}
	addr, _, stop := startProxy(t, f)
	defer stop()

	gold := map[string]any{"org": map[string]any{"plan": "gold"}}
	for _, tc := range []struct {
		name, method, path, token string
		want                      int
	}{
		{"anonymous rule", "GET", "/healthz", "", 200},
		{"anonymous rule ignores a bad token", "GET", "/healthz/deep", "not-a-token", 200},
		{"admin POST with the scope", "POST", "/admin/users", s.corp(map[string]any{"scope": "admin"}), 200},
		{"admin POST without the scope", "POST", "/admin/users", s.corp(nil), 403},
		{"admin POST from another provider", "POST", "/admin/users", s.partner(map[string]any{"scope": "admin"}), 401},
		{"admin POST without a token", "POST", "/admin", "", 401},
		{"admin GET matches no rule", "GET", "/admin/users", s.corp(map[string]any{"scope": "admin"}), 403},
		{"orders, corp, gold", "GET", "/orders/7", s.corp(gold), 200},
		{"orders, corp, not gold", "GET", "/orders/7", s.corp(map[string]any{"org": map[string]any{"plan": "free"}}), 403},
		{"orders, partner not among the rule's providers", "GET", "/orders/7", s.partner(gold), 401},
		{"orders prefix is by segment", "GET", "/ordersX", s.corp(gold), 403},
		{"internal, SVID of prod", "GET", "/internal/x", s.mesh("spiffe://example.org/ns/prod/sa/api"), 200},
		{"internal, SVID of dev", "GET", "/internal/x", s.mesh("spiffe://example.org/ns/dev/sa/api"), 403},
		{"internal, corp token", "GET", "/internal/x", s.corp(gold), 401},
		{"no rule", "GET", "/other", s.corp(gold), 403},
		{"dot segments", "GET", "/healthz/../admin/users", "", 400},
		{"encoded slash", "GET", "/healthz%2F..%2Fadmin", "", 400},
	} {
		t.Run(tc.name, func(t *testing.T) {
			req, _ := http.NewRequest(tc.method, addr+tc.path, nil)
			req.URL.Opaque = tc.path // send the path as written
			if tc.token != "" {
				req.Header.Set("Authorization", "Bearer "+tc.token)
			}
			req.Header.Set("X-Claims", "forged")
			req.Header.Set("X-Auth-Subject", "forged")
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode != tc.want {
				t.Fatalf("%s %s: %d, want %d", tc.method, tc.path, resp.StatusCode, tc.want)
			}
			if tc.want != 200 {
				return
			}
			mu.Lock()
			h := seen
			mu.Unlock()
			if h.Get("X-Auth-Subject") == "forged" || h.Get("X-Claims") == "forged" {
				t.Fatalf("a client's header reached upstream: %v", h)
			}
			if tc.token == "" || strings.HasPrefix(tc.path, "/healthz") {
				if h.Get("X-Claims") != "" {
					t.Fatalf("an anonymous request carries claims upstream")
				}
				return
			}
			raw, _ := base64.RawURLEncoding.DecodeString(h.Get("X-Claims"))
			var claims map[string]any
			if json.Unmarshal(raw, &claims) != nil || claims["sub"] == nil {
				t.Fatalf("claims header %q", h.Get("X-Claims"))
			}
			if h.Get("X-Auth-Subject") != claims["sub"] {
				t.Fatalf("X-Auth-Subject %q, sub %v", h.Get("X-Auth-Subject"), claims["sub"])
			}
			if strings.HasPrefix(tc.path, "/orders") && h.Get("X-Auth-Plan") != "gold" {
				t.Fatalf("X-Auth-Plan %q", h.Get("X-Auth-Plan"))
			}
		})
	}
}

// TestForwardAuth: in forward-auth mode each request is a check of the
// original request, whose method and URI come from a trusted proxy's
// X-Forwarded-Method/-Uri (Traefik) or X-Original-Method/-URI (nginx), or
// are the check's own (Envoy); an untrusted peer's headers are ignored.
// Answers: 200 with the claims headers (sanitised), 401 with
// WWW-Authenticate, 403, or 503 with Retry-After.
func TestForwardAuth(t *testing.T) {
	s := newRulesSetup(t, "forward-auth")
	for _, trusted := range []bool{true, false} {
		args := []string{"--config", s.config, "--listen", "127.0.0.1:0"}
		if trusted {
			args = append(args, "--trusted-proxy", "127.0.0.1/32")
		}
		f, err := parseProxyArgs(t, env(nil), args...)
		if err != nil {
			t.Fatal(err)
		}
		addr, _, stop := startProxy(t, f)
		check := func(method, path string, h map[string]string) *http.Response {
			req, _ := http.NewRequest(method, addr+path, nil)
			for k, v := range h {
				req.Header.Set(k, v)
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			return resp
		}
		admin := "Bearer " + s.corp(map[string]any{"scope": "admin", "sub": "bob\r\nX-Injected: 1\x00é"})
		traefik := map[string]string{"X-Forwarded-Method": "POST", "X-Forwarded-Uri": "/admin/users?x=1", "Authorization": admin}
		nginx := map[string]string{"X-Original-Method": "POST", "X-Original-URI": "/admin/users", "Authorization": admin}
		if trusted {
			for name, h := range map[string]map[string]string{"traefik": traefik, "nginx": nginx} {
				resp := check("GET", "/auth", h)
				if resp.StatusCode != 200 {
					t.Fatalf("%s admin check: %d", name, resp.StatusCode)
				}
				// A value with CR, LF, NUL or non-ASCII gives no header at
				// all: a cleaned one could equal another account's.
				if got, ok := resp.Header["X-Auth-Subject"]; ok || resp.Header.Get("X-Injected") != "" {
					t.Fatalf("%s: X-Auth-Subject %q from a claim with CR, LF and NUL", name, got)
				}
				if resp.Header.Get("X-Claims") == "" {
					t.Fatalf("%s: no claims header", name)
				}
			}
			if resp := check("GET", "/auth", map[string]string{"X-Original-Method": "DELETE", "X-Original-URI": "/admin", "Authorization": "Bearer " + s.corp(nil)}); resp.StatusCode != 403 {
				t.Fatalf("no scope: %d", resp.StatusCode)
			}
			if resp := check("GET", "/auth", map[string]string{"X-Original-Method": "GET", "X-Original-URI": "/healthz"}); resp.StatusCode != 200 || resp.Header.Get("X-Claims") != "" {
				t.Fatalf("anonymous: %d", resp.StatusCode)
			}
			if resp := check("GET", "/auth", map[string]string{"X-Original-Method": "GET", "X-Original-URI": "/healthz/../admin"}); resp.StatusCode != 403 {
				t.Fatalf("dot segments: %d", resp.StatusCode)
			}
			// nginx copies the client's headers into the subrequest: a
			// client's X-Forwarded-Uri beside the X-Original-URI nginx set
			// must not choose the path judged.
			// A URI without its method would be judged with the check's own.
			if resp := check("GET", "/auth", map[string]string{"X-Original-URI": "/admin/users", "Authorization": admin}); resp.StatusCode != 400 {
				t.Fatalf("URI without method: %d, want 400", resp.StatusCode)
			}
			both := map[string]string{"X-Original-Method": "POST", "X-Original-URI": "/admin/users", "X-Forwarded-Uri": "/healthz", "Authorization": "Bearer " + s.corp(nil)}
			if resp := check("GET", "/auth", both); resp.StatusCode != 400 {
				t.Fatalf("both header pairs: %d, want 400", resp.StatusCode)
			}
		} else {
			// From an untrusted peer the headers are ignored: the check is
			// of GET /auth, which no rule matches.
			if resp := check("GET", "/auth", traefik); resp.StatusCode != 403 || resp.Header.Get("X-Auth-Subject") != "" {
				t.Fatalf("untrusted peer's X-Forwarded-Uri was obeyed: %d", resp.StatusCode)
			}
		}
		// Envoy ext_authz: the original method and path are the check's own.
		resp := check("POST", "/admin/users", map[string]string{"Authorization": admin})
		if resp.StatusCode != 200 {
			t.Fatalf("envoy-style check: %d", resp.StatusCode)
		}
		resp = check("POST", "/admin/users", nil)
		if resp.StatusCode != 401 || !strings.HasPrefix(resp.Header.Get("WWW-Authenticate"), "Bearer") {
			t.Fatalf("no token: %d %q", resp.StatusCode, resp.Header.Get("WWW-Authenticate"))
		}
		resp = check("POST", "/admin/users", map[string]string{"Authorization": "Bearer " + s.partner(nil)})
		if resp.StatusCode != 401 {
			t.Fatalf("other provider: %d", resp.StatusCode)
		}
		if err := stop(); err != nil {
			t.Fatal(err)
		}
	}
}

// TestForwardAuthKeysUnavailable: while a provider's keys have not
// arrived, its checks get 503 with Retry-After, and readiness is 503.
func TestForwardAuthKeysUnavailable(t *testing.T) {
	down := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "down", http.StatusServiceUnavailable)
	}))
	defer down.Close()
	cfg := writeFile(t, "c.yaml", []byte(`mode: forward-auth
providers:
  corp:
    issuer: https://login.example.com
    jwks: `+down.URL+`
rules:
  - match: {prefix: /}
    providers: [corp]
`))
	f, err := parseProxyArgs(t, env(nil), "--config", cfg, "--listen", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p, err := newProxy(f, discardLogger())
	if err != nil {
		t.Fatal(err)
	}
	defer p.close()
	ks := testkeys.Load()
	tok, _ := mint.Token("RS256", ks.RSA1, map[string]any{"kid": "k"}, map[string]any{"iss": "https://login.example.com", "exp": time.Now().Add(time.Hour).Unix()})
	req := httptest.NewRequest("GET", "/anything", nil)
	req.Header.Set("Authorization", "Bearer "+tok)
	rec := httptest.NewRecorder()
	p.handler.ServeHTTP(rec, req.WithContext(context.Background()))
	if rec.Code != 503 || rec.Header().Get("Retry-After") == "" {
		t.Fatalf("keys unavailable: %d, Retry-After %q", rec.Code, rec.Header().Get("Retry-After"))
	}
	if p.ready() {
		t.Fatal("ready without keys")
	}
}
