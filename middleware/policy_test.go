package middleware_test

import (
	"bytes"
	"log/slog"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/jwtverify/jwtverify/access"
	"github.com/jwtverify/jwtverify/middleware"
)

// Issue 9, item 13: the claims are decoded once per request: the middleware's policy
// and every Require policy after it judge one and the same Subject.
func TestOneSubjectPerRequest(t *testing.T) {
	e := newEnv(t)
	var seen []*access.Subject
	record := func(s *access.Subject) error {
		seen = append(seen, s)
		return nil
	}
	mw, _ := middleware.New(e.v, middleware.Options{Policy: record})
	h := mw.Handler(mw.Require(record)(mw.Require(access.AllOf(record, access.Scopes("orders:read")))(ok)))
	tok := e.token(nil)
	for range 2 {
		r := httptest.NewRequest("GET", "/", nil)
		r.Header.Set("Authorization", "Bearer "+tok)
		if w := serve(t, h, r); w.Code != 200 {
			t.Fatalf("status %d: %s", w.Code, w.Body)
		}
	}
	if len(seen) != 6 {
		t.Fatalf("%d policy calls, want 6", len(seen))
	}
	for i := range seen {
		if (seen[i] == seen[0]) != (i < 3) {
			t.Fatalf("policy call %d judged another Subject: want one per request", i)
		}
	}
	// A Subject keeps its first decoding of the payload.
	s := seen[0]
	s.Token.Claims.Raw = `{"scope":"other"}`
	if access.Scopes("orders:read")(s) != nil || access.Scopes("other")(s) == nil {
		t.Fatal("the Subject decoded the payload again")
	}
}

// Policy refusals never put claim values in responses or logs.
func TestPolicyRefusalEchoesNoClaimValue(t *testing.T) {
	e := newEnv(t)
	const secret = "s3cr3t-claim-value"
	claims := map[string]any{"scope": secret + " x", "scp": []any{secret}, "roles": []any{secret}, "org": map[string]any{"plan": secret}, "uid": secret}
	tokens := []string{e.token(claims)}
	claims["scope"] = secret + "\u00a0x" // malformed
	tokens = append(tokens, e.token(claims))
	var logs bytes.Buffer
	for i, p := range []access.Policy{
		access.Scopes("orders:write"),
		access.AnyScope("a", "b"),
		access.Roles("admin"),
		access.Claim("org.plan", "gold"),
		access.Claim("uid", 5),
		access.Claim("org.plan.x", "gold"),
		access.AnyOf(access.Claim("uid", "x"), access.Scopes("q")),
	} {
		mw, _ := middleware.New(e.v, middleware.Options{Policy: p, Logger: slog.New(slog.NewJSONHandler(&logs, nil))})
		r := httptest.NewRequest("GET", "/", nil)
		r.Header.Set("Authorization", "Bearer "+tokens[i%2])
		w := serve(t, mw.Handler(ok), r)
		if w.Code != 403 {
			t.Fatalf("status %d", w.Code)
		}
		if strings.Contains(w.Body.String(), secret) || strings.Contains(w.Header().Get("WWW-Authenticate"), secret) {
			t.Fatalf("response echoes a claim value: %s %s", w.Header(), w.Body)
		}
	}
	if strings.Contains(logs.String(), secret) {
		t.Fatalf("logs echo a claim value:\n%s", logs.String())
	}
	for _, reason := range []string{"missing scope orders:write", "malformed scope or scp claim", "missing role admin", "claim org.plan has none of the required values", "claim org.plan.x absent"} {
		if !strings.Contains(logs.String(), `"policy":"`+reason+`"`) {
			t.Errorf("logs lack the policy reason %q:\n%s", reason, logs.String())
		}
	}
}
