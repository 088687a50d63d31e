// Package keyset turns key material into jwtverify key sources: PEM, JWK,
// JWKS and SPIFFE bundle parsing; Static, a fixed set of keys; and Remote,
// a JWKS fetched over HTTP(S) and kept fresh.
//
// Every function and method of the package is safe for concurrent use by
// multiple goroutines. No function keeps a byte slice it is given. A
// jwtverify.Key is immutable: the parsers return keys the caller owns, and
// the key sources hand out keys that are shared and may be kept. Static
// and Remote are made by their constructors (their zero values are not
// usable); RemoteConfig's zero value is valid. The caller owns a Remote
// and closes it; a Static holds nothing to close.
package keyset

import (
	"context"
	"fmt"

	"github.com/jwtverify/jwtverify"
	"github.com/jwtverify/jwtverify/internal/tenantiss"
)

// Static is a fixed set of keys. Make one with [NewStatic]; the zero
// Static is not usable. A Static is immutable and safe for concurrent use
// by multiple goroutines; the Keys it returns are shared (Keys are
// immutable).
//
// Key selection (the same for Remote): a token whose kid names a key gets
// that key, or jwtverify.ErrAlgorithm when that key does not support the
// token's alg. A token without kid, or with a kid no key has, gets the one
// key that supports its alg when exactly one does, and (for a token with a
// kid) that key has no id, as a key loaded from PEM or a bare secret has.
// Anything else is jwtverify.ErrUnknownKey.
type Static struct {
	set *set
}

var _ jwtverify.KeySource = (*Static)(nil)

// NewStatic returns a Static holding keys. It fails, wrapping
// jwtverify.ErrInvalidConfig, when keys is empty, holds a zero Key, or two
// keys share an id. It does not keep the slice: changing it afterwards
// changes nothing.
func NewStatic(keys ...jwtverify.Key) (*Static, error) {
	if len(keys) == 0 {
		return nil, fmt.Errorf("%w: no keys", jwtverify.ErrInvalidConfig)
	}
	s, err := newSet(keys, nil)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", jwtverify.ErrInvalidConfig, err)
	}
	return &Static{set: s}, nil
}

// Algorithms returns the algorithms the keys support, in first-seen order,
// in a new slice the caller owns.
func (s *Static) Algorithms() []string { return append([]string(nil), s.set.algs...) }

// Key implements jwtverify.KeySource with the selection rules above. A
// Static never fetches, so it ignores l.MayFetch; it never blocks and
// ignores ctx.
func (s *Static) Key(_ context.Context, l jwtverify.Lookup) (jwtverify.Key, error) {
	return s.set.lookup(l)
}

// set is an immutable, indexed collection of keys.
type set struct {
	byID  map[string]jwtverify.Key
	byAlg map[string][]jwtverify.Key // every key that supports the alg
	algs  []string
	n     int
	// bound maps each key bound to an issuer (a JWK issuer member, in a
	// Remote's set) to that issuer, or issuer template; nil when none is.
	bound map[jwtverify.Key]string
}

// newSet indexes keys; bound (which may be nil) binds some of them to
// issuers and is kept, not copied.
func newSet(keys []jwtverify.Key, bound map[jwtverify.Key]string) (*set, error) {
	s := &set{byID: make(map[string]jwtverify.Key), byAlg: make(map[string][]jwtverify.Key), n: len(keys), bound: bound}
	for i, k := range keys {
		algs := k.Algorithms()
		if len(algs) == 0 {
			return nil, fmt.Errorf("key %d is not a valid key", i)
		}
		if id := k.ID(); id != "" {
			if _, dup := s.byID[id]; dup {
				return nil, fmt.Errorf("two keys have id %q", id)
			}
			s.byID[id] = k
		}
		for _, alg := range algs {
			if len(s.byAlg[alg]) == 0 {
				s.algs = append(s.algs, alg)
			}
			s.byAlg[alg] = append(s.byAlg[alg], k)
		}
	}
	return s, nil
}

// lookup applies the selection rules documented on Static, then the
// issuer binding documented on NewRemote.
func (s *set) lookup(l jwtverify.Lookup) (jwtverify.Key, error) {
	k, err := s.selectKey(l.KID, l.Alg)
	if err == nil && s.bound != nil {
		if iss, ok := s.bound[k]; ok && !issuerMatches(iss, l.Issuer) {
			return jwtverify.Key{}, errBoundElsewhere
		}
	}
	return k, err
}

// issuerMatches reports whether a token of iss may use a key bound to
// bound: bound is a template (tenantiss) that iss fills, or not a
// template and equal to iss.
func issuerMatches(bound, iss string) bool {
	if tenantiss.IsTemplate(bound) {
		_, ok := tenantiss.Match(bound, iss)
		return ok
	}
	return bound == iss && iss != ""
}

// errBoundElsewhere is the refusal of a key bound to another issuer: no
// key serves the token. It causes no refresh: the kid is known.
var errBoundElsewhere = jwtverify.Reject(jwtverify.ErrUnknownKey, "the key named by kid is bound to another issuer (its JWK issuer member)")

// selectKey applies the selection rules documented on Static.
func (s *set) selectKey(kid, alg string) (jwtverify.Key, error) {
	if kid != "" {
		if k, ok := s.byID[kid]; ok {
			if !k.Supports(alg) {
				return jwtverify.Key{}, jwtverify.Reject(jwtverify.ErrAlgorithm, "the key named by kid does not support "+alg)
			}
			return k, nil
		}
	}
	suitable := s.byAlg[alg]
	switch {
	case len(suitable) == 1 && (kid == "" || suitable[0].ID() == ""):
		return suitable[0], nil
	case kid != "":
		return jwtverify.Key{}, errNoKid
	case len(suitable) == 0:
		return jwtverify.Key{}, jwtverify.Reject(jwtverify.ErrUnknownKey, "no key supports "+alg)
	default:
		return jwtverify.Key{}, jwtverify.Reject(jwtverify.ErrUnknownKey, fmt.Sprintf("token has no kid and %d keys support %s", len(suitable), alg))
	}
}

// errNoKid is the common miss; one immutable value, so a flood of unknown
// kids costs no allocation here.
var errNoKid = jwtverify.Reject(jwtverify.ErrUnknownKey, "no key has the token's kid")
