// Package cache holds the library's bounded caches, built on
// github.com/hashicorp/golang-lru/v2.
package cache

import (
	"fmt"

	lru "github.com/hashicorp/golang-lru/v2"

	"github.com/jwtverify/jwtverify"
)

// Digest identifies a parsed key: SHA-256 over the JWK's RFC 7638
// thumbprint, its kid and its alg (see keyset), so that one entry never
// stands for two different keys.
type Digest [32]byte

// Keys is a bounded LRU of parsed, validated keys. Key sets consult it
// only while they parse a freshly fetched JWKS, so that a refresh
// returning keys they have seen does not re-parse and re-validate them
// (RSA moduli, EC and Ed25519 points), and several key sets can share one
// bound. It is never consulted per token, and holding a key here never
// makes it usable: only membership in a key set's current snapshot does.
// A Keys is safe for concurrent use.
type Keys struct {
	lru *lru.Cache[Digest, jwtverify.Key]
}

// NewKeys returns a Keys holding at most size keys. size must be positive.
func NewKeys(size int) (*Keys, error) {
	if size <= 0 {
		return nil, fmt.Errorf("%w: cache size must be positive", jwtverify.ErrInvalidConfig)
	}
	l, err := lru.New[Digest, jwtverify.Key](size)
	if err != nil {
		return nil, err
	}
	return &Keys{lru: l}, nil
}

// Get returns the key stored under d.
func (c *Keys) Get(d Digest) (jwtverify.Key, bool) { return c.lru.Get(d) }

// Add stores k under d, evicting the least recently used key when full.
func (c *Keys) Add(d Digest, k jwtverify.Key) { c.lru.Add(d, k) }

// Len returns the number of keys held.
func (c *Keys) Len() int { return c.lru.Len() }
