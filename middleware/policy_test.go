package middleware_test

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/jwtverify/jwtverify"
	"github.com/jwtverify/jwtverify/internal/mint"
	"github.com/jwtverify/jwtverify/middleware"
)

// rawToken signs e's claims with members (raw JSON text, e.g. `"uid":5`)
// added, so that number literals reach the verifier exactly as written.
func (e *env) rawToken(members string) string {
	e.t.Helper()
	b, err := json.Marshal(e.claims)
	if err != nil {
		e.t.Fatal(err)
	}
	payload := string(b[:len(b)-1]) + "," + members + "}"
	tok, err := mint.Raw("ES256", e.key, []byte(`{"alg":"ES256","kid":"k1"}`), []byte(payload))
	if err != nil {
		e.t.Fatal(err)
	}
	return tok
}

// status serves tok through a middleware with policy p and returns the status.
func status(t *testing.T, e *env, p middleware.Policy, tok string) int {
	t.Helper()
	mw, err := middleware.New(e.v, middleware.Options{Policy: p})
	if err != nil {
		t.Fatal(err)
	}
	r := httptest.NewRequest("GET", "/", nil)
	r.Header.Set("Authorization", "Bearer "+tok)
	return serve(t, mw(ok), r).Code
}

// Issue 9, item 10: scope tokens are separated by one U+0020 only, and a scope claim
// that is not a well-formed RFC 6749 scope grants nothing.
func TestScopeSyntax(t *testing.T) {
	e := newEnv(t)
	for _, tt := range []struct {
		name  string
		scope any // the scope claim
		scp   any // the scp claim, nil for none
		want  string
		grant bool
	}{
		{"single spaces", "read admin", nil, "admin", true},
		{"no-break space", "read\u00a0admin", nil, "admin", false},
		{"no-break space, first part", "read\u00a0admin", nil, "read", false},
		{"ideographic space", "read\u3000admin", nil, "admin", false},
		{"next line", "read\u0085admin", nil, "admin", false},
		{"tab", "read\tadmin", nil, "admin", false},
		{"line feed", "read\nadmin", nil, "admin", false},
		{"double space", "read  admin", nil, "read", false},
		{"leading space", " read", nil, "read", false},
		{"trailing space", "read ", nil, "read", false},
		{"empty", "", nil, "read", false},
		{"double quote", `read ad"min`, nil, "read", false},
		{"backslash", `read ad\min`, nil, "read", false},
		{"all printable ASCII but quote and backslash", "!#$%&'()*+,-./:;<=>?@[]^_`{|}~ read", nil, "!#$%&'()*+,-./:;<=>?@[]^_`{|}~", true},
		{"scope not a string", 5, nil, "read", false},
		{"scp string", nil, "read admin", "admin", true},
		{"scp string with no-break space", nil, "read\u00a0admin", "admin", false},
		{"scp array", nil, []any{"read", "admin"}, "admin", true},
		{"scp array element with a space", nil, []any{"read admin"}, "admin", false},
		{"scp array element empty", nil, []any{"", "admin"}, "admin", false},
		{"scp array element not a string", nil, []any{1, "admin"}, "admin", false},
		{"malformed scp voids a good scope", "admin", []any{"read\u00a0x"}, "admin", false},
		{"malformed scope voids a good scp", "read\u00a0x", []any{"admin"}, "admin", false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			mod := map[string]any{"scope": tt.scope}
			if tt.scp != nil {
				mod["scp"] = tt.scp
			}
			tok := e.token(mod)
			if tt.scope == nil {
				tok = e.tokenWithout("scope", mod)
			}
			want := map[bool]int{true: 200, false: 403}[tt.grant]
			if got := status(t, e, middleware.Scopes(tt.want), tok); got != want {
				t.Errorf("Scopes(%q): %d, want %d", tt.want, got, want)
			}
			if got := status(t, e, middleware.AnyScope("nothing", tt.want), tok); got != want {
				t.Errorf("AnyScope(%q): %d, want %d", tt.want, got, want)
			}
		})
	}
}

// tokenWithout is token(mod) without the claim name.
func (e *env) tokenWithout(name string, mod map[string]any) string {
	saved := e.claims
	e.claims = map[string]any{}
	for k, v := range saved {
		if k != name {
			e.claims[k] = v
		}
	}
	defer func() { e.claims = saved }()
	m := map[string]any{}
	for k, v := range mod {
		if k != name {
			m[k] = v
		}
	}
	return e.token(m)
}

