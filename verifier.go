package jwtverify

import (
	"fmt"
	"reflect"
	"slices"
	"strings"
	"time"

	"github.com/jwtverify/jwtverify/internal/jws"
)

// Backend is the part of verification a JOSE library supplies: checking a
// signature. Everything else (splitting, decoding, header rules, key
// selection, claim policy) is done once, by [Verifier], for every backend,
// so that no backend can be laxer than another. Implementations must be
// safe for concurrent use: a Verifier calls VerifySignature from every
// Verify at once. A Verifier shares its Backend, never modifies or closes
// it; New refuses a nil Backend.
type Backend interface {
	// Name identifies the backend ("golang-jwt", "jwx").
	Name() string
	// VerifySignature returns nil if sig is a valid signature of
	// signingInput (the token up to its second '.') under key for alg, and
	// an error otherwise. key is an *rsa.PublicKey, *ecdsa.PublicKey,
	// ed25519.PublicKey or an HMAC secret ([]byte); Verify has already
	// checked that it suits alg and that sig has the length alg and key
	// need. key and sig are shared: do not modify or retain them. The
	// error's text is discarded.
	VerifySignature(alg string, key any, signingInput string, sig []byte) error
}

// Preparer is a Backend that keeps state per key, built once and reused by
// every verification with that key: a prepared RSA modulus, pre-keyed HMAC
// instances (backends/native). A Verifier whose backend is a Preparer (of
// a type that == can compare) calls Prepare the first time a Key is used
// with it, keeps the result in the Key (so it lives as long as the Key and
// is shared by every goroutine, read without a lock), and calls
// VerifyPrepared instead of VerifySignature. The state is kept per
// Preparer value: a Key shared by Verifiers of two Preparers is prepared
// for each in turn.
//
// A type that embeds a Preparer is a Preparer too: its own VerifySignature
// is then never called. A wrapper that must see every signature check
// (auditing, a deny rule) implements Prepare and VerifyPrepared itself, or
// embeds the Backend interface, which hides them.
type Preparer interface {
	Backend
	// Prepare returns the state for key, the material VerifySignature
	// gets. It may be called more than once for one key (concurrent first
	// uses), and any of its results may be kept; the state must be
	// immutable or safe for concurrent use. An error refuses the token as
	// a bad signature.
	Prepare(key any) (any, error)
	// VerifyPrepared is VerifySignature with the state Prepare returned
	// for the key.
	VerifyPrepared(alg string, prepared any, signingInput string, sig []byte) error
}

// Bounds of Config, documented on its fields. (Its default MaxTokenBytes
// is jws.DefaultMaxBytes, shared with the issuers package.)
const (
	maxLeeway         = 5 * time.Minute            // Config.Leeway
	maxMaxAge         = 100 * 365 * 24 * time.Hour // Config.MaxAge: 100 years
	maxRequiredClaims = 64                         // Config.RequiredClaims (a bit per claim)
)

// Config configures a [Verifier]. Every zero value is safe and documented;
// the zero Config itself is refused by New: it has no Keys. A Config is a
// plain value that New reads once and does not retain: it copies the
// slices, so later changes by the caller have no effect. The two values
// New keeps, Keys and Now, are shared with the caller and called by every
// Verify concurrently.
type Config struct {
	// Keys supplies the verification keys. Required. The Verifier shares it
	// and does not own it: closing it (keyset.Remote.Close) is the
	// caller's job.
	Keys KeySource

	// Algorithms is the allowlist of JWS algorithms ("RS256", "ES256",
	// "EdDSA", "HS256", ...). Empty: the algorithms Keys supports (a JWK's
	// alg when set, otherwise its key type's family; HMAC only for keys made
	// as secrets). "none" is refused in any spelling, and so is an algorithm
	// no key of Keys can support. A key is never used with an algorithm of
	// another type, whatever this list says.
	Algorithms []string

	// Issuers lists the accepted iss values, compared byte for byte. A token
	// must carry one of them. Required unless SkipIssuerCheck is set.
	Issuers []string
	// SkipIssuerCheck disables the iss check. It cannot be combined with Issuers.
	SkipIssuerCheck bool

	// Audiences lists the accepted aud values; a token's aud (a string or an
	// array) must contain at least one. Required unless SkipAudienceCheck is set.
	Audiences []string
	// SkipAudienceCheck disables the aud check. It cannot be combined with Audiences.
	SkipAudienceCheck bool

	// Types lists the accepted typ header values (for example "at+jwt", RFC
	// 9068), compared case-insensitively with an optional "application/"
	// prefix. Empty: typ is not checked.
	Types []string

	// RequiredClaims names top-level claims that must be present (any value,
	// null included), in addition to exp and to those the checks above need.
	RequiredClaims []string

	// AllowMissingExpiry accepts tokens without exp. By default exp is
	// required. An exp that is present is always enforced.
	AllowMissingExpiry bool

	// MaxAge, when positive, rejects tokens whose iat is older than MaxAge
	// (plus Leeway) and makes iat required. Zero: no limit. At most
	// 876000h (100 years of 365 days); more, or a negative value, is
	// refused.
	MaxAge time.Duration

	// Leeway is the clock skew tolerated for exp, nbf, iat and MaxAge.
	// Zero: none. At most 5m; more, or a negative value, is refused.
	Leeway time.Duration

	// Now returns the current time. Nil: time.Now. Every Verify calls it:
	// it must be safe for concurrent use.
	Now func() time.Time

	// MaxTokenBytes is the largest token accepted, checked before any
	// decoding. Zero: 16 KiB (16384 bytes). Negative values are refused.
	MaxTokenBytes int
}

