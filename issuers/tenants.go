package issuers

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"time"

	lru "github.com/hashicorp/golang-lru/v2"
	"golang.org/x/sync/singleflight"

	"github.com/jwtverify/jwtverify"
	"github.com/jwtverify/jwtverify/internal/redact"
)

// Defaults of TenantsConfig.
const (
	DefaultTenants      = 1000
	DefaultBuildTimeout = 30 * time.Second
	DefaultFailureTTL   = 30 * time.Second
	// DefaultBuildsPerSecond bounds calls of TenantsConfig.New for issuers
	// not built before.
	DefaultBuildsPerSecond = 10
	// DefaultKnownPerTenant times Size is the default of
	// TenantsConfig.KnownIssuers.
	DefaultKnownPerTenant = 10
	// MaxEventIssuerBytes bounds BuildEvent.Issuer: a longer issuer is cut.
	MaxEventIssuerBytes = 256
)

// Build outcomes, as reported in BuildEvent.Outcome.
const (
	BuildBuilt   = "built"   // New returned a verifier, now held
	BuildFailed  = "failed"  // New failed; the failure is served for FailureTTL
	BuildLimited = "limited" // refused for budget: New was not called
)

// BuildEvent describes one attempt to build an issuer's verifier.
type BuildEvent struct {
	// Issuer is the iss of the token that caused the build. It comes from
	// a token whose signature has not been checked, so it is chosen by
	// whoever sent the token (Allow admitted it): quote it when logging.
	// At most MaxEventIssuerBytes bytes; a longer one is cut.
	Issuer string
	// Known reports that the issuer was built successfully before (see
	// TenantsConfig.KnownIssuers): such builds are never limited.
	Known bool
	// Outcome is BuildBuilt, BuildFailed or BuildLimited.
	Outcome string
	// Err is New's error, for BuildFailed: the reason the issuer's callers
	// get jwtverify.ErrKeysUnavailable, which never carries it (it may
	// quote the issuer). Nil otherwise.
	Err error
	// Duration is the time New took (0 for BuildLimited).
	Duration time.Duration
}

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
	// BuildsPerSecond bounds calls of New for issuers not built before, so
	// that names Allow admits cannot make unbounded requests: a token bucket
	// with a burst of the same size (at least 1). Past it, tokens of such
	// issuers fail with jwtverify.ErrKeysUnavailable. While the bucket holds
	// half its burst or more, builds are admitted as they come; below half,
	// each is admitted with a probability that falls with the bucket, so a
	// flood of issuers that do not exist cannot take every build as it is
	// refilled: a new tenant's token is then admitted with a probability of
	// about BuildsPerSecond / (the flood's tokens per second), whenever it
	// comes. Issuers built before are never refused for budget and do not
	// spend it. Zero: 10.
	BuildsPerSecond float64
	// KnownIssuers bounds the issuers remembered as built successfully
	// (least recently built forgotten first), even after their verifier is
	// evicted: a known issuer is rebuilt whatever the budget. Zero:
	// DefaultKnownPerTenant (10) × Size.
	KnownIssuers int
	// OnBuild, when set, is called after every attempt to build (and every
	// refusal for budget), synchronously, from the goroutine that builds:
	// keep it short. See BuildEvent: its Issuer is chosen by the sender of
	// an unverified token.
	OnBuild func(BuildEvent)
	// MaxTokenBytes bounds the tokens read. Zero: jwtverify.DefaultMaxTokenBytes.
	MaxTokenBytes int
	// Now returns the current time. Nil: time.Now.
	Now func() time.Time
}

