package issuers

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"sync"
	"sync/atomic"
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
	// DefaultBuildsPerSecond bounds calls of TenantsConfig.New.
	DefaultBuildsPerSecond = 10
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
	// Failures are held apart from the working issuers, up to Size of them.
	FailureTTL time.Duration
	// BuildsPerSecond bounds calls of New (a token bucket with a burst of
	// the same size); past it, tokens of new issuers fail with
	// jwtverify.ErrKeysUnavailable. Zero: 10.
	BuildsPerSecond float64
	// MaxTokenBytes bounds the tokens read. Zero: jwtverify.DefaultMaxTokenBytes.
	MaxTokenBytes int
	// Now returns the current time. Nil: time.Now.
	Now func() time.Time
}

// Tenants verifies tokens of many issuers, building each issuer's verifier
// (and so its key set, with its own refresh, singleflight and rate limit)
// on the first token that names it, and holding at most Size of them in an
// LRU, so memory stays bounded whatever issuers tokens name. Failed builds
// are remembered apart (they never evict working issuers), and builds are
// rate limited (BuildsPerSecond) so that names Allow admits cannot make
// unbounded requests. An evicted verifier is closed once no Verify uses it.
// A lookup takes the LRU's lock briefly (to record recency); verification
// itself does not. Safe for concurrent use.
type Tenants struct {
	cfg      TenantsConfig
	cache    *lru.Cache[string, *tenant]
	failures *lru.Cache[string, time.Time] // issuer -> until when its failure is served
	sf       singleflight.Group
	base     context.Context
	stop     context.CancelFunc

	mu     sync.Mutex // protects closed, tokens, last and the start of wg
	closed bool
	tokens float64 // build budget (token bucket)
	last   time.Time
	wg     sync.WaitGroup // closing evicted verifiers
}

// tenant is one issuer's verifier, counted while Verify uses it.
type tenant struct {
	v       jwtverify.Verifier
	refs    atomic.Int32
	evicted atomic.Bool
	once    sync.Once
}

var _ jwtverify.Verifier = (*Tenants)(nil)

// NewTenants returns a Tenants for cfg. Errors wrap jwtverify.ErrInvalidConfig.
func NewTenants(cfg TenantsConfig) (*Tenants, error) {
	if cfg.Allow == nil || cfg.New == nil {
		return nil, fmt.Errorf("%w: TenantsConfig needs Allow and New", jwtverify.ErrInvalidConfig)
	}
	cfg.Size = cmp.Or(cfg.Size, DefaultTenants)
	cfg.BuildTimeout = cmp.Or(cfg.BuildTimeout, DefaultBuildTimeout)
	cfg.FailureTTL = cmp.Or(cfg.FailureTTL, DefaultFailureTTL)
	cfg.BuildsPerSecond = cmp.Or(cfg.BuildsPerSecond, DefaultBuildsPerSecond)
	cfg.MaxTokenBytes = cmp.Or(cfg.MaxTokenBytes, jwtverify.DefaultMaxTokenBytes)
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Size < 0 || cfg.BuildTimeout < 0 || cfg.FailureTTL < 0 || cfg.MaxTokenBytes < 0 || cfg.BuildsPerSecond < 0 {
		return nil, fmt.Errorf("%w: negative limit", jwtverify.ErrInvalidConfig)
	}
	t := &Tenants{cfg: cfg, tokens: cfg.BuildsPerSecond, last: cfg.Now()}
	t.base, t.stop = context.WithCancel(context.Background())
	c, err := lru.NewWithEvict(cfg.Size, func(_ string, te *tenant) {
		te.evicted.Store(true)
		if te.refs.Load() == 0 {
			t.closeLater(te)
		}
	})
	if err != nil {
		return nil, err
	}
	t.cache = c
	if t.failures, err = lru.New[string, time.Time](cfg.Size); err != nil {
		return nil, err
	}
	return t, nil
}

