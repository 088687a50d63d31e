// Package jwx is the jwtverify backend built on
// github.com/lestrrat-go/jwx/v2: that library's JWS verifiers check the
// signatures, and jwtverify's shared core does everything else. RSA-PSS is
// the exception: jwx accepts PSS salts of any length, so this package
// checks PS256/384/512 itself with crypto/rsa, salt as long as the hash
// (RFC 7518 §3.5).
//
// Only the jws verifiers are used, not jws.Parse or jwt.Parse, whose own
// decoding rules would differ from the other backends'.
package jwx

import (
	"crypto"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/sha512"
	"errors"
	"unsafe"

	"github.com/lestrrat-go/jwx/v2/jwa"
	"github.com/lestrrat-go/jwx/v2/jws"

	"github.com/jwtverify/jwtverify"
)

// Backend checks signatures with jwx's JWS verifiers. Make one with
// NewBackend; it is immutable and safe for concurrent use. The zero
// Backend has no verifiers and refuses every signature.
type Backend struct {
	verifiers map[string]jws.Verifier // built once; read-only
}

var _ jwtverify.Backend = (*Backend)(nil)

// NewBackend returns a Backend with a verifier for every algorithm
// jwtverify supports: jwx's, looked up once so that verification never
// takes the lock of jwx's global verifier registry, and this package's own
// for RSA-PSS.
func NewBackend() (*Backend, error) {
	b := &Backend{verifiers: make(map[string]jws.Verifier)}
	for _, alg := range jwtverify.Algorithms() {
		v, err := jws.NewVerifier(jwa.SignatureAlgorithm(alg))
		if err != nil {
			return nil, err
		}
		b.verifiers[alg] = v
	}
	b.verifiers["PS256"] = newPSS(crypto.SHA256)
	b.verifiers["PS384"] = newPSS(crypto.SHA384)
	b.verifiers["PS512"] = newPSS(crypto.SHA512)
	return b, nil
}

// pssVerifier checks RSA-PSS signatures itself, with the salt as long as
// the hash as RFC 7518 §3.5 requires: jwx v2's own PS256/384/512 verifier
// passes nil options to rsa.VerifyPSS, which accepts a salt of any length,
// and has no setting to change that.
type pssVerifier struct {
	hash crypto.Hash
	opts rsa.PSSOptions
}

var errKey = errors.New("jwx: RSA-PSS needs an *rsa.PublicKey")

func newPSS(h crypto.Hash) *pssVerifier {
	return &pssVerifier{hash: h, opts: rsa.PSSOptions{SaltLength: rsa.PSSSaltLengthEqualsHash}}
}

// Verify implements jws.Verifier for the keys jwtverify.Verifier hands to backends.
func (v *pssVerifier) Verify(payload, sig []byte, key any) error {
	pub, ok := key.(*rsa.PublicKey)
	if !ok {
		return errKey
	}
	switch v.hash {
	case crypto.SHA256:
		d := sha256.Sum256(payload)
		return rsa.VerifyPSS(pub, v.hash, d[:], sig, &v.opts)
	case crypto.SHA384:
		d := sha512.Sum384(payload)
		return rsa.VerifyPSS(pub, v.hash, d[:], sig, &v.opts)
	}
	d := sha512.Sum512(payload)
	return rsa.VerifyPSS(pub, v.hash, d[:], sig, &v.opts)
}

// New returns a verifier for cfg that uses this backend. Errors wrap
// jwtverify.ErrInvalidConfig.
func New(cfg jwtverify.Config) (*jwtverify.Verifier, error) {
	b, err := NewBackend()
	if err != nil {
		return nil, errors.Join(jwtverify.ErrInvalidConfig, err)
	}
	return jwtverify.New(b, cfg)
}

// Name returns "jwx".
func (*Backend) Name() string { return "jwx" }

var errAlg = errors.New("jwx: unsupported algorithm")

// VerifySignature implements jwtverify.Backend.
func (b *Backend) VerifySignature(alg string, key any, signingInput string, sig []byte) error {
	v, ok := b.verifiers[alg]
	if !ok {
		return errAlg
	}
	// jwx's verifiers only hash the payload they are given, so a read-only
	// view of the string serves without the copy a conversion would make.
	return v.Verify(unsafe.Slice(unsafe.StringData(signingInput), len(signingInput)), sig, key)
}
