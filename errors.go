package jwtverify

import (
	"errors"
	"fmt"
)

// Rejection classes. Every error returned by a Verifier's Verify reports
// true under errors.Is for exactly one of these sentinels. The text of each
// sentinel is its stable class name, which [Class] returns and the command
// prints; the wrapped detail never contains the token, any part of it, or
// key material.
var (
	// ErrTooLarge: the token is longer than Config.MaxTokenBytes. Checked
	// before any decoding.
	ErrTooLarge = errors.New("too_large")
	// ErrMalformed: not a compact JWS of three strict base64url segments,
	// a header or payload that is not exactly one strict JSON object, or a
	// claim of the wrong type or out of range.
	ErrMalformed = errors.New("malformed")
	// ErrUnsupported: a well-formed token this verifier does not handle: a
	// JWE (five segments), a crit header, or b64=false (RFC 7797).
	ErrUnsupported = errors.New("unsupported")
	// ErrType: the typ header is missing or not one of Config.Types.
	ErrType = errors.New("type")
	// ErrAlgorithm: alg is none (in any spelling), not in the allowlist, or
	// does not suit the key that kid selects.
	ErrAlgorithm = errors.New("algorithm")
	// ErrKeysUnavailable: the key source cannot supply keys at all (for
	// example a remote key set whose last good copy is past its bound).
	ErrKeysUnavailable = errors.New("keys_unavailable")
	// ErrUnknownKey: no key matches the token's kid, or the token has no kid
	// and not exactly one key suits its algorithm.
	ErrUnknownKey = errors.New("unknown_key")
	// ErrSignature: the signature does not verify.
	ErrSignature = errors.New("signature")
	// ErrMissingClaim: a claim the configuration requires is absent.
	ErrMissingClaim = errors.New("missing_claim")
	// ErrIssuer: iss is not one of Config.Issuers.
	ErrIssuer = errors.New("issuer")
	// ErrAudience: no aud value is one of Config.Audiences.
	ErrAudience = errors.New("audience")
	// ErrExpired: now is past exp plus leeway, or iat is older than
	// Config.MaxAge plus leeway.
	ErrExpired = errors.New("expired")
	// ErrNotYetValid: now is before nbf minus leeway.
	ErrNotYetValid = errors.New("not_yet_valid")
	// ErrIssuedInFuture: iat is after now plus leeway.
	ErrIssuedInFuture = errors.New("issued_in_future")
)

// ErrInvalidConfig is returned by constructors for a configuration they
// refuse. It is never returned by Verify and is not a rejection class.
var ErrInvalidConfig = errors.New("invalid configuration")

// classes lists the sentinels in the order Verify checks them.
var classes = [...]error{
	ErrTooLarge, ErrMalformed, ErrUnsupported, ErrType, ErrAlgorithm,
	ErrKeysUnavailable, ErrUnknownKey, ErrSignature, ErrMissingClaim,
	ErrIssuer, ErrAudience, ErrExpired, ErrNotYetValid, ErrIssuedInFuture,
}

// Class returns the class name of err ("malformed", "expired", ...): the
// first rejection sentinel, in check order, that err matches under
// errors.Is. It returns "" for nil and for errors that are not rejections.
func Class(err error) string {
	if err == nil {
		return ""
	}
	for _, c := range classes {
		if errors.Is(err, c) {
			return c.Error()
		}
	}
	return ""
}

// Reject returns an error of the given class (one of the rejection
// sentinels; anything else becomes ErrKeysUnavailable) whose text is
// "class: detail". It is for KeySource and Backend implementations outside
// this package: Verify passes such an error through unchanged when it has
// the class unknown_key, algorithm or keys_unavailable, and replaces any
// other error from a KeySource with one of its own, so that a source can
// neither give a rejection two classes nor leak its own error text. detail
// must not contain token content (the kid, for one) or key material.
func Reject(class error, detail string) error {
	for _, c := range classes {
		if class == c {
			return reject(class, detail)
		}
	}
	return reject(ErrKeysUnavailable, detail)
}

// reject wraps a class sentinel with a detail. The detail must not contain
// token bytes or key material.
func reject(class error, detail string) error {
	return &rejection{class: class, detail: detail}
}

func rejectf(class error, format string, args ...any) error {
	return &rejection{class: class, detail: fmt.Sprintf(format, args...)}
}

type rejection struct {
	class  error
	detail string
}

func (r *rejection) Error() string { return r.class.Error() + ": " + r.detail }
func (r *rejection) Unwrap() error { return r.class }