// Verifier verifies compact JWS tokens: it checks each token in the fixed
// order the package documentation states and stops at the first failure,
// asking its Backend only for the signature. Every backend shares it, so
// none can be laxer than another; backend packages' New functions return
// one.
//
// Make a Verifier with [New]. The zero Verifier rejects every token and
// never panics. A Verifier is immutable after New and safe
// for concurrent use by multiple goroutines; Verify takes no lock. It
// shares its Backend and KeySource with the caller and owns neither.
type Verifier struct {
	backend   Backend
	preparer  Preparer // backend, when it is one
	keys      KeySource
	algs      []string
	issuers   []string
	audiences []string
	types     []string
	required  []string
	needExp   bool
	maxAge    time.Duration
	leeway    time.Duration
	now       func() time.Time
	maxBytes  int
}

// New returns a Verifier that verifies tokens under cfg, with b checking
// the signatures. The Verifier shares b and cfg.Keys with the caller and
// owns neither; it keeps copies of the rest of cfg. Errors wrap
// [ErrInvalidConfig].
func New(b Backend, cfg Config) (*Verifier, error) {
	bad := func(format string, args ...any) (*Verifier, error) {
		return nil, fmt.Errorf("%w: "+format, append([]any{ErrInvalidConfig}, args...)...)
	}
	if b == nil {
		return bad("no backend")
	}
	if cfg.Keys == nil {
		return bad("no key source (Config.Keys)")
	}
	c := &Verifier{
		backend:  b,
		keys:     cfg.Keys,
		needExp:  !cfg.AllowMissingExpiry,
		maxAge:   cfg.MaxAge,
		leeway:   cfg.Leeway,
		now:      cfg.Now,
		maxBytes: cfg.MaxTokenBytes,
	}
	// A Preparer's state is kept per Preparer value, compared with ==: a
	// Preparer of a type == cannot compare is used as a plain Backend.
	if p, ok := b.(Preparer); ok && reflect.TypeOf(p).Comparable() {
		c.preparer = p
	}
	supported := cfg.Keys.Algorithms()
	if len(cfg.Algorithms) == 0 {
		for _, alg := range supported {
			if _, ok := lookupAlg(alg); ok && !slices.Contains(c.algs, alg) {
				c.algs = append(c.algs, alg)
			}
		}
		if len(c.algs) == 0 {
			return bad("the key source supports no algorithm")
		}
	}
	for _, alg := range cfg.Algorithms {
		if isNone(alg) {
			return bad("algorithm none is never allowed")
		}
		if _, ok := lookupAlg(alg); !ok {
			return bad("unsupported algorithm %q", alg)
		}
		if !slices.Contains(supported, alg) {
			return bad("no key supports algorithm %s", alg)
		}
		if !slices.Contains(c.algs, alg) {
			c.algs = append(c.algs, alg)
		}
	}
	var err error
	if c.issuers, err = checkList("Issuers", cfg.Issuers, cfg.SkipIssuerCheck, "SkipIssuerCheck"); err != nil {
		return nil, err
	}
	if c.audiences, err = checkList("Audiences", cfg.Audiences, cfg.SkipAudienceCheck, "SkipAudienceCheck"); err != nil {
		return nil, err
	}
	for _, t := range cfg.Types {
		if normType(t) == "" {
			return bad("empty entry in Types")
		}
		c.types = append(c.types, normType(t))
	}
	if len(cfg.RequiredClaims) > maxRequiredClaims {
		return bad("more than %d RequiredClaims", maxRequiredClaims)
	}
	for _, name := range cfg.RequiredClaims {
		if name == "" {
			return bad("empty entry in RequiredClaims")
		}
		c.required = append(c.required, name)
	}
	if c.leeway < 0 || c.leeway > maxLeeway {
		return bad("Leeway must be between 0 and %v", maxLeeway)
	}
	if c.maxAge < 0 || c.maxAge > maxMaxAge {
		return bad("MaxAge must be between 0 and %v", maxMaxAge)
	}
	if c.now == nil {
		c.now = time.Now
	}
	switch {
	case c.maxBytes == 0:
		c.maxBytes = jws.DefaultMaxBytes
	case c.maxBytes < 0:
		return bad("MaxTokenBytes must not be negative")
	}
	return c, nil
}

func checkList(field string, list []string, skip bool, skipField string) ([]string, error) {
	if len(list) == 0 && !skip {
		return nil, fmt.Errorf("%w: %s is empty; set %s to disable the check explicitly", ErrInvalidConfig, field, skipField)
	}
	if len(list) > 0 && skip {
		return nil, fmt.Errorf("%w: %s and %s are both set", ErrInvalidConfig, field, skipField)
	}
	out := make([]string, 0, len(list))
	for _, s := range list {
		if s == "" {
			return nil, fmt.Errorf("%w: empty entry in %s", ErrInvalidConfig, field)
		}
		out = append(out, s)
	}
	return out, nil
}

// normType lowercases the ASCII letters of a typ value (media types are
// ASCII-case-insensitive, RFC 2045; full Unicode folding would let a Kelvin
// sign pass for a "k") and drops an "application/" prefix (RFC 7515 §4.1.9).
func normType(t string) string {
	b := []byte(t)
	for i, c := range b {
		if 'A' <= c && c <= 'Z' {
			b[i] = c + 'a' - 'A'
		}
	}
	return strings.TrimPrefix(string(b), "application/")
}

// BackendName returns the Name of the Verifier's Backend ("golang-jwt",
// "jwx"), or "" for the zero Verifier.
func (c *Verifier) BackendName() string {
	if c.backend == nil {
		return ""
	}
	return c.backend.Name()
}

// Algorithms returns the effective algorithm allowlist, in a new slice the
// caller owns.
func (c *Verifier) Algorithms() []string { return append([]string(nil), c.algs...) }
