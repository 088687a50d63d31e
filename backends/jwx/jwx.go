// Package jwx is the jwtverify backend built on
// github.com/lestrrat-go/jwx/v2: that library's JWS verifiers check the
// signatures, and jwtverify's shared core does everything else.
//
// Only the jws verifiers are used, not jws.Parse or jwt.Parse, whose own
// decoding rules would differ from the other backends'.
package jwx

import (
	"errors"
	"unsafe"

	"github.com/lestrrat-go/jwx/v2/jwa"
	"github.com/lestrrat-go/jwx/v2/jws"

	"github.com/jwtverify/jwtverify"
)

// Backend checks signatures with jwx's JWS verifiers. Make one with
// NewBackend; it is immutable and safe for concurrent use.
type Backend struct {
	verifiers map[string]jws.Verifier // built once; read-only
}

var _ jwtverify.Backend = (*Backend)(nil)

// NewBackend returns a Backend with a jwx verifier for every algorithm
// jwtverify supports, looked up once so that verification never takes the
// lock of jwx's global verifier registry.
func NewBackend() (*Backend, error) {
	b := &Backend{verifiers: make(map[string]jws.Verifier)}
	for _, alg := range jwtverify.Algorithms() {
		v, err := jws.NewVerifier(jwa.SignatureAlgorithm(alg))
		if err != nil {
			return nil, err
		}
		b.verifiers[alg] = v
	}
	return b, nil
}

// New returns a verifier for cfg that uses this backend. Errors wrap
// jwtverify.ErrInvalidConfig.
func New(cfg jwtverify.Config) (*jwtverify.Core, error) {
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
