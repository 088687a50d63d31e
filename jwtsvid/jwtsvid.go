// Package jwtsvid verifies SPIFFE JWT-SVIDs (the JWT-SVID specification):
// JWTs whose sub is the SPIFFE ID of a workload, signed by a key of that
// ID's trust domain's bundle.
//
// A [Verifier] holds one jwtverify.Verifier per trust domain, each with
// only that trust domain's keys, so one trust domain's keys never verify
// another's SVID (federation). It reads the token's unverified sub only to
// choose the trust domain, the way issuers.Router reads iss; the chosen
// verifier then checks everything after the signature, and the verified
// sub must name the same trust domain.
//
// Check order: the front-end checks of package jwtverify (size, shape,
// strict base64url: too_large, unsupported, malformed); then the payload
// must be one strict JSON object whose sub is a string (malformed
// otherwise; missing_claim when sub is absent), a valid SPIFFE ID
// (malformed) of a trust domain with a configured bundle (issuer): all
// before any key lookup or fetch. Then the trust domain's verifier applies
// jwtverify's check order with these settings: the algorithms RS256,
// RS384, RS512, ES256, ES384, ES512, PS256, PS384 and PS512 only (others
// are algorithm; one of these that no key of the bundle supports, under
// the token's kid or at all, is unknown_key, for a bundle file and a
// bundle endpoint alike); aud required and among Config.Audiences (missing_claim,
// audience); exp required (missing_claim); iss not checked (SVIDs need
// none). Last, a typ header, when present, must be "JWT" or "JOSE" (type).
package jwtsvid

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/jwtverify/jwtverify"
	"github.com/jwtverify/jwtverify/internal/jsonx"
	"github.com/jwtverify/jwtverify/internal/jws"
	"github.com/jwtverify/jwtverify/internal/spiffeid"
)

// Algorithms returns the algorithms the JWT-SVID specification allows, in
// a new slice the caller owns: RS256, RS384, RS512, ES256, ES384, ES512,
// PS256, PS384, PS512.
func Algorithms() []string {
	return []string{"RS256", "RS384", "RS512", "ES256", "ES384", "ES512", "PS256", "PS384", "PS512"}
}

// Config configures a [Verifier]. New reads it once and keeps no
// reference to it or its map; the key sources in Bundles and Now are
// shared with the caller. The zero Config is refused: it has no Bundles
// and no Audiences.
type Config struct {
	// Bundles maps a trust domain name ("example.org", as in
	// spiffe://example.org/...) to the key source of its JWT-SVID keys,
	// for example a keyset.Static of keyset.ParseSPIFFEBundle's keys.
	// Required; every name must be a valid trust domain name (lower-case
	// a-z 0-9 . - _) and every source non-nil. The Verifier shares the
	// sources and owns none: closing them is the caller's job.
	Bundles map[string]jwtverify.KeySource

	// Audiences lists the accepted aud values; a JWT-SVID's aud must
	// contain one. Required: the specification requires aud.
	Audiences []string

	// Leeway is the clock skew tolerated for exp, nbf and iat, as
	// jwtverify.Config.Leeway (at most 5m).
	Leeway time.Duration

	// Now returns the current time. Nil: time.Now. It must be safe for
	// concurrent use.
	Now func() time.Time

	// MaxTokenBytes is the largest token accepted. Zero: 16 KiB, as
	// jwtverify.Config.MaxTokenBytes. Negative values are refused.
	MaxTokenBytes int
}

// Verifier verifies JWT-SVIDs of the configured trust domains. Make one
// with [New]; the zero Verifier is not usable. It is immutable and safe
// for concurrent use by multiple goroutines; Verify takes no lock.
type Verifier struct {
	domains  map[string]*jwtverify.Verifier
	maxBytes int
}

// New returns a Verifier that checks signatures with b (for example
// golangjwt.Backend{} or the Backend of jwx.NewBackend) and verifies
// JWT-SVIDs under cfg. Each trust domain gets a jwtverify.Verifier of its
// own with only that domain's key source and the algorithms of
// [Algorithms] that the source supports; a source that supports none of
// them is refused. Errors wrap jwtverify.ErrInvalidConfig and name the
// trust domain at fault.
func New(b jwtverify.Backend, cfg Config) (*Verifier, error) {
	if len(cfg.Bundles) == 0 {
		return nil, fmt.Errorf("%w: no trust domain bundles (Config.Bundles)", jwtverify.ErrInvalidConfig)
	}
	if len(cfg.Audiences) == 0 {
		return nil, fmt.Errorf("%w: Config.Audiences is empty; JWT-SVIDs require aud", jwtverify.ErrInvalidConfig)
	}
	if cfg.MaxTokenBytes < 0 {
		return nil, fmt.Errorf("%w: MaxTokenBytes must not be negative", jwtverify.ErrInvalidConfig)
	}
	v := &Verifier{
		domains:  make(map[string]*jwtverify.Verifier, len(cfg.Bundles)),
		maxBytes: cmp.Or(cfg.MaxTokenBytes, jws.DefaultMaxBytes),
	}
	for td, keys := range cfg.Bundles {
		if id, err := spiffeid.Parse("spiffe://" + td); err != nil || id.Path != "" {
			return nil, fmt.Errorf("%w: %q is not a trust domain name", jwtverify.ErrInvalidConfig, td)
		}
		if keys == nil {
			return nil, fmt.Errorf("%w: trust domain %s has a nil key source", jwtverify.ErrInvalidConfig, td)
		}
		supported := keys.Algorithms()
		var algs []string
		for _, alg := range Algorithms() {
			if slices.Contains(supported, alg) {
				algs = append(algs, alg)
			}
		}
		if len(algs) == 0 {
			return nil, fmt.Errorf("%w: the key source of trust domain %s supports no JWT-SVID algorithm", jwtverify.ErrInvalidConfig, td)
		}
		tv, err := jwtverify.New(b, jwtverify.Config{
			Keys:            keys,
			Algorithms:      algs,
			SkipIssuerCheck: true,
			Audiences:       cfg.Audiences,
			Leeway:          cfg.Leeway,
			Now:             cfg.Now,
			MaxTokenBytes:   v.maxBytes,
		})
		if err != nil {
			return nil, fmt.Errorf("trust domain %s: %w", td, err)
		}
		v.domains[td] = tv
	}
	return v, nil
}

