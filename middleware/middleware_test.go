package middleware_test

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"io"
	"log/slog"
	"maps"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jwtverify/jwtverify"
	"github.com/jwtverify/jwtverify/access"
	"github.com/jwtverify/jwtverify/backends/golangjwt"
	"github.com/jwtverify/jwtverify/internal/testkeys"
	"github.com/jwtverify/jwtverify/jwttest"
	"github.com/jwtverify/jwtverify/keyset"
	"github.com/jwtverify/jwtverify/middleware"
)

var now = time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC)

// env signs tokens with a fixture key and verifies them.
type env struct {
	v      middleware.Verifier
	key    any
	claims map[string]any
}

func newEnv(t *testing.T) *env {
	ks := testkeys.Load()
	k, _ := jwtverify.NewPublicKey("k1", "", &ks.P256.PublicKey)
	static, _ := keyset.NewStatic(k)
	v, err := golangjwt.New(jwtverify.Config{Keys: static, Issuers: []string{"https://issuer.example"}, Audiences: []string{"api"}, Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	return &env{v: v, key: ks.P256, claims: map[string]any{
		"iss": "https://issuer.example", "aud": "api", "sub": "alice", "exp": now.Add(time.Hour).Unix(),
		"scope": "orders:read profile", "roles": []string{"viewer"}, "org": map[string]any{"plan": "gold", "seats": 5},
	}}
}

// token signs e's claims with mod's claims added or replaced.
func (e *env) token(mod map[string]any) string {
	c := maps.Clone(e.claims)
	maps.Copy(c, mod)
	return jwttest.Sign("ES256", e.key, map[string]any{"kid": "k1"}, c)
}

// ok is the protected handler: it echoes the subject from the context.
var ok = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
	tok, found := middleware.FromContext(r.Context())
	if !found {
		http.Error(w, "no token in context", 500)
		return
	}
	io.WriteString(w, "hello "+tok.Claims.Subject)
})

func serve(t *testing.T, h http.Handler, r *http.Request) *httptest.ResponseRecorder {
	t.Helper()
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	return w
}

