package jwtverify

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"
)

// Verifier verifies compact JWS tokens. Middleware, caches and routers
// accept and wrap this interface. Implementations are safe for concurrent
// use by multiple goroutines.
type Verifier interface {
	// Verify returns the verified token, or nil and an error for which
	// exactly one of the rejection sentinels (ErrMalformed, ErrExpired, ...)
	// reports true under errors.Is. The error text never contains the
	// token or any part of it. A returned Token belongs to the caller
	// (see [Token]): an implementation never returns the same Token to two
	// calls, nor keeps one it returned to use again.
	Verify(ctx context.Context, token string) (*Token, error)
}

// Backend is the part of verification a JOSE library supplies: checking a
// signature. Everything else (splitting, decoding, header rules, key
// selection, claim policy) is done once, by [Core], for every backend, so
// that no backend can be laxer than another. Implementations are safe for
// concurrent use.
type Backend interface {
	// Name identifies the backend ("golang-jwt", "jwx").
	Name() string
	// VerifySignature returns nil if sig is a valid signature of
	// signingInput (the token up to its second '.') under key for alg, and
	// an error otherwise. key is an *rsa.PublicKey, *ecdsa.PublicKey,
	// ed25519.PublicKey or an HMAC secret ([]byte); Core has already
	// checked that it suits alg and that sig has the length alg and key
	// need. key and sig are shared: do not modify or retain them. The
	// error's text is discarded.
	VerifySignature(alg string, key any, signingInput string, sig []byte) error
}

// Defaults and bounds of Config.
const (
	// DefaultMaxTokenBytes is the token size limit when Config.MaxTokenBytes is 0.
	DefaultMaxTokenBytes = 16 << 10
	// MaxLeeway is the largest Config.Leeway accepted.
	MaxLeeway = 5 * time.Minute
	// MaxMaxAge is the largest Config.MaxAge accepted (100 years).
	MaxMaxAge = 100 * 365 * 24 * time.Hour
	// maxRequiredClaims bounds Config.RequiredClaims (a bit per claim).
	maxRequiredClaims = 64
)

// Config configures a [Core]. Every zero value is safe and documented; New
// copies the slices, so later changes by the caller have no effect.
type Config struct {
	// Keys supplies the verification keys. Required.
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
	// (plus Leeway) and makes iat required. Zero: no limit. At most MaxMaxAge.
	MaxAge time.Duration

	// Leeway is the clock skew tolerated for exp, nbf, iat and MaxAge.
	// Zero: none. At most MaxLeeway.
	Leeway time.Duration

	// Now returns the current time. Nil: time.Now.
	Now func() time.Time

	// MaxTokenBytes is the largest token accepted, checked before any
	// decoding. Zero: DefaultMaxTokenBytes (16 KiB).
	MaxTokenBytes int
}

// Core is the verifier every backend shares: it checks a token in a fixed
// order (size, shape, header, algorithm, key, signature, then claims) and
// stops at the first failure, asking its Backend only for the signature.
// A Core is immutable and safe for concurrent use.
type Core struct {
	backend   Backend
	keys      KeySource
	refresher Refresher // keys, when it can refresh; else nil
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

var _ Verifier = (*Core)(nil)

// New returns a Core that verifies tokens under cfg, with b checking the
// signatures. Errors wrap [ErrInvalidConfig].
func New(b Backend, cfg Config) (*Core, error) {
	bad := func(format string, args ...any) (*Core, error) {
		return nil, fmt.Errorf("%w: "+format, append([]any{ErrInvalidConfig}, args...)...)
	}
	if b == nil {
		return bad("no backend")
	}
	if cfg.Keys == nil {
		return bad("no key source (Config.Keys)")
	}
	c := &Core{
		backend:  b,
		keys:     cfg.Keys,
		needExp:  !cfg.AllowMissingExpiry,
		maxAge:   cfg.MaxAge,
		leeway:   cfg.Leeway,
		now:      cfg.Now,
		maxBytes: cfg.MaxTokenBytes,
	}
	c.refresher, _ = cfg.Keys.(Refresher)
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
	if c.leeway < 0 || c.leeway > MaxLeeway {
		return bad("Leeway must be between 0 and %v", MaxLeeway)
	}
	if c.maxAge < 0 || c.maxAge > MaxMaxAge {
		return bad("MaxAge must be between 0 and %v", MaxMaxAge)
	}
	if c.now == nil {
		c.now = time.Now
	}
	switch {
	case c.maxBytes == 0:
		c.maxBytes = DefaultMaxTokenBytes
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

// Backend returns the name of the Core's backend.
func (c *Core) Backend() string { return c.backend.Name() }

// Algorithms returns a copy of the effective algorithm allowlist.
func (c *Core) Algorithms() []string { return append([]string(nil), c.algs...) }
