package jwtverify

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rsa"
	"fmt"
	"math/big"
	"math/bits"
	"sync/atomic"

	"github.com/jwtverify/jwtverify/internal/ed25519pt"
)

// minRSABits is the smallest RSA modulus NewPublicKey accepts, in bits.
const minRSABits = 2048

// Key is a validated verification key: an RSA, ECDSA (P-256, P-384, P-521)
// or Ed25519 public key, or an HMAC secret, with an optional key id and an
// optional algorithm it is restricted to. Keys are made by [NewPublicKey]
// and [NewSecretKey], which refuse weak or invalid material, and are
// immutable afterwards: a Key is safe for concurrent use by multiple
// goroutines, and copies share the material, which no one modifies. The
// zero Key is not a usable key: it has no id and supports no algorithm.
type Key struct {
	k *keyData
}

type keyData struct {
	id     string
	alg    string // "" when any algorithm of the key's family is allowed
	family family
	curve  string // EC keys: the JWK crv name
	size   int    // RSA: modulus bytes; EC: coordinate bytes; HMAC: secret bytes
	pub    crypto.PublicKey
	secret any // HMAC: the []byte secret, boxed once so material does not allocate
	// prep is a Preparer's state for this key (see prepared): nil until a
	// Verifier with a Preparer first uses the key.
	prep atomic.Pointer[preparedState]
}

// preparedState is one Preparer's state for a key; by is that Preparer
// (a comparable value: New uses only those), so that a Key shared by
// Verifiers of two Preparers, even of one name, rebuilds rather than hands
// one's state to the other.
type preparedState struct {
	by    Preparer
	state any
}

// prepared returns p's state for k, built by p.Prepare on first use and
// kept in k: a lock-free load on every later use.
func (k Key) prepared(p Preparer) (any, error) {
	if e := k.k.prep.Load(); e != nil && e.by == p {
		return e.state, nil
	}
	state, err := p.Prepare(k.material())
	if err != nil {
		return nil, err
	}
	k.k.prep.Store(&preparedState{by: p, state: state})
	return state, nil
}

// NewPublicKey returns a Key for pub, which must be an *rsa.PublicKey of at
// least 2048 bits with an odd public exponent between 3 and 2^31-1
// and a modulus with no prime factor below 168 and without the ROCA
// fingerprint (CVE-2017-15361: such a key's private key can be computed
// from it), an *ecdsa.PublicKey on P-256, P-384 or P-521 whose point lies
// on the curve, or an ed25519.PublicKey of 32 bytes encoding a curve point
// of large order (small-order keys let anyone forge signatures). id is the
// key id ("" for none). alg, when not "", restricts the key to that
// algorithm, which must suit the key; it cannot be an HMAC algorithm.
// Errors wrap [ErrInvalidConfig], give the reason and say nothing about
// the key material.
func NewPublicKey(id, alg string, pub crypto.PublicKey) (Key, error) {
	d := &keyData{id: id, alg: alg, pub: pub}
	switch p := pub.(type) {
	case *rsa.PublicKey:
		if p == nil || p.N == nil {
			return Key{}, fmt.Errorf("%w: nil RSA key", ErrInvalidConfig)
		}
		if bits := p.N.BitLen(); bits < minRSABits {
			return Key{}, fmt.Errorf("%w: RSA key of %d bits; at least %d required", ErrInvalidConfig, bits, minRSABits)
		}
		if p.E < 3 || p.E > 1<<31-1 || p.E%2 == 0 {
			return Key{}, fmt.Errorf("%w: RSA public exponent must be odd and between 3 and 2^31-1", ErrInvalidConfig)
		}
		switch smallFactor, roca := rsaModulusFlaws(p.N); {
		case smallFactor:
			return Key{}, fmt.Errorf("%w: RSA modulus has a prime factor below 168", ErrInvalidConfig)
		case roca:
			return Key{}, fmt.Errorf("%w: RSA modulus has the ROCA fingerprint (CVE-2017-15361, Infineon RSALib): its private key can be computed from it; replace the key", ErrInvalidConfig)
		}
		// Keep a private copy so later changes by the caller cannot race.
		d.pub = &rsa.PublicKey{N: new(big.Int).Set(p.N), E: p.E}
		d.family, d.size = famRSA, (p.N.BitLen()+7)/8
	case *ecdsa.PublicKey:
		if p == nil || p.Curve == nil {
			return Key{}, fmt.Errorf("%w: nil ECDSA key", ErrInvalidConfig)
		}
		var crv string
		switch p.Curve {
		case elliptic.P256():
			crv = "P-256"
		case elliptic.P384():
			crv = "P-384"
		case elliptic.P521():
			crv = "P-521"
		default:
			return Key{}, fmt.Errorf("%w: unsupported elliptic curve", ErrInvalidConfig)
		}
		// Bytes encodes the point and fails for one off the curve or at infinity.
		raw, err := p.Bytes()
		if err != nil {
			return Key{}, fmt.Errorf("%w: ECDSA point is not on %s", ErrInvalidConfig, crv)
		}
		cp, err := ecdsa.ParseUncompressedPublicKey(p.Curve, raw)
		if err != nil {
			return Key{}, fmt.Errorf("%w: ECDSA point is not on %s", ErrInvalidConfig, crv)
		}
		d.pub = cp
		d.family, d.curve, d.size = famEC, crv, (p.Curve.Params().BitSize+7)/8
	case ed25519.PublicKey:
		if len(p) != ed25519.PublicKeySize {
			return Key{}, fmt.Errorf("%w: Ed25519 key of %d bytes; want %d", ErrInvalidConfig, len(p), ed25519.PublicKeySize)
		}
		if !ed25519pt.Valid(p) {
			// A small-order key (the identity, say) verifies forged signatures.
			return Key{}, fmt.Errorf("%w: Ed25519 key is not a curve point of large order", ErrInvalidConfig)
		}
		d.pub = ed25519.PublicKey(append([]byte(nil), p...))
		d.family = famEd25519
	default:
		return Key{}, fmt.Errorf("%w: unsupported public key type %T", ErrInvalidConfig, pub)
	}
	if err := d.checkAlg(); err != nil {
		return Key{}, err
	}
	return Key{d}, nil
}

