package jwtverify

import (
	"encoding/json"
	"errors"
	"fmt"
	"time"
)

// Token is a verified token: its protected header and its claims. A Token
// returned by Verify belongs to the caller.
type Token struct {
	Header Header
	Claims Claims

	aud [2]string // backs Claims.Audience for up to two values
}

// Header holds the protected header members the verifier acted on.
type Header struct {
	Algorithm string // alg, one of the allowlisted algorithms
	KeyID     string // kid, or "" when absent
	Type      string // typ, or "" when absent
}

// Claims holds the registered claims of RFC 7519 §4.1, typed, and the whole
// verified payload. Absent string claims are "", absent dates are the zero
// time.Time and an absent aud is nil.
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
// passed the strict checks (no duplicate names, valid UTF-8), so every
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