// Issue 9, item 11: numbers compare by exact value, never through float64.
func TestClaimNumbersExact(t *testing.T) {
	e := newEnv(t)
	for _, tt := range []struct {
		claim string // JSON literal of the uid claim
		want  any
		match bool
	}{
		{"9007199254740992", 9007199254740993, false},
		{"9007199254740993", 9007199254740993, true},
		{"9007199254740993", int64(9007199254740993), true},
		{"9007199254740993", 9007199254740992, false},
		{"9223372036854775807", int64(9223372036854775807), true},
		{"9223372036854775806", int64(9223372036854775807), false},
		{"18446744073709551615", uint64(18446744073709551615), true},
		{"18446744073709551614", uint64(18446744073709551615), false},
		{"-9223372036854775808", int64(-9223372036854775808), true},
		{"5", 5, true},
		{"5.0", 5, true},
		{"5e0", 5, true},
		{"0.5e1", 5, true},
		{"50E-1", int8(5), true},
		{"5.000000000000001", 5, false},
		{"-5", 5, false},
		{"-5", -5, true},
		{"0", 0, true},
		{"-0", 0, true},
		{"0e99999999999999999999999", 0, true},
		{"1e99999999999999999999999", 0, false},
		{"1e400", json.Number("1e400"), true},
		{"1e400", json.Number("10e399"), true},
		{"1e400", json.Number("1e401"), false},
		{"0.1", 0.1, true},
		{"0.10000000000000001", 0.1, false}, // the same float64, another number
		{"1.5", float32(1.5), true},
		{"9007199254740993", 9007199254740992.0, false},
		{"5", "5", false},
		{`"5"`, 5, false},
		{"true", 1, false},
		{"[1, 9007199254740993]", 9007199254740993, true},
		{"[9007199254740992]", 9007199254740993, false},
		{"1", json.Number("01"), false}, // json.Number values that are not JSON numbers equal nothing
		{"1", json.Number("+1"), false},
		{"1", json.Number("1."), false},
		{"0.5", json.Number(".5"), false},
		{"1", json.Number("1e"), false},
		{"1", json.Number("1e+"), false},
		{"1", json.Number(""), false},
		{"1", json.Number("1 "), false},
		{"-1", json.Number("--1"), false},
		{"1", json.Number("1E+0"), true},
		{"1", []int{1}, false}, // other types equal nothing
		{"null", nil, false},
	} {
		tok := e.rawToken(`"uid":` + tt.claim)
		want := map[bool]int{true: 200, false: 403}[tt.match]
		if got := status(t, e, middleware.Claim("uid", tt.want), tok); got != want {
			t.Errorf("Claim(uid, %T %v) against %s: %d, want %d", tt.want, tt.want, tt.claim, got, want)
		}
	}
}

// Issue 9, item 12: ClaimPath and Subject.Lookup name members literally, dots and all.
func TestClaimPathLiteralNames(t *testing.T) {
	e := newEnv(t)
	tok := e.rawToken(`"https://example.com/roles":["admin"],"kubernetes.io":{"namespace":"prod","serviceaccount":{"name":"builder"}},"a.b":"literal","a":{"b":"nested"},"":{"":true}`)
	for _, tt := range []struct {
		name  string
		p     middleware.Policy
		grant bool
	}{
		{"namespaced URL claim", middleware.ClaimPath([]string{"https://example.com/roles"}, "admin"), true},
		{"namespaced URL claim, other value", middleware.ClaimPath([]string{"https://example.com/roles"}, "root"), false},
		{"kubernetes.io member", middleware.ClaimPath([]string{"kubernetes.io", "namespace"}, "prod"), true},
		{"kubernetes.io deeper", middleware.ClaimPath([]string{"kubernetes.io", "serviceaccount", "name"}, "builder"), true},
		{"literal a.b", middleware.ClaimPath([]string{"a.b"}, "literal"), true},
		{"literal a.b is not a/b", middleware.ClaimPath([]string{"a.b"}, "nested"), false},
		{"a then b", middleware.ClaimPath([]string{"a", "b"}, "nested"), true},
		{"Claim splits at dots", middleware.Claim("a.b", "nested"), true},
		{"Claim splits a dotted name", middleware.Claim("kubernetes.io.namespace", "prod"), false},
		{"empty names", middleware.ClaimPath([]string{"", ""}, true), true},
		{"empty path", middleware.ClaimPath(nil, "prod"), false},
		{"through a non-object", middleware.ClaimPath([]string{"a.b", "x"}, "literal"), false},
	} {
		want := map[bool]int{true: 200, false: 403}[tt.grant]
		if got := status(t, e, tt.p, tok); got != want {
			t.Errorf("%s: %d, want %d", tt.name, got, want)
		}
	}
	// ClaimPath keeps its own copy of the path.
	path := []string{"kubernetes.io", "namespace"}
	p := middleware.ClaimPath(path, "prod")
	path[1] = "serviceaccount"
	if got := status(t, e, p, tok); got != 200 {
		t.Errorf("ClaimPath after the caller changed its slice: %d", got)
	}

	s := &middleware.Subject{Token: &jwtverify.Token{Claims: jwtverify.Claims{Raw: `{"kubernetes.io":{"n":9007199254740993,"s":"x","l":[1,{"k":null}]}}`}}}
	for _, tt := range []struct {
		path  []string
		want  string // the value as JSON
		found bool
	}{
		{[]string{"kubernetes.io", "n"}, `9007199254740993`, true},
		{[]string{"kubernetes.io", "s"}, `"x"`, true},
		{[]string{"kubernetes.io", "l"}, `[1,{"k":null}]`, true},
		{[]string{"kubernetes.io"}, `{"l":[1,{"k":null}],"n":9007199254740993,"s":"x"}`, true},
		{[]string{"kubernetes", "io"}, ``, false},
		{[]string{"kubernetes.io", "s", "x"}, ``, false},
		{[]string{"kubernetes.io", "l", "0"}, ``, false},
		{nil, ``, false},
	} {
		v, found := s.Lookup(tt.path...)
		if found != tt.found {
			t.Errorf("Lookup(%q): found %v", tt.path, found)
			continue
		}
		if !found {
			continue
		}
		if _, isNum := v.(json.Number); tt.path[len(tt.path)-1] == "n" && !isNum {
			t.Errorf("Lookup(%q): %T, want json.Number", tt.path, v)
		}
		if b, _ := json.Marshal(v); string(b) != tt.want {
			t.Errorf("Lookup(%q) = %s, want %s", tt.path, b, tt.want)
		}
	}
}

