package cli

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/jwtverify/jwtverify/internal/mint"
	"github.com/jwtverify/jwtverify/internal/testkeys"
)

// rawGet sends one request exactly as written (method and target) and
// returns the status.
func rawGet(t *testing.T, addr, method, target string, headers map[string]string) int {
	t.Helper()
	c, err := net.Dial("tcp", strings.TrimPrefix(addr, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	var b strings.Builder
	fmt.Fprintf(&b, "%s %s HTTP/1.1\r\nHost: proxy.test\r\nConnection: close\r\n", method, target)
	for k, v := range headers {
		fmt.Fprintf(&b, "%s: %s\r\n", k, v)
	}
	b.WriteString("\r\n")
	io.WriteString(c, b.String())
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

// TestRuleSpellings: a request for a protected path or method spelled
// another way (letter case, path parameters, encoded or trailing
// characters, a lower-case method, HEAD for GET) never falls through to a
// later anonymous rule, and method-override headers never reach the
// upstream.
func TestRuleSpellings(t *testing.T) {
	ks := testkeys.Load()
	key := writeFile(t, "corp.pem", testkeys.PublicPEM(&ks.RSA1.PublicKey))
	cfg := writeFile(t, "c.yaml", []byte(`providers:
  corp:
    issuer: https://login.example.com
    keys: `+key+`
rules:
  - match: {prefix: /admin}
    providers: [corp]
  - match: {prefix: /api/write, methods: [POST, PUT, DELETE]}
    providers: [corp]
  - match: {prefix: /reports, methods: [GET]}
    providers: [corp]
  - match: {prefix: /}
    allow_anonymous: true
`))
	var mu sync.Mutex
	var reached []string
	upstream := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		reached = append(reached, r.Method+" "+r.URL.RequestURI()+" override="+r.Header.Get("X-HTTP-Method-Override")+r.Header.Get("X-Http-Method")+r.Header.Get("X-Method-Override"))
		mu.Unlock()
	}))
	defer upstream.Close()
	f, err := parseProxyArgs(t, env(nil), "--config", cfg, "--listen", "127.0.0.1:0", "--upstream", upstream.URL)
	if err != nil {
		t.Fatal(err)
	}
	addr, _, stop := startProxy(t, f)
	defer stop()
	for _, tc := range []struct {
		method, target string
		want           int
	}{
		{"GET", "/ADMIN/users", 401},
		{"GET", "/Admin", 401},
		{"GET", "/admin;x=1/users", 400},
		{"GET", "/admin%3b/users", 400},
		{"GET", "/admin./users", 400},
		{"GET", "/admin%00", 400},
		{"GET", "/admin%20", 400},
		{"GET", "/public/%252e%252e/admin", 400},
		{"post", "/api/write", 400},
		{"HEAD", "/reports", 401},
		{"GET", "/public", 200},
	} {
		if got := rawGet(t, addr, tc.method, tc.target, nil); got != tc.want {
			t.Errorf("%s %s without a token: %d, want %d", tc.method, tc.target, got, tc.want)
		}
	}
	for _, h := range []string{"X-HTTP-Method-Override", "X-Http-Method", "X_Method_Override"} {
		if got := rawGet(t, addr, "POST", "/public", map[string]string{h: "DELETE"}); got != 200 {
			t.Fatalf("POST /public: %d", got)
		}
	}
	mu.Lock()
	defer mu.Unlock()
	for _, r := range reached {
		if !strings.HasSuffix(r, "override=") || !strings.HasPrefix(r, "GET /public") && !strings.HasPrefix(r, "POST /public") {
			t.Errorf("the upstream got %q", r)
		}
	}
}

// TestHeaderValue: a claim becomes a header value only when it is plain
// visible ASCII; otherwise no header, never a cleaned value that could
// equal another claim's.
func TestHeaderValue(t *testing.T) {
	for _, tc := range []struct {
		v    any
		want string
		ok   bool
	}{
		{"alice", "alice", true},
		{"a b", "a b", true},
		{[]any{"dev", "admin"}, "dev,admin", true},
		{true, "true", true},
		{"ad\u00admin@corp.example", "", false},
		{"admin\u200b", "", false},
		{"bob\r\nX-Injected: 1", "", false},
		{"bob\x00", "", false},
		{" admin", "", false},
		{"admin ", "", false},
		{"", "", false},
		{[]any{"dev,admin"}, "", false},
		{[]any{"dev", map[string]any{}}, "", false},
		{[]any{}, "", false},
		{map[string]any{"a": "b"}, "", false},
		{nil, "", false},
	} {
		got, ok := headerValue(tc.v)
		if ok != tc.ok || ok && got != tc.want {
			t.Errorf("headerValue(%#v) = %q, %v; want %q, %v", tc.v, got, ok, tc.want, tc.ok)
		}
	}
}

