package jwtverify

import (
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"time"
)

// Token is a verified token: its protected header, its claims and the
// span of time in which the verifier that returned it accepts it.
//
// Ownership: each successful [Verifier.Verify] returns a Token that no one
// else holds, and so must every other Verify method that returns one (a
// router or a cache in front of a Verifier; cache.Verified hands each
// caller its own [Token.Clone]). The caller owns the struct and
// the backing array of Claims.Audience: it may change any field or element,
// or append, and nothing it does reaches another caller, the verifier or a
// cache. A Token is not safe for concurrent modification; share it between
// goroutines as any other value. Its strings (Raw, and the other string
// fields, substrings of the same decoded text) are immutable and may be
// shared between Tokens, which is safe. The zero Token has no claims and
// no bounds.
type Token struct {
	Header Header
	Claims Claims

	aud [2]string // backs Claims.Audience for up to two values

	// The span the Verifier accepts the token in, recorded when it
	// verified it; zero: no bound (or a Token no Verifier made). See
	// ValidFrom and ValidUntil.
	validFrom, validUntil time.Time
}

// ValidUntil returns the first instant at which the verifier that made t
// rejects it as expired: the earlier of exp + Leeway and the first instant
// past iat + MaxAge + Leeway (Verify rejects at now ≥ exp + Leeway and at
// now > iat + MaxAge + Leeway; both are expressed as this one exclusive
// bound, so "valid while now.Before(t.ValidUntil())" is exact to the
// nanosecond). The zero time means no time bound: the token has no exp
// and the verifier enforces no MaxAge, or t was not made by a [Verifier]
// (a Token literal, or one from a verifier of another kind). The
// bound is fixed when t is verified; changing t's Claims does not move it.
func (t *Token) ValidUntil() time.Time { return t.validUntil }

// ValidFrom returns the first instant at which the verifier that made t
// accepts it: the later of nbf − Leeway and iat − Leeway, of those the
// token has (Verify rejects at now < nbf − Leeway as not yet valid, and at
// iat > now + Leeway as issued in the future). The zero time means no
// lower bound: no nbf and no iat, or t was not made by a [Verifier].
func (t *Token) ValidFrom() time.Time { return t.validFrom }

// Clone returns a copy of t that shares nothing mutable with it: changing
// either, including the elements of Claims.Audience or appending to it,
// does not change the other. A nil Audience stays nil and an empty one
// empty. Clone of nil is nil.
func (t *Token) Clone() *Token {
	if t == nil {
		return nil
	}
	c := *t
	c.aud = [2]string{}
	switch aud := t.Claims.Audience; {
	case aud == nil:
	case len(aud) <= len(c.aud):
		c.Claims.Audience = append(c.aud[:0], aud...)
	default:
		c.Claims.Audience = slices.Clone(aud)
	}
	return &c
}

// Header holds the protected header members the verifier acted on. It is
// part of a [Token] and owned with it; the zero Header has no alg, kid or
// typ.
type Header struct {
	Algorithm string // alg, one of the allowlisted algorithms
	KeyID     string // kid, or "" when absent
	Type      string // typ, or "" when absent
}

// Claims holds the registered claims of RFC 7519 §4.1, typed, and the whole
// verified payload. Absent string claims are "", absent dates are the zero
// time.Time and an absent aud is nil. It is part of a [Token] and owned
// with it (see Token for what may be shared); Decode only reads it, so
// concurrent Decode calls are safe while no one modifies it. The zero
// Claims has no payload: Decode of it fails with [ErrMalformed].
type Claims struct {
	Issuer    string    // iss
	Subject   string    // sub
	Audience  []string  // aud: a string becomes a one-element list
	ExpiresAt time.Time // exp
	NotBefore time.Time // nbf
	IssuedAt  time.Time // iat
	ID        string    // jti

	// Raw is the verified payload: one strict JSON object, exactly as signed.
	// It is a string so that it cannot change under the other fields, which
	// are substrings of the same text.
	Raw string
}

// Decode decodes the verified payload into v, a pointer to a struct or map,
// with encoding/json; use it for custom claims. The payload has already
// passed the strict checks (valid UTF-8; no two names in one object that
// are equal or equal under encoding/json's case folding, so no struct
// field can be filled from a member the core did not read), so every
// decoder sees the same members. Errors wrap [ErrMalformed] and name at
// most the Go field and type, never claim values.
func (c *Claims) Decode(v any) error {
	err := json.Unmarshal([]byte(c.Raw), v)
	if err == nil {
		return nil
	}
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) {
		return fmt.Errorf("%w: claim %q does not fit Go type %s", ErrMalformed, te.Field, te.Type)
	}
	var ie *json.InvalidUnmarshalError
	if errors.As(err, &ie) {
		return err // a programming error: v is not a non-nil pointer
	}
	return fmt.Errorf("%w: claims cannot be decoded into %T", ErrMalformed, v)
}
