// Package golangjwt is the jwtverify backend built on
// github.com/golang-jwt/jwt/v5: that library's signing methods check the
// signatures, and jwtverify's shared core does everything else.
//
// RSA-PSS uses signing methods of this package's own, which require the
// salt to be as long as the hash (RFC 7518 §3.5); golang-jwt's
// SigningMethodPS256 etc. accept any salt length.
//
// Only the signing methods are used, not jwt.Parse: the parser's own rules
// (lenient base64, last-wins duplicate members, its claim validation) would
// make this backend accept what the other backends refuse.
package golangjwt

import (
	"crypto"
	"crypto/rsa"
	"errors"

	"github.com/golang-jwt/jwt/v5"

	"github.com/jwtverify/jwtverify"
)

// Backend checks signatures with golang-jwt's signing methods. The zero
// value is ready to use and safe for concurrent use.
type Backend struct{}

var _ jwtverify.Backend = Backend{}

// New returns a verifier for cfg that uses this backend. Errors wrap
// jwtverify.ErrInvalidConfig.
func New(cfg jwtverify.Config) (*jwtverify.Verifier, error) {
	return jwtverify.New(Backend{}, cfg)
}

// Name returns "golang-jwt".
func (Backend) Name() string { return "golang-jwt" }

var errAlg = errors.New("golangjwt: unsupported algorithm")

// VerifySignature implements jwtverify.Backend.
func (Backend) VerifySignature(alg string, key any, signingInput string, sig []byte) error {
	m := method(alg)
	if m == nil {
		return errAlg
	}
	return m.Verify(signingInput, sig, key)
}

// method maps an algorithm to golang-jwt's signing method without its
// global registry (jwt.GetSigningMethod takes a lock on every call).
func method(alg string) jwt.SigningMethod {
	switch alg {
	case "RS256":
		return jwt.SigningMethodRS256
	case "RS384":
		return jwt.SigningMethodRS384
	case "RS512":
		return jwt.SigningMethodRS512
	case "PS256":
		return ps256
	case "PS384":
		return ps384
	case "PS512":
		return ps512
	case "ES256":
		return jwt.SigningMethodES256
	case "ES384":
		return jwt.SigningMethodES384
	case "ES512":
		return jwt.SigningMethodES512
	case "EdDSA":
		return jwt.SigningMethodEdDSA
	case "HS256":
		return jwt.SigningMethodHS256
	case "HS384":
		return jwt.SigningMethodHS384
	case "HS512":
		return jwt.SigningMethodHS512
	}
	return nil
}

// The RSA-PSS methods, with the salt as long as the hash on verification
// as RFC 7518 §3.5 requires. golang-jwt's own SigningMethodPS256 etc.
// verify with rsa.PSSSaltLengthAuto, which accepts a salt of any length;
// these are separate values, so golang-jwt's globals are left as they are.
// Never modified.
var (
	saltEqualsHash = &rsa.PSSOptions{SaltLength: rsa.PSSSaltLengthEqualsHash}
	ps256          = pss("PS256", crypto.SHA256)
	ps384          = pss("PS384", crypto.SHA384)
	ps512          = pss("PS512", crypto.SHA512)
)

func pss(name string, h crypto.Hash) *jwt.SigningMethodRSAPSS {
	return &jwt.SigningMethodRSAPSS{
		SigningMethodRSA: &jwt.SigningMethodRSA{Name: name, Hash: h},
		Options:          saltEqualsHash,
		VerifyOptions:    saltEqualsHash,
	}
}
