package native

import (
	"crypto/ed25519"
	"crypto/sha512"
	"crypto/subtle"
	"fmt"

	"filippo.io/edwards25519"
)

// edKey is the prepared state of an Ed25519 key: its encoding and its
// decoded point, negated, so that a verification skips the decompression
// (about 2.8 µs of the 43 µs ed25519.Verify takes here).
type edKey struct {
	pub    []byte
	minusA *edwards25519.Point
}

func prepareEd25519(pub ed25519.PublicKey) (*edKey, error) {
	if len(pub) != ed25519.PublicKeySize {
		return nil, fmt.Errorf("native: Ed25519 key of %d bytes", len(pub))
	}
	a, err := new(edwards25519.Point).SetBytes(pub)
	if err != nil {
		return nil, fmt.Errorf("native: Ed25519 key is not a point")
	}
	return &edKey{pub: append([]byte(nil), pub...), minusA: new(edwards25519.Point).Negate(a)}, nil
}

// verify is RFC 8032 §5.1.7 as crypto/ed25519 does it (cofactorless,
// S canonical, R compared as encoded): R == [S]B - [k]A with
// k = SHA-512(R || A || M) mod l.
func (k *edKey) verify(msg string, sig []byte) bool {
	if len(sig) != ed25519.SignatureSize {
		return false
	}
	s, err := edwards25519.NewScalar().SetCanonicalBytes(sig[32:])
	if err != nil {
		return false
	}
	h := sha512.New()
	h.Write(sig[:32])
	h.Write(k.pub)
	h.Write(bytesOf(msg))
	var d [64]byte
	kk, err := edwards25519.NewScalar().SetUniformBytes(h.Sum(d[:0]))
	if err != nil {
		return false
	}
	r := new(edwards25519.Point).VarTimeDoubleScalarBaseMult(kk, k.minusA, s)
	return subtle.ConstantTimeCompare(r.Bytes(), sig[:32]) == 1
}
