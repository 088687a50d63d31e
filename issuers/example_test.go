package issuers_test

import (
	"context"
	"fmt"
	"time"

	"github.com/jwtverify/jwtverify"
	"github.com/jwtverify/jwtverify/backends/golangjwt"
	"github.com/jwtverify/jwtverify/issuers"
	"github.com/jwtverify/jwtverify/jwttest"
	"github.com/jwtverify/jwtverify/keyset"
)

// exampleToken returns a token of is for sub, valid for an hour.
func exampleToken(is *jwttest.Issuer, sub string) string {
	return is.Sign(nil, map[string]any{"iss": is.URL, "sub": sub, "aud": "api", "exp": time.Now().Add(time.Hour).Unix()})
}

// A Router for two issuers, fakes on loopback here: each token goes to
// the verifier of its own issuer, and a token of any other issuer is
// refused before any key lookup.
func ExampleRouter() {
	corp, partner, stranger := jwttest.NewIssuer("ES256"), jwttest.NewIssuer("ES256"), jwttest.NewIssuer("ES256")
	defer corp.Close()
	defer partner.Close()
	defer stranger.Close()

	routes := map[string]issuers.Verifier{}
	for _, is := range []*jwttest.Issuer{corp, partner} {
		keys, err := keyset.Discover(context.Background(), is.URL, keyset.RemoteConfig{})
		if err != nil {
			panic(err)
		}
		defer keys.Close() // the Router does not own the key sets
		v, err := golangjwt.New(jwtverify.Config{Keys: keys, Issuers: []string{is.URL}, Audiences: []string{"api"}})
		if err != nil {
			panic(err)
		}
		routes[is.URL] = v
	}
	router, err := issuers.NewRouter(routes, 0)
	if err != nil {
		panic(err)
	}

	for _, token := range []string{exampleToken(corp, "alice"), exampleToken(partner, "bob"), exampleToken(stranger, "eve")} {
		tok, err := router.Verify(context.Background(), token)
		if err != nil {
			fmt.Println("rejected:", jwtverify.Class(err))
			continue
		}
		fmt.Println("valid:", tok.Claims.Subject)
	}
	// Output:
	// valid: alice
	// valid: bob
	// rejected: issuer
}

// Tenants builds each tenant's verifier on the tenant's first token and
// keeps it for the next ones.
func ExampleTenants() {
	a, b := jwttest.NewIssuer("ES256"), jwttest.NewIssuer("ES256")
	defer a.Close()
	defer b.Close()
	// Allow sees unverified issuers: in production, an exact pattern such
	// as "https://login.example.com/<tenant id>/v2.0"; here, the two fakes.
	known := map[string]bool{a.URL: true, b.URL: true}

	tenants, err := issuers.NewTenants(issuers.TenantsConfig{
		Allow: func(iss string) bool { return known[iss] },
		New: func(ctx context.Context, iss string) (issuers.Verifier, func(), error) {
			keys, err := keyset.Discover(ctx, iss, keyset.RemoteConfig{})
			if err != nil {
				return nil, nil, err
			}
			v, err := golangjwt.New(jwtverify.Config{Keys: keys, Issuers: []string{iss}, Audiences: []string{"api"}})
			if err != nil {
				keys.Close()
				return nil, nil, err
			}
			return v, keys.Close, nil // Tenants closes the key set when it drops the tenant
		},
		OnBuild: func(ev issuers.BuildEvent) { fmt.Println("build:", ev.Outcome) },
	})
	if err != nil {
		panic(err)
	}
	defer tenants.Close() // closes every tenant's key set

	other := jwttest.NewIssuer("ES256")
	defer other.Close()
	for _, token := range []string{exampleToken(a, "alice"), exampleToken(a, "ann"), exampleToken(b, "bob"), exampleToken(other, "eve")} {
		tok, err := tenants.Verify(context.Background(), token)
		if err != nil {
			fmt.Println("rejected:", jwtverify.Class(err))
			continue
		}
		fmt.Println("valid:", tok.Claims.Subject)
	}
	fmt.Println("tenants held:", tenants.Len())
	// Output:
	// build: built
	// valid: alice
	// valid: ann
	// build: built
	// valid: bob
	// rejected: issuer
	// tenants held: 2
}

// A Template for a multi-tenant issuer shaped like Microsoft Entra's
// organizations endpoint: the tid claim fills the issuer template, iss
// must be the result, and only the listed tenants are accepted. (A real
// deployment gets Keys from keyset.Discover of
// https://login.microsoftonline.com/organizations/v2.0; a fake issuer on
// loopback stands in for it here.)
func ExampleNewTemplate() {
	is := jwttest.NewIssuer("ES256")
	defer is.Close()
	keys, err := keyset.NewRemote(is.URL+"/jwks", keyset.RemoteConfig{})
	if err != nil {
		panic(err)
	}
	defer keys.Close()
	const template = "https://login.microsoftonline.com/{tenantid}/v2.0"
	v, err := issuers.NewTemplate(golangjwt.Backend{}, issuers.TemplateConfig{
		Issuer:  template,
		Tenants: []string{"72f988bf-86f1-41af-91ab-2d7cd011db47"},
		Config:  jwtverify.Config{Keys: keys, Audiences: []string{"api"}},
	})
	if err != nil {
		panic(err)
	}
	token := func(tid, iss string) string {
		return is.Sign(nil, map[string]any{"iss": iss, "tid": tid, "aud": "api", "exp": time.Now().Add(time.Hour).Unix()})
	}
	ctx := context.Background()
	tok, err := v.Verify(ctx, token("72f988bf-86f1-41af-91ab-2d7cd011db47", "https://login.microsoftonline.com/72f988bf-86f1-41af-91ab-2d7cd011db47/v2.0"))
	fmt.Println(tok.Claims.Issuer, err)
	_, err = v.Verify(ctx, token("72f988bf-86f1-41af-91ab-2d7cd011db47", "https://login.microsoftonline.com/another-tenant/v2.0"))
	fmt.Println(err)
	_, err = v.Verify(ctx, token("another-tenant", "https://login.microsoftonline.com/another-tenant/v2.0"))
	fmt.Println(err)
	// Output:
	// https://login.microsoftonline.com/72f988bf-86f1-41af-91ab-2d7cd011db47/v2.0 <nil>
	// issuer: iss is not the issuer template filled with the token's tenant
	// issuer: tenant is not accepted
}
