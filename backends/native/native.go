// Package native is the jwtverify backend built on the standard library's
// crypto and filippo.io/bigmod, the exported copy of the standard
// library's own constant-time modular arithmetic. It is a
// jwtverify.Preparer: each key's state is built once, kept in the key, and
// reused by every verification with it.
//
//   - RSA PKCS #1 v1.5 (RS256, RS384, RS512): the modulus is prepared once
//     per key (bigmod.NewModulus: its Montgomery constants), and each
//     verification computes s^e mod n (bigmod's ExpShortVarTime, the
//     exponent being public) and compares the result in full, in constant
//     time, with the encoding it must be, 00 01 FF…FF 00 || DigestInfo ||
//     H, built as the standard library builds it and never parsed: parsing
//     the padding is how Bleichenbacher's 2006 forgery works. A signature
//     not below the modulus is refused.
//   - RSA-PSS (PS256, PS384, PS512): the same prepared modulus, with
//     EMSA-PSS verification (RFC 8017 §9.1.2, MGF1 with the message hash)
//     and a salt as long as the hash (RFC 7518 §3.5).
//   - HMAC (HS256, HS384, HS512): instances keyed once per secret, reused
//     through a pool, compared with hmac.Equal. The secret stays in the
//     key: only the HMAC's own keyed state is derived from it.
//   - EdDSA (Ed25519): the decoded public point kept per key
//     (filippo.io/edwards25519), and RFC 8032 verification as crypto/ed25519
//     does it (cofactorless, S canonical, R compared as encoded).
//   - ECDSA: the standard library (crypto/ecdsa).
//
// The zero Backend is ready to use and safe for concurrent use.
package native

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rsa"
	"errors"
	"fmt"

	"filippo.io/bigmod"

	"github.com/jwtverify/jwtverify"
)

// Backend verifies signatures with prepared per-key state. The zero value
// is ready to use; it holds no state of its own (the state lives in the
// keys) and is safe for concurrent use.
type Backend struct{}

var _ jwtverify.Preparer = Backend{}

// New returns a jwtverify.Verifier that checks signatures with Backend.
func New(cfg jwtverify.Config) (*jwtverify.Verifier, error) {
	return jwtverify.New(Backend{}, cfg)
}

// Name returns "native".
func (Backend) Name() string { return "native" }

// errBad is the one error of a signature that does not verify; its text
// is discarded by the core anyway.
var errBad = errors.New("native: signature does not verify")

// VerifySignature implements jwtverify.Backend for callers that do not
// keep prepared state: it prepares the key and verifies, every time.
func (b Backend) VerifySignature(alg string, key any, signingInput string, sig []byte) error {
	state, err := b.Prepare(key)
	if err != nil {
		return err
	}
	return b.VerifyPrepared(alg, state, signingInput, sig)
}

// Prepare implements jwtverify.Preparer: the prepared modulus of an RSA
// key, the keyed HMAC pools of a secret, the decoded point of an Ed25519
// key; ECDSA keys are used as they are.
//
// Keys are checked as jwtverify.NewPublicKey checks them, for callers that
// use the Backend directly: RSA of at least 2048 bits, an odd modulus and
// an odd exponent from 3 to 2^31-1; EC on P-256, P-384 or P-521. A key
// that fails is an error, never a panic.
func (Backend) Prepare(key any) (any, error) {
	switch k := key.(type) {
	case *rsa.PublicKey:
		if k == nil || k.N == nil || k.N.Sign() <= 0 || k.N.Bit(0) == 0 || k.N.BitLen() < minRSABits ||
			k.E < 3 || k.E > 1<<31-1 || k.E%2 == 0 {
			return nil, errors.New("native: RSA key refused (at least 2048 bits, odd modulus, odd exponent from 3 to 2^31-1)")
		}
		return prepareRSA(k)
	case []byte:
		return prepareHMAC(k), nil
	case ed25519.PublicKey:
		return prepareEd25519(k)
	case *ecdsa.PublicKey:
		if k == nil || k.Curve == nil || k.X == nil || k.Y == nil || ecAlg(k) == "" {
			return nil, errors.New("native: EC key refused (P-256, P-384 or P-521)")
		}
		return k, nil
	}
	return nil, fmt.Errorf("native: unsupported key type %T", key)
}

// minRSABits is the smallest RSA key accepted, as jwtverify.NewPublicKey's.
const minRSABits = 2048

// ecAlg returns the JWS algorithm of an EC key's curve, "" for another.
func ecAlg(k *ecdsa.PublicKey) string {
	switch k.Curve {
	case elliptic.P256():
		return "ES256"
	case elliptic.P384():
		return "ES384"
	case elliptic.P521():
		return "ES512"
	}
	return ""
}

