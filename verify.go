package jwtverify

import (
	"context"
	"crypto/ed25519"
	"errors"
	"slices"
	"unsafe"

	"github.com/jwtverify/jwtverify/internal/jsonx"
	"github.com/jwtverify/jwtverify/internal/jws"
	"github.com/jwtverify/jwtverify/internal/reject"
)

// Verify verifies token and returns it decoded, or nil and an error for
// which exactly one of the rejection sentinels reports true under
// errors.Is. The checks run in the order the package documentation states
// under "Check order and error classes", and stop at the first failure.
// The error text never contains the token or any part of it. Each call
// returns a Token of its own, which belongs to the caller (see [Token]).
// ctx bounds only the key lookup (a key source may fetch).
func (c *Verifier) Verify(ctx context.Context, token string) (*Token, error) {
	seg, err := jws.Split(token, c.maxBytes)
	if err != nil {
		return nil, err
	}
	tok, buf := newToken(seg.DecodedLen())
	p, err := seg.Decode(buf)
	if err != nil {
		return nil, err
	}
	if err := c.parseHeader(&p, &tok.Header); err != nil {
		return nil, err
	}
	h := &tok.Header
	if !slices.Contains(c.algs, h.Algorithm) {
		if isNone(h.Algorithm) {
			return nil, errAlgNone
		}
		if _, known := lookupAlg(h.Algorithm); known {
			return nil, reject.Newf(ErrAlgorithm, "alg %s is not allowed", h.Algorithm)
		}
		return nil, errAlgUnknown
	}

	// MayFetch, which matters only for a token with a kid, is computed from
	// its claims: those are decoded before the lookup, and judged, their
	// decoding error included, only after the signature. An accepted token
	// needs the decoding anyway; a token without kid is decoded later.
	tok.Claims.Audience = tok.aud[:0]
	l := Lookup{KID: h.KeyID, Alg: h.Algorithm}
	var has present
	var claimsErr error
	decoded := l.KID != ""
	if decoded {
		has, claimsErr = c.decodeClaims(&p, tok)
		l.MayFetch, l.Issuer = c.mayFetch(&p, &tok.Claims, has, claimsErr)
	}
	key, err := c.keys.Key(ctx, l)
	if err != nil {
		return nil, sourceError(err)
	}
	if !key.Supports(h.Algorithm) {
		return nil, reject.Newf(ErrAlgorithm, "the selected key does not support %s", h.Algorithm)
	}
	if want := sigLen(key, h.Algorithm); len(p.Signature) != want {
		return nil, reject.Newf(ErrSignature, "signature is %d bytes; %s with this key needs %d", len(p.Signature), h.Algorithm, want)
	}
	if c.verifySignature(key, h.Algorithm, p.SigningInput, p.Signature) != nil {
		return nil, errBadSignature
	}

	if !decoded {
		has, claimsErr = c.decodeClaims(&p, tok)
	}
	if claimsErr != nil {
		return nil, claimsErr
	}
	if err := c.checkClaims(tok, has); err != nil {
		return nil, err
	}
	tok.Claims.Raw = p.PayloadText()
	return tok, nil
}

// newToken returns a new Token and a buffer of n bytes, in one allocation
// when n is small enough: the Token's strings view the buffer, so the two
// live and die together anyway. Each case below fills one of the
// runtime's allocation size classes exactly, so a held Token keeps at
// most one class step (at most 1/8 of it) beyond what it needs. A token's
// decoded bytes take at most 3/4 of its length: a token of up to about
// 5 KiB (typical: under 1 KiB) costs one allocation, a larger one two.
func newToken(n int) (*Token, []byte) {
	// t is what a class takes besides the buffer: the Token, and the 8
	// bytes the runtime puts before an object with pointers of more than
	// 512 bytes (if that changes, a class spills into the next size class,
	// which wastes memory but is still correct).
	const t = int(unsafe.Sizeof(Token{})) + 8
	switch {
	case n <= 640-t:
		return tokenWith[[640 - t]byte](n)
	case n <= 768-t:
		return tokenWith[[768 - t]byte](n)
	case n <= 896-t:
		return tokenWith[[896 - t]byte](n)
	case n <= 1024-t:
		return tokenWith[[1024 - t]byte](n)
	case n <= 1152-t:
		return tokenWith[[1152 - t]byte](n)
	case n <= 1280-t:
		return tokenWith[[1280 - t]byte](n)
	case n <= 1536-t:
		return tokenWith[[1536 - t]byte](n)
	case n <= 1792-t:
		return tokenWith[[1792 - t]byte](n)
	case n <= 2048-t:
		return tokenWith[[2048 - t]byte](n)
	case n <= 2688-t:
		return tokenWith[[2688 - t]byte](n)
	case n <= 3072-t:
		return tokenWith[[3072 - t]byte](n)
	case n <= 4096-t:
		return tokenWith[[4096 - t]byte](n)
	}
	return new(Token), make([]byte, n)
}

