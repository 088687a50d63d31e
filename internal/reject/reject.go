// Package reject holds the rejection classes of package jwtverify and the
// one error type that carries a class, so that the internal packages that
// reject tokens (jws) and the root return the same errors. The root
// re-exports each sentinel (jwtverify.ErrMalformed is reject.ErrMalformed),
// as io/fs re-exports internal/oserror's; its documentation, not this
// package's, is the reference for what each class means.
package reject

import (
	"errors"
	"fmt"
)

// The rejection classes; their text is the class name.
var (
	ErrTooLarge        = errors.New("too_large")
	ErrMalformed       = errors.New("malformed")
	ErrUnsupported     = errors.New("unsupported")
	ErrType            = errors.New("type")
	ErrAlgorithm       = errors.New("algorithm")
	ErrKeysUnavailable = errors.New("keys_unavailable")
	ErrUnknownKey      = errors.New("unknown_key")
	ErrSignature       = errors.New("signature")
	ErrMissingClaim    = errors.New("missing_claim")
	ErrIssuer          = errors.New("issuer")
	ErrAudience        = errors.New("audience")
	ErrExpired         = errors.New("expired")
	ErrNotYetValid     = errors.New("not_yet_valid")
	ErrIssuedInFuture  = errors.New("issued_in_future")
)

// Error is a rejection: a class (one of the sentinels above) and a detail
// that never contains token bytes or key material. Its text is
// "class: detail" and it unwraps to the class alone. An Error is immutable.
type Error struct {
	class  error
	detail string
}

// New returns an Error of class with detail. class must be one of the
// sentinels; jwtverify.Reject checks that for callers outside the module.
func New(class error, detail string) error {
	return &Error{class: class, detail: detail}
}

// Newf is New with a formatted detail.
func Newf(class error, format string, args ...any) error {
	return &Error{class: class, detail: fmt.Sprintf(format, args...)}
}

// Class returns the error's class sentinel.
func (e *Error) Class() error { return e.class }

func (e *Error) Error() string { return e.class.Error() + ": " + e.detail }
func (e *Error) Unwrap() error { return e.class }
