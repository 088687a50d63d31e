package middleware_test

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/jwtverify/jwtverify/access"
	"github.com/jwtverify/jwtverify/middleware"
)

// Issue 11: the workload policies (SPIFFEID, Match, ScopesIn) protect
// routes through Require: 200 for an identity they allow, 403
// insufficient_scope for another, and a refusal echoes no claim value.
func TestWorkloadPolicies(t *testing.T) {
	e := newEnv(t)
	mw, _ := middleware.New(e.v, middleware.Options{Realm: "svc"})
	mux := http.NewServeMux()
	mux.Handle("GET /spiffe", mw.Require(access.SPIFFEID("spiffe://example.org/ns/prod/*"))(ok))
	mux.Handle("GET /deploy", mw.Require(access.Match([]string{"sub"}, "repo:octo-org/*:ref:refs/heads/main"))(ok))
	mux.Handle("GET /orders", mw.Require(access.ScopesIn([]string{"permissions"}, "orders:write"))(ok))
	h := mw.Handler(mux)
	for _, tt := range []struct {
		route  string
		claims map[string]any
		code   int
		header string // WWW-Authenticate of a refusal
	}{
		{"/spiffe", map[string]any{"sub": "spiffe://example.org/ns/prod/sa/api"}, 200, ""},
		{"/spiffe", map[string]any{"sub": "spiffe://example.org/ns/production/sa/api"}, 403, `Bearer realm="svc", error="insufficient_scope"`},
		{"/spiffe", map[string]any{"sub": "spiffe://example.org/ns/prod/../../admin"}, 403, `Bearer realm="svc", error="insufficient_scope"`},
		{"/deploy", map[string]any{"sub": "repo:octo-org/api:ref:refs/heads/main"}, 200, ""},
		{"/deploy", map[string]any{"sub": "repo:octo-org/api:ref:refs/heads/dev:ref:refs/heads/main"}, 403, `Bearer realm="svc", error="insufficient_scope"`},
		{"/orders", map[string]any{"permissions": []any{"orders:write"}}, 200, ""},
		{"/orders", map[string]any{"permissions": []any{"orders:read"}}, 403, `Bearer realm="svc", error="insufficient_scope", scope="orders:write"`},
	} {
		r := httptest.NewRequest("GET", tt.route, nil)
		r.Header.Set("Authorization", "Bearer "+e.token(tt.claims))
		w := serve(t, h, r)
		if w.Code != tt.code || w.Header().Get("WWW-Authenticate") != tt.header {
			t.Errorf("%s %v: %d %q, want %d %q", tt.route, tt.claims, w.Code, w.Header().Get("WWW-Authenticate"), tt.code, tt.header)
		}
		if sub, _ := tt.claims["sub"].(string); w.Code == 403 && sub != "" && strings.Contains(w.Body.String()+w.Header().Get("WWW-Authenticate"), sub) {
			t.Errorf("%s: the refusal echoes sub: %s", tt.route, w.Body)
		}
	}
}