func TestStatusCodesAndHeaders(t *testing.T) {
	e := newEnv(t)
	good := e.token(nil)
	expired := e.token(map[string]any{"exp": now.Add(-time.Hour).Unix()})
	mw, err := middleware.New(e.v, middleware.Options{Realm: "orders", Policy: access.Scopes("orders:read")})
	if err != nil {
		t.Fatal(err)
	}
	strict, _ := middleware.New(e.v, middleware.Options{Realm: "orders", Policy: access.Scopes("orders:write")})
	withQuery, _ := middleware.New(e.v, middleware.Options{QueryParam: "access_token", Cookie: "session"})
	down, _ := middleware.New(downVerifier{}, middleware.Options{Realm: "orders", RetryAfter: 90 * time.Second})

	req := func(auth ...string) *http.Request {
		r := httptest.NewRequest("GET", "/orders", nil)
		for _, a := range auth {
			r.Header.Add("Authorization", a)
		}
		return r
	}
	tests := []struct {
		name      string
		h         http.Handler
		r         *http.Request
		status    int
		challenge string // WWW-Authenticate, "" for none
		body      string // substring
	}{
		{"valid", mw.Handler(ok), req("Bearer " + good), 200, "", "hello alice"},
		{"scheme case-insensitive", mw.Handler(ok), req("bEaReR " + good), 200, "", "hello alice"},
		{"missing", mw.Handler(ok), req(), 401, `Bearer realm="orders"`, `"error":"unauthorized"`},
		{"other scheme", mw.Handler(ok), req("Basic YWxpY2U6c2VjcmV0"), 401, `Bearer realm="orders"`, ""},
		{"expired", mw.Handler(ok), req("Bearer " + expired), 401, `Bearer realm="orders", error="invalid_token", error_description="expired"`, `"error_description":"expired"`},
		{"garbage token", mw.Handler(ok), req("Bearer abc.def.ghi"), 401, `Bearer realm="orders", error="invalid_token", error_description="malformed"`, ""},
		{"policy", strict.Handler(ok), req("Bearer " + good), 403, `Bearer realm="orders", error="insufficient_scope", scope="orders:write"`, `"error":"insufficient_scope"`},
		{"keys unavailable", down.Handler(ok), req("Bearer " + good), 503, "", `"error":"temporarily_unavailable"`},
		{"two headers", mw.Handler(ok), req("Bearer "+good, "Bearer "+good), 400, `Bearer realm="orders", error="invalid_request"`, ""},
		{"two tokens in one header", mw.Handler(ok), req("Bearer a b"), 400, `Bearer realm="orders", error="invalid_request"`, ""},
		{"empty bearer", mw.Handler(ok), req("Bearer "), 400, `Bearer realm="orders", error="invalid_request"`, ""},
		{"query ignored by default", mw.Handler(ok), httptest.NewRequest("GET", "/orders?access_token="+good, nil), 401, `Bearer realm="orders"`, ""},
		{"query when allowed", withQuery.Handler(ok), httptest.NewRequest("GET", "/orders?access_token="+good, nil), 200, "", "hello alice"},
		{"query and header", withQuery.Handler(ok), func() *http.Request {
			r := httptest.NewRequest("GET", "/orders?access_token="+good, nil)
			r.Header.Set("Authorization", "Bearer "+good)
			return r
		}(), 400, `Bearer realm="api", error="invalid_request"`, ""},
		{"cookie", withQuery.Handler(ok), func() *http.Request {
			r := httptest.NewRequest("GET", "/orders", nil)
			r.AddCookie(&http.Cookie{Name: "session", Value: good})
			return r
		}(), 200, "", "hello alice"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := serve(t, tt.h, tt.r)
			if w.Code != tt.status {
				t.Fatalf("status %d, want %d; body %s", w.Code, tt.status, w.Body)
			}
			if got := w.Header().Get("WWW-Authenticate"); got != tt.challenge {
				t.Fatalf("WWW-Authenticate %q, want %q", got, tt.challenge)
			}
			if !strings.Contains(w.Body.String(), tt.body) {
				t.Fatalf("body %q lacks %q", w.Body, tt.body)
			}
			if tt.status == 503 && w.Header().Get("Retry-After") != "90" {
				t.Fatalf("Retry-After %q", w.Header().Get("Retry-After"))
			}
			for _, tok := range []string{good, expired} {
				for _, seg := range strings.Split(tok, ".") {
					if strings.Contains(w.Body.String(), seg) || strings.Contains(w.Header().Get("WWW-Authenticate"), seg) {
						t.Fatal("the response echoes the token")
					}
				}
			}
		})
	}
}

type downVerifier struct{}

func (downVerifier) Verify(context.Context, string) (*jwtverify.Token, error) {
	return nil, jwtverify.Reject(jwtverify.ErrKeysUnavailable, "JWKS past MaxStale")
}

func TestPerRoutePolicies(t *testing.T) {
	e := newEnv(t)
	verify, _ := middleware.New(e.v, middleware.Options{})
	mux := http.NewServeMux()
	mux.Handle("GET /orders", verify.Require(access.Scopes("orders:read"))(ok))
	mux.Handle("POST /orders", verify.Require(access.Scopes("orders:write"))(ok))
	mux.Handle("GET /admin", verify.Require(access.AnyOf(access.Roles("admin"), access.Claim("org.plan", "platinum")))(ok))
	h := verify.Handler(mux)
	tok := e.token(nil)
	for _, tt := range []struct {
		method, path string
		status       int
		scope        string
	}{
		{"GET", "/orders", 200, ""},
		{"POST", "/orders", 403, "orders:write"},
		{"GET", "/admin", 403, ""},
	} {
		r := httptest.NewRequest(tt.method, tt.path, nil)
		r.Header.Set("Authorization", "Bearer "+tok)
		w := serve(t, h, r)
		if w.Code != tt.status {
			t.Errorf("%s %s: %d, want %d", tt.method, tt.path, w.Code, tt.status)
		}
		if tt.scope != "" && !strings.Contains(w.Header().Get("WWW-Authenticate"), `scope="`+tt.scope+`"`) {
			t.Errorf("%s %s: challenge %q", tt.method, tt.path, w.Header().Get("WWW-Authenticate"))
		}
	}
	// Require without a verifying middleware in front: 401.
	if w := serve(t, verify.Require(access.Scopes("x"))(ok), httptest.NewRequest("GET", "/", nil)); w.Code != 401 {
		t.Fatalf("Require alone: %d", w.Code)
	}
}

