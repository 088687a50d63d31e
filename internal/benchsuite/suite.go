// Package benchsuite is the benchmark comparison shared by the bench
// tests, the nested bench/compare module (which adds the other libraries)
// and the command's bench subcommand: one realistic access token per
// algorithm, the raw standard-library work no verifier can skip ("limit"),
// and each way of verifying it here.
package benchsuite

import (
	"bytes"
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/hmac"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/big"
	"net/http"
	"strings"
	"time"

	"github.com/jwtverify/jwtverify"
	"github.com/jwtverify/jwtverify/backends/golangjwt"
	"github.com/jwtverify/jwtverify/backends/jwx"
	"github.com/jwtverify/jwtverify/backends/native"
	"github.com/jwtverify/jwtverify/cache"
	"github.com/jwtverify/jwtverify/internal/b64url"
	"github.com/jwtverify/jwtverify/internal/mint"
	"github.com/jwtverify/jwtverify/internal/testkeys"
	"github.com/jwtverify/jwtverify/keyset"
)

// Algs are the algorithms of the comparison.
var Algs = []string{"RS256", "PS256", "ES256", "EdDSA", "HS256"}

// Issuer, Audience and Now describe the token and the verifiers' policy.
const (
	Issuer   = "https://login.example.com/tenant-1/v2.0"
	Audience = "api://orders"
)

// Now is the fixed clock: the token is valid then.
var Now = time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC)

// Claims is the realistic access token payload (about 400 bytes).
func Claims() map[string]any {
	return map[string]any{
		"iss":   Issuer,
		"sub":   "user-7f3c2a91-4b6e-4f0a-9d2c-8e1b5a7c3d40",
		"aud":   []string{Audience, "api://inventory"},
		"exp":   Now.Add(time.Hour).Unix(),
		"nbf":   Now.Add(-time.Minute).Unix(),
		"iat":   Now.Add(-time.Minute).Unix(),
		"jti":   "a1b2c3d4-e5f6-4789-9abc-def012345678",
		"scope": "orders:read orders:write inventory:read profile email",
		"roles": []string{"order-manager", "viewer"},
		"org":   map[string]any{"id": "org-42", "plan": "enterprise", "region": "eu-west-1"},
	}
}

// Case is one algorithm's token, its keys and the pre-decoded parts the
// limit works on.
type Case struct {
	Alg          string
	Token        string
	Kid          string
	Public       crypto.PublicKey // nil for HMAC
	Secret       []byte           // HMAC
	Private      any              // signs the token
	signingInput []byte
	sig          []byte
	r, s         *big.Int // ES256
}

// Cases builds the token of every algorithm from the committed test keys.
func Cases() ([]*Case, error) {
	ks := testkeys.Load()
	var out []*Case
	for _, alg := range Algs {
		c := &Case{Alg: alg, Kid: "key-" + strings.ToLower(alg)}
		switch alg {
		case "RS256", "PS256":
			c.Private, c.Public = ks.RSA1, &ks.RSA1.PublicKey
		case "ES256":
			c.Private, c.Public = ks.P256, &ks.P256.PublicKey
		case "EdDSA":
			c.Private, c.Public = ks.Ed25519, ks.Ed25519.Public()
		case "HS256":
			c.Private, c.Secret = ks.HMAC[:32], ks.HMAC[:32]
		}
		tok, err := mint.Token(alg, c.Private, map[string]any{"kid": c.Kid, "typ": "at+jwt"}, Claims())
		if err != nil {
			return nil, err
		}
		c.Token = tok
		i := strings.LastIndexByte(tok, '.')
		c.signingInput = []byte(tok[:i])
		if c.sig, err = b64url.DecodeString(tok[i+1:]); err != nil {
			return nil, err
		}
		if alg == "ES256" {
			c.r, c.s = new(big.Int).SetBytes(c.sig[:32]), new(big.Int).SetBytes(c.sig[32:])
		}
		out = append(out, c)
	}
	return out, nil
}

// Limit checks the signature with the standard library on pre-decoded
// bytes and a pre-parsed key: hash the signing input and verify. No
// base64, no JSON: the work no verifier can skip.
func (c *Case) Limit() error {
	switch c.Alg {
	case "RS256":
		h := sha256.Sum256(c.signingInput)
		return rsa.VerifyPKCS1v15(c.Public.(*rsa.PublicKey), crypto.SHA256, h[:], c.sig)
	case "PS256":
		h := sha256.Sum256(c.signingInput)
		return rsa.VerifyPSS(c.Public.(*rsa.PublicKey), crypto.SHA256, h[:], c.sig, nil)
	case "ES256":
		h := sha256.Sum256(c.signingInput)
		if !ecdsa.Verify(c.Public.(*ecdsa.PublicKey), h[:], c.r, c.s) {
			return errors.New("ecdsa: invalid signature")
		}
		return nil
	case "EdDSA":
		if !ed25519.Verify(c.Public.(ed25519.PublicKey), c.signingInput, c.sig) {
			return errors.New("ed25519: invalid signature")
		}
		return nil
	case "HS256":
		m := hmac.New(sha256.New, c.Secret)
		m.Write(c.signingInput)
		if !hmac.Equal(m.Sum(nil), c.sig) {
			return errors.New("hmac: invalid signature")
		}
		return nil
	}
	return fmt.Errorf("no limit for %s", c.Alg)
}

