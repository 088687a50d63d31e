package keyset

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/jwtverify/jwtverify"
	"github.com/jwtverify/jwtverify/internal/b64url"
	"github.com/jwtverify/jwtverify/internal/jsonx"
	"github.com/jwtverify/jwtverify/internal/jwkthumb"
	"github.com/jwtverify/jwtverify/internal/redact"
)

// Errors of the parsers, returned wrapped with detail: test for them with
// errors.Is. Their text never contains key material.
var (
	// ErrInvalidKey reports key material that is malformed (an RSA n or e
	// with leading zero octets, short EC coordinates), weak (RSA under 2048
	// bits, a bad exponent, a modulus with a small factor or the ROCA
	// fingerprint), off its curve, private, or not meant for signature
	// verification.
	ErrInvalidKey = errors.New("invalid key")
	// ErrUnsupportedKey reports a well-formed key of a type or curve this
	// library does not verify with (Ed448, X25519, post-quantum AKP, ...).
	ErrUnsupportedKey = errors.New("unsupported key")
)

// maxKeys is the largest number of keys a JWKS may hold (ParseJWKS and
// RemoteConfig.MaxKeys document it).
const maxKeys = 4096

func invalid(format string, args ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{ErrInvalidKey}, args...)...)
}

// ParsePEM parses one public key from PEM: a "PUBLIC KEY" block (SPKI), an
// "RSA PUBLIC KEY" block (PKCS #1) or a "CERTIFICATE" block (its subject
// key; a chain's first certificate is used, nothing in it is verified).
// The key has no id and no algorithm of its own. Private key blocks are
// refused: a verifier never needs one. data is not kept; the Key is the
// caller's, and immutable.
func ParsePEM(data []byte) (jwtverify.Key, error) {
	block, rest := pem.Decode(data)
	if block == nil {
		return jwtverify.Key{}, invalid("no PEM block")
	}
	var pub any
	var err error
	switch block.Type {
	case "PUBLIC KEY":
		pub, err = x509.ParsePKIXPublicKey(block.Bytes)
	case "RSA PUBLIC KEY":
		pub, err = x509.ParsePKCS1PublicKey(block.Bytes)
	case "CERTIFICATE":
		var cert *x509.Certificate
		if cert, err = x509.ParseCertificate(block.Bytes); err == nil {
			pub = cert.PublicKey
		}
		// Further certificates of a chain are ignored.
		for next, r := pem.Decode(rest); next != nil; next, r = pem.Decode(r) {
			if next.Type != "CERTIFICATE" {
				return jwtverify.Key{}, invalid("PEM holds a %s block after the certificate", blockType(next.Type))
			}
		}
		rest = nil
	default:
		return jwtverify.Key{}, invalid("PEM block %s is not a public key or certificate", blockType(block.Type))
	}
	if err != nil {
		return jwtverify.Key{}, invalid("PEM %s does not parse", block.Type)
	}
	if next, _ := pem.Decode(rest); next != nil {
		return jwtverify.Key{}, invalid("PEM holds more than one block; use a JWKS for several keys")
	}
	return newPublic("", "", pub)
}

// blockType names a PEM block type for an error, without echoing arbitrary text.
func blockType(t string) string {
	switch t {
	case "PRIVATE KEY", "RSA PRIVATE KEY", "EC PRIVATE KEY", "ENCRYPTED PRIVATE KEY", "OPENSSH PRIVATE KEY":
		return "private key"
	case "PUBLIC KEY", "RSA PUBLIC KEY", "CERTIFICATE":
		return t
	}
	return "unknown"
}

func newPublic(id, alg string, pub any) (jwtverify.Key, error) {
	k, err := jwtverify.NewPublicKey(id, alg, pub)
	if err != nil {
		if errors.Is(err, jwtverify.ErrInvalidConfig) {
			// Re-label: the key, not the caller's configuration, is at
			// fault. The reason stays.
			reason := strings.TrimPrefix(err.Error(), jwtverify.ErrInvalidConfig.Error()+": ")
			return jwtverify.Key{}, fmt.Errorf("%w: %s", ErrInvalidKey, reason)
		}
		return jwtverify.Key{}, err
	}
	return k, nil
}

