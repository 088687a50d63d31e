// Package cache remembers verified tokens: Verified, an opt-in decorator
// of a verifier, bounded by entries, bytes and time and built on
// github.com/hashicorp/golang-lru/v2.
package cache

import (
	"cmp"
	"context"
	"fmt"
	"math"
	"sync"
	"time"

	lru "github.com/hashicorp/golang-lru/v2"

	"github.com/jwtverify/jwtverify"
)

// Defaults of VerifiedConfig, documented on its fields.
const (
	defaultEntries = 10000           // MaxEntries
	defaultBytes   = 16 << 20        // MaxBytes: 16 MiB
	defaultTTL     = 5 * time.Minute // TTL
)

// VerifiedConfig configures a Verified cache. Every zero value is a
// documented default, so the zero VerifiedConfig is a valid one. It is a
// plain value that NewVerified copies; the functions it holds are kept,
// and are called from concurrent Verify calls: they must be safe for
// concurrent use.
type VerifiedConfig struct {
	// MaxEntries and MaxBytes bound the cache (MaxBytes counts token
	// bytes; a longer token is never cached). Zero: 10,000 entries and
	// 16 MiB. Negative values are refused.
	MaxEntries int
	MaxBytes   int
	// TTL bounds how long an entry is served after it was verified. Zero:
	// 5m; negative is refused. The verifier's own bounds (exp, MaxAge,
	// nbf, with its Leeway) hold whatever TTL is; TTL bounds how long a
	// verdict is reused when nothing else would end it sooner.
	TTL time.Duration
	// Generation, when set, returns the generation of the key set the
	// verifier uses (keyset.Remote.Generation): an entry verified under
	// another generation is verified again, so a key that leaves the set
	// stops being served from the cache once the refresh that saw it go
	// completes.
	Generation func() uint64
	// Now returns the current time. Nil: time.Now. Use the verifier's clock.
	Now func() time.Time
	// OnLookup, when set, is called with true for each token served from
	// the cache and false for each that went to the verifier (for metrics),
	// synchronously, before Verify returns: keep it short.
	OnLookup func(hit bool)
}

// Verifier is what a Verified wraps: a *jwtverify.Verifier, or anything
// with its Verify method (an issuers.Router, say). Its Verify must follow
// the contract of jwtverify.Verifier.Verify: exactly one rejection class
// per error, and a Token no other call holds. It must be safe for
// concurrent use: a Verified calls it from concurrent Verify calls.
type Verifier interface {
	Verify(ctx context.Context, token string) (*jwtverify.Token, error)
}

// Verified is an opt-in decorator of a [Verifier] that remembers
// accepted tokens, so a token presented again skips the signature check.
// It is keyed by the whole token: the map hashes the token to find the
// entry and compares it byte for byte, so no collision can return another
// token's claims. An entry is served only within TTL, under the key-set
// generation it was verified with, and while the verifier would accept the
// token: from its ValidFrom and before its ValidUntil (jwtverify.Token), the
// bounds the verifier recorded with its own MaxAge and Leeway, so the cache
// refuses at exactly the instant Verify would. For a token whose verifier
// recorded no ValidUntil (one that is not a *jwtverify.Verifier), the
// bounds are its exp and nbf without leeway: near either edge the token
// goes to the verifier. A token without an upper bound (no exp, and no
// MaxAge in the verifier) is not cached, nor is a rejected one.
//
// Every call gets a Token of its own (a Clone of the entry, one allocation
// per hit), so a caller that changes its Token changes no other caller's
// and not the cache's. A Verified is safe for concurrent use by multiple
// goroutines; a lookup holds the LRU's lock briefly. Make one with
// [NewVerified]; the zero Verified is not usable. It has nothing to close:
// it owns no goroutine and no key set.
type Verified struct {
	next  Verifier
	cfg   VerifiedConfig
	mu    sync.Mutex // protects bytes (the LRU has its own lock)
	bytes int
	lru   *lru.Cache[string, *entry]
}