// A Subject is safe for concurrent use (run under -race).
func TestSubjectConcurrentLookup(t *testing.T) {
	s := &middleware.Subject{Token: &jwtverify.Token{Claims: jwtverify.Claims{Raw: `{"scope":"a b","org":{"plan":"gold"}}`}}}
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			if err := middleware.AllOf(middleware.Scopes("a"), middleware.Claim("org.plan", "gold"))(s); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	// A Subject without a token, or whose payload is not an object, has no claims.
	for _, s := range []*middleware.Subject{{}, {Token: &jwtverify.Token{Claims: jwtverify.Claims{Raw: `[1]`}}}} {
		if _, found := s.Lookup("scope"); found {
			t.Error("a claim without a payload")
		}
		if middleware.Scopes()(s) != nil || middleware.Claim("x", 1)(s) == nil {
			t.Error("policies on a Subject without claims")
		}
	}
}

// Issue 9, item 13: a claim no policy reads cannot make a policy refuse.
func TestPoliciesIgnoreUnreadClaims(t *testing.T) {
	e := newEnv(t)
	for _, members := range []string{
		`"x":1e400`,
		`"x":-1e400`,
		`"x":{"deep":[1e999999]}`,
		`"org2":{"n":1e400}`,
	} {
		tok := e.rawToken(members)
		for name, p := range map[string]middleware.Policy{
			"Scopes":   middleware.Scopes("orders:read"),
			"AnyScope": middleware.AnyScope("orders:read"),
			"Roles":    middleware.Roles("viewer"),
			"Claim":    middleware.Claim("org.plan", "gold"),
			"AllOf":    middleware.AllOf(middleware.Scopes("profile"), middleware.Claim("sub", "alice")),
			"AnyOf":    middleware.AnyOf(middleware.Roles("admin"), middleware.Claim("org.seats", 5)),
			"nested":   middleware.Claim("org2.n", json.Number("1e400")),
		} {
			if name == "nested" && !strings.Contains(members, "org2") {
				continue
			}
			if got := status(t, e, p, tok); got != 200 {
				t.Errorf("%s with %s: %d, want 200", name, members, got)
			}
		}
	}
}

// Issue 9, item 13: the claims are decoded once per request: the middleware's policy
// and every Require policy after it judge one and the same Subject.
func TestOneSubjectPerRequest(t *testing.T) {
	e := newEnv(t)
	var seen []*middleware.Subject
	record := func(s *middleware.Subject) error {
		seen = append(seen, s)
		return nil
	}
	mw, _ := middleware.New(e.v, middleware.Options{Policy: record})
	h := mw(middleware.Require(record)(middleware.Require(middleware.AllOf(record, middleware.Scopes("orders:read")))(ok)))
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
	if middleware.Scopes("orders:read")(s) != nil || middleware.Scopes("other")(s) == nil {
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
	for i, p := range []middleware.Policy{
		middleware.Scopes("orders:write"),
		middleware.AnyScope("a", "b"),
		middleware.Roles("admin"),
		middleware.Claim("org.plan", "gold"),
		middleware.Claim("uid", 5),
		middleware.Claim("org.plan.x", "gold"),
		middleware.AnyOf(middleware.Claim("uid", "x"), middleware.Scopes("q")),
	} {
		mw, _ := middleware.New(e.v, middleware.Options{Policy: p, Logger: slog.New(slog.NewJSONHandler(&logs, nil))})
		r := httptest.NewRequest("GET", "/", nil)
		r.Header.Set("Authorization", "Bearer "+tokens[i%2])
		w := serve(t, mw(ok), r)
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