// jwk holds the members of a JWK that matter for verification.
type jwk struct {
	kty, kid, use, alg, crv string
	n, e, x, y              string
	issuer                  string // Entra's key-level issuer member, when a string
	badIssuer               bool   // an issuer member that is not a string
	keyOps                  []string
	hasKeyOps, private      bool
	spiffe                  bool // SPIFFE bundle rules for use; set before parse
}

// ParseJWK parses one public JWK (RFC 7517) for signature verification:
// kty RSA (n and e in the minimum number of octets, RFC 7518 §6.3.1; the
// checks of jwtverify.NewPublicKey), EC (P-256, P-384, P-521; x and y of
// the curve's full length, leading zero octets kept, RFC 7518 §6.2.1; point
// on the curve) or OKP (Ed25519). The JSON must be strict: one object,
// valid UTF-8, no two member names equal or equal under case folding,
// members of the right types. Refused with ErrInvalidKey: a key
// with private members (d, p, q, dp, dq, qi, oth), "use" other than "sig",
// "key_ops" without "verify", an alg that does not suit the key, and
// symmetric ("oct") keys, which belong in jwtverify.NewSecretKey, never in
// a public key set. Refused with ErrUnsupportedKey: other key types and
// curves, and algorithms outside jwtverify.Algorithms. data is not kept;
// the Key is the caller's, and immutable.
func ParseJWK(data []byte) (jwtverify.Key, error) {
	var j jwk
	return j.parse(data, nil)
}

func (j *jwk) member(name, value []byte) error {
	var dst *string
	switch string(name) {
	case "kty":
		dst = &j.kty
	case "kid":
		dst = &j.kid
	case "use":
		dst = &j.use
	case "alg":
		dst = &j.alg
	case "crv":
		dst = &j.crv
	case "n":
		dst = &j.n
	case "e":
		dst = &j.e
	case "x":
		dst = &j.x
	case "y":
		dst = &j.y
	case "issuer":
		// Read only when it is a string; the set decides what a
		// non-string one means (setRules.bindIssuers).
		var ok bool
		if j.issuer, ok = jsonx.String(value); !ok {
			j.issuer, j.badIssuer = "", true
		}
		return nil
	case "d", "p", "q", "dp", "dq", "qi", "oth", "k":
		j.private = true
		return nil
	case "key_ops":
		j.hasKeyOps = true
		isArr, err := jsonx.Array(value, func(e []byte) error {
			s, ok := jsonx.String(e)
			if !ok {
				return invalid("JWK key_ops holds a non-string")
			}
			j.keyOps = append(j.keyOps, s)
			return nil
		})
		if err != nil {
			return err
		}
		if !isArr {
			return invalid("JWK key_ops is not an array")
		}
		return nil
	default:
		return nil
	}
	s, ok := jsonx.String(value)
	if !ok {
		return invalid("JWK member %s is not a string", name)
	}
	*dst = s
	return nil
}

