// Package issuers verifies tokens from several issuers, each with its own
// key set and policy: Router for a fixed list, Tenants for many issuers
// (one per tenant) created on demand and held in a bounded LRU.
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
	"strings"

	"github.com/jwtverify/jwtverify"
	"github.com/jwtverify/jwtverify/internal/b64url"
	"github.com/jwtverify/jwtverify/internal/jsonx"
)

// Router verifies each token with the verifier configured for its issuer.
// It is immutable and safe for concurrent use.
type Router struct {
	routes   map[string]jwtverify.Verifier
	maxBytes int
}

var _ jwtverify.Verifier = (*Router)(nil)

// NewRouter returns a Router for routes, a map from iss to the verifier of
// that issuer (which should require that same iss). maxTokenBytes bounds
// the tokens it reads (0: jwtverify.DefaultMaxTokenBytes). Errors wrap
// jwtverify.ErrInvalidConfig.
func NewRouter(routes map[string]jwtverify.Verifier, maxTokenBytes int) (*Router, error) {
	if len(routes) == 0 {
		return nil, fmt.Errorf("%w: no routes", jwtverify.ErrInvalidConfig)
	}
	r := &Router{
		routes:   make(map[string]jwtverify.Verifier, len(routes)),
		maxBytes: cmp.Or(maxTokenBytes, jwtverify.DefaultMaxTokenBytes),
	}
	for iss, v := range routes {
		if iss == "" || v == nil {
			return nil, fmt.Errorf("%w: empty issuer or nil verifier", jwtverify.ErrInvalidConfig)
		}
		r.routes[iss] = v
	}
	return r, nil
}

// Verify implements jwtverify.Verifier.
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
// anything else, with the same size, shape and encoding rules as Verify.
func unverifiedIssuer(token string, maxBytes int) (string, error) {
	if len(token) > maxBytes {
		return "", jwtverify.Reject(jwtverify.ErrTooLarge, fmt.Sprintf("token is %d bytes; the limit is %d", len(token), maxBytes))
	}
	switch n := strings.Count(token, ".") + 1; {
	case n == 5:
		return "", jwtverify.Reject(jwtverify.ErrUnsupported, "JWE (5 segments) is not supported; only compact JWS")
	case n != 3:
		return "", jwtverify.Reject(jwtverify.ErrMalformed, fmt.Sprintf("token has %d segments; a compact JWS has 3", n))
	}
	_, rest, _ := strings.Cut(token, ".")
	p64, _, _ := strings.Cut(rest, ".")
	payload, err := b64url.DecodeString(p64)
	if err != nil {
		return "", jwtverify.Reject(jwtverify.ErrMalformed, "payload is not strict base64url")
	}
	var iss string
	found := false
	err = jsonx.Object(payload, func(name, value []byte) error {
		if string(name) == "iss" {
			iss, found = jsonx.String(value)
			if !found {
				return jwtverify.Reject(jwtverify.ErrMalformed, "claim iss has the wrong JSON type")
			}
		}
		return nil
	})
	switch {
	case err != nil && jwtverify.Class(err) != "":
		return "", err
	case err != nil:
		return "", jwtverify.Reject(jwtverify.ErrMalformed, "payload: "+err.Error())
	case !found:
		return "", jwtverify.Reject(jwtverify.ErrMissingClaim, "iss is required to choose the issuer")
	}
	return iss, nil
}