// Floor returns the native backend's signature check alone, with its
// prepared state built beforehand (the RSA modulus, the keyed HMAC): on
// pre-decoded bytes, like Limit, so that the rows show how close the
// native backend gets to what the arithmetic costs. For ES256 and EdDSA
// the native backend is the standard library, and Floor is Limit's check.
func (c *Case) Floor() (func() error, error) {
	key := c.Public
	if c.Secret != nil {
		key = c.Secret
	}
	var b native.Backend
	state, err := b.Prepare(key)
	if err != nil {
		return nil, err
	}
	input := string(c.signingInput)
	return func() error { return b.VerifyPrepared(c.Alg, state, input, c.sig) }, nil
}

// JWKS returns the public key set of the asymmetric cases.
func JWKS(cases []*Case) ([]byte, error) {
	var keys []map[string]any
	for _, c := range cases {
		if c.Public == nil {
			continue
		}
		m, err := mint.JWK(c.Public, c.Kid, c.Alg)
		if err != nil {
			return nil, err
		}
		keys = append(keys, m)
	}
	return json.Marshal(map[string]any{"keys": keys})
}

// Keys returns the verification keys of the cases.
func Keys(cases []*Case) ([]jwtverify.Key, error) {
	var out []jwtverify.Key
	for _, c := range cases {
		var k jwtverify.Key
		var err error
		if c.Secret != nil {
			k, err = jwtverify.NewSecretKey(c.Kid, c.Alg, c.Secret)
		} else {
			k, err = jwtverify.NewPublicKey(c.Kid, c.Alg, c.Public)
		}
		if err != nil {
			return nil, err
		}
		out = append(out, k)
	}
	return out, nil
}

// Config is the policy every contender applies: issuer, audience, expiry,
// not-before and issued-at, at Now.
func Config(keys jwtverify.KeySource) jwtverify.Config {
	return jwtverify.Config{
		Keys: keys, Issuers: []string{Issuer}, Audiences: []string{Audience},
		Now: func() time.Time { return Now },
	}
}

// fixedJWKS serves one JWKS without a network: the remote key set's
// transport in the benchmarks.
type fixedJWKS []byte

func (b fixedJWKS) RoundTrip(r *http.Request) (*http.Response, error) {
	h := http.Header{}
	h.Set("Cache-Control", "max-age=86400")
	return &http.Response{StatusCode: 200, Header: h, Body: io.NopCloser(bytes.NewReader(b)), Request: r}, nil
}

// Contender is one way of verifying one case's token.
type Contender struct {
	Alg    string
	Name   string       // "limit", "golang-jwt", "jwx/remote", "anchor=keyfunc", ...
	Verify func() error // one full verification
}

// Ours returns, for every case: the limit and the floor; each backend
// (native, golang-jwt, jwx) with static keys and with a warm remote key
// set (HMAC: static only); and the verified-token cache in front of the
// golang-jwt backend. Close releases the remote sets.
func Ours(cases []*Case) (contenders []Contender, closeFn func(), err error) {
	keys, err := Keys(cases)
	if err != nil {
		return nil, nil, err
	}
	static, err := keyset.NewStatic(keys...)
	if err != nil {
		return nil, nil, err
	}
	jwks, err := JWKS(cases)
	if err != nil {
		return nil, nil, err
	}
	remote, err := keyset.NewRemote("https://login.example.com/keys", keyset.RemoteConfig{
		Client: &http.Client{Transport: fixedJWKS(jwks)},
	})
	if err != nil {
		return nil, nil, err
	}
	if err := remote.Refresh(context.Background()); err != nil {
		remote.Close()
		return nil, nil, err
	}
	jb, err := jwx.NewBackend()
	if err != nil {
		return nil, nil, err
	}
	type verifier struct {
		name string
		v    interface {
			Verify(context.Context, string) (*jwtverify.Token, error)
		}
		hmac bool // serves HS256
	}
	var vs []verifier
	backends := []jwtverify.Backend{native.Backend{}, golangjwt.Backend{}, jb}
	for _, b := range backends {
		v, err := jwtverify.New(b, Config(static))
		if err != nil {
			return nil, nil, err
		}
		vs = append(vs, verifier{b.Name(), v, true})
	}
	for _, b := range backends {
		v, err := jwtverify.New(b, Config(remote))
		if err != nil {
			return nil, nil, err
		}
		vs = append(vs, verifier{b.Name() + "/remote", v, false})
	}
	cached, err := cache.NewVerified(vs[1].v, cache.VerifiedConfig{Now: func() time.Time { return Now }}) // golang-jwt
	if err != nil {
		return nil, nil, err
	}
	vs = append(vs, verifier{"cached", cached, true})

	for _, c := range cases {
		floor, err := c.Floor()
		if err != nil {
			return nil, nil, err
		}
		contenders = append(contenders, Contender{c.Alg, "limit", c.Limit}, Contender{c.Alg, "floor", floor})
		for _, v := range vs {
			if c.Alg == "HS256" && !v.hmac {
				continue
			}
			vv, tok := v.v, c.Token
			contenders = append(contenders, Contender{c.Alg, v.name, func() error {
				_, err := vv.Verify(context.Background(), tok)
				return err
			}})
		}
	}
	return contenders, func() { remote.Close() }, nil
}