func (j *jwk) key() (jwtverify.Key, error) {
	switch {
	case j.kty == "":
		return jwtverify.Key{}, invalid("JWK has no kty")
	case j.kty == "oct":
		return jwtverify.Key{}, invalid("symmetric (oct) JWK refused; configure HMAC secrets with jwtverify.NewSecretKey")
	case j.private:
		return jwtverify.Key{}, invalid("JWK carries private key members; publish only public keys")
	case !j.spiffe && j.use != "" && j.use != "sig":
		return jwtverify.Key{}, invalid("JWK use %s is not sig", bounded(j.use))
	case j.spiffe && j.use == "x509-svid":
		return jwtverify.Key{}, invalid(`JWK use "x509-svid" is for X.509-SVIDs and never verifies a JWT`)
	case j.spiffe && j.use != "" && j.use != "jwt-svid":
		return jwtverify.Key{}, invalid("JWK use %s is not jwt-svid", bounded(j.use))
	case j.hasKeyOps && !slices.Contains(j.keyOps, "verify"):
		return jwtverify.Key{}, invalid("JWK key_ops does not include verify")
	}
	if j.alg != "" && !slices.Contains(jwtverify.Algorithms(), j.alg) {
		return jwtverify.Key{}, fmt.Errorf("%w: JWK alg is not a supported signature algorithm", ErrUnsupportedKey)
	}
	var pub any
	switch j.kty {
	case "RSA":
		n, err1 := b64url.DecodeString(j.n)
		e, err2 := b64url.DecodeString(j.e)
		if err1 != nil || err2 != nil || len(n) == 0 || len(e) == 0 {
			return jwtverify.Key{}, invalid("RSA JWK needs n and e in base64url")
		}
		if n[0] == 0 || e[0] == 0 {
			return jwtverify.Key{}, invalid("RSA JWK n or e has a leading zero octet: RFC 7518 §6.3.1 requires the minimum number of octets")
		}
		if len(e) > 4 {
			return jwtverify.Key{}, invalid("RSA public exponent too large")
		}
		var ev int
		for _, b := range e {
			ev = ev<<8 | int(b)
		}
		pub = &rsa.PublicKey{N: new(big.Int).SetBytes(n), E: ev}
	case "EC":
		var curve elliptic.Curve
		switch j.crv {
		case "P-256":
			curve = elliptic.P256()
		case "P-384":
			curve = elliptic.P384()
		case "P-521":
			curve = elliptic.P521()
		case "":
			return jwtverify.Key{}, invalid("EC JWK has no crv")
		default:
			return jwtverify.Key{}, fmt.Errorf("%w: EC curve is not supported", ErrUnsupportedKey)
		}
		size := (curve.Params().BitSize + 7) / 8
		x, err1 := b64url.DecodeString(j.x)
		y, err2 := b64url.DecodeString(j.y)
		if err1 != nil || err2 != nil {
			return jwtverify.Key{}, invalid("EC JWK needs x and y in base64url")
		}
		if len(x) != size || len(y) != size {
			// RFC 7518 §6.2.1.2: the full length, leading zero octets
			// included; a shorter one is a different encoding of the point.
			return jwtverify.Key{}, invalid("EC JWK x and y must be %d bytes each, the full length of %s with leading zero octets kept (RFC 7518 §6.2.1.2); got %d and %d", size, j.crv, len(x), len(y))
		}
		point := append(append([]byte{4}, x...), y...)
		p, err := ecdsa.ParseUncompressedPublicKey(curve, point)
		if err != nil {
			return jwtverify.Key{}, invalid("EC point is not on %s", j.crv)
		}
		pub = p
	case "OKP":
		switch j.crv {
		case "Ed25519":
		case "":
			return jwtverify.Key{}, invalid("OKP JWK has no crv")
		default:
			return jwtverify.Key{}, fmt.Errorf("%w: OKP curve is not supported", ErrUnsupportedKey)
		}
		x, err := b64url.DecodeString(j.x)
		if err != nil || len(x) != ed25519.PublicKeySize {
			return jwtverify.Key{}, invalid("Ed25519 JWK needs x of %d bytes in base64url", ed25519.PublicKeySize)
		}
		pub = ed25519.PublicKey(x)
	default:
		return jwtverify.Key{}, fmt.Errorf("%w: kty is not supported", ErrUnsupportedKey)
	}
	return newPublic(j.kid, j.alg, pub)
}

