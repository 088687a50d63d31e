package access_test

import (
	"context"
	"encoding/json"
	"errors"
	"maps"
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
)

var now = time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC)

// env signs tokens with a fixture key and verifies them, so that policies
// judge exactly what Verify accepts.
type env struct {
	t *testing.T
	v interface {
		Verify(ctx context.Context, token string) (*jwtverify.Token, error)
	}
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
	return &env{t: t, v: v, key: ks.P256, claims: map[string]any{
		"iss": "https://issuer.example", "aud": "api", "sub": "alice", "exp": now.Add(time.Hour).Unix(),
		"scope": "orders:read profile", "roles": []string{"viewer"}, "org": map[string]any{"plan": "gold", "seats": 5},
	}}
}

// token signs e's claims with mod's claims added or replaced.
func (e *env) token(mod map[string]any) string {
	return e.sign(e.claimsWith(mod))
}

// claimsWith returns a copy of e's claims with mod's added or replaced.
func (e *env) claimsWith(mod map[string]any) map[string]any {
	c := maps.Clone(e.claims)
	maps.Copy(c, mod)
	return c
}

// sign signs claims, a map or a json.RawMessage, with e's key.
func (e *env) sign(claims any) string {
	return jwttest.Sign("ES256", e.key, map[string]any{"kid": "k1"}, claims)
}

// rawToken signs e's claims with members (raw JSON text, e.g. `"uid":5`)
// added, so that number literals reach the verifier exactly as written.
func (e *env) rawToken(members string) string {
	e.t.Helper()
	b, err := json.Marshal(e.claims)
	if err != nil {
		e.t.Fatal(err)
	}
	return e.sign(json.RawMessage(string(b[:len(b)-1]) + "," + members + "}"))
}

// grant verifies tok, which must be valid, and reports whether p allows it.
func grant(t *testing.T, e *env, p access.Policy, tok string) bool {
	t.Helper()
	verified, err := e.v.Verify(context.Background(), tok)
	if err != nil {
		t.Fatalf("Verify: %v", err)
	}
	return p(&access.Subject{Token: verified}) == nil
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
			if got := grant(t, e, access.Scopes(tt.want), tok); got != tt.grant {
				t.Errorf("Scopes(%q) allows: %v, want %v", tt.want, got, tt.grant)
			}
			if got := grant(t, e, access.AnyScope("nothing", tt.want), tok); got != tt.grant {
				t.Errorf("AnyScope(%q) allows: %v, want %v", tt.want, got, tt.grant)
			}
		})
	}
}

// tokenWithout is token(mod) without the claim name.
func (e *env) tokenWithout(name string, mod map[string]any) string {
	c := e.claimsWith(mod)
	delete(c, name)
	return e.sign(c)
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
		{"5", int16(5), true}, // every integer type, each in decimal
		{"-5", int32(-5), true},
		{"5", uint(5), true},
		{"255", uint8(255), true},
		{"5", uint16(5), true},
		{"4294967295", uint32(4294967295), true},
		{"4294967294", uint32(4294967295), false},
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
		if got := grant(t, e, access.Claim("uid", tt.want), tok); got != tt.match {
			t.Errorf("Claim(uid, %T %v) against %s allows: %v, want %v", tt.want, tt.want, tt.claim, got, tt.match)
		}
	}
}

