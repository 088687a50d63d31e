package issuers

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"time"

	lru "github.com/hashicorp/golang-lru/v2"
	"golang.org/x/sync/singleflight"
	"golang.org/x/time/rate"

	"github.com/jwtverify/jwtverify"
	"github.com/jwtverify/jwtverify/internal/jws"
	"github.com/jwtverify/jwtverify/internal/redact"
)

// Defaults of TenantsConfig, documented on its fields.
const (
	defaultTenants         = 1000
	defaultBuildTimeout    = 30 * time.Second
	defaultFailureTTL      = 30 * time.Second
	defaultBuildsPerSecond = 10
	defaultKnownPerTenant  = 10 // KnownIssuers is this times Size
)

// maxEventIssuerBytes bounds BuildEvent.Issuer: a longer issuer is cut.
const maxEventIssuerBytes = 256

// Outcomes of a build, as BuildEvent.Outcome reports them.
const (
	outcomeBuilt   = "built"   // New returned a verifier, now held
	outcomeFailed  = "failed"  // New failed; the failure is served for FailureTTL
	outcomeLimited = "limited" // refused for budget: New was not called
)

// BuildEvent describes one attempt to build an issuer's verifier. OnBuild
// gets it by value and may keep it.
type BuildEvent struct {
	// Issuer is the iss of the token that caused the build. It comes from
	// a token whose signature has not been checked, so it is chosen by
	// whoever sent the token (Allow admitted it): quote it when logging.
	// At most 256 bytes: a longer one is cut, on a character boundary.
	Issuer string
	// Known reports that the issuer was built successfully before (see
	// TenantsConfig.KnownIssuers): such builds are never limited.
	Known bool
	// Outcome is one of a fixed set: "built" (New returned a verifier, now
	// held), "failed" (New failed; the failure is served for
	// TenantsConfig.FailureTTL) or "limited" (refused for budget, see
	// TenantsConfig.BuildsPerSecond: New was not called).
	Outcome string
	// Err is New's error, for "failed": the reason the issuer's callers
	// get jwtverify.ErrKeysUnavailable, which never carries it (it may
	// quote the issuer). Nil otherwise.
	Err error
	// Duration is the time New took (0 for "limited").
	Duration time.Duration
}