type entry struct {
	tok      *jwtverify.Token // never handed out: callers get a Clone
	notAfter int64            // unix nanos: min(ValidUntil, added+TTL)
	notUntil int64            // unix nanos: ValidFrom, or 0
	gen      uint64
}

var _ Verifier = (*Verified)(nil)

// NewVerified returns a Verified in front of next, which it shares and
// does not own (closing next's key set is the caller's job). Errors wrap
// jwtverify.ErrInvalidConfig.
func NewVerified(next Verifier, cfg VerifiedConfig) (*Verified, error) {
	if next == nil {
		return nil, fmt.Errorf("%w: no verifier", jwtverify.ErrInvalidConfig)
	}
	cfg.MaxEntries = cmp.Or(cfg.MaxEntries, defaultEntries)
	cfg.MaxBytes = cmp.Or(cfg.MaxBytes, defaultBytes)
	cfg.TTL = cmp.Or(cfg.TTL, defaultTTL)
	if cfg.MaxEntries < 0 || cfg.MaxBytes < 0 || cfg.TTL < 0 {
		return nil, fmt.Errorf("%w: negative cache bound", jwtverify.ErrInvalidConfig)
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	c := &Verified{next: next, cfg: cfg}
	l, err := lru.NewWithEvict(cfg.MaxEntries, func(token string, _ *entry) {
		c.mu.Lock()
		c.bytes -= len(token)
		c.mu.Unlock()
	})
	if err != nil {
		return nil, err
	}
	c.lru = l
	return c, nil
}

// Verify returns a copy of the cached token when the entry is still
// servable, and otherwise verifies with the next verifier, caching a copy
// of an acceptance. The returned Token belongs to the caller.
func (c *Verified) Verify(ctx context.Context, token string) (*jwtverify.Token, error) {
	now := c.cfg.Now().UnixNano()
	var gen uint64
	if c.cfg.Generation != nil {
		gen = c.cfg.Generation()
	}
	if e, ok := c.lru.Get(token); ok {
		if now < e.notAfter && now >= e.notUntil && e.gen == gen {
			if c.cfg.OnLookup != nil {
				c.cfg.OnLookup(true)
			}
			return e.tok.Clone(), nil
		}
		c.lru.Remove(token)
	}
	if c.cfg.OnLookup != nil {
		c.cfg.OnLookup(false)
	}
	tok, err := c.next.Verify(ctx, token)
	if err != nil {
		return nil, err
	}
	from, until := tok.ValidFrom(), tok.ValidUntil()
	if until.IsZero() { // not recorded by the verifier: exp and nbf, no leeway
		from, until = tok.Claims.NotBefore, tok.Claims.ExpiresAt
	}
	if !until.IsZero() && len(token) <= c.cfg.MaxBytes {
		e := &entry{tok: tok.Clone(), notAfter: min(nanos(until), now+int64(c.cfg.TTL)), gen: gen}
		if !from.IsZero() {
			e.notUntil = nanos(from)
		}
		c.add(token, e)
	}
	return tok, nil
}

// nanos is t in Unix nanoseconds, saturated for dates past 2262.
func nanos(t time.Time) int64 {
	if t.Unix() >= math.MaxInt64/int64(time.Second) {
		return math.MaxInt64
	}
	return t.UnixNano()
}

func (c *Verified) add(token string, e *entry) {
	if present, _ := c.lru.ContainsOrAdd(token, e); present {
		return
	}
	c.mu.Lock()
	c.bytes += len(token)
	over := c.bytes > c.cfg.MaxBytes
	c.mu.Unlock()
	for over {
		if _, _, ok := c.lru.RemoveOldest(); !ok {
			return
		}
		c.mu.Lock()
		over = c.bytes > c.cfg.MaxBytes
		c.mu.Unlock()
	}
}

// Len returns the number of tokens cached now, expired entries not yet
// evicted included.
func (c *Verified) Len() int { return c.lru.Len() }
