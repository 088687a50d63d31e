package issuers

import (
	"context"
	"fmt"
	"io"
	"sync"
	"time"

	lru "github.com/hashicorp/golang-lru/v2"
	"golang.org/x/sync/singleflight"

	"github.com/jwtverify/jwtverify"
)

// Defaults of TenantsConfig.
const (
	DefaultTenants      = 1000
	DefaultBuildTimeout = 30 * time.Second
	DefaultFailureTTL   = 30 * time.Second
)

// TenantsConfig configures Tenants.
type TenantsConfig struct {
	// Allow reports whether iss names an issuer to serve. Required. It sees
	// attacker-chosen strings before anything is fetched: keep it strict
	// (an exact pattern such as "https://login.example.com/<tenant-id>/v2.0"
	// with a well-formed id), and cheap.
	Allow func(iss string) bool
	// New builds the verifier of an allowed issuer, typically a backend's
	// New over keyset.Discover(ctx, iss, ...) with Issuers = {iss}. Required.
	// Calls for one issuer are coalesced; ctx is not any one caller's, and
	// is bounded by BuildTimeout. Verifiers that are io.Closers are closed
	// when evicted and by Tenants.Close.
	New func(ctx context.Context, iss string) (jwtverify.Verifier, error)
	// Size bounds the issuers held, least recently used evicted first.
	// Zero: DefaultTenants (1000).
	Size int
	// BuildTimeout bounds one call of New. Zero: 30s.
	BuildTimeout time.Duration
	// FailureTTL is how long a failed New is remembered (its callers get
	// jwtverify.ErrKeysUnavailable without a new attempt). Zero: 30s.
	FailureTTL time.Duration
	// MaxTokenBytes bounds the tokens read. Zero: jwtverify.DefaultMaxTokenBytes.
	MaxTokenBytes int
	// Now returns the current time. Nil: time.Now.
	Now func() time.Time
}

// Tenants verifies tokens of many issuers, building each issuer's verifier
// (and so its key set, with its own refresh, singleflight and rate limit)
// on the first token that names it, and holding at most Size of them in an
// LRU, so memory stays bounded whatever issuers tokens name. A lookup takes
// the LRU's lock briefly (to record recency); verification itself does not.
// Safe for concurrent use.
type Tenants struct {
	cfg   TenantsConfig
	cache *lru.Cache[string, *tenant]
	sf    singleflight.Group
	base  context.Context
	stop  context.CancelFunc
	wg    sync.WaitGroup // closing evicted verifiers
}

type tenant struct {
	v       jwtverify.Verifier
	err     error     // a failed build
	failsAt time.Time // until when err is served
}

var _ jwtverify.Verifier = (*Tenants)(nil)

// NewTenants returns a Tenants for cfg. Errors wrap jwtverify.ErrInvalidConfig.
func NewTenants(cfg TenantsConfig) (*Tenants, error) {
	if cfg.Allow == nil || cfg.New == nil {
		return nil, fmt.Errorf("%w: TenantsConfig needs Allow and New", jwtverify.ErrInvalidConfig)
	}
	if cfg.Size == 0 {
		cfg.Size = DefaultTenants
	}
	if cfg.BuildTimeout == 0 {
		cfg.BuildTimeout = DefaultBuildTimeout
	}
	if cfg.FailureTTL == 0 {
		cfg.FailureTTL = DefaultFailureTTL
	}
	if cfg.MaxTokenBytes == 0 {
		cfg.MaxTokenBytes = jwtverify.DefaultMaxTokenBytes
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Size < 0 || cfg.BuildTimeout < 0 || cfg.FailureTTL < 0 || cfg.MaxTokenBytes < 0 {
		return nil, fmt.Errorf("%w: negative limit", jwtverify.ErrInvalidConfig)
	}
	t := &Tenants{cfg: cfg}
	t.base, t.stop = context.WithCancel(context.Background())
	c, err := lru.NewWithEvict(cfg.Size, func(_ string, te *tenant) { t.closeLater(te) })
	if err != nil {
		return nil, err
	}
	t.cache = c
	return t, nil
}

// closeLater closes an evicted verifier without blocking the caller that
// caused the eviction (a key set's Close waits for its fetch).
func (t *Tenants) closeLater(te *tenant) {
	if c, ok := te.v.(io.Closer); ok {
		t.wg.Add(1)
		go func() {
			defer t.wg.Done()
			c.Close()
		}()
	}
}

// Len returns the number of issuers held.
func (t *Tenants) Len() int { return t.cache.Len() }

// Verify implements jwtverify.Verifier.
func (t *Tenants) Verify(ctx context.Context, token string) (*jwtverify.Token, error) {
	iss, err := unverifiedIssuer(token, t.cfg.MaxTokenBytes)
	if err != nil {
		return nil, err
	}
	if !t.cfg.Allow(iss) {
		return nil, errUnknownIssuer
	}
	te, ok := t.cache.Get(iss)
	if !ok || (te.err != nil && !t.cfg.Now().Before(te.failsAt)) {
		if te, err = t.build(ctx, iss); err != nil {
			return nil, err
		}
	}
	if te.err != nil {
		return nil, jwtverify.Reject(jwtverify.ErrKeysUnavailable, "the issuer's verifier could not be built")
	}
	return te.v.Verify(ctx, token)
}

// build makes the issuer's verifier once for all concurrent callers; each
// caller's ctx bounds only its own wait.
func (t *Tenants) build(ctx context.Context, iss string) (*tenant, error) {
	ch := t.sf.DoChan(iss, func() (any, error) {
		if te, ok := t.cache.Peek(iss); ok && (te.err == nil || t.cfg.Now().Before(te.failsAt)) {
			return te, nil // built while this call waited to start
		}
		bctx, cancel := context.WithTimeout(t.base, t.cfg.BuildTimeout)
		defer cancel()
		v, err := t.cfg.New(bctx, iss)
		te := &tenant{v: v, err: err}
		if err == nil && v == nil {
			te.err = fmt.Errorf("New returned no verifier")
		}
		if te.err != nil {
			te.v, te.failsAt = nil, t.cfg.Now().Add(t.cfg.FailureTTL)
		}
		t.cache.Add(iss, te)
		return te, nil
	})
	select {
	case res := <-ch:
		return res.Val.(*tenant), nil
	case <-ctx.Done():
		return nil, jwtverify.Reject(jwtverify.ErrKeysUnavailable, "gave up waiting for the issuer's key set: "+ctx.Err().Error())
	}
}

// Close closes every verifier held (those that are io.Closers) and waits
// for evicted ones to finish closing.
func (t *Tenants) Close() error {
	t.stop()
	t.cache.Purge() // evicts all, closing each
	t.wg.Wait()
	return nil
}
