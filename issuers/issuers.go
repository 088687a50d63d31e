// Package issuers verifies tokens from several issuers, each with its own
// key set and policy: Router for a fixed list, Tenants for many issuers
// (one per tenant) created on demand and held in a bounded LRU, and
// Template for one multi-tenant issuer whose issuer is a template filled
// by a tenant claim (Microsoft Entra's organizations and common
// endpoints), with one key set for every tenant.
//
// Both read the token's unverified iss only to choose the verifier; that
// verifier then checks everything, iss included, after the signature. A key
// published by one issuer never verifies another issuer's token, because
// each issuer's verifier has only that issuer's keys. A token naming an
// issuer that is not configured is rejected with jwtverify.ErrIssuer before
// any key lookup or fetch: this one claim is judged before the signature,
// which is what routing needs.
package issuers

import (
	"cmp"
	"context"
	"fmt"

	"github.com/jwtverify/jwtverify"
	"github.com/jwtverify/jwtverify/internal/jws"
)

// Verifier is what a Router routes to and what TenantsConfig.New builds:
// a *jwtverify.Verifier, or anything with its Verify method (a
// cache.Verified, another Router). Its Verify must follow the contract of
// jwtverify.Verifier.Verify: exactly one rejection class per error, error
// text without token content, and a Token no other call holds. It must be
// safe for concurrent use: Router and Tenants call it from concurrent
// Verify calls. Router and Tenants are Verifiers themselves.
type Verifier interface {
	Verify(ctx context.Context, token string) (*jwtverify.Token, error)
}

// Router verifies each token with the verifier configured for its issuer.
// Make one with [NewRouter]; the zero Router is not usable. A Router is
// immutable and safe for concurrent use by multiple goroutines; it shares
// its verifiers and owns none of them.
type Router struct {
	routes   map[string]Verifier
	maxBytes int
}

var _ Verifier = (*Router)(nil)

// NewRouter returns a Router for routes, a map from iss to the verifier of
// that issuer (which should require that same iss). The map is copied;
// the verifiers are shared, not owned (closing their key sets is the
// caller's job). maxTokenBytes bounds the tokens it reads (0: 16 KiB, as
// jwtverify.Config.MaxTokenBytes; negative is refused). Errors wrap
// jwtverify.ErrInvalidConfig.
func NewRouter(routes map[string]Verifier, maxTokenBytes int) (*Router, error) {
	if len(routes) == 0 {
		return nil, fmt.Errorf("%w: no routes", jwtverify.ErrInvalidConfig)
	}
	if maxTokenBytes < 0 {
		return nil, fmt.Errorf("%w: negative maxTokenBytes", jwtverify.ErrInvalidConfig)
	}
	r := &Router{
		routes:   make(map[string]Verifier, len(routes)),
		maxBytes: cmp.Or(maxTokenBytes, jws.DefaultMaxBytes),
	}
	for iss, v := range routes {
		if iss == "" || v == nil {
			return nil, fmt.Errorf("%w: empty issuer or nil verifier", jwtverify.ErrInvalidConfig)
		}
		r.routes[iss] = v
	}
	return r, nil
}

// Verify reads the token's unverified iss and verifies the token with
// that issuer's verifier, which judges everything, iss included. A token
// that fails the front-end checks (size, shape, encoding; see package
// jwtverify's check order) or whose payload is not one strict JSON object
// with a string iss is rejected before any verifier sees it; an iss with
// no route is jwtverify.ErrIssuer.
func (r *Router) Verify(ctx context.Context, token string) (*jwtverify.Token, error) {
	iss, err := unverifiedIssuer(token, r.maxBytes)
	if err != nil {
		return nil, err
	}
	v, ok := r.routes[iss]
	if !ok {
		return nil, errUnknownIssuer
	}
	return v.Verify(ctx, token)
}

var errUnknownIssuer = jwtverify.Reject(jwtverify.ErrIssuer, "iss is not a configured issuer")

// unverifiedIssuer reads iss from a token's payload without verifying
// anything: the token goes through jws.Parse, the front end Verify uses,
// and its payload must be one strict JSON object whose iss is a string.
func unverifiedIssuer(token string, maxBytes int) (string, error) {
	p, err := jws.Parse(token, maxBytes)
	if err != nil {
		return "", err
	}
	var iss [1]string
	var found [1]bool
	if err := p.Strings([]string{"iss"}, iss[:], found[:]); err != nil {
		return "", err
	}
	if !found[0] {
		return "", jwtverify.Reject(jwtverify.ErrMissingClaim, "iss is required to choose the issuer")
	}
	return iss[0], nil
}