// VerifyPrepared implements jwtverify.Preparer.
func (Backend) VerifyPrepared(alg string, state any, signingInput string, sig []byte) error {
	h, ok := hashOf(alg)
	if !ok {
		return errBad
	}
	var good bool
	switch st := state.(type) {
	case *rsaKey:
		switch alg[:2] {
		case "RS":
			good = st.verifyPKCS1v15(h, signingInput, sig)
		case "PS":
			good = st.verifyPSS(h, signingInput, sig)
		}
	case *hmacKey:
		good = alg[:2] == "HS" && st.verify(h, signingInput, sig)
	case *ecdsa.PublicKey:
		good = alg == ecAlg(st) && verifyECDSA(st, h, signingInput, sig)
	case *edKey:
		good = alg == "EdDSA" && st.verify(signingInput, sig)
	}
	if !good {
		return errBad
	}
	return nil
}

// verifyECDSA checks a JWS ECDSA signature, r || s each of the curve's
// full length (the core has checked the total length), with the standard
// library: ecdsa.VerifyASN1 on the DER form of r and s, written into a
// stack buffer. That is what ecdsa.Verify does after converting its
// big.Ints back to bytes; going straight from the bytes saves those
// conversions and their allocations.
func verifyECDSA(pub *ecdsa.PublicKey, h hashID, input string, sig []byte) bool {
	n := (pub.Curve.Params().BitSize + 7) / 8
	if len(sig) != 2*n {
		return false // one encoding only: no zero-padded r || s
	}
	var der [maxDER]byte
	return ecdsa.VerifyASN1(pub, h.sum(input), appendDER(der[:0], sig[:n], sig[n:]))
}

// maxDER is the longest DER ECDSA signature appendDER writes: P-521's,
// a SEQUENCE (long-form length) of two INTEGERs of up to 67 bytes.
const maxDER = 3 + 2*(2+67)

// appendDER appends SEQUENCE { INTEGER r, INTEGER s } (RFC 3279 §2.2.3)
// for r and s, unsigned big-endian of at most 66 bytes each, in minimal
// DER: leading zero bytes dropped, one 0x00 put back before a high bit,
// and zero as the single byte 0x00 (which VerifyASN1 refuses, as Verify
// refuses a zero r or s).
func appendDER(dst, r, s []byte) []byte {
	r, s = bytes.TrimLeft(r, "\x00"), bytes.TrimLeft(s, "\x00")
	intLen := func(x []byte) int {
		if len(x) == 0 || x[0]&0x80 != 0 {
			return 2 + 1 + len(x)
		}
		return 2 + len(x)
	}
	appendInt := func(dst, x []byte) []byte {
		if len(x) == 0 || x[0]&0x80 != 0 {
			return append(append(dst, 0x02, byte(len(x)+1), 0x00), x...)
		}
		return append(append(dst, 0x02, byte(len(x))), x...)
	}
	body := intLen(r) + intLen(s)
	if body < 0x80 {
		dst = append(dst, 0x30, byte(body))
	} else {
		dst = append(dst, 0x30, 0x81, byte(body))
	}
	return appendInt(appendInt(dst, r), s)
}

// rsaKey is the prepared state of an RSA key.
type rsaKey struct {
	n    *bigmod.Modulus
	e    uint
	size int // modulus bytes: the length of signatures and of EM
	bits int // modulus bits
	// pkcs1 holds, per hash, the PKCS #1 v1.5 encoding without the hash:
	// 00 01 FF…FF 00 || DigestInfo prefix, size - hash length bytes.
	pkcs1 [numHashes][]byte
}

func prepareRSA(k *rsa.PublicKey) (*rsaKey, error) {
	n, err := bigmod.NewModulus(k.N.Bytes())
	if err != nil {
		return nil, fmt.Errorf("native: RSA modulus: %v", err)
	}
	st := &rsaKey{n: n, e: uint(k.E), size: (k.N.BitLen() + 7) / 8, bits: k.N.BitLen()}
	for h := range hashID(numHashes) {
		prefix := digestInfo[h]
		tLen := len(prefix) + h.size()
		if st.size < tLen+11 {
			continue // too short for this hash: every such signature fails
		}
		em := make([]byte, st.size-h.size())
		em[1] = 1
		for i := 2; i < st.size-tLen-1; i++ {
			em[i] = 0xff
		}
		copy(em[st.size-tLen:], prefix)
		st.pkcs1[h] = em
	}
	return st, nil
}

// exp returns sig^e mod n as size bytes, or false when sig is not below n.
func (k *rsaKey) exp(sig []byte) ([]byte, bool) {
	s, err := bigmod.NewNat().SetBytes(sig, k.n)
	if err != nil {
		return nil, false // s ≥ n
	}
	return bigmod.NewNat().ExpShortVarTime(s, k.e, k.n).Bytes(k.n), true
}