// TrustDomains returns the configured trust domain names, sorted, in a new
// slice the caller owns.
func (v *Verifier) TrustDomains() []string {
	out := make([]string, 0, len(v.domains))
	for td := range v.domains {
		out = append(out, td)
	}
	slices.Sort(out)
	return out
}

// Verify verifies token as a JWT-SVID in the order the package
// documentation states and returns it, or nil and an error for which
// exactly one of jwtverify's rejection sentinels reports true under
// errors.Is. The error text never contains token content. The returned
// Token is the caller's; its Claims.Subject is the verified SPIFFE ID.
// ctx bounds only the key lookup.
func (v *Verifier) Verify(ctx context.Context, token string) (*jwtverify.Token, error) {
	id, header, err := unverifiedSubject(token, v.maxBytes)
	if err != nil {
		return nil, err
	}
	tv, ok := v.domains[id.TrustDomain]
	if !ok {
		return nil, errUnknownDomain
	}
	tok, err := tv.Verify(ctx, token)
	if err != nil && errors.Is(err, jwtverify.ErrAlgorithm) && slices.Contains(Algorithms(), headerAlg(header)) {
		return nil, errNoKeyForAlg
	}
	return checkVerified(id.TrustDomain, tok, err)
}

// headerAlg returns the alg of a decoded header, "" when it has none that
// is a string. It is read only to tell why a token was refused.
func headerAlg(header []byte) string {
	var alg string
	_ = jsonx.Object(header, func(name, value []byte) error {
		if string(name) == "alg" {
			alg, _ = jsonx.String(value)
		}
		return nil
	})
	return alg
}

// checkVerified passes on the result of td's verifier after asserting
// that the verified sub is a SPIFFE ID of td and that typ, if any, is JWT
// or JOSE.
func checkVerified(td string, tok *jwtverify.Token, err error) (*jwtverify.Token, error) {
	if err != nil {
		return nil, err
	}
	// The signature covers sub, so this holds; a verifier that let a
	// different sub through must not get it past this point.
	if id, perr := spiffeid.Parse(tok.Claims.Subject); perr != nil || id.TrustDomain != td {
		return nil, errDomainMismatch
	}
	if t := tok.Header.Type; t != "" && t != "JWT" && t != "JOSE" {
		return nil, errType
	}
	return tok, nil
}

// Fixed rejections: one immutable value each.
var (
	errUnknownDomain  = jwtverify.Reject(jwtverify.ErrIssuer, "sub is in a trust domain with no configured bundle")
	errDomainMismatch = jwtverify.Reject(jwtverify.ErrIssuer, "verified sub is not in the trust domain whose keys verified it")
	errType           = jwtverify.Reject(jwtverify.ErrType, `typ of a JWT-SVID must be "JWT" or "JOSE" when present`)
	errNoSub          = jwtverify.Reject(jwtverify.ErrMissingClaim, "sub is required in a JWT-SVID")
	// errNoKeyForAlg replaces the algorithm class for an alg the JWT-SVID
	// specification allows: the allowlist is the specification's, so such
	// a refusal means that no key of the bundle supports the alg (under
	// the token's kid, or at all), whether the bundle is a file or an
	// endpoint.
	errNoKeyForAlg = jwtverify.Reject(jwtverify.ErrUnknownKey, "no key of the trust domain's bundle verifies the token's alg under its kid")
)

// unverifiedSubject reads sub from a token's payload without verifying
// anything, through the front end jwtverify's Verify uses, and parses it
// as a SPIFFE ID. It also returns the decoded header, unchecked.
func unverifiedSubject(token string, maxBytes int) (spiffeid.ID, []byte, error) {
	p, err := jws.Parse(token, maxBytes)
	if err != nil {
		return spiffeid.ID{}, nil, err
	}
	var sub [1]string
	var found [1]bool
	if err := p.Strings([]string{"sub"}, sub[:], found[:]); err != nil {
		return spiffeid.ID{}, nil, err
	}
	if !found[0] {
		return spiffeid.ID{}, nil, errNoSub
	}
	id, err := spiffeid.Parse(sub[0])
	if err != nil {
		// err is one of spiffeid's fixed reasons; it holds no input.
		return spiffeid.ID{}, nil, jwtverify.Reject(jwtverify.ErrMalformed, "sub is not a SPIFFE ID: "+err.Error())
	}
	return id, p.Header, nil
}