// rsaModulusFlaws reports whether the positive modulus n has a prime factor
// below 168 (so an even one does), and whether it has the fingerprint of
// the keys Infineon's RSALib generated (Nemec et al., "The Return of
// Coppersmith's Attack", CCS 2017): their primes are k*M + (65537^a mod M),
// M a primorial, so modulo every prime p below 168 n is a power of 65537.
// This is the published test; a modulus of random primes passes it with a
// probability of about 2^-27.8 (1 in 239 million), a sound key refused.
func rsaModulusFlaws(n *big.Int) (smallFactor, roca bool) {
	primes := [...]uint{2, 3, 5, 7, 11, 13, 17, 19, 23, 29, 31, 37, 41, 43, 47, 53, 59, 61, 67, 71,
		73, 79, 83, 89, 97, 101, 103, 107, 109, 113, 127, 131, 137, 139, 149, 151, 157, 163, 167}
	words := n.Bits()
	roca = true
	for i := 0; i < len(primes); {
		// n mod m, m a product of primes that fits in a word, then n mod
		// each of them: a few passes over n instead of one per prime.
		m, j := uint(1), i
		for ; j < len(primes); j++ {
			hi, lo := bits.Mul(m, primes[j])
			if hi != 0 {
				break
			}
			m = lo
		}
		var r uint
		for k := len(words) - 1; k >= 0; k-- {
			r = bits.Rem(r, uint(words[k]), m)
		}
		for ; i < j; i++ {
			p := primes[i]
			rp := r % p
			if rp == 0 {
				return true, false
			}
			roca = roca && powerOf(rp, 65537%p, p)
		}
	}
	return false, roca
}

// powerOf reports whether x is a power of g modulo the prime p, for x and g
// in 1…p-1: whether the walk 1, g, g², … meets x before it returns to 1.
func powerOf(x, g, p uint) bool {
	y := uint(1)
	for {
		if y == x {
			return true
		}
		if y = y * g % p; y == 1 {
			return false
		}
	}
}

// NewSecretKey returns an HMAC Key for a copy of secret. The secret must be
// at least 32 bytes, the HS256 minimum of RFC 7518 §3.2; it then serves
// HS256, and HS384 and HS512 when it is at least 48 and 64 bytes long. alg,
// when not "", restricts it to one HMAC algorithm. Errors wrap
// [ErrInvalidConfig].
func NewSecretKey(id, alg string, secret []byte) (Key, error) {
	if len(secret) < 32 {
		return Key{}, fmt.Errorf("%w: HMAC secret of %d bytes; at least 32 required", ErrInvalidConfig, len(secret))
	}
	d := &keyData{id: id, alg: alg, family: famHMAC, size: len(secret), secret: append([]byte(nil), secret...)}
	if err := d.checkAlg(); err != nil {
		return Key{}, err
	}
	return Key{d}, nil
}

func (d *keyData) checkAlg() error {
	if d.alg == "" {
		return nil
	}
	if _, ok := lookupAlg(d.alg); !ok {
		return fmt.Errorf("%w: unsupported key algorithm", ErrInvalidConfig)
	}
	if !d.suits(d.alg) {
		return fmt.Errorf("%w: key algorithm %s does not suit the key", ErrInvalidConfig, d.alg)
	}
	return nil
}