// TenantsConfig configures Tenants. Allow and New are required, so the
// zero TenantsConfig is refused; every other zero value is a documented
// default. NewTenants copies it and keeps its functions (Allow, New,
// OnBuild), which are called from concurrent Verify calls: they must
// be safe for concurrent use.
type TenantsConfig struct {
	// Allow reports whether iss names an issuer to serve. Required. It sees
	// attacker-chosen strings before anything is fetched: keep it strict
	// (an exact pattern such as "https://login.example.com/<tenant-id>/v2.0"
	// with a well-formed id), and cheap.
	Allow func(iss string) bool
	// New builds the verifier of an allowed issuer, typically a backend's
	// New over keyset.Discover(ctx, iss, ...) with Issuers = {iss}. Required.
	// Calls for one issuer are coalesced; ctx is not any one caller's, and
	// is bounded by BuildTimeout. release, which may be nil, frees what
	// the verifier holds (typically its keyset.Remote's Close): Tenants
	// calls it once, after the verifier is evicted and no Verify uses it
	// any more, or on Tenants.Close. On error, New frees what it made
	// itself, and its release is ignored.
	New func(ctx context.Context, iss string) (v Verifier, release func(), err error)
	// Size bounds the issuers held, least recently used evicted first.
	// Zero: 1000.
	Size int
	// BuildTimeout bounds one call of New. Zero: 30s.
	BuildTimeout time.Duration
	// FailureTTL is how long a failed New is remembered (its callers get
	// jwtverify.ErrKeysUnavailable without a new attempt). Zero: 30s.
	// Failures are held apart from the working issuers, up to Size of them.
	FailureTTL time.Duration
	// BuildsPerSecond bounds calls of New for issuers not built before, so
	// that names Allow admits cannot make unbounded requests: a token bucket
	// (a rate.Limiter) with a burst of the same size, rounded down, at least
	// 1. Past it, tokens of such issuers fail with
	// jwtverify.ErrKeysUnavailable. While the bucket holds
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
	// 10 × Size (10,000 with the default Size).
	KnownIssuers int
	// OnBuild, when set, is called after every attempt to build (and every
	// refusal for budget), synchronously, from the goroutine that builds:
	// keep it short. See BuildEvent: its Issuer is chosen by the sender of
	// an unverified token.
	OnBuild func(BuildEvent)
	// MaxTokenBytes bounds the tokens read. Zero: 16 KiB (16384 bytes),
	// as jwtverify.Config.MaxTokenBytes.
	MaxTokenBytes int
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
// the budget, so unverified tokens cannot keep a working tenant out. An
// evicted verifier is released once no Verify uses it.
// A lookup takes the LRU's lock briefly (to record recency); verification
// itself does not. Safe for concurrent use by multiple goroutines. Make one
// with [NewTenants]; the zero Tenants is not usable. A Tenants owns what
// New builds: it calls each release New returned when the verifier is
// evicted, and on Close.
type Tenants struct {
	cfg      TenantsConfig
	cache    *lru.Cache[string, *tenant]
	failures *lru.Cache[string, time.Time] // issuer -> until when its failure is served
	known    *lru.Cache[string, struct{}]  // issuers built successfully
	sf       singleflight.Group
	base     context.Context
	stop     context.CancelFunc

	builds *rate.Limiter // budget of builds of issuers not built before; locks itself

	// mu guards closed and every wg.Add: an Add happens only while closed
	// is false, so all of them come before Close's wg.Wait.
	mu     sync.Mutex
	closed bool
	wg     sync.WaitGroup // builds in progress and releases in the background
}

// tenant is one issuer's verifier, counted while Verify uses it.
type tenant struct {
	v       Verifier
	release func() // nil: nothing to free
	refs    atomic.Int32
	evicted atomic.Bool
	once    sync.Once
}

var _ Verifier = (*Tenants)(nil)

// NewTenants returns a Tenants for cfg, which the caller owns and closes
// (Close closes the verifiers it holds). Errors wrap
// jwtverify.ErrInvalidConfig.
func NewTenants(cfg TenantsConfig) (*Tenants, error) {
	if cfg.Allow == nil || cfg.New == nil {
		return nil, fmt.Errorf("%w: TenantsConfig needs Allow and New", jwtverify.ErrInvalidConfig)
	}
	cfg.Size = cmp.Or(cfg.Size, defaultTenants)
	cfg.BuildTimeout = cmp.Or(cfg.BuildTimeout, defaultBuildTimeout)
	cfg.FailureTTL = cmp.Or(cfg.FailureTTL, defaultFailureTTL)
	cfg.BuildsPerSecond = cmp.Or(cfg.BuildsPerSecond, defaultBuildsPerSecond)
	cfg.MaxTokenBytes = cmp.Or(cfg.MaxTokenBytes, jws.DefaultMaxBytes)
	if cfg.Size < 0 || cfg.BuildTimeout < 0 || cfg.FailureTTL < 0 || cfg.MaxTokenBytes < 0 || cfg.BuildsPerSecond < 0 || cfg.KnownIssuers < 0 {
		return nil, fmt.Errorf("%w: negative limit", jwtverify.ErrInvalidConfig)
	}
	cfg.KnownIssuers = cmp.Or(cfg.KnownIssuers, defaultKnownPerTenant*cfg.Size)
	t := &Tenants{cfg: cfg, builds: rate.NewLimiter(rate.Limit(cfg.BuildsPerSecond), burstOf(cfg.BuildsPerSecond))}
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

// burstOf is the burst of a budget of perSecond builds a second: as many,
// rounded down, and at least one, or a rate below 1 would never admit any.
func burstOf(perSecond float64) int { return max(int(min(perSecond, 1<<30)), 1) }

// closeLater releases an evicted verifier, once. Before Close it does so
// in the background, so that the caller that caused the eviction does not
// wait (a key set's Close waits for its fetch); from Close on, in the
// calling goroutine: Close's own (its Purge), a build's that ends after
// Close (its Remove), or that of the last Verify of a verifier in use at
// Close.
func (t *Tenants) closeLater(te *tenant) {
	if te.release == nil {
		return
	}
	te.once.Do(func() {
		if !t.enter() {
			te.release()
			return
		}
		go func() {
			defer t.wg.Done()
			te.release()
		}()
	})
}

// enter counts a build or background release in t.wg, unless t is closed.
func (t *Tenants) enter() bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.closed {
		return false
	}
	t.wg.Add(1)
	return true
}

// Len returns the number of issuers held.
func (t *Tenants) Len() int { return t.cache.Len() }

// Verify reads the token's unverified iss as Router.Verify does, checks
// it with Allow (jwtverify.ErrIssuer when refused), and verifies the token
// with that issuer's verifier, building it first if it is not held. A
// build that fails, is refused for budget or is not awaited within ctx is
// jwtverify.ErrKeysUnavailable.
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
			if until, failed := t.failures.Get(iss); failed && time.Now().Before(until) {
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
		if !t.enter() {
			return nil, errClosed
		}
		defer t.wg.Done() // Close waits for the build and its release
		ev := BuildEvent{Issuer: eventIssuer(iss), Known: t.known.Contains(iss)}
		if !ev.Known && !t.allowBuild() {
			ev.Outcome = outcomeLimited
			t.report(ev)
			return nil, errBuildLimited
		}
		bctx, cancel := context.WithTimeout(t.base, t.cfg.BuildTimeout)
		defer cancel()
		start := time.Now()
		v, release, err := t.cfg.New(bctx, iss)
		ev.Duration = time.Since(start)
		if err == nil && v == nil {
			if release != nil {
				release() // New reported success: nothing else frees it
			}
			err = errors.New("the New function returned no verifier")
		}
		if err != nil {
			t.failures.Add(iss, time.Now().Add(t.cfg.FailureTTL))
			ev.Outcome, ev.Err = outcomeFailed, err
			t.report(ev)
			return nil, errBuildFailed
		}
		te := &tenant{v: v, release: release}
		t.failures.Remove(iss)
		t.known.Add(iss, struct{}{})
		t.cache.Add(iss, te)
		if t.isClosed() {
			// Close came before Add, or between Add and here, so its
			// Purge may have missed te: evict it, which releases it.
			t.cache.Remove(iss)
			return nil, errClosed
		}
		ev.Outcome = outcomeBuilt
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

// eventIssuer is iss cut to maxEventIssuerBytes, on a character boundary.
func eventIssuer(iss string) string {
	iss, _ = redact.Truncate(iss, maxEventIssuerBytes)
	return iss
}

// allowBuild takes one build from t.builds. Below half the burst it first
// admits with probability level / (half the burst): a flood of tokens
// naming new issuers keeps the budget there, and each token, whenever it
// comes, has the same chance as the flood's, instead of the flood taking
// every build the moment one is refilled. The two steps need not be one:
// AllowN alone spends, so the budget holds whatever runs in between.
func (t *Tenants) allowBuild() bool {
	now := time.Now()
	half := float64(t.builds.Burst()) / 2
	if level := t.builds.TokensAt(now); level < half && rand.Float64()*half >= level {
		return false
	}
	return t.builds.AllowN(now, 1)
}

// Close releases every verifier held (see TenantsConfig.New) and waits
// for builds in progress, whose context it cancels, and for every release
// but one: a verifier a Verify is still using is released when that
// Verify ends. Verify after Close fails with jwtverify.ErrKeysUnavailable.
func (t *Tenants) Close() {
	t.mu.Lock()
	t.closed = true
	t.mu.Unlock()
	t.stop()
	t.cache.Purge() // evicts all
	t.wg.Wait()
}
