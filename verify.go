package jwtverify

import (
	"context"
	"crypto/ed25519"
	"errors"
	"slices"
	"strings"
	"unsafe"

	"github.com/jwtverify/jwtverify/internal/b64url"
	"github.com/jwtverify/jwtverify/internal/jsonx"
)

// Verify verifies token. The checks run in this order and stop at the
// first failure, so every rejection has exactly one class:
//
//  1. size: longer than MaxTokenBytes → ErrTooLarge;
//  2. shape: five segments (JWE) → ErrUnsupported; not three strict
//     base64url segments → ErrMalformed;
//  3. header: not one strict JSON object, or alg/kid/typ/crit/b64 of the
//     wrong JSON type → ErrMalformed; crit, or b64 false → ErrUnsupported;
//     typ not accepted → ErrType;
//  4. algorithm: none, or not allowlisted → ErrAlgorithm;
//  5. key: from Keys by kid → ErrKeysUnavailable, ErrUnknownKey, or
//     ErrAlgorithm when the key does not support alg;
//  6. signature: wrong length or invalid → ErrSignature;
//  7. claims, only now that they are authenticated: see [Core] docs.
//
// jku, x5u, jwk and x5c header members are never used.
func (c *Core) Verify(ctx context.Context, token string) (*Token, error) {
	if len(token) > c.maxBytes {
		return nil, rejectf(ErrTooLarge, "token is %d bytes; the limit is %d", len(token), c.maxBytes)
	}
	if n := strings.Count(token, ".") + 1; n != 3 {
		if n == 5 {
			return nil, reject(ErrUnsupported, "JWE (5 segments) is not supported; only compact JWS")
		}
		return nil, rejectf(ErrMalformed, "token has %d segments; a compact JWS has 3", n)
	}
	d1 := strings.IndexByte(token, '.')
	d2 := d1 + 1 + strings.IndexByte(token[d1+1:], '.')
	h64, p64, s64 := token[:d1], token[d1+1:d2], token[d2+1:]
	hn, ok1 := b64url.DecodedLen(len(h64))
	pn, ok2 := b64url.DecodedLen(len(p64))
	sn, ok3 := b64url.DecodedLen(len(s64))
	if !ok1 || !ok2 || !ok3 {
		return nil, reject(ErrMalformed, "segment is not strict base64url")
	}
	// One buffer for the three decoded segments. It is never written after
	// decoding, which is what makes the string view below sound.
	buf := make([]byte, hn+pn+sn)
	header, err1 := b64url.Decode(buf[:hn:hn], h64)
	payload, err2 := b64url.Decode(buf[hn:hn+pn:hn+pn], p64)
	sig, err3 := b64url.Decode(buf[hn+pn:], s64)
	switch {
	case err1 != nil:
		return nil, reject(ErrMalformed, "header is not strict base64url")
	case err2 != nil:
		return nil, reject(ErrMalformed, "payload is not strict base64url")
	case err3 != nil:
		return nil, reject(ErrMalformed, "signature is not strict base64url")
	}

	// The decoded header and payload as one string, without a copy: every
	// string the token returns is a substring of it. buf is private to this
	// call and never modified again; the signature part, handed to the
	// backend read-only, lies outside the view.
	var text string
	if hn+pn > 0 {
		text = unsafe.String(&buf[0], hn+pn)
	}
	tok := &Token{}
	if err := c.parseHeader(header, text[:hn], &tok.Header); err != nil {
		return nil, err
	}
	h := &tok.Header
	if !slices.Contains(c.algs, h.Algorithm) {
		if isNone(h.Algorithm) {
			return nil, reject(ErrAlgorithm, "alg none is never accepted")
		}
		if _, known := lookupAlg(h.Algorithm); known {
			return nil, rejectf(ErrAlgorithm, "alg %s is not allowed", h.Algorithm)
		}
		return nil, reject(ErrAlgorithm, "alg is not a supported algorithm")
	}

	key, err := c.keys.Key(ctx, h.KeyID, h.Algorithm)
	if err != nil && c.refresher != nil && h.KeyID != "" && errors.Is(err, ErrUnknownKey) && c.mayRefresh(payload) {
		key, err = c.refresher.RefreshKey(ctx, h.KeyID, h.Algorithm)
	}
	if err != nil {
		return nil, sourceError(err)
	}
	if !key.Supports(h.Algorithm) {
		return nil, rejectf(ErrAlgorithm, "the selected key does not support %s", h.Algorithm)
	}
	if want := sigLen(key, h.Algorithm); len(sig) != want {
		return nil, rejectf(ErrSignature, "signature is %d bytes; %s with this key needs %d", len(sig), h.Algorithm, want)
	}
	if c.backend.VerifySignature(h.Algorithm, key.material(), token[:d2], sig) != nil {
		return nil, reject(ErrSignature, "signature does not verify")
	}

	tok.Claims.Audience = tok.aud[:0]
	if err := c.checkClaims(payload, text[hn:], tok); err != nil {
		return nil, err
	}
	tok.Claims.Raw = text[hn:]
	return tok, nil
}

// sourceError turns a KeySource's error into a rejection with exactly one
// class and no text from the source, except for errors made by Reject
// itself with a class a key lookup can have.
func sourceError(err error) error {
	if r, ok := err.(*rejection); ok {
		switch r.class {
		case ErrUnknownKey, ErrAlgorithm, ErrKeysUnavailable:
			return r
		}
	}
	switch {
	case errors.Is(err, ErrKeysUnavailable):
		return reject(ErrKeysUnavailable, "key source cannot supply keys")
	case errors.Is(err, ErrUnknownKey):
		return reject(ErrUnknownKey, "no key for the token")
	case errors.Is(err, ErrAlgorithm):
		return reject(ErrAlgorithm, "the key does not support the token's algorithm")
	}
	return reject(ErrKeysUnavailable, "key source failed")
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

// parseHeader decodes the protected header (data, whose text is text) into h.
func (c *Core) parseHeader(data []byte, text string, h *Header) error {
	var hasAlg, hasCrit, b64False bool
	err := jsonx.Object(data, func(name, value []byte) error {
		var ok bool
		switch string(name) {
		case "alg":
			h.Algorithm, ok = jsonx.StringIn(value, data, text)
			hasAlg = true
		case "kid":
			h.KeyID, ok = jsonx.StringIn(value, data, text)
		case "typ":
			h.Type, ok = jsonx.StringIn(value, data, text)
		case "crit":
			// RFC 7515 §4.1.11: a non-empty array of strings. We understand
			// no extension, so any valid crit is unsupported below.
			n := 0
			isArr, err := jsonx.Array(value, func(e []byte) error {
				n++
				if _, isStr := jsonx.String(e); !isStr {
					return reject(ErrMalformed, "header crit holds a non-string")
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
			return rejectf(ErrMalformed, "header %s has the wrong JSON type", name)
		}
		return nil
	})
	switch {
	case err != nil:
		if Class(err) != "" {
			return err
		}
		return rejectf(ErrMalformed, "header: %v", err)
	case !hasAlg:
		return reject(ErrMalformed, "header has no alg")
	case hasCrit:
		return reject(ErrUnsupported, "header crit names extensions this verifier does not implement")
	case b64False:
		return reject(ErrUnsupported, "unencoded payload (b64 false, RFC 7797) is not supported")
	}
	if len(c.types) > 0 {
		if h.Type == "" {
			return reject(ErrType, "typ header is missing")
		}
		if !slices.Contains(c.types, normType(h.Type)) {
			return rejectf(ErrType, "typ is not among the %d accepted", len(c.types))
		}
	}
	return nil
}
