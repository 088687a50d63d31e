package cli

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jwtverify/jwtverify"
	"github.com/jwtverify/jwtverify/internal/jws"
	"github.com/jwtverify/jwtverify/internal/redact"
	"github.com/jwtverify/jwtverify/internal/spiffeid"
	"github.com/jwtverify/jwtverify/internal/tenantiss"
	"github.com/jwtverify/jwtverify/keyset"
	"github.com/jwtverify/jwtverify/middleware"
)

// The proxy boots without its identity providers: it builds every key set
// without fetching (verifyFlags.lazy), listens at once, and fetches in the
// background (warmer), retrying, so that readiness turns 200 without any
// request. Until a provider's keys arrive its tokens get 503 with
// Retry-After (keys_unavailable), never a crash loop.

// discovered is a key source whose Remote comes from the issuer's OpenID
// discovery document, which the warmer fetches in the background until it
// succeeds: until then every lookup is keys_unavailable.
type discovered struct {
	issuer      string
	explicitIss bool // --issuer was given: a template discovery issuer is acceptable
	cfg         keyset.RemoteConfig
	remote      atomic.Pointer[keyset.Remote]
}

var errNotDiscovered = jwtverify.Reject(jwtverify.ErrKeysUnavailable, "the issuer's discovery document has not been fetched yet")

// Key implements jwtverify.KeySource.
func (d *discovered) Key(ctx context.Context, l jwtverify.Lookup) (jwtverify.Key, error) {
	r := d.remote.Load()
	if r == nil {
		return jwtverify.Key{}, errNotDiscovered
	}
	return r.Key(ctx, l)
}

// Algorithms implements jwtverify.KeySource: those of any remote key set.
func (d *discovered) Algorithms() []string { return (*keyset.Remote)(nil).Algorithms() }

// discover makes one attempt at discovery.
func (d *discovered) discover(ctx context.Context) error {
	r, err := keyset.Discover(ctx, d.issuer, d.cfg)
	if err != nil {
		return err
	}
	if !d.explicitIss && tenantiss.IsTemplate(r.Issuer()) {
		r.Close()
		return fmt.Errorf("the discovery document names the multi-tenant issuer template %q: give --issuer with the issuer of each tenant to accept", r.Issuer())
	}
	if !d.remote.CompareAndSwap(nil, r) {
		r.Close()
	}
	return nil
}

// close closes the Remote, once discovered.
func (d *discovered) close() {
	if r := d.remote.Load(); r != nil {
		r.Close()
	}
}

// warmer keeps one key set fetched: it retries until the set is usable,
// with backoff, then refreshes it when no lookup has for refreshAt (half
// of MaxStale, at most MaxRefresh), so that an idle proxy's set never goes
// stale (a 304 keeps it).
type warmer struct {
	name     string // the redacted URL, for logs
	remote   func() *keyset.Remote
	discover func(context.Context) error // nil: remote is there from the start
	maxStale time.Duration
	// every is how often the warmer looks; refreshAt the age at which it
	// refreshes a set no lookup has refreshed (traffic refreshes a set by
	// its own schedule, Cache-Control included, long before).
	every, refreshAt time.Duration
	// fetched latches once the set has been usable: readiness is about
	// boot. A set that goes stale later (an outage past MaxStale) makes
	// its tokens 503 with Retry-After, and must not take every replica out
	// of service at once, anonymous routes and other providers included.
	fetched atomic.Bool
}

// ready reports whether the key set has been usable since boot.
func (w *warmer) ready() bool {
	if w.fetched.Load() {
		return true
	}
	if age, ok := w.age(); ok && age <= w.maxStale {
		w.fetched.Store(true)
		return true
	}
	return false
}

// age is the age of the set in use, false when there is none.
func (w *warmer) age() (time.Duration, bool) {
	r := w.remote()
	if r == nil {
		return 0, false
	}
	return r.Age()
}

// due reports whether the warmer has a fetch to make: no set yet, or one
// past refreshAt.
func (w *warmer) due() bool {
	age, ok := w.age()
	return !ok || age >= w.refreshAt
}

// Backoff of the warmer's retries.
const (
	warmFirstRetry = time.Second
	warmMaxRetry   = 30 * time.Second
)

// run keeps the key set warm until ctx ends, calling fetched (if not nil)
// after each successful attempt. It logs the first failure of a run of
// failures and the recovery, not every retry.
func (w *warmer) run(ctx context.Context, logger *slog.Logger, fetched func()) {
	retry := warmFirstRetry
	failing := false
	for {
		var err error
		if w.due() {
			err = w.attempt(ctx)
		}
		wait := w.every
		switch {
		case ctx.Err() != nil:
			return
		case err != nil:
			if !failing {
				logger.Warn("key set not available yet; retrying in the background", "keys", w.name, "err", err)
			}
			failing = true
			wait = retry/2 + rand.N(retry/2+1) // jittered: a fleet does not retry in step
			retry = min(2*retry, warmMaxRetry)
		default:
			if failing {
				logger.Info("key set available", "keys", w.name)
			}
			failing, retry = false, warmFirstRetry
			if fetched != nil {
				fetched()
			}
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-t.C:
		}
	}
}