// TestStripSpellings: the claims and --forward-claim headers are removed
// from requests in every spelling, also when configured with "_".
func TestStripSpellings(t *testing.T) {
	s := strippedHeaders{claims: "X_Jwt_Claims", forwarded: []forwardClaim{{header: "X_Auth_User"}}}
	r := httptest.NewRequest("GET", "/", nil)
	for _, name := range []string{"X-Jwt-Claims", "X_Jwt_Claims", "x-jwt_claims", "X-Auth-User", "X_AUTH_USER", "X-Http-Method-Override"} {
		r.Header[name] = []string{"forged"}
	}
	r.Header.Set("X-Other", "kept")
	s.strip(r)
	if len(r.Header) != 1 || r.Header.Get("X-Other") != "kept" {
		t.Fatalf("after strip: %v", r.Header)
	}
	if _, err := parseForwardClaims([]string{"sub=Authorization"}); err == nil {
		t.Fatal("--forward-claim onto Authorization accepted")
	}
	if _, err := parseForwardClaims([]string{"sub=X-Forwarded-For"}); err == nil {
		t.Fatal("--forward-claim onto X-Forwarded-For accepted")
	}
}

// TestProviderFetchSecrets: --fetch-bearer-file goes to one provider's
// endpoint only: beside two providers that fetch, it is refused, and a
// provider's own fetch_bearer_file is sent to that provider alone.
func TestProviderFetchSecrets(t *testing.T) {
	var mu sync.Mutex
	seen := map[string]string{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		seen[r.URL.Path] = r.Header.Get("Authorization")
		mu.Unlock()
		io.WriteString(w, `{"keys":[]}`)
	}))
	defer srv.Close()
	token := writeFile(t, "sa-token", []byte("cluster-secret"))
	twoRemotes := func(extra string) string {
		return writeFile(t, "c.yaml", []byte(`providers:
  cluster:
    issuer: https://kubernetes.default.svc
    jwks: `+srv.URL+`/cluster
`+extra+`  partner:
    issuer: https://partner.example
    jwks: `+srv.URL+`/partner
rules:
  - match: {prefix: /}
    providers: [cluster, partner]
`))
	}
	f, err := parseProxyArgs(t, env(nil), "--config", twoRemotes(""), "--listen", "127.0.0.1:0", "--upstream", "http://127.0.0.1:9", "--fetch-bearer-file", token)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := newProxy(f, discardLogger()); err == nil || !strings.Contains(err.Error(), "fetch_bearer_file") {
		t.Fatalf("--fetch-bearer-file with two fetching providers: %v", err)
	}
	f, err = parseProxyArgs(t, env(nil), "--config", twoRemotes("    fetch_bearer_file: "+token+"\n"), "--listen", "127.0.0.1:0", "--upstream", "http://127.0.0.1:9")
	if err != nil {
		t.Fatal(err)
	}
	p, err := newProxy(f, discardLogger())
	if err != nil {
		t.Fatal(err)
	}
	defer p.close()
	for _, w := range p.warmers {
		w.attempt(t.Context())
	}
	mu.Lock()
	defer mu.Unlock()
	if seen["/cluster"] != "Bearer cluster-secret" || seen["/partner"] != "" {
		t.Fatalf("Authorization sent: %q", seen)
	}
}

// TestSPIFFEIDNeedsTheBundle: on a rule with require_spiffe_ids, an
// issuer's token whose sub is a SPIFFE ID never passes: only a trust
// domain's bundle vouches for a workload.
func TestSPIFFEIDNeedsTheBundle(t *testing.T) {
	s := newRulesSetup(t, "proxy")
	cfg := strings.Replace(mustRead(t, s.config), "  - match: {prefix: /partner}", "  - match: {prefix: /workloads}\n    providers: [corp, mesh]\n    require_spiffe_ids: [\"spiffe://example.org/ns/prod/*\"]\n  - match: {prefix: /partner}", 1)
	upstream := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	defer upstream.Close()
	f, err := parseProxyArgs(t, env(nil), "--config", writeFile(t, "w.yaml", []byte(cfg)), "--listen", "127.0.0.1:0", "--upstream", upstream.URL)
	if err != nil {
		t.Fatal(err)
	}
	addr, _, stop := startProxy(t, f)
	defer stop()
	prodID := "spiffe://example.org/ns/prod/sa/payments"
	for name, tc := range map[string]struct {
		token string
		want  int
	}{
		"issuer token with a SPIFFE sub": {s.corp(map[string]any{"sub": prodID}), 401},
		"SVID of prod":                   {s.mesh(prodID), 200},
	} {
		if got := rawGet(t, addr, "GET", "/workloads/x", map[string]string{"Authorization": "Bearer " + tc.token}); got != tc.want {
			t.Errorf("%s: %d, want %d", name, got, tc.want)
		}
	}
	if _, err := parseConfig([]byte(strings.Replace(cfg, "providers: [corp, mesh]\n    require_spiffe_ids", "providers: [corp]\n    require_spiffe_ids", 1)), env(nil)); err == nil || !strings.Contains(err.Error(), "require_spiffe_ids needs a spiffe provider") {
		t.Fatalf("require_spiffe_ids with issuer providers only: %v", err)
	}
}