// tokenWith allocates a Token and the byte array B after it, and returns
// the Token and the first n bytes of B (n ≤ len(B), which newToken's
// cases ensure; the slice's capacity is n).
func tokenWith[B any](n int) (*Token, []byte) {
	a := new(struct {
		Token
		buf B // a byte array
	})
	return &a.Token, unsafe.Slice((*byte)(unsafe.Pointer(&a.buf)), n)
}

// verifySignature checks sig with the backend: with the key's prepared
// state when the backend is a Preparer.
func (c *Verifier) verifySignature(key Key, alg, input string, sig []byte) error {
	if c.preparer == nil {
		return c.backend.VerifySignature(alg, key.material(), input, sig)
	}
	state, err := key.prepared(c.preparer)
	if err != nil {
		return err
	}
	return c.preparer.VerifyPrepared(alg, state, input, sig)
}

// Fixed rejections of Verify: one immutable value each.
var (
	errAlgNone      = reject.New(ErrAlgorithm, "alg none is never accepted")
	errAlgUnknown   = reject.New(ErrAlgorithm, "alg is not a supported algorithm")
	errBadSignature = reject.New(ErrSignature, "signature does not verify")
)

// sourceError turns a KeySource's error into a rejection with exactly one
// class and no text from the source, except for errors made by Reject
// itself with a class a key lookup can have.
func sourceError(err error) error {
	if r, ok := err.(*reject.Error); ok {
		switch r.Class() {
		case ErrUnknownKey, ErrAlgorithm, ErrKeysUnavailable:
			return r
		}
	}
	switch {
	case errors.Is(err, ErrKeysUnavailable):
		return reject.New(ErrKeysUnavailable, "key source cannot supply keys")
	case errors.Is(err, ErrUnknownKey):
		return reject.New(ErrUnknownKey, "no key for the token")
	case errors.Is(err, ErrAlgorithm):
		return reject.New(ErrAlgorithm, "the key does not support the token's algorithm")
	}
	return reject.New(ErrKeysUnavailable, "key source failed")
}

// sigLen is the exact signature length alg needs with key.
func sigLen(key Key, alg string) int {
	switch key.k.family {
	case famRSA:
		return key.k.size
	case famEC:
		return 2 * key.k.size
	case famEd25519:
		return ed25519.SignatureSize
	}
	info, _ := lookupAlg(alg)
	return info.hash.Size()
}

// parseHeader decodes the protected header of p into h.
func (c *Verifier) parseHeader(p *jws.Parts, h *Header) error {
	data := p.Header
	var hasAlg, hasCrit, b64False bool
	err := jsonx.Object(data, func(name, value []byte) error {
		var ok bool
		switch string(name) {
		case "alg":
			h.Algorithm, ok = p.String(value)
			hasAlg = true
		case "kid":
			h.KeyID, ok = p.String(value)
		case "typ":
			h.Type, ok = p.String(value)
		case "crit":
			// RFC 7515 §4.1.11: a non-empty array of strings. We understand
			// no extension, so any valid crit is unsupported below.
			n := 0
			isArr, err := jsonx.Array(value, func(e []byte) error {
				n++
				if _, isStr := jsonx.String(e); !isStr {
					return reject.New(ErrMalformed, "header crit holds a non-string")
				}
				return nil
			})
			if err != nil {
				return err
			}
			ok, hasCrit = isArr && n > 0, true
		case "b64":
			ok = string(value) == "true" || string(value) == "false"
			b64False = string(value) == "false"
		default:
			return nil
		}
		if !ok {
			return reject.Newf(ErrMalformed, "header %s has the wrong JSON type", name)
		}
		return nil
	})
	switch {
	case err != nil:
		if Class(err) != "" {
			return err
		}
		return reject.Newf(ErrMalformed, "header: %v", err)
	case !hasAlg:
		return reject.New(ErrMalformed, "header has no alg")
	case hasCrit:
		return reject.New(ErrUnsupported, "header crit names extensions this verifier does not implement")
	case b64False:
		return reject.New(ErrUnsupported, "unencoded payload (b64 false, RFC 7797) is not supported")
	}
	if len(c.types) > 0 {
		if h.Type == "" {
			return reject.New(ErrType, "typ header is missing")
		}
		if !slices.Contains(c.types, normType(h.Type)) {
			return reject.Newf(ErrType, "typ is not among the %d accepted", len(c.types))
		}
	}
	return nil
}