// Issue 9, item 12: ClaimPath and Subject.Lookup name members literally, dots and all.
func TestClaimPathLiteralNames(t *testing.T) {
	e := newEnv(t)
	tok := e.rawToken(`"https://example.com/roles":["admin"],"kubernetes.io":{"namespace":"prod","serviceaccount":{"name":"builder"}},"a.b":"literal","a":{"b":"nested"},"":{"":true}`)
	for _, tt := range []struct {
		name  string
		p     access.Policy
		grant bool
	}{
		{"namespaced URL claim", access.ClaimPath([]string{"https://example.com/roles"}, "admin"), true},
		{"namespaced URL claim, other value", access.ClaimPath([]string{"https://example.com/roles"}, "root"), false},
		{"kubernetes.io member", access.ClaimPath([]string{"kubernetes.io", "namespace"}, "prod"), true},
		{"kubernetes.io deeper", access.ClaimPath([]string{"kubernetes.io", "serviceaccount", "name"}, "builder"), true},
		{"literal a.b", access.ClaimPath([]string{"a.b"}, "literal"), true},
		{"literal a.b is not a/b", access.ClaimPath([]string{"a.b"}, "nested"), false},
		{"a then b", access.ClaimPath([]string{"a", "b"}, "nested"), true},
		{"Claim splits at dots", access.Claim("a.b", "nested"), true},
		{"Claim splits a dotted name", access.Claim("kubernetes.io.namespace", "prod"), false},
		{"empty names", access.ClaimPath([]string{"", ""}, true), true},
		{"empty path", access.ClaimPath(nil, "prod"), false},
		{"through a non-object", access.ClaimPath([]string{"a.b", "x"}, "literal"), false},
	} {
		if got := grant(t, e, tt.p, tok); got != tt.grant {
			t.Errorf("%s allows: %v, want %v", tt.name, got, tt.grant)
		}
	}
	// ClaimPath keeps its own copy of the path.
	path := []string{"kubernetes.io", "namespace"}
	p := access.ClaimPath(path, "prod")
	path[1] = "serviceaccount"
	if !grant(t, e, p, tok) {
		t.Errorf("ClaimPath refuses after the caller changed its slice")
	}

	s := &access.Subject{Token: &jwtverify.Token{Claims: jwtverify.Claims{Raw: `{"kubernetes.io":{"n":9007199254740993,"s":"x","l":[1,{"k":null}]}}`}}}
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
	s := &access.Subject{Token: &jwtverify.Token{Claims: jwtverify.Claims{Raw: `{"scope":"a b","org":{"plan":"gold"}}`}}}
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			if err := access.AllOf(access.Scopes("a"), access.Claim("org.plan", "gold"))(s); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	// A Subject without a token, or whose payload is not an object, has no claims.
	for _, s := range []*access.Subject{{}, {Token: &jwtverify.Token{Claims: jwtverify.Claims{Raw: `[1]`}}}} {
		if _, found := s.Lookup("scope"); found {
			t.Error("a claim without a payload")
		}
		if access.Scopes()(s) != nil || access.Claim("x", 1)(s) == nil {
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
		for name, p := range map[string]access.Policy{
			"Scopes":   access.Scopes("orders:read"),
			"AnyScope": access.AnyScope("orders:read"),
			"Roles":    access.Roles("viewer"),
			"Claim":    access.Claim("org.plan", "gold"),
			"AllOf":    access.AllOf(access.Scopes("profile"), access.Claim("sub", "alice")),
			"AnyOf":    access.AnyOf(access.Roles("admin"), access.Claim("org.seats", 5)),
			"nested":   access.Claim("org2.n", json.Number("1e400")),
		} {
			if name == "nested" && !strings.Contains(members, "org2") {
				continue
			}
			if !grant(t, e, p, tok) {
				t.Errorf("%s with %s refuses", name, members)
			}
		}
	}
}

func TestPolicies(t *testing.T) {
	subj := func(raw string) *access.Subject {
		return &access.Subject{Token: &jwtverify.Token{Claims: jwtverify.Claims{Raw: raw}}}
	}
	c := `{"scope": "a b", "scp": ["c", "d"], "roles": ["viewer", "editor"], "role2": "admin",
		"org": {"plan": "gold", "seats": 5, "beta": true, "tags": ["x", "y"]}}`
	for _, tt := range []struct {
		name string
		p    access.Policy
		ok   bool
	}{
		{"scopes from scope", access.Scopes("a", "b"), true},
		{"scopes across scope and scp", access.Scopes("a", "d"), true},
		{"missing scope", access.Scopes("a", "z"), false},
		{"scp string", access.Scopes("q"), false},
		{"any scope", access.AnyScope("z", "c"), true},
		{"any scope none", access.AnyScope("z"), false},
		{"roles", access.Roles("viewer", "editor"), true},
		{"missing role", access.Roles("admin"), false},
		{"nested claim", access.Claim("org.plan", "silver", "gold"), true},
		{"nested number", access.Claim("org.seats", 5), true},
		{"nested bool", access.Claim("org.beta", true), true},
		{"nested array", access.Claim("org.tags", "y"), true},
		{"absent path", access.Claim("org.x.y", "a"), false},
		{"wrong type", access.Claim("org.seats", "5"), false},
		{"all of", access.AllOf(access.Scopes("a"), access.Roles("viewer")), true},
		{"all of fails", access.AllOf(access.Scopes("a"), access.Roles("admin")), false},
		{"any of", access.AnyOf(access.Roles("admin"), access.Claim("role2", "admin")), true},
		{"any of none", access.AnyOf(), false},
		{"custom", func(s *access.Subject) error {
			if v, _ := s.Lookup("role2"); v == "admin" {
				return nil
			}
			return errors.New("no")
		}, true},
	} {
		err := tt.p(subj(c))
		if tt.ok != (err == nil) {
			t.Errorf("%s: %v, want ok=%v", tt.name, err, tt.ok)
		}
	}
	var d *access.Denied
	if err := access.AnyOf(access.Scopes("w"), access.Scopes("v"))(subj(c)); !errors.As(err, &d) || d.Scope != "w v" {
		t.Errorf("AnyOf: %v", err)
	}
}

// The policies keep their own copies of their arguments: changing the
// caller's slice afterwards changes nothing.
func TestPoliciesKeepTheirArguments(t *testing.T) {
	s := &access.Subject{Token: &jwtverify.Token{Claims: jwtverify.Claims{Raw: `{"scope":"a","roles":["viewer"]}`}}}
	scopes, roles := []string{"a"}, []string{"viewer"}
	allow := func(*access.Subject) error { return nil }
	refuse := func(*access.Subject) error { return errors.New("no") }
	all, any := []access.Policy{allow}, []access.Policy{allow}
	ps := map[string]access.Policy{
		"Scopes":   access.Scopes(scopes...),
		"AnyScope": access.AnyScope(scopes...),
		"Roles":    access.Roles(roles...),
		"AllOf":    access.AllOf(all...),
		"AnyOf":    access.AnyOf(any...),
	}
	scopes[0], roles[0], all[0], any[0] = "z", "admin", refuse, refuse
	for name, p := range ps {
		if err := p(s); err != nil {
			t.Errorf("%s after the caller changed its slice: %v", name, err)
		}
	}
}