// Tenants verifies tokens of many issuers, building each issuer's verifier
// (and so its key set, with its own refresh, singleflight and rate limit)
// on the first token that names it, and holding at most Size of them in an
// LRU, so memory stays bounded whatever issuers tokens name. Failed builds
// are remembered apart (they never evict working issuers) and reported to
// OnBuild with their reason. Builds of issuers never built before are rate
// limited (BuildsPerSecond) so that names Allow admits cannot make
// unbounded requests, and a flood of names that fail cannot take every
// build (a new tenant's token keeps a chance proportional to the budget);
// issuers built before (KnownIssuers) are rebuilt after eviction whatever
// the budget, so unverified tokens cannot keep a working tenant out. An evicted verifier is closed once no Verify uses it.
// A lookup takes the LRU's lock briefly (to record recency); verification
// itself does not. Safe for concurrent use.
type Tenants struct {
	cfg      TenantsConfig
	cache    *lru.Cache[string, *tenant]
	failures *lru.Cache[string, time.Time] // issuer -> until when its failure is served
	known    *lru.Cache[string, struct{}]  // issuers built successfully
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
	if cfg.Size < 0 || cfg.BuildTimeout < 0 || cfg.FailureTTL < 0 || cfg.MaxTokenBytes < 0 || cfg.BuildsPerSecond < 0 || cfg.KnownIssuers < 0 {
		return nil, fmt.Errorf("%w: negative limit", jwtverify.ErrInvalidConfig)
	}
	cfg.KnownIssuers = cmp.Or(cfg.KnownIssuers, DefaultKnownPerTenant*cfg.Size)
	t := &Tenants{cfg: cfg, tokens: burstOf(cfg.BuildsPerSecond), last: cfg.Now()}
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
	if t.known, err = lru.New[string, struct{}](cfg.KnownIssuers); err != nil {
		return nil, err
	}
	return t, nil
}

// burstOf is the burst of a bucket of rate builds per second: at least one
// build, or a rate below 1 would never admit any.
func burstOf(rate float64) float64 { return max(rate, 1) }

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
		if t.isClosed() {
			return nil, errClosed
		}
		ev := BuildEvent{Issuer: eventIssuer(iss), Known: t.known.Contains(iss)}
		if !ev.Known && !t.allowBuild() {
			ev.Outcome = BuildLimited
			t.report(ev)
			return nil, errBuildLimited
		}
		bctx, cancel := context.WithTimeout(t.base, t.cfg.BuildTimeout)
		defer cancel()
		start := t.cfg.Now()
		v, err := t.cfg.New(bctx, iss)
		ev.Duration = t.cfg.Now().Sub(start)
		if err == nil && v == nil {
			err = errors.New("the New function returned no verifier")
		}
		if err != nil {
			t.failures.Add(iss, t.cfg.Now().Add(t.cfg.FailureTTL))
			ev.Outcome, ev.Err = BuildFailed, err
			t.report(ev)
			return nil, errBuildFailed
		}
		te := &tenant{v: v}
		if t.isClosed() {
			if c, ok := v.(io.Closer); ok {
				c.Close()
			}
			return nil, errClosed
		}
		t.failures.Remove(iss)
		t.known.Add(iss, struct{}{})
		t.cache.Add(iss, te)
		ev.Outcome = BuildBuilt
		t.report(ev)
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

var errClosed = jwtverify.Reject(jwtverify.ErrKeysUnavailable, "closed")

func (t *Tenants) isClosed() bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.closed
}

func (t *Tenants) report(ev BuildEvent) {
	if t.cfg.OnBuild != nil {
		t.cfg.OnBuild(ev)
	}
}

// eventIssuer is iss cut to MaxEventIssuerBytes, on a character boundary.
func eventIssuer(iss string) string {
	iss, _ = redact.Truncate(iss, MaxEventIssuerBytes)
	return iss
}

// allowBuild takes one build from a token bucket of BuildsPerSecond per
// second, holding at most its burst (BuildsPerSecond, at least 1). Below
// half the burst it admits with probability level / (half the burst): a
// flood of tokens naming new issuers keeps the bucket there, and each
// token, whenever it comes, has the same chance as the flood's, instead of
// the flood taking every build the moment it is refilled.
func (t *Tenants) allowBuild() bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	burst := burstOf(t.cfg.BuildsPerSecond)
	now := t.cfg.Now()
	t.tokens = min(burst, t.tokens+now.Sub(t.last).Seconds()*t.cfg.BuildsPerSecond)
	t.last = now
	if half := burst / 2; t.tokens < 1 || (t.tokens < half && rand.Float64()*half >= t.tokens) {
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