// attempt discovers the issuer if that is still to do, then refreshes.
func (w *warmer) attempt(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, fetchTimeout)
	defer cancel()
	if w.remote() == nil {
		if err := w.discover(ctx); err != nil {
			return err
		}
	}
	return w.remote().Refresh(ctx)
}

// route verifies each token with the provider it names: its iss, or for
// a JWT-SVID the trust domain of its sub. It reads both unverified, only
// to choose; the chosen provider's verifier judges everything. A token
// naming no provider of the route is issuer (401).
type route struct {
	byIssuer map[string]middleware.Verifier
	byTD     map[string]middleware.Verifier
}

var errNoProvider = jwtverify.Reject(jwtverify.ErrIssuer, "the token's issuer is not a provider of this route")

// Verify implements middleware.Verifier.
func (rt *route) Verify(ctx context.Context, token string) (*jwtverify.Token, error) {
	p, err := jws.Parse(token, jws.DefaultMaxBytes)
	if err != nil {
		return nil, err
	}
	var vals [2]string
	var has [2]bool
	if err := p.Strings([]string{"iss", "sub"}, vals[:], has[:]); err != nil {
		return nil, err
	}
	if v, ok := rt.byIssuer[vals[0]]; ok && has[0] {
		return v.Verify(ctx, token)
	}
	if has[1] && len(rt.byTD) > 0 {
		if id, err := spiffeid.Parse(vals[1]); err == nil {
			if v, ok := rt.byTD[id.TrustDomain]; ok {
				return v.Verify(ctx, token)
			}
		}
	}
	return nil, errNoProvider
}

// provider is one built provider: its verifier, and what keeps its keys.
type provider struct {
	name        string
	issuer      string // "" for a SPIFFE provider
	trustDomain string // SPIFFE only
	verifier    middleware.Verifier
	warmers     []*warmer
	close       func()
}

// ready reports whether every key set of the provider is usable.
func (p *provider) ready() bool {
	for _, w := range p.warmers {
		if !w.ready() {
			return false
		}
	}
	return true
}

// buildProvider builds the provider of the flags f, lazily: no fetch
// happens here (see warmer).
func buildProvider(name string, f *verifyFlags) (*provider, error) {
	f.lazy = true
	v, err := f.verifier()
	if err != nil {
		return nil, err
	}
	p := &provider{name: name, verifier: v, close: f.closeRemotes}
	if len(f.issuers) == 1 {
		p.issuer = f.issuers[0]
	} else if f.oidcIssuer != "" && len(f.issuers) == 0 {
		p.issuer = f.oidcIssuer
	}
	if len(f.spiffeBundles) == 1 {
		p.trustDomain, _, _ = strings.Cut(f.spiffeBundles[0], "=")
	}
	maxStale := f.remoteCfg.MaxStale
	if maxStale == 0 {
		maxStale = 24 * time.Hour
	}
	every := cmp.Or(f.remoteCfg.MinRefresh, 5*time.Minute)
	refreshAt := min(cmp.Or(f.remoteCfg.MaxRefresh, 24*time.Hour), maxStale/2)
	for _, r := range f.remotes {
		p.warmers = append(p.warmers, &warmer{name: r.URL(), remote: func() *keyset.Remote { return r }, maxStale: maxStale, every: every, refreshAt: refreshAt})
	}
	for _, d := range f.discovered {
		p.warmers = append(p.warmers, &warmer{name: redact.URL(d.issuer), remote: d.remote.Load, discover: d.discover, maxStale: maxStale, every: every, refreshAt: refreshAt})
	}
	return p, nil
}

// errProviderFlags: the flags that describe a provider are given in the
// file when it has providers.
var errProviderFlags = errors.New("--config with providers: the key and policy flags (--jwks, --key, --secret-file, --oidc-issuer, --spiffe-bundle, --issuer, --audience, --alg, --type, --leeway) go in the file's providers instead")

// readiness tells waiters when the proxy may have become ready: each
// successful fetch of a warmer closes the current channel and makes a new
// one. Tests wait on it instead of polling.
type readiness struct {
	mu sync.Mutex
	ch chan struct{}
}

// changed returns a channel closed at the next successful fetch.
func (r *readiness) changed() <-chan struct{} {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.ch == nil {
		r.ch = make(chan struct{})
	}
	return r.ch
}

// fetched wakes the waiters.
func (r *readiness) fetched() {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.ch != nil {
		close(r.ch)
		r.ch = nil
	}
}
