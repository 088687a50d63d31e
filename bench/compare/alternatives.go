// Command compare prints the benchmark table of jwtverify against the
// libraries users would pick instead: golang-jwt/jwt/v5, lestrrat-go/jwx/v2,
// MicahParks/keyfunc/v3 (with golang-jwt), go-jose/go-jose/v4 and
// coreos/go-oidc/v3, each used as its documentation says, with the same
// checks (algorithm, signature, issuer, audience, expiry). It lives in its
// own module so that those libraries never enter jwtverify's go.mod.
//
//	cd bench/compare && go run . [-duration 60s] [-format json]
//	cd bench/compare && go test -run '^$' -bench . -count 10
package main

import (
	"context"
	"crypto"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/MicahParks/keyfunc/v3"
	"github.com/coreos/go-oidc/v3/oidc"
	jose "github.com/go-jose/go-jose/v4"
	josejwt "github.com/go-jose/go-jose/v4/jwt"
	"github.com/golang-jwt/jwt/v5"
	"github.com/lestrrat-go/jwx/v2/jwa"
	"github.com/lestrrat-go/jwx/v2/jwk"
	jwxjwt "github.com/lestrrat-go/jwx/v2/jwt"

	"github.com/jwtverify/jwtverify/internal/benchsuite"
)

// Alternatives returns, for every case, each other library's verification
// of its token, named "anchor=<library>".
func Alternatives(cases []*benchsuite.Case) ([]benchsuite.Contender, error) {
	var out []benchsuite.Contender
	for _, c := range cases {
		vs, err := alternativesFor(c)
		if err != nil {
			return nil, err
		}
		for _, name := range names {
			v, ok := vs[name]
			if !ok {
				continue // go-oidc and keyfunc take no HMAC secret
			}
			tok := c.Token
			out = append(out, benchsuite.Contender{Alg: c.Alg, Name: "anchor=" + name, Verify: func() error { return v(tok) }})
		}
	}
	return out, nil
}

// verifyFunc verifies one token string.
type verifyFunc func(token string) error

// names in a fixed order, for stable output.
var names = []string{"golang-jwt", "jwx", "keyfunc", "go-jose", "go-oidc"}

func alternativesFor(c *benchsuite.Case) (map[string]verifyFunc, error) {
	now := func() time.Time { return benchsuite.Now }
	var key any = c.Public
	if c.Secret != nil {
		key = c.Secret
	}
	out := map[string]verifyFunc{}

	// golang-jwt: Parse with valid methods, issuer, audience, expiry.
	parser := jwt.NewParser(jwt.WithValidMethods([]string{c.Alg}), jwt.WithIssuer(benchsuite.Issuer),
		jwt.WithAudience(benchsuite.Audience), jwt.WithExpirationRequired(), jwt.WithIssuedAt(), jwt.WithTimeFunc(now))
	out["golang-jwt"] = func(token string) error {
		_, err := parser.Parse(token, func(*jwt.Token) (any, error) { return key, nil })
		return err
	}

	// jwx: jwt.Parse with a key set and validation.
	var jk jwk.Key
	var err error
	if c.Secret != nil {
		jk, err = jwk.FromRaw(c.Secret)
	} else {
		jk, err = jwk.FromRaw(c.Public)
	}
	if err != nil {
		return nil, err
	}
	jk.Set(jwk.KeyIDKey, c.Kid)
	jk.Set(jwk.AlgorithmKey, jwa.SignatureAlgorithm(c.Alg))
	set := jwk.NewSet()
	set.AddKey(jk)
	opts := []jwxjwt.ParseOption{jwxjwt.WithKeySet(set), jwxjwt.WithValidate(true), jwxjwt.WithIssuer(benchsuite.Issuer),
		jwxjwt.WithAudience(benchsuite.Audience), jwxjwt.WithRequiredClaim("exp"), jwxjwt.WithClock(jwxjwt.ClockFunc(now))}
	out["jwx"] = func(token string) error {
		_, err := jwxjwt.ParseString(token, opts...)
		return err
	}

	// keyfunc v3 with golang-jwt (asymmetric keys from a JWKS).
	if c.Public != nil {
		jwks, err := benchsuite.JWKS([]*benchsuite.Case{c})
		if err != nil {
			return nil, err
		}
		kf, err := keyfunc.NewJWKSetJSON(json.RawMessage(jwks))
		if err != nil {
			return nil, err
		}
		out["keyfunc"] = func(token string) error {
			_, err := parser.Parse(token, kf.Keyfunc)
			return err
		}
	}

	// go-jose: ParseSigned, Claims, Validate.
	algs := []jose.SignatureAlgorithm{jose.SignatureAlgorithm(c.Alg)}
	expected := josejwt.Expected{Issuer: benchsuite.Issuer, AnyAudience: josejwt.Audience{benchsuite.Audience}, Time: benchsuite.Now}
	out["go-jose"] = func(token string) error {
		t, err := josejwt.ParseSigned(token, algs)
		if err != nil {
			return err
		}
		var claims josejwt.Claims
		if err := t.Claims(key, &claims); err != nil {
			return err
		}
		if claims.Expiry == nil {
			return errors.New("no exp")
		}
		return claims.ValidateWithLeeway(expected, 0)
	}

	// go-oidc: IDTokenVerifier with a static key set (asymmetric only).
	if c.Public != nil {
		v := oidc.NewVerifier(benchsuite.Issuer, &oidc.StaticKeySet{PublicKeys: []crypto.PublicKey{c.Public}},
			&oidc.Config{ClientID: benchsuite.Audience, SupportedSigningAlgs: []string{c.Alg}, Now: now})
		out["go-oidc"] = func(token string) error {
			_, err := v.Verify(context.Background(), token)
			return err
		}
	}
	for name := range out {
		if !slices.Contains(names, name) {
			return nil, fmt.Errorf("unnamed alternative %s", name)
		}
	}
	return out, nil
}