func mustRead(t *testing.T, path string) string {
	t.Helper()
	b, err := readFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestProxyNowFromEnvironment: the proxy takes --now from its command
// line only; JWTVERIFY_NOW, a clock frozen by an environment, is refused.
func TestProxyNowFromEnvironment(t *testing.T) {
	t.Setenv("JWTVERIFY_NOW", "1300819000")
	var stderr strings.Builder
	if code := Run([]string{"proxy", "--listen", "127.0.0.1:0", "--upstream", "http://127.0.0.1:9", "--key", "x"}, nil, io.Discard, &stderr); code != ExitUsage || !strings.Contains(stderr.String(), "JWTVERIFY_NOW") {
		t.Fatalf("exit %d, %q", code, stderr.String())
	}
}

// TestConfigStrictYAML: one document only; no anchors, aliases, merge keys
// or unusual tags anywhere (require_claims included); a value from the
// environment is typed by its expanded form and never quoted in an error.
func TestConfigStrictYAML(t *testing.T) {
	for name, tc := range map[string]struct{ file, want string }{
		"second document":         {issueExample + "---\nlisten: :1\nbogus: x\n", "a second YAML document"},
		"alias in require_claims": {"x: &p gold\n" + strings.Replace(issueExample, `require_claims: {"org.plan": gold}`, "require_claims: {\"org.plan\": *p}", 1), "anchors and aliases"},
		"merge key":               {strings.Replace(issueExample, `require_claims: {"org.plan": gold}`, "require_claims: {<<: {a: b}}", 1), "merge keys"},
		"binary tag":              {strings.Replace(issueExample, "gold}", "!!binary Z29sZA==}", 1), "tag"},
		"secret in a type error":  {strings.Replace(issueExample, "    discovery: true ", "    leeway: ${SECRET}\n    discovery: true ", 1), "line 7"},
	} {
		_, err := parseConfig([]byte(tc.file), env(map[string]string{"SECRET": "hunter2-s3cret"}))
		if err == nil || !strings.Contains(err.Error(), tc.want) || strings.Contains(err.Error(), "hunter2") {
			t.Errorf("%s: %v, want an error with %q and no secret", name, err, tc.want)
		}
	}
	cfg, err := parseConfig([]byte(strings.Replace(issueExample, "discovery: true ", "discovery: ${D} ", 1)), env(map[string]string{"D": "true"}))
	if err != nil || !cfg.Providers["corp"].Discovery {
		t.Fatalf("discovery: ${D} with D=true: %v", err)
	}
}

// TestReadinessAfterBoot: readiness is about boot. An outage past
// MaxStale makes the provider's tokens 503 with Retry-After, but readyz
// stays 200, and an idle proxy refreshes a set twice a day, not every
// few minutes.
func TestReadinessAfterBoot(t *testing.T) {
	ks := testkeys.Load()
	jwk, _ := mint.JWK(&ks.RSA1.PublicKey, "k1", "RS256")
	p := &idp{jwks: []byte(`{"keys":[` + mustJSON(t, jwk) + `]}`)}
	p.up.Store(true)
	synctestRun(t, func(t *testing.T) {
		f := parseProxyFlags(t, "--listen", "mem", "--upstream", "http://upstream.test", "--jwks", idpIssuer+"/jwks", "--issuer", idpIssuer, "--audience", "orders")
		f.remoteCfg.Client = &http.Client{Transport: p}
		m := startMemProxy(t, f, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
		readyz := func() int {
			c := dialMem(t, m.metrics)
			c.send("", "GET /readyz HTTP/1.1", "Host: x", "Connection: close")
			resp, _ := c.response(t)
			return resp.StatusCode
		}
		time.Sleep(time.Second)
		if readyz() != 200 {
			t.Fatal("not ready with the IdP up")
		}
		before := p.requests.Load()
		time.Sleep(24 * time.Hour)
		if n := p.requests.Load() - before; n > 3 {
			t.Fatalf("%d fetches in 24 idle hours", n)
		}
		p.up.Store(false)
		time.Sleep(49 * time.Hour) // past MaxStale (24h) with no fetch succeeding
		if readyz() != 200 {
			t.Fatal("readyz turned 503 on an outage after boot")
		}
		token, _ := mint.Token("RS256", ks.RSA1, map[string]any{"kid": "k1"}, map[string]any{"iss": idpIssuer, "aud": "orders", "exp": time.Now().Add(time.Hour).Unix()})
		c := dialMem(t, m.proxy)
		c.send("", "GET /x HTTP/1.1", "Host: x", "Connection: close", "Authorization: Bearer "+token)
		if resp, _ := c.response(t); resp.StatusCode != 503 || resp.Header.Get("Retry-After") == "" {
			t.Fatalf("a token with the set past MaxStale: %d", resp.StatusCode)
		}
	})
}

func mustJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func synctestRun(t *testing.T, f func(*testing.T)) { synctest.Test(t, f) }

// TestRuleSpellingsRound2: runes whose case reaches ASCII (ſ, ı, İ, K) and
// invalid or overlong UTF-8 are refused; a POST is judged by a rule
// listing DELETE (frameworks run DELETE for POST ?_method=DELETE); a
// forwarded claim never takes the claims or certificate header's name;
// an anonymous rule cannot shadow a later verifying one in another case.
func TestRuleSpellingsRound2(t *testing.T) {
	ks := testkeys.Load()
	key := writeFile(t, "corp.pem", testkeys.PublicPEM(&ks.RSA1.PublicKey))
	cfg := writeFile(t, "c.yaml", []byte(`providers:
  corp:
    issuer: https://login.example.com
    keys: `+key+`
rules:
  - match: {prefix: /secret}
    providers: [corp]
  - match: {prefix: /comments, methods: [DELETE, PUT, PATCH]}
    providers: [corp]
  - match: {prefix: /}
    allow_anonymous: true
`))
	upstream := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	defer upstream.Close()
	f, err := parseProxyArgs(t, env(nil), "--config", cfg, "--listen", "127.0.0.1:0", "--upstream", upstream.URL)
	if err != nil {
		t.Fatal(err)
	}
	addr, _, stop := startProxy(t, f)
	defer stop()
	for _, tc := range []struct {
		method, target string
		want           int
	}{
		{"GET", "/%C5%BFecret", 400}, // ſ
		{"GET", "/\u017fecret", 400}, // ſ, raw
		{"GET", "/s%C4%B1cret", 400}, // ı
		{"GET", "/%E2%84%AAey", 400}, // K (Kelvin)
		{"GET", "/public/%c0%ae%c0%ae/secret", 400},
		{"GET", "/%c1%81dmin", 400},
		{"GET", "/caf%C3%A9", 200}, // é: its case stays non-ASCII
		{"POST", "/comments/7?_method=DELETE", 401},
		{"POST", "/other", 200},
	} {
		if got := rawGet(t, addr, tc.method, tc.target, nil); got != tc.want {
			t.Errorf("%s %s without a token: %d, want %d", tc.method, tc.target, got, tc.want)
		}
	}
	for _, args := range [][]string{
		{"--forward-claim", "name=X-Jwt-Claims"},
		{"--forward-claim", "name=x_jwt_claims"},
		{"--client-cert-header", "X-SSL-Client-Cert", "--trusted-proxy", "127.0.0.1/32", "--forward-claim", "name=X-SSL-Client-Cert"},
		{"--claims-header", "X-Forwarded-User"},
	} {
		pf := parseProxyFlags(t, append([]string{"--listen", "127.0.0.1:0", "--upstream", upstream.URL, "--key", key}, args...)...)
		if p, err := newProxy(pf, discardLogger()); err == nil {
			p.close()
			t.Errorf("%v accepted", args)
		}
	}
	shadow := strings.Replace(issueExample, "  - match: {prefix: /healthz}\n    allow_anonymous: true\n", "  - match: {prefix: /public}\n    allow_anonymous: true\n  - match: {prefix: /PUBLIC/admin}\n    providers: [corp]\n", 1)
	if _, err := parseConfig([]byte(shadow), env(nil)); err == nil || !strings.Contains(err.Error(), "unreachable") {
		t.Fatalf("anonymous /public before verifying /PUBLIC/admin: %v", err)
	}
}
