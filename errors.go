package jwtverify

import (
	"errors"

	"github.com/jwtverify/jwtverify/internal/reject"
)

// Rejection classes. Every error returned by [Verifier.Verify] reports
// true under errors.Is for exactly one of these sentinels. The text of each
// sentinel is its stable class name (shown first in each comment), which
// [Class] returns and the command prints; the wrapped detail never
// contains the token, any part of it, or key material. The package
// documentation lists them in the order Verify checks them.
var (
	// ErrTooLarge, "too_large": the token is longer than
	// Config.MaxTokenBytes. Checked before any decoding.
	ErrTooLarge = reject.ErrTooLarge
	// ErrMalformed, "malformed": not a compact JWS of three strict
	// base64url segments, a header or payload that is not exactly one
	// strict JSON object, or a claim of the wrong type or out of range.
	ErrMalformed = reject.ErrMalformed
	// ErrUnsupported, "unsupported": a well-formed token this verifier does
	// not handle: a JWE (five segments), a crit header, or b64=false (RFC
	// 7797).
	ErrUnsupported = reject.ErrUnsupported
	// ErrType, "type": the typ header is missing or not one of
	// Config.Types.
	ErrType = reject.ErrType
	// ErrAlgorithm, "algorithm": alg is none (in any spelling), not in the
	// allowlist, or does not suit the key that kid selects.
	ErrAlgorithm = reject.ErrAlgorithm
	// ErrKeysUnavailable, "keys_unavailable": the key source cannot supply
	// keys at all (for example a remote key set whose last good copy is
	// past its bound), or failed in a way it did not classify.
	ErrKeysUnavailable = reject.ErrKeysUnavailable
	// ErrUnknownKey, "unknown_key": no key matches the token's kid, or the
	// token has no kid and not exactly one key suits its algorithm.
	ErrUnknownKey = reject.ErrUnknownKey
	// ErrSignature, "signature": the signature does not verify.
	ErrSignature = reject.ErrSignature
	// ErrMissingClaim, "missing_claim": a claim the configuration requires
	// is absent.
	ErrMissingClaim = reject.ErrMissingClaim
	// ErrIssuer, "issuer": iss is not one of Config.Issuers.
	ErrIssuer = reject.ErrIssuer
	// ErrAudience, "audience": no aud value is one of Config.Audiences.
	ErrAudience = reject.ErrAudience
	// ErrExpired, "expired": now is past exp plus leeway, or iat is older
	// than Config.MaxAge plus leeway.
	ErrExpired = reject.ErrExpired
	// ErrNotYetValid, "not_yet_valid": now is before nbf minus leeway.
	ErrNotYetValid = reject.ErrNotYetValid
	// ErrIssuedInFuture, "issued_in_future": iat is after now plus leeway.
	ErrIssuedInFuture = reject.ErrIssuedInFuture
)

// ErrInvalidConfig is returned by constructors for a configuration they
// refuse. It is never returned by Verify and is not a rejection class.
var ErrInvalidConfig = errors.New("invalid configuration")

// classes lists the sentinels in the order Verify checks them (see the
// package documentation); Class depends on that order.
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

// Reject returns an error of class, which must be one of the rejection
// sentinels above (the sentinel itself, not an error wrapping it), whose
// text is "class: detail". It is for KeySource and Backend implementations
// outside this package: Verify passes such an error through unchanged when
// it has the class unknown_key, algorithm or keys_unavailable, and
// replaces any other error from a KeySource with one of its own, so that a
// source can neither give a rejection two classes nor leak its own error
// text. detail must not contain token content (the kid, for one) or key
// material.
//
// Any other class is a bug in the caller, and Reject still fails closed
// without hiding it: the error has class keys_unavailable (the token is
// not accepted, and is not blamed) and its text says that the class was
// invalid, followed by detail. The text of the invalid class is not used.
func Reject(class error, detail string) error {
	for _, c := range classes {
		if class == c {
			return reject.New(class, detail)
		}
	}
	return reject.New(ErrKeysUnavailable, "jwtverify.Reject was given an invalid rejection class: "+detail)
}