// ParseJWKS parses a JWK Set (RFC 7517 §5): a strict JSON object whose
// "keys" member is an array of at most 4096 JWKs. Keys that ParseJWK
// refuses are skipped and reported in skipped, so one odd key never takes
// down the set: each error wraps ErrInvalidKey or ErrUnsupportedKey and
// names the key by its index in the array and its kid, as in
// `key 1 (kid "enc-1"): invalid key: JWK use "enc" is not sig`. Two keys
// that share a kid are both skipped, and both reported, unless they are
// the same key. err is non-nil when the document itself is malformed or
// no usable key remains; then it gives the reasons of the first 8 skipped
// keys and the number of the others.
//
// Values from the document (kid, use) are quoted with Go escapes and cut
// to 32 bytes ("..." after the closing quote marks a cut), so an error or
// a log line holds no control character and no more than a bounded part
// of what the server sent. data is not kept; the Keys and errors are the
// caller's.
func ParseJWKS(data []byte) (keys []jwtverify.Key, skipped []error, err error) {
	return parseJWKS(data, maxKeys, nil)
}

// ParseSPIFFEBundle parses a SPIFFE bundle (SPIFFE Trust Domain and Bundle
// specification §4) for verifying JWT-SVIDs: a JWK Set as ParseJWKS reads
// it, with the same limits, skip rules and error texts, except for the
// rule on each key's "use". A key with use "jwt-svid" is usable, and so is
// a key without use (the bundle the SPIRE agent's Workload API prints has
// none); a key with use "x509-svid" is an X.509-SVID authority and never
// verifies a JWT, so it is skipped with that reason, whatever its kid; a
// key with any other use ("sig" included) is skipped. The optional
// top-level members spiffe_sequence and spiffe_refresh_hint must be
// non-negative integers when present (otherwise err wraps ErrInvalidKey);
// their values are not returned. data is not kept; the Keys and errors are
// the caller's.
func ParseSPIFFEBundle(data []byte) (keys []jwtverify.Key, skipped []error, err error) {
	keys, skipped, _, err = parseSet(data, maxKeys, nil, setRules{spiffe: true})
	return keys, skipped, err
}

// parseJWKS is ParseJWKS with a key-count limit and an optional cache of
// parsed keys, consulted by digest before a key is built.
func parseJWKS(data []byte, limit int, c *keyCache) (keys []jwtverify.Key, skipped []error, err error) {
	keys, skipped, _, err = parseSet(data, limit, c, setRules{})
	return keys, skipped, err
}

// setMeta is what a set holds besides its keys: the SPIFFE members of a
// bundle (has* report presence; a JWKS has none), and the issuer each key
// with an issuer member is bound to. The zero value is a set without
// either.
type setMeta struct {
	sequence, refreshHint       uint64
	hasSequence, hasRefreshHint bool
	bound                       map[jwtverify.Key]string
}

// maxRefreshHint bounds the refresh hint, in seconds, that lifetime
// converts (about 68 years), so the conversion cannot overflow; the
// schedule clamps far lower (MaxRefresh).
const maxRefreshHint = 1<<31 - 1

// lifetime returns the freshness lifetime of a set with these members
// whose response stated httpLife: the refresh hint when it is present and
// positive (a zero hint is no hint), httpLife otherwise.
func (m setMeta) lifetime(httpLife time.Duration) time.Duration {
	if !m.hasRefreshHint || m.refreshHint == 0 {
		return httpLife
	}
	return time.Duration(min(m.refreshHint, maxRefreshHint)) * time.Second
}

// supersededBy returns an error when a bundle with the members next may
// not replace the one with m in use: its spiffe_sequence went backwards
// (SPIFFE Trust Domain and Bundle §4.1.1: monotonically increasing), or is
// absent after m had one, which is the same rollback with the evidence
// removed.
func (m setMeta) supersededBy(next setMeta) error {
	switch {
	case !m.hasSequence:
		return nil
	case !next.hasSequence:
		return invalid("SPIFFE bundle has no spiffe_sequence; the bundle in use has %d: refused as a rollback", m.sequence)
	case next.sequence < m.sequence:
		return invalid("SPIFFE bundle spiffe_sequence went backwards, from %d to %d: refused as a rollback", m.sequence, next.sequence)
	}
	return nil
}

