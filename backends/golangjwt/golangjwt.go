// Package golangjwt is the jwtverify backend built on
// github.com/golang-jwt/jwt/v5: that library's signing methods check the
// signatures, and jwtverify's shared core does everything else.
//
// Only the signing methods are used, not jwt.Parse: the parser's own rules
// (lenient base64, last-wins duplicate members, its claim validation) would
// make this backend accept what the other backends refuse.
package golangjwt

import (
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
func New(cfg jwtverify.Config) (*jwtverify.Core, error) {
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
		return jwt.SigningMethodPS256
	case "PS384":
		return jwt.SigningMethodPS384
	case "PS512":
		return jwt.SigningMethodPS512
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