func TestRequireTLS(t *testing.T) {
	e := newEnv(t)
	tok := e.token(nil)
	mw, _ := middleware.New(e.v, middleware.Options{RequireTLS: true, TrustedProxies: []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")}})
	for _, tt := range []struct {
		name   string
		remote string
		proto  string
		tls    bool
		status int
	}{
		{"plain", "192.0.2.1:1234", "", false, 403},
		{"tls", "192.0.2.1:1234", "", true, 200},
		{"trusted proxy https", "10.1.2.3:1234", "https", false, 200},
		{"trusted proxy http", "10.1.2.3:1234", "http", false, 403},
		{"untrusted forwarded", "192.0.2.1:1234", "https", false, 403},
	} {
		r := httptest.NewRequest("GET", "/", nil)
		r.RemoteAddr = tt.remote
		r.Header.Set("Authorization", "Bearer "+tok)
		if tt.proto != "" {
			r.Header.Set("X-Forwarded-Proto", tt.proto)
		}
		if tt.tls {
			r.TLS = &tls.ConnectionState{}
		}
		if w := serve(t, mw.Handler(ok), r); w.Code != tt.status {
			t.Errorf("%s: %d, want %d", tt.name, w.Code, tt.status)
		}
	}
}

func TestCustomErrorsLogsAndObserve(t *testing.T) {
	e := newEnv(t)
	var logs bytes.Buffer
	var mu sync.Mutex
	var outcomes []middleware.Outcome
	mw, _ := middleware.New(e.v, middleware.Options{
		Route:  "orders",
		Logger: slog.New(slog.NewJSONHandler(&logs, nil)),
		Observe: func(_ context.Context, o middleware.Outcome) {
			mu.Lock()
			outcomes = append(outcomes, o)
			mu.Unlock()
		},
		ErrorHandler: func(w http.ResponseWriter, r *http.Request, o middleware.Outcome) {
			w.WriteHeader(o.Status)
			io.WriteString(w, "custom "+o.Description)
		},
	})
	good, bad := e.token(nil), e.token(map[string]any{"aud": "other"})
	for _, tok := range []string{good, bad} {
		r := httptest.NewRequest("GET", "/orders/42", nil)
		r.Header.Set("Authorization", "Bearer "+tok)
		w := serve(t, mw.Handler(ok), r)
		if tok == bad && (w.Code != 401 || w.Body.String() != "custom audience" || w.Header().Get("WWW-Authenticate") == "") {
			t.Fatalf("custom error: %d %q", w.Code, w.Body)
		}
	}
	out := logs.String()
	for _, want := range []string{`"route":"orders"`, `"kid":"k1"`, `"iss":"https://issuer.example"`, `"sub":"alice"`, `"reason":"audience"`} {
		if !strings.Contains(out, want) {
			t.Errorf("logs lack %s:\n%s", want, out)
		}
	}
	for _, tok := range []string{good, bad} {
		for _, seg := range strings.Split(tok, ".") {
			if strings.Contains(out, seg) {
				t.Fatal("logs contain the token")
			}
		}
	}
	if len(outcomes) != 2 || outcomes[0].Status != 0 || outcomes[1].Class != "audience" || outcomes[1].Status != 401 || outcomes[0].Duration <= 0 {
		t.Fatalf("outcomes %+v", outcomes)
	}
	if _, err := middleware.New(nil, middleware.Options{}); !errors.Is(err, jwtverify.ErrInvalidConfig) {
		t.Fatal(err)
	}
	if _, err := middleware.New(e.v, middleware.Options{Realm: `a"b`}); !errors.Is(err, jwtverify.ErrInvalidConfig) {
		t.Fatal(err)
	}
}
