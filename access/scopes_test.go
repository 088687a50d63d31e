package access_test

import (
	"errors"
	"testing"

	"github.com/jwtverify/jwtverify/access"
)

// Issue 11: ScopesIn and AnyScopeIn read the claims they are given, such as
// Auth0's permissions array, with the scope syntax of Scopes; Scopes and
// AnyScope still read scope and scp only.
func TestScopesIn(t *testing.T) {
	e := newEnv(t) // its tokens have "scope":"orders:read profile"
	perms := []string{"permissions"}
	both := []string{"scope", "permissions"}
	for _, tt := range []struct {
		name   string
		mod    map[string]any
		policy access.Policy
		grant  bool
	}{
		{"permissions array", map[string]any{"permissions": []any{"orders:write", "users:read"}}, access.ScopesIn(perms, "orders:write", "users:read"), true},
		{"permissions array, one missing", map[string]any{"permissions": []any{"orders:write"}}, access.ScopesIn(perms, "orders:write", "users:read"), false},
		{"AnyScopeIn, one present", map[string]any{"permissions": []any{"orders:write"}}, access.AnyScopeIn(perms, "users:read", "orders:write"), true},
		{"AnyScopeIn, none present", map[string]any{"permissions": []any{"orders:write"}}, access.AnyScopeIn(perms, "users:read"), false},
		{"Scopes does not read permissions", map[string]any{"permissions": []any{"orders:write"}}, access.Scopes("orders:write"), false},
		{"AnyScope does not read permissions", map[string]any{"permissions": []any{"orders:write"}}, access.AnyScope("orders:write"), false},
		{"ScopesIn permissions does not read scope", nil, access.ScopesIn(perms, "orders:read"), false},
		{"scope and permissions both read", map[string]any{"permissions": []any{"orders:write"}}, access.ScopesIn(both, "orders:read", "orders:write"), true},
		{"permissions as a scope string", map[string]any{"permissions": "orders:write users:read"}, access.ScopesIn(perms, "users:read"), true},
		{"malformed entry: space inside", map[string]any{"permissions": []any{"orders:write users:read"}}, access.ScopesIn(perms, "orders:write"), false},
		{"malformed entry: empty", map[string]any{"permissions": []any{"", "orders:write"}}, access.ScopesIn(perms, "orders:write"), false},
		{"malformed entry: no-break space", map[string]any{"permissions": []any{"a\u00a0b", "orders:write"}}, access.AnyScopeIn(perms, "orders:write"), false},
		{"malformed entry: not a string", map[string]any{"permissions": []any{1, "orders:write"}}, access.ScopesIn(perms, "orders:write"), false},
		{"malformed entry: nested array", map[string]any{"permissions": []any{[]any{"orders:write"}}}, access.ScopesIn(perms, "orders:write"), false},
		{"malformed permissions voids a good scope", map[string]any{"permissions": []any{"x\ty"}}, access.ScopesIn(both, "orders:read"), false},
		{"permissions an object", map[string]any{"permissions": map[string]any{"orders:write": true}}, access.ScopesIn(perms, "orders:write"), false},
		{"permissions a number", map[string]any{"permissions": 5}, access.AnyScopeIn(perms, "5"), false},
		{"permissions null", map[string]any{"permissions": nil}, access.ScopesIn(perms, "orders:write"), false},
		{"empty permissions array holds no scope", map[string]any{"permissions": []any{}}, access.ScopesIn(perms, "orders:write"), false},
		{"empty permissions array, nothing required", map[string]any{"permissions": []any{}}, access.ScopesIn(perms), true},
		{"ScopesIn reads scope as an array", map[string]any{"scope": []any{"admin"}}, access.ScopesIn([]string{"scope"}, "admin"), true},
		{"Scopes still refuses a scope array", map[string]any{"scope": []any{"admin"}}, access.Scopes("admin"), false},
		{"claim name taken literally", map[string]any{"https://example.com/perms": []any{"admin"}}, access.ScopesIn([]string{"https://example.com/perms"}, "admin"), true},
		{"no claims: no scopes", map[string]any{"permissions": []any{"a"}}, access.AnyScopeIn(nil, "a"), false},
		{"no claims, nothing required", nil, access.ScopesIn(nil), true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if got := grant(t, e, tt.policy, e.token(tt.mod)); got != tt.grant {
				t.Errorf("allows: %v, want %v", got, tt.grant)
			}
		})
	}
}

// A ScopesIn refusal names the required scopes and the policy's claim
// names, never a value, and the policy keeps its own copy of claims.
func TestScopesInDeniedAndCopies(t *testing.T) {
	e := newEnv(t)
	claims := []string{"permissions"}
	p := access.ScopesIn(claims, "orders:write")
	claims[0] = "scope"
	tok := e.token(map[string]any{"permissions": []any{"orders:write"}})
	if !grant(t, e, p, tok) {
		t.Fatal("ScopesIn read the caller's modified claims slice")
	}

	verified, err := e.v.Verify(t.Context(), e.token(map[string]any{"permissions": []any{"secret\u00a0value"}}))
	if err != nil {
		t.Fatal(err)
	}
	var d *access.Denied
	if err := p(&access.Subject{Token: verified}); !errors.As(err, &d) {
		t.Fatalf("err = %v, want a *Denied", err)
	}
	if d.Scope != "orders:write" || d.Reason != `malformed scope claim among ["permissions"]` {
		t.Errorf("Denied = %+v", d)
	}
}
