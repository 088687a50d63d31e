package cli

import (
	"bufio"
	"context"
	"encoding/base64"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jwtverify/jwtverify/cmd/jwtverify/internal/nginxtest"
	"github.com/jwtverify/jwtverify/internal/mint"
	"github.com/jwtverify/jwtverify/internal/testkeys"
)

// nginxLocations is the server block of the nginx recipe in
// docs/deployment.md, as the test runs it: every request under / is
// checked by the forward-auth proxy at JWTVERIFY with auth_request, and
// goes on to UPSTREAM with the subject and the claims of the proxy's
// answer. The check must not carry a client's X-Forwarded-Uri or
// X-Forwarded-Method: nginx passes the client's headers on, and the proxy
// refuses (400) a check carrying both pairs, so the empty values remove
// them. nginx itself passes the 401's WWW-Authenticate to the client;
// @403 passes the 403's (insufficient_scope), and @500 turns the proxy's
// 503 (keys not there yet), which auth_request makes a 500, back into a
// 503 with its Retry-After.
const nginxLocations = `
location / {
    auth_request /_jwtverify;
    auth_request_set $auth_subject $upstream_http_x_auth_subject;
    auth_request_set $auth_claims $upstream_http_x_jwt_claims;
    auth_request_set $auth_www $upstream_http_www_authenticate;
    auth_request_set $auth_status $upstream_status;
    auth_request_set $auth_retry_after $upstream_http_retry_after;
    proxy_set_header X-Auth-Subject $auth_subject;
    proxy_set_header X-Jwt-Claims $auth_claims;
    proxy_pass http://UPSTREAM;
    error_page 403 = @403;
    error_page 500 = @500;
}

location = /_jwtverify {
    internal;
    proxy_pass http://JWTVERIFY/;
    proxy_pass_request_body off;
    proxy_set_header Content-Length "";
    proxy_set_header X-Original-URI $request_uri;
    proxy_set_header X-Original-Method $request_method;
    proxy_set_header X-Forwarded-Uri "";
    proxy_set_header X-Forwarded-Method "";
}

location @403 {
    add_header WWW-Authenticate $auth_www always;
    return 403;
}

location @500 {
    if ($auth_status = 503) {
        add_header Retry-After $auth_retry_after always;
        return 503;
    }
    return 500;
}
`

// nginxProxyConfig is the forward-auth proxy's file in the recipe; keys
// is the provider's source of keys ("keys: FILE", "jwks: URL").
func nginxProxyConfig(keys string) string {
	return `mode: forward-auth
providers:
  corp:
    issuer: https://login.example.com
    ` + keys + `
    audiences: [orders]
rules:
  - match: {prefix: /healthz}
    allow_anonymous: true
  - match: {prefix: /admin, methods: [POST, DELETE]}
    providers: [corp]
    require_scopes: [admin]
  - match: {prefix: /orders}
    providers: [corp]
    require_scopes: ["orders:read"]
`
}

// nginxProxyFlags are the forward-auth proxy's flags in the recipe, with
// the file at cfg.
func nginxProxyFlags(t *testing.T, cfg string) *proxyFlags {
	t.Helper()
	f, err := parseProxyArgs(t, env(nil), "--config", cfg, "--listen", "127.0.0.1:0",
		"--trusted-proxy", "127.0.0.1/32", "--forward-claim", "sub=X-Auth-Subject")
	if err != nil {
		t.Fatal(err)
	}
	return f
}

// startNginxFront starts nginx with the recipe's locations, checking at
// jwtverify (host:port) and passing to upstream (host:port).
func startNginxFront(t *testing.T, jwtverify, upstream string) *nginxtest.Server {
	t.Helper()
	ngx := nginxtest.Start(t, strings.NewReplacer("UPSTREAM", upstream, "JWTVERIFY", jwtverify).Replace(nginxLocations))
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("nginx on %s checking at %s: error log:\n%s\naccess log:\n%s", ngx.Addr(), jwtverify, ngx.ErrorLog(), ngx.AccessLog())
		}
	})
	return ngx
}