// setRules are the variants of the JWK Set rules.
type setRules struct {
	// spiffe: the SPIFFE bundle rules (the use rule of jwk.key, and the
	// top-level SPIFFE members).
	spiffe bool
	// bindIssuers: a key's issuer member binds it to that issuer
	// (RemoteConfig.EnforceKeyIssuer); an issuer member that is not a
	// string skips the key.
	bindIssuers bool
}

// errNoUsableKey is wrapped by parseSet's error for a well-formed set in
// which no key is usable.
var errNoUsableKey = errors.New("JWKS has no usable key")

// parseSet parses a JWK Set under rules. For a set that is well formed
// but holds no usable key, it returns the meta it read with an error
// wrapping errNoUsableKey (and ErrInvalidKey).
func parseSet(data []byte, limit int, c *keyCache, rules setRules) (keys []jwtverify.Key, skipped []error, meta setMeta, err error) {
	spiffe := rules.spiffe
	var raw [][]byte
	hasKeys := false
	err = jsonx.Object(data, func(name, value []byte) error {
		if spiffe {
			switch string(name) {
			case "spiffe_sequence":
				meta.hasSequence = true
				return bundleInt(name, value, &meta.sequence)
			case "spiffe_refresh_hint":
				meta.hasRefreshHint = true
				return bundleInt(name, value, &meta.refreshHint)
			}
		}
		if string(name) != "keys" {
			return nil
		}
		hasKeys = true
		isArr, err := jsonx.Array(value, func(e []byte) error {
			if len(raw) == limit {
				return invalid("JWKS holds more than %d keys", limit)
			}
			raw = append(raw, e)
			return nil
		})
		if err == nil && !isArr {
			err = invalid("JWKS keys is not an array")
		}
		return err
	})
	switch {
	case err != nil && errors.Is(err, ErrInvalidKey):
		return nil, nil, setMeta{}, err
	case err != nil:
		return nil, nil, setMeta{}, invalid("JWKS is not a strict JSON object: %v", err)
	case !hasKeys:
		return nil, nil, setMeta{}, invalid("JWKS has no keys member")
	}
	type entry struct {
		key    jwtverify.Key
		issuer string // the JWK's issuer member
		label  string // names the key in a skip reason
	}
	var entries []entry
	ids := make(map[string]int) // kid -> index in entries, or -1 once ambiguous
	for i, r := range raw {
		j := jwk{spiffe: spiffe}
		k, err := j.parse(r, c)
		label := keyLabel(i, j.kid)
		if err == nil && rules.bindIssuers && j.badIssuer {
			err = invalid("JWK issuer is not a string")
		}
		if !rules.bindIssuers {
			j.issuer = ""
		}
		if err != nil {
			skipped = append(skipped, fmt.Errorf("%s: %w", label, err))
			continue
		}
		if id := k.ID(); id != "" {
			if at, dup := ids[id]; dup {
				if at >= 0 && sameKey(entries[at].key, k) && entries[at].issuer == j.issuer {
					continue
				}
				if at >= 0 {
					// The first key of the kid goes too; its reason comes first.
					skipped = append(skipped, fmt.Errorf("%s: %w: kid is used by different keys", entries[at].label, ErrInvalidKey))
					entries[at].key = jwtverify.Key{}
				}
				skipped = append(skipped, fmt.Errorf("%s: %w: kid is used by different keys", label, ErrInvalidKey))
				ids[id] = -1
				continue
			}
			ids[id] = len(entries)
		}
		entries = append(entries, entry{k, j.issuer, label})
	}
	for _, e := range entries {
		if e.key == (jwtverify.Key{}) {
			continue
		}
		keys = append(keys, e.key)
		if e.issuer != "" {
			if meta.bound == nil {
				meta.bound = make(map[jwtverify.Key]string)
			}
			meta.bound[e.key] = e.issuer
		}
	}
	switch {
	case len(keys) > 0:
		return keys, skipped, meta, nil
	case len(skipped) == 0:
		return nil, nil, meta, fmt.Errorf("%w: %w: its keys array is empty", ErrInvalidKey, errNoUsableKey)
	}
	const shown = 8
	var why strings.Builder
	for i, e := range skipped[:min(len(skipped), shown)] {
		if i > 0 {
			why.WriteString("; ")
		}
		why.WriteString(e.Error())
	}
	if len(skipped) > shown {
		fmt.Fprintf(&why, "; and %d more", len(skipped)-shown)
	}
	return nil, skipped, meta, fmt.Errorf("%w: %w: %s", ErrInvalidKey, errNoUsableKey, why.String())
}

