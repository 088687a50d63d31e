// Package jwkthumb computes RFC 7638 JWK thumbprints, for keyset (key
// digests and keyset.Thumbprint) and jwttest (a bound token's cnf.jkt).
// It holds no state.
package jwkthumb

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
)

// ErrNoJWK is Of's error for a key with no public JWK.
var ErrNoJWK = errors.New("the key has no public JWK thumbprint")

// Of returns the SHA-256 thumbprint, base64url without padding, of pub:
// an *rsa.PublicKey, *ecdsa.PublicKey or ed25519.PublicKey.
func Of(pub crypto.PublicKey) (string, error) {
	enc := base64.RawURLEncoding.EncodeToString
	var in []byte
	switch p := pub.(type) {
	case *rsa.PublicKey:
		in = Input("RSA", "", enc(big.NewInt(int64(p.E)).Bytes()), enc(p.N.Bytes()), "", "")
	case *ecdsa.PublicKey:
		size := (p.Curve.Params().BitSize + 7) / 8
		point, err := p.Bytes() // 0x04 || x || y, each of the curve's full length
		if err != nil {
			return "", ErrNoJWK
		}
		in = Input("EC", p.Curve.Params().Name, "", "", enc(point[1:1+size]), enc(point[1+size:]))
	case ed25519.PublicKey:
		in = Input("OKP", "Ed25519", "", "", enc(p), "")
	default:
		return "", ErrNoJWK
	}
	sum := sha256.Sum256(in)
	return enc(sum[:]), nil
}

// Input is the RFC 7638 §3 input for a key with these members: the
// required members only, in lexical order, without white space. The
// values are JSON strings, quoted by encoding/json.
func Input(kty, crv, e, n, x, y string) []byte {
	q := func(s string) []byte { b, _ := json.Marshal(s); return b }
	switch kty {
	case "RSA":
		return fmt.Appendf(nil, `{"e":%s,"kty":"RSA","n":%s}`, q(e), q(n))
	case "EC":
		return fmt.Appendf(nil, `{"crv":%s,"kty":"EC","x":%s,"y":%s}`, q(crv), q(x), q(y))
	}
	return fmt.Appendf(nil, `{"crv":%s,"kty":%s,"x":%s}`, q(crv), q(kty), q(x))
}
