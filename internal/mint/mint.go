// Package mint signs tokens and encodes public keys as JWKs. It is the
// issuer side that tests, benchmarks and the demo need, and the core of
// the public test helper, package jwttest; the library itself only
// verifies. It signs whatever bytes it is given, so tests can build
// hostile tokens (duplicate members, odd encodings) with valid signatures.
package mint

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/hmac"
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
)

var b64 = base64.RawURLEncoding

// hashFor returns the hash of a JWS algorithm.
func hashFor(alg string) crypto.Hash {
	switch alg[2:] {
	case "256":
		return crypto.SHA256
	case "384":
		return crypto.SHA384
	case "512":
		return crypto.SHA512
	}
	return 0
}

// Signature signs input for alg with key: an *rsa.PrivateKey,
// *ecdsa.PrivateKey, ed25519.PrivateKey or []byte HMAC secret. ECDSA
// signatures are r‖s of fixed width, as JWS requires.
func Signature(alg string, key any, input []byte) ([]byte, error) {
	if alg == "EdDSA" {
		k, ok := key.(ed25519.PrivateKey)
		if !ok {
			return nil, errors.New("mint: EdDSA needs ed25519.PrivateKey")
		}
		return ed25519.Sign(k, input), nil
	}
	if len(alg) != 5 || hashFor(alg) == 0 {
		return nil, fmt.Errorf("mint: unsupported alg %q", alg)
	}
	h := hashFor(alg)
	if alg[:2] == "HS" {
		k, ok := key.([]byte)
		if !ok {
			return nil, errors.New("mint: HMAC needs []byte")
		}
		m := hmac.New(h.New, k)
		m.Write(input)
		return m.Sum(nil), nil
	}
	d := h.New()
	d.Write(input)
	digest := d.Sum(nil)
	switch k := key.(type) {
	case *rsa.PrivateKey:
		switch alg[:2] {
		case "RS":
			return rsa.SignPKCS1v15(rand.Reader, k, h, digest)
		case "PS":
			return rsa.SignPSS(rand.Reader, k, h, digest, &rsa.PSSOptions{SaltLength: rsa.PSSSaltLengthEqualsHash})
		}
	case *ecdsa.PrivateKey:
		if alg[:2] == "ES" {
			r, s, err := ecdsa.Sign(rand.Reader, k, digest)
			if err != nil {
				return nil, err
			}
			size := (k.Curve.Params().BitSize + 7) / 8
			sig := make([]byte, 2*size)
			r.FillBytes(sig[:size])
			s.FillBytes(sig[size:])
			return sig, nil
		}
	}
	return nil, fmt.Errorf("mint: key %T does not sign %s", key, alg)
}

// Raw returns the compact JWS of header and payload exactly as given,
// signed for alg with key.
func Raw(alg string, key any, header, payload []byte) (string, error) {
	input := b64.EncodeToString(header) + "." + b64.EncodeToString(payload)
	sig, err := Signature(alg, key, []byte(input))
	if err != nil {
		return "", err
	}
	return input + "." + b64.EncodeToString(sig), nil
}

// Token marshals header and claims as JSON, sets header["alg"] to alg when
// the header has no alg, and signs them for alg with key.
func Token(alg string, key any, header, claims map[string]any) (string, error) {
	h := map[string]any{"alg": alg}
	for k, v := range header {
		h[k] = v
	}
	hb, err := json.Marshal(h)
	if err != nil {
		return "", err
	}
	cb, err := json.Marshal(claims)
	if err != nil {
		return "", err
	}
	return Raw(alg, key, hb, cb)
}

// JWK returns the public JWK of pub (*rsa.PublicKey, *ecdsa.PublicKey or
// ed25519.PublicKey) with optional kid and alg.
func JWK(pub crypto.PublicKey, kid, alg string) (map[string]any, error) {
	m := map[string]any{}
	switch p := pub.(type) {
	case *rsa.PublicKey:
		m["kty"] = "RSA"
		m["n"] = b64.EncodeToString(p.N.Bytes())
		e := []byte{byte(p.E >> 24), byte(p.E >> 16), byte(p.E >> 8), byte(p.E)}
		for len(e) > 1 && e[0] == 0 {
			e = e[1:]
		}
		m["e"] = b64.EncodeToString(e)
	case *ecdsa.PublicKey:
		m["kty"] = "EC"
		m["crv"] = p.Curve.Params().Name
		raw, err := p.Bytes()
		if err != nil {
			return nil, err
		}
		size := (len(raw) - 1) / 2
		m["x"] = b64.EncodeToString(raw[1 : 1+size])
		m["y"] = b64.EncodeToString(raw[1+size:])
	case ed25519.PublicKey:
		m["kty"] = "OKP"
		m["crv"] = "Ed25519"
		m["x"] = b64.EncodeToString(p)
	default:
		return nil, fmt.Errorf("mint: unsupported public key %T", pub)
	}
	if kid != "" {
		m["kid"] = kid
	}
	if alg != "" {
		m["alg"] = alg
	}
	return m, nil
}