// closeLater closes an evicted verifier, once, without blocking the caller
// that caused the eviction (a key set's Close waits for its fetch).
func (t *Tenants) closeLater(te *tenant) {
	c, ok := te.v.(io.Closer)
	if !ok {
		return
	}
	te.once.Do(func() {
		t.mu.Lock()
		t.wg.Add(1)
		t.mu.Unlock()
		go func() {
			defer t.wg.Done()
			c.Close()
		}()
	})
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
	for attempt := 0; attempt < 3; attempt++ {
		te, ok := t.cache.Get(iss)
		if !ok {
			if until, failed := t.failures.Get(iss); failed && t.cfg.Now().Before(until) {
				return nil, errBuildFailed
			}
			if te, err = t.build(ctx, iss); err != nil {
				return nil, err
			}
		}
		te.refs.Add(1)
		if te.evicted.Load() { // evicted between Get and Add: do not use it
			t.release(te)
			continue
		}
		tok, err := te.v.Verify(ctx, token)
		t.release(te)
		return tok, err
	}
	return nil, jwtverify.Reject(jwtverify.ErrKeysUnavailable, "the issuer's verifier was evicted repeatedly")
}

func (t *Tenants) release(te *tenant) {
	if te.refs.Add(-1) == 0 && te.evicted.Load() {
		t.closeLater(te)
	}
}

var (
	errBuildFailed  = jwtverify.Reject(jwtverify.ErrKeysUnavailable, "the issuer's verifier could not be built")
	errBuildLimited = jwtverify.Reject(jwtverify.ErrKeysUnavailable, "too many issuers are being set up; try again")
)

// build makes the issuer's verifier once for all concurrent callers; each
// caller's ctx bounds only its own wait.
func (t *Tenants) build(ctx context.Context, iss string) (*tenant, error) {
	ch := t.sf.DoChan(iss, func() (any, error) {
		if te, ok := t.cache.Peek(iss); ok {
			return te, nil // built while this call waited to start
		}
		if !t.allowBuild() {
			return nil, errBuildLimited
		}
		bctx, cancel := context.WithTimeout(t.base, t.cfg.BuildTimeout)
		defer cancel()
		v, err := t.cfg.New(bctx, iss)
		if err == nil && v == nil {
			err = errors.New("the New function returned no verifier")
		}
		if err != nil {
			t.failures.Add(iss, t.cfg.Now().Add(t.cfg.FailureTTL))
			return nil, errBuildFailed
		}
		te := &tenant{v: v}
		t.mu.Lock()
		closed := t.closed
		t.mu.Unlock()
		if closed {
			if c, ok := v.(io.Closer); ok {
				c.Close()
			}
			return nil, jwtverify.Reject(jwtverify.ErrKeysUnavailable, "closed")
		}
		t.failures.Remove(iss)
		t.cache.Add(iss, te)
		return te, nil
	})
	select {
	case res := <-ch:
		if res.Err != nil {
			return nil, res.Err
		}
		return res.Val.(*tenant), nil
	case <-ctx.Done():
		return nil, jwtverify.Reject(jwtverify.ErrKeysUnavailable, "gave up waiting for the issuer's key set: "+ctx.Err().Error())
	}
}

// allowBuild takes one build from a token bucket of BuildsPerSecond per
// second, holding at most BuildsPerSecond.
func (t *Tenants) allowBuild() bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.closed {
		return false
	}
	now := t.cfg.Now()
	t.tokens = min(t.cfg.BuildsPerSecond, t.tokens+now.Sub(t.last).Seconds()*t.cfg.BuildsPerSecond)
	t.last = now
	if t.tokens < 1 {
		return false
	}
	t.tokens--
	return true
}

// Close closes every verifier held (those that are io.Closers; one in use
// is closed when its last Verify ends) and waits for them.
func (t *Tenants) Close() error {
	t.mu.Lock()
	t.closed = true
	t.mu.Unlock()
	t.stop()
	t.cache.Purge() // evicts all
	t.wg.Wait()
	return nil
}