// serveUnready serves the proxy of f on loopback without waiting for its
// keys, until the test ends, and returns its host:port.
func serveUnready(t *testing.T, f *proxyFlags) string {
	t.Helper()
	p, err := newProxy(f, discardLogger())
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- serveProxy(ctx, p, ln, nil) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("proxy shutdown: %v", err)
		}
		p.close()
	})
	return ln.Addr().String()
}

// echoed is what the upstream behind nginx got, as it answers it.
type echoed struct {
	Method string      `json:"method"`
	URI    string      `json:"uri"`
	Header http.Header `json:"header"`
}

// TestNginxForwardAuth runs the nginx auth_request recipe of
// docs/deployment.md against a real nginx (nginxtest finds it, or
// installs Debian's package as root, or fails saying how to install it)
// and the forward-auth proxy. A verified request reaches the upstream,
// as sent, with X-Auth-Subject and X-Jwt-Claims from the proxy's answer,
// never the client's copies (nor on an anonymous rule); no token or a
// bad one is 401 with the proxy's Bearer challenge, once; a token the
// rule refuses is 403 with its insufficient_scope challenge; a request
// no rule matches (by path or by the original method) is 403; a client's
// X-Original-URI is overridden, and its X-Forwarded-Uri removed; a path with dot segments or "//" is
// judged as sent ($request_uri), not as nginx normalised it, and refused
// with 403, and one that climbs above the root is nginx's own 400. While
// the keys are not there, checks are 503 with the proxy's Retry-After
// (anonymous rules still pass); with the proxy down, 500. No refused
// request reaches the upstream.
func TestNginxForwardAuth(t *testing.T) {
	var hits atomic.Int32
	upstream := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		w.Header().Set("X-Upstream", "yes")
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(echoed{r.Method, r.RequestURI, r.Header})
	}))
	t.Cleanup(upstream.Close)
	upstreamAddr := strings.TrimPrefix(upstream.URL, "http://")

	ks := testkeys.Load()
	keyFile := writeFile(t, "corp.pem", testkeys.PublicPEM(&ks.RSA1.PublicKey))
	proxyURL, _, stop := startProxy(t, nginxProxyFlags(t, writeFile(t, "jwtverify.yaml", []byte(nginxProxyConfig("keys: "+keyFile)))))
	t.Cleanup(func() {
		if err := stop(); err != nil {
			t.Errorf("proxy shutdown: %v", err)
		}
	})
	proxyAddr := strings.TrimPrefix(proxyURL, "http://")

	// A second proxy whose JWKS endpoint answers 503: its keys never come.
	jwksDown := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "down", http.StatusServiceUnavailable)
	}))
	t.Cleanup(jwksDown.Close)
	unreadyAddr := serveUnready(t, nginxProxyFlags(t, writeFile(t, "unready.yaml", []byte(nginxProxyConfig("jwks: "+jwksDown.URL)))))
	// A dead proxy: connections are closed at once, unanswered. (A port
	// left free could be taken by one of the nginx instances meanwhile.)
	dead, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { dead.Close() })
	go func() {
		for {
			c, err := dead.Accept()
			if err != nil {
				return
			}
			c.Close()
		}
	}()
	deadAddr := dead.Addr().String()

	fronts := map[string]*nginxtest.Server{
		"ready":   startNginxFront(t, proxyAddr, upstreamAddr),
		"unready": startNginxFront(t, unreadyAddr, upstreamAddr),
		"dead":    startNginxFront(t, deadAddr, upstreamAddr),
	}

	token := func(claims map[string]any) string {
		c := map[string]any{"iss": "https://login.example.com", "aud": "orders", "sub": "alice", "exp": time.Now().Add(time.Hour).Unix()}
		for k, v := range claims {
			c[k] = v
		}
		tok, err := mint.Token("RS256", ks.RSA1, map[string]any{}, c)
		if err != nil {
			t.Fatal(err)
		}
		return "Bearer " + tok
	}
	reader := token(map[string]any{"scope": "orders:read"})
	admin := token(map[string]any{"scope": "admin", "sub": "root"})
	noScope := token(nil)
	badSig := reader[:len(reader)-6] + "AAAAAA"
	forged := map[string]string{"X-Auth-Subject": "mallory", "X-Jwt-Claims": "forged", "X_Auth_Subject": "mallory"}

	// The unready proxy's own answer, which nginx must pass on.
	direct, _ := rawRequest(t, unreadyAddr, "GET", "/", map[string]string{"X-Original-Method": "GET", "X-Original-URI": "/orders/7", "Authorization": reader})
	if direct.StatusCode != 503 || direct.Header.Get("Retry-After") == "" {
		t.Fatalf("the unready proxy answers %d, Retry-After %q; want 503 with one", direct.StatusCode, direct.Header.Get("Retry-After"))
	}

	type want struct {
		status     int
		upstream   bool   // the answer is the upstream's
		subject    string // X-Auth-Subject the upstream saw ("": none)
		www        string // the one WWW-Authenticate starts with it ("": none)
		retryAfter string // Retry-After ("": none)
	}
	for _, tc := range []struct {
		name, front, method, path, auth string
		header                          map[string]string
		want                            want
	}{
		{"valid token", "ready", "GET", "/orders/7?x=1", reader, forged, want{status: 200, upstream: true, subject: "alice"}},
		{"method from X-Original-Method", "ready", "POST", "/admin/users", admin, forged, want{status: 200, upstream: true, subject: "root"}},
		{"anonymous rule: the client's copies dropped", "ready", "GET", "/healthz", "", forged, want{status: 200, upstream: true}},
		{"no token", "ready", "GET", "/orders/7", "", nil, want{status: 401, www: `Bearer realm="jwtverify"`}},
		{"bad signature", "ready", "GET", "/orders/7", badSig, nil, want{status: 401, www: `Bearer realm="jwtverify", error="invalid_token", error_description="signature"`}},
		{"client's X-Original-URI overridden", "ready", "GET", "/orders/7", "", map[string]string{"X-Original-URI": "/healthz", "X-Original-Method": "GET"}, want{status: 401, www: `Bearer realm="jwtverify"`}},
		{"client's X-Forwarded-Uri removed", "ready", "GET", "/orders/7", "", map[string]string{"X-Forwarded-Uri": "/healthz", "X-Forwarded-Method": "GET"}, want{status: 401, www: `Bearer realm="jwtverify"`}},
		{"policy refuses", "ready", "GET", "/orders/7", noScope, nil, want{status: 403, www: `Bearer realm="jwtverify", error="insufficient_scope", scope="orders:read"`}},
		{"no rule for the method", "ready", "GET", "/admin/users", admin, nil, want{status: 403}},
		{"no rule for the path", "ready", "GET", "/other", reader, nil, want{status: 403}},
		{"dot segments into a protected path, no token", "ready", "GET", "/healthz/../orders/7", "", nil, want{status: 403}},
		{"dot segments, valid token", "ready", "GET", "/orders/x/../7", reader, nil, want{status: 403}},
		{"encoded dot segments", "ready", "GET", "/healthz/%2e%2e/orders/7", "", nil, want{status: 403}},
		{"double slash", "ready", "GET", "/healthz//x", "", nil, want{status: 403}},
		{"dot segments above the root: nginx's own 400", "ready", "GET", "/../orders/7", reader, nil, want{status: 400}},
		{"keys not there yet", "unready", "GET", "/orders/7", reader, nil, want{status: 503, retryAfter: direct.Header.Get("Retry-After")}},
		{"keys not there yet, anonymous rule", "unready", "GET", "/healthz", "", nil, want{status: 200, upstream: true}},
		{"proxy down", "dead", "GET", "/orders/7", reader, nil, want{status: 500}},
		{"proxy down, anonymous path", "dead", "GET", "/healthz", "", nil, want{status: 500}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := hits.Load()
			h := map[string]string{}
			for k, v := range tc.header {
				h[k] = v
			}
			if tc.auth != "" {
				h["Authorization"] = tc.auth
			}
			resp, body := rawRequest(t, fronts[tc.front].Addr(), tc.method, tc.path, h)
			if resp.StatusCode != tc.want.status {
				t.Fatalf("%s %s: %d, want %d\n%s", tc.method, tc.path, resp.StatusCode, tc.want.status, body)
			}
			www := resp.Header.Values("WWW-Authenticate")
			switch {
			case tc.want.www == "" && len(www) > 0:
				t.Fatalf("WWW-Authenticate %q, want none", www)
			case tc.want.www != "" && (len(www) != 1 || !strings.HasPrefix(www[0], tc.want.www)):
				t.Fatalf("WWW-Authenticate %q, want one that starts with %q", www, tc.want.www)
			}
			if got := strings.Join(resp.Header.Values("Retry-After"), ","); got != tc.want.retryAfter {
				t.Fatalf("Retry-After %q, want %q", got, tc.want.retryAfter)
			}
			reached := hits.Load() != before
			if reached != tc.want.upstream || (resp.Header.Get("X-Upstream") == "yes") != tc.want.upstream {
				t.Fatalf("upstream reached: %v (X-Upstream %q), want %v", reached, resp.Header.Get("X-Upstream"), tc.want.upstream)
			}
			if !tc.want.upstream {
				return
			}
			var got echoed
			if err := json.Unmarshal([]byte(body), &got); err != nil {
				t.Fatalf("upstream's answer %q: %v", body, err)
			}
			if got.Method != tc.method || got.URI != tc.path {
				t.Fatalf("upstream got %s %s, want %s %s", got.Method, got.URI, tc.method, tc.path)
			}
			for name := range got.Header {
				if n := strings.ToLower(strings.ReplaceAll(name, "_", "-")); (n == "x-auth-subject" || n == "x-jwt-claims") && name != http.CanonicalHeaderKey(n) {
					t.Fatalf("another spelling of %s reached upstream: %q", n, name)
				}
			}
			if subj := got.Header.Values("X-Auth-Subject"); strings.Join(subj, ",") != tc.want.subject {
				t.Fatalf("upstream saw X-Auth-Subject %q, want %q", subj, tc.want.subject)
			}
			claims := got.Header.Values("X-Jwt-Claims")
			if tc.want.subject == "" {
				if len(claims) != 0 {
					t.Fatalf("upstream saw X-Jwt-Claims %q on an anonymous request", claims)
				}
				return
			}
			if got.Header.Get("Authorization") != tc.auth {
				t.Fatalf("upstream saw Authorization %q, want the client's", got.Header.Get("Authorization"))
			}
			if len(claims) != 1 {
				t.Fatalf("upstream saw X-Jwt-Claims %q, want one value", claims)
			}
			raw, err := base64.RawURLEncoding.DecodeString(claims[0])
			var m map[string]any
			if err != nil || json.Unmarshal(raw, &m) != nil || m["sub"] != tc.want.subject || m["iss"] != "https://login.example.com" {
				t.Fatalf("upstream saw X-Jwt-Claims %q (%s, %v)", claims[0], raw, err)
			}
		})
	}
}

// rawRequest sends one request to addr with the path exactly as given
// (net/http's client would clean or refuse some) and returns the answer.
func rawRequest(t *testing.T, addr, method, path string, header map[string]string) (*http.Response, string) {
	t.Helper()
	c, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(10 * time.Second))
	var b strings.Builder
	b.WriteString(method + " " + path + " HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n")
	for k, v := range header {
		b.WriteString(k + ": " + v + "\r\n")
	}
	b.WriteString("\r\n")
	if _, err := io.WriteString(c, b.String()); err != nil {
		t.Fatal(err)
	}
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		t.Fatal(err)
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		t.Fatal(err)
	}
	return resp, string(body)
}