// suits reports whether the key's material can verify alg, ignoring d.alg.
func (d *keyData) suits(alg string) bool {
	info, ok := lookupAlg(alg)
	if !ok || info.family != d.family {
		return false
	}
	switch d.family {
	case famEC:
		return info.curve == d.curve
	case famHMAC:
		return d.size >= info.size
	}
	return true
}

// ID returns the key id, or "" when the key has none.
func (k Key) ID() string {
	if k.k == nil {
		return ""
	}
	return k.k.id
}

// Algorithm returns the algorithm the key is restricted to, or "" when it
// serves every algorithm of its type.
func (k Key) Algorithm() string {
	if k.k == nil {
		return ""
	}
	return k.k.alg
}

// Public returns the public key (*rsa.PublicKey, *ecdsa.PublicKey or
// ed25519.PublicKey), or nil for an HMAC key. It is shared and must not be
// modified.
func (k Key) Public() crypto.PublicKey {
	if k.k == nil || k.k.family == famHMAC {
		return nil
	}
	return k.k.pub
}

// Supports reports whether the key may verify alg: alg is a supported
// algorithm of the key's type (curve, for ECDSA; minimum length, for HMAC)
// and equals the key's own algorithm when it has one.
func (k Key) Supports(alg string) bool {
	if k.k == nil || (k.k.alg != "" && k.k.alg != alg) {
		return false
	}
	return k.k.suits(alg)
}

// Algorithms returns the algorithms the key supports, in the order of the
// package-level [Algorithms], in a new slice the caller owns (nil for the
// zero Key).
func (k Key) Algorithms() []string {
	var out []string
	for _, alg := range Algorithms() {
		if k.Supports(alg) {
			out = append(out, alg)
		}
	}
	return out
}

// material is what a Backend receives for the key.
func (k Key) material() any {
	if k.k.family == famHMAC {
		return k.k.secret
	}
	return k.k.pub
}

// Lookup is what Verify asks a [KeySource] for, computed once per token
// after the checks that precede key lookup (see the package
// documentation). The zero Lookup names no kid and no algorithm. A Lookup
// is a plain value, passed by copy.
type Lookup struct {
	// KID is the token's kid; "" when it has none.
	KID string
	// Alg is the token's alg, already allowlisted: one of the algorithms
	// the Verifier accepts.
	Alg string
	// MayFetch reports that the unverified token is plausible, so an
	// unknown kid may cost a fetch: KID is not "" and the payload, not yet
	// authenticated, is one strict JSON object whose iss is among
	// Config.Issuers (when they are set) and whose exp is present (unless
	// Config.AllowMissingExpiry) and not past (now < exp + Config.Leeway).
	// The claims are read only for this; nothing is reported from them
	// before the signature holds. A source that can fetch keys it does not
	// hold should fetch for an unknown kid only when MayFetch is set, so
	// junk tokens cost a map miss, never a request.
	MayFetch bool
	// Issuer is the token's iss, not yet authenticated, when KID is not ""
	// and the payload is one strict JSON object with a string iss; ""
	// otherwise (the payload of a token without kid is decoded after the
	// signature). A source whose keys are bound to an issuer (a JWK's
	// issuer member, with keyset.RemoteConfig.EnforceKeyIssuer) serves such
	// a key only for a matching Issuer; the signature then authenticates
	// the iss the key was chosen for.
	Issuer string
}

// KeySource supplies verification keys. keyset.Static and keyset.Remote
// implement it, and so may a caller's own type. Verify calls Key exactly
// once per token that reaches key lookup; the source owns every decision
// about fetching (negative caching, rate limits, coalescing of requests).
// Implementations must be safe for concurrent use: a Verifier calls Key
// from every Verify at once. A Verifier does not own its KeySource:
// closing one (keyset.Remote.Close) is the caller's job. A nil KeySource
// is refused by New.
type KeySource interface {
	// Key returns the key for l.KID ("" when the token has none) that
	// supports l.Alg. It fails with an error made by [Reject] of class
	// ErrUnknownKey when no key matches, ErrAlgorithm when the key l.KID
	// names does not support l.Alg, or ErrKeysUnavailable when the source
	// has no usable keys at all; Verify replaces other errors with generic
	// ones. The detail must not contain the kid. ctx bounds any wait; see
	// [Lookup.MayFetch] for when an unknown kid may cost a fetch. The
	// returned Key is shared (Keys are immutable).
	Key(ctx context.Context, l Lookup) (Key, error)
	// Algorithms returns the algorithms the source's keys can ever
	// support. A Verifier with no configured allowlist uses it as one.
	Algorithms() []string
}
