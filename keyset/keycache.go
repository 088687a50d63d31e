package keyset

import (
	"fmt"

	lru "github.com/hashicorp/golang-lru/v2"

	"github.com/jwtverify/jwtverify"
)

// digest identifies a parsed key: SHA-256 over the JWK's RFC 7638
// thumbprint, its kid, alg and the other members that decide whether it is
// accepted (see jwk.digest), so that one entry never stands for two
// different keys or outcomes.
type digest [32]byte

// keyCache is a bounded LRU of parsed, validated keys. A Remote consults
// its own only while it parses a freshly fetched JWKS, so that a refresh
// returning keys it has seen does not re-parse and re-validate them (RSA
// moduli, EC and Ed25519 points). It is never consulted per token, and
// holding a key here never makes it usable: only membership in the
// Remote's current snapshot does. A keyCache is safe for concurrent use
// (the LRU locks); a nil *keyCache is not usable.
type keyCache struct {
	lru *lru.Cache[digest, jwtverify.Key]
}

// newKeyCache returns a keyCache holding at most size keys. size must be
// positive; the error wraps jwtverify.ErrInvalidConfig.
func newKeyCache(size int) (*keyCache, error) {
	if size <= 0 {
		return nil, fmt.Errorf("%w: key cache size must be positive", jwtverify.ErrInvalidConfig)
	}
	l, err := lru.New[digest, jwtverify.Key](size)
	if err != nil {
		return nil, err
	}
	return &keyCache{lru: l}, nil
}

// get returns the key stored under d.
func (c *keyCache) get(d digest) (jwtverify.Key, bool) { return c.lru.Get(d) }

// add stores k under d, evicting the least recently used key when full.
func (c *keyCache) add(d digest, k jwtverify.Key) { c.lru.Add(d, k) }

// len returns the number of keys held.
func (c *keyCache) len() int { return c.lru.Len() }