// bundleInt reads a SPIFFE bundle member that must be a non-negative
// integer (no sign, fraction or exponent) into dst.
func bundleInt(name, value []byte, dst *uint64) error {
	n, err := strconv.ParseUint(string(value), 10, 64)
	if err != nil {
		return invalid("SPIFFE bundle member %s is not a non-negative integer", name)
	}
	*dst = n
	return nil
}

// keyLabel names the JWK at index i of a set in an error: its index and,
// when it has one, its kid, bounded.
func keyLabel(i int, kid string) string {
	if kid == "" {
		return "key " + strconv.Itoa(i)
	}
	return "key " + strconv.Itoa(i) + " (kid " + bounded(kid) + ")"
}

// bounded quotes s, a value from a key document, for an error: Go-quoted
// (no control characters or newlines get through) and cut at a rune
// boundary to at most 32 bytes, a cut marked by "..." after the quote.
func bounded(s string) string {
	s, cut := redact.Truncate(s, 32)
	if cut {
		return strconv.Quote(s) + "..."
	}
	return strconv.Quote(s)
}

// parse reads data into j and builds its key, taking it from c when c
// holds one with the same digest. j.kid is set even when the key is
// refused, unless data is not a strict JSON object with a string kid.
func (j *jwk) parse(data []byte, c *keyCache) (jwtverify.Key, error) {
	if err := jsonx.Object(data, j.member); err != nil {
		if errors.Is(err, ErrInvalidKey) {
			return jwtverify.Key{}, err
		}
		return jwtverify.Key{}, invalid("JWK is not a strict JSON object: %v", err)
	}
	if c == nil {
		return j.key()
	}
	d := j.digest()
	if k, ok := c.get(d); ok {
		return k, nil
	}
	k, err := j.key()
	if err == nil {
		c.add(d, k)
	}
	return k, err
}

// digest identifies a JWK for the parsed-key cache: SHA-256 over its RFC
// 7638 thumbprint, kid and alg. It is computed only for JWKs whose other
// members (use, key_ops, private members) key() then accepts or refuses
// the same way every time, so equal digests mean equal outcomes.
func (j *jwk) digest() digest {
	thumb := sha256.Sum256(jwkthumb.Input(j.kty, j.crv, j.e, j.n, j.x, j.y))
	h := sha256.New()
	h.Write(thumb[:])
	// Length-prefixed fields: no two distinct JWKs share an encoding.
	for _, f := range append([]string{j.kid, j.alg, j.use, fmt.Sprint(j.private, j.hasKeyOps, j.spiffe)}, j.keyOps...) {
		fmt.Fprintf(h, "%d:%s", len(f), f)
	}
	var d digest
	h.Sum(d[:0])
	return d
}

func sameKey(a, b jwtverify.Key) bool {
	type equaler interface{ Equal(x crypto.PublicKey) bool }
	pa, ok := a.Public().(equaler)
	return ok && a.Algorithm() == b.Algorithm() && pa.Equal(b.Public())
}
