package access_test

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/jwtverify/jwtverify"
	"github.com/jwtverify/jwtverify/access"
	"github.com/jwtverify/jwtverify/backends/golangjwt"
	"github.com/jwtverify/jwtverify/jwttest"
	"github.com/jwtverify/jwtverify/keyset"
)

// verified signs payload as an issuer would and verifies it as a service
// does: policies judge only tokens Verify accepted.
func verified(payload string) *jwtverify.Token {
	priv := ed25519.NewKeyFromSeed(bytes.Repeat([]byte{7}, 32)) // the issuer's key
	token := jwttest.Sign("EdDSA", priv, map[string]any{"kid": "k1"}, json.RawMessage(payload))

	key, err := jwtverify.NewPublicKey("k1", "EdDSA", priv.Public())
	if err != nil {
		panic(err)
	}
	keys, err := keyset.NewStatic(key)
	if err != nil {
		panic(err)
	}
	v, err := golangjwt.New(jwtverify.Config{
		Keys:      keys,
		Issuers:   []string{"https://issuer.example"},
		Audiences: []string{"orders-api"},
		Now:       func() time.Time { return time.Unix(1700000000, 0) },
	})
	if err != nil {
		panic(err)
	}
	tok, err := v.Verify(context.Background(), token)
	if err != nil {
		panic(err)
	}
	return tok
}

// A policy outside HTTP, as a gRPC interceptor or a queue consumer applies
// it: one Subject per verified token, judged by as many policies as needed.
func Example() {
	tok := verified(`{"iss":"https://issuer.example","sub":"alice","aud":"orders-api","exp":1700003600,
		"scope":"orders:read","org":{"plan":"gold"},"https://example.com/roles":["support"]}`)
	s := &access.Subject{Token: tok}

	read := access.AllOf(access.Scopes("orders:read"), access.Claim("org.plan", "gold", "platinum"))
	write := access.AnyOf(access.Scopes("orders:write"), access.ClaimPath([]string{"https://example.com/roles"}, "admin"))
	fmt.Println("read:", read(s))
	err := write(s)
	var d *access.Denied
	if errors.As(err, &d) {
		fmt.Printf("write: %v (scope %q)\n", err, d.Scope)
	}
	// Output:
	// read: <nil>
	// write: access denied: none of 2 policies allows it (scope "orders:write")
}

// A custom policy is any func(*Subject) error; Lookup reads a claim by
// literal member names, numbers as json.Number.
func ExampleSubject_Lookup() {
	s := &access.Subject{Token: verified(`{"iss":"https://issuer.example","sub":"ci","aud":"orders-api","exp":1700003600,
		"kubernetes.io":{"namespace":"prod","uid":9007199254740993}}`)}

	prodOnly := func(s *access.Subject) error {
		if ns, _ := s.Lookup("kubernetes.io", "namespace"); ns != "prod" {
			return &access.Denied{Reason: "not in namespace prod"} // never the claim's value
		}
		return nil
	}
	uid, found := s.Lookup("kubernetes.io", "uid")
	fmt.Println(prodOnly(s), uid, found)
	_, found = s.Lookup("kubernetes", "io")
	fmt.Println(found)
	// Output:
	// <nil> 9007199254740993 true
	// false
}

// Auth0 puts RBAC permissions in an array claim: ScopesIn reads it with the
// syntax of scope.
func ExampleScopesIn() {
	s := &access.Subject{Token: verified(`{"iss":"https://issuer.example","sub":"auth0|42","aud":"orders-api","exp":1700003600,
		"scope":"openid profile","permissions":["orders:read","orders:write"]}`)}

	fmt.Println(access.ScopesIn([]string{"permissions"}, "orders:write")(s))
	fmt.Println(access.AnyScopeIn([]string{"scope", "permissions"}, "orders:delete", "openid")(s))
	fmt.Println(access.Scopes("orders:write")(s)) // Scopes reads scope and scp only
	// Output:
	// <nil>
	// <nil>
	// access denied: missing scope orders:write
}

// GitHub Actions' sub names the repository and the ref: "*" stays within a
// ':'-separated part, "**" crosses them.
func ExampleMatch() {
	s := &access.Subject{Token: verified(`{"iss":"https://issuer.example","aud":"orders-api","exp":1700003600,
		"sub":"repo:octo-org/octo-repo:ref:refs/heads/release/1.2"}`)}

	for _, pattern := range []string{
		"repo:octo-org/octo-repo:ref:refs/heads/main",
		"repo:octo-org/*:ref:refs/heads/release/*",
		"repo:octo-org/*",
		"repo:octo-org/**",
	} {
		fmt.Println(pattern, access.Match([]string{"sub"}, pattern)(s) == nil)
	}
	// Output:
	// repo:octo-org/octo-repo:ref:refs/heads/main false
	// repo:octo-org/*:ref:refs/heads/release/* true
	// repo:octo-org/* false
	// repo:octo-org/** true
}

// A JWT-SVID's sub is a SPIFFE ID: a pattern is one ID, or an ID and "/*"
// for the IDs under it at a segment boundary.
func ExampleSPIFFEID() {
	prod := access.SPIFFEID("spiffe://example.org/ns/prod/*", "spiffe://example.org/ns/ops/sa/deployer")
	for _, sub := range []string{
		"spiffe://example.org/ns/prod/sa/api",
		"spiffe://example.org/ns/production/sa/api",
		"spiffe://example.org/ns/ops/sa/deployer",
		"spiffe://example.org/ns/prod/../ops/sa/admin",
	} {
		s := &access.Subject{Token: verified(`{"iss":"https://issuer.example","aud":"orders-api","exp":1700003600,"sub":"` + sub + `"}`)}
		fmt.Println(sub, prod(s) == nil)
	}
	// Output:
	// spiffe://example.org/ns/prod/sa/api true
	// spiffe://example.org/ns/production/sa/api false
	// spiffe://example.org/ns/ops/sa/deployer true
	// spiffe://example.org/ns/prod/../ops/sa/admin false
}
