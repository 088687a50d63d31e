package keyset

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	lru "github.com/hashicorp/golang-lru/v2"
	"golang.org/x/sync/singleflight"

	"github.com/jwtverify/jwtverify"
	"github.com/jwtverify/jwtverify/cache"
	"github.com/jwtverify/jwtverify/internal/redact"
)

// Defaults of RemoteConfig.
const (
	DefaultFetchTimeout       = 10 * time.Second
	DefaultMinRefresh         = 5 * time.Minute
	DefaultMaxRefresh         = 24 * time.Hour
	DefaultUnknownKIDInterval = 30 * time.Second
	DefaultMaxStale           = 24 * time.Hour
	DefaultMaxResponseBytes   = 1 << 20
	DefaultMaxKeys            = 1024
	DefaultNegativeCacheSize  = 1024

	// retryBase is the first delay after a failed refresh; it doubles per
	// failure up to MinRefresh, with jitter.
	retryBase = time.Second
)

// Refresh triggers, as reported in RefreshEvent.Trigger.
const (
	TriggerInitial    = "initial"     // first use: no key set yet
	TriggerScheduled  = "scheduled"   // the set is due (Cache-Control/Expires, clamped, jittered)
	TriggerStale      = "stale"       // the set is past MaxStale: refresh before serving
	TriggerUnknownKID = "unknown_kid" // a plausible token named a kid the set lacks
	TriggerManual     = "manual"      // Remote.Refresh
)

// Refresh outcomes, as reported in RefreshEvent.Outcome.
const (
	OutcomeUpdated     = "updated"      // 200 with a usable set, now in use
	OutcomeNotModified = "not_modified" // 304: the set is kept and its age reset
	OutcomeFailed      = "failed"       // the set in use (if any) is kept
)

// RefreshEvent describes one request to the JWKS endpoint. Neither URL
// nor Err shows the URL's userinfo, query or fragment.
type RefreshEvent struct {
	URL      string // the JWKS URL as Remote.URL shows it
	Trigger  string
	Outcome  string
	Err      error         // for OutcomeFailed
	Duration time.Duration // of the request
	Keys     int           // usable keys in the set now in use
	Skipped  []error       // keys of the response that were refused
	Age      time.Duration // age of the set now in use (0 right after a success)
}

// MissEvent describes a lookup of an unknown kid that did not cause a
// request. It carries no token content.
type MissEvent struct {
	URL    string // the JWKS URL as Remote.URL shows it
	Reason string // "negative_cache", "rate_limited", "backoff", "absent_after_refresh"
}

// RemoteConfig configures a Remote. Every zero value is a safe default.
type RemoteConfig struct {
	// Client makes the requests. Nil: a client with FetchTimeout as its
	// timeout. Every request also carries a FetchTimeout deadline, and
	// redirects to another host are refused unless AllowCrossHostRedirect.
	Client *http.Client
	// FetchTimeout bounds one request. Zero: DefaultFetchTimeout (10s).
	FetchTimeout time.Duration
	// MinRefresh and MaxRefresh clamp the refresh interval taken from the
	// response's Cache-Control max-age or Expires (MinRefresh when it has
	// neither). The set is refreshed at 80–90% of the interval, at random,
	// so a fleet does not refresh in lockstep. Zero: 5m and 24h.
	MinRefresh, MaxRefresh time.Duration
	// UnknownKIDInterval is the least time between two refreshes caused by
	// unknown kids (default on: zero means 30s). Negative disables them.
	UnknownKIDInterval time.Duration
	// MaxStale is the oldest the set may be, counted from the last
	// successful fetch or 304, while refreshes fail; past it, lookups fail
	// with jwtverify.ErrKeysUnavailable. Zero: 24h. At least MaxRefresh.
	MaxStale time.Duration
	// MaxResponseBytes bounds the body read. Zero: 1 MiB.
	MaxResponseBytes int64
	// MaxKeys bounds the keys in a set; a larger set is refused. Zero: 1024.
	MaxKeys int
	// NegativeCacheSize bounds the kids remembered as absent after a fresh
	// refresh: such a kid causes no further refresh until a newer set
	// arrives or max(MinRefresh, UnknownKIDInterval) passes, so repeated
	// junk does not spend the unknown-kid budget a real new kid needs.
	// Zero: 1024.
	NegativeCacheSize int
	// Cache, when set, is a parsed-key cache shared with other key sets.
	// Nil: a private cache of MaxKeys entries.
	Cache *cache.Keys
	// AllowInsecureHTTP allows http:// URLs to hosts other than loopback,
	// for the URL given to NewRemote and the issuer given to Discover only.
	// It never applies to a URL learned from a response (a discovery
	// document's jwks_uri, a redirect's Location): that must be https, or
	// http on the very origin (scheme, host and port) of the URL it was
	// learned from, so no response can downgrade the transport or point
	// the requests at a host the operator did not name.
	AllowInsecureHTTP bool
	// AllowCrossHostRedirect follows redirects to another host (to https
	// only, see AllowInsecureHTTP).
	AllowCrossHostRedirect bool
	// OnRefresh, when set, is called after every request, synchronously.
	OnRefresh func(RefreshEvent)
	// OnMiss, when set, is called when an unknown kid causes no request.
	OnMiss func(MissEvent)
	// Logger, when set, receives one record per request and per miss. Like
	// the events and every error, it shows the URL without userinfo, query
	// or fragment.
	Logger *slog.Logger
	// Now returns the current time. Nil: time.Now.
	Now func() time.Time
}

// Remote is a key source that fetches a JWKS from a URL and keeps it
// fresh. Lookups read an immutable snapshot through an atomic pointer: no
// lock and no allocation, never blocked by a refresh in flight. Every
// request, whatever triggered it, goes through one singleflight group, so
// concurrent triggers make one request; a caller's context bounds only its
// own wait, never the shared request.
//
// A Remote starts no goroutine of its own: refreshes are triggered by
// lookups (and Refresh) and run, bounded by FetchTimeout, in singleflight's
// goroutine. Close cancels a request in flight and waits for it.
type Remote struct {
	url    string       // as configured: the requests use it
	shown  string       // url without its secrets: events, logs and errors use it
	cfg    RemoteConfig // defaults applied; read-only
	epoch  time.Time    // hot-path deadlines are offsets from it
	wall   bool         // cfg.Now was given: read it instead of the monotonic clock
	client *http.Client
	cache  *cache.Keys

	snap atomic.Pointer[snapshot] // nil until the first successful fetch
	sf   singleflight.Group

	fetching    atomic.Bool   // a request is in flight
	fetchSeq    atomic.Uint64 // requests started so far
	nextAttempt atomic.Int64  // unix nanos before which failed refreshes are not retried
	failures    atomic.Int32  // consecutive failed requests
	gen         atomic.Uint64
	closedFlag  atomic.Bool // set by Close; read on the hot path

	admitMu     sync.Mutex // protects lastUnknown and grantGen
	lastUnknown time.Time  // when the unknown-kid budget was last spent
	grantGen    uint64     // 1 + the generation an unknown-kid request was granted for, until it ends

	neg    *lru.Cache[string, negEntry] // kids a fresh set lacked
	negTTL time.Duration

	base   context.Context // cancelled by Close
	cancel context.CancelFunc
	mu     sync.Mutex // protects closed and the start of wg
	closed bool
	wg     sync.WaitGroup
}

// negEntry records that the set of generation gen, fetched for the kid,
// lacked it.
type negEntry struct {
	at  time.Time
	gen uint64
}

// snapshot is one fetched key set; never modified after Store.
type snapshot struct {
	set       *set
	gen       uint64
	seq       uint64    // fetchSeq of the request that installed it
	fetchedAt time.Time // last 200 or 304
	refreshAt time.Time // when a lookup triggers a refresh
	// The same deadlines as offsets from Remote.epoch, for the hot path,
	// which reads the cheaper monotonic clock.
	refreshOff, staleOff time.Duration
	etag                 string
	modified             string
}

var (
	_ jwtverify.KeySource = (*Remote)(nil)
	_ jwtverify.Refresher = (*Remote)(nil)
)

// NewRemote returns a Remote for the JWKS at rawURL, which must be https,
// or http to a loopback host (or any host with AllowInsecureHTTP). The
// requests use rawURL as given, userinfo and query included; nothing else
// shows them (see URL). It does no I/O: the first lookup fetches. Errors
// wrap jwtverify.ErrInvalidConfig.
func NewRemote(rawURL string, cfg RemoteConfig) (*Remote, error) {
	if err := checkURL(rawURL, cfg.AllowInsecureHTTP); err != nil {
		return nil, err
	}
	return newRemote(rawURL, cfg)
}

// newRemote is NewRemote for a URL already checked.
func newRemote(rawURL string, cfg RemoteConfig) (*Remote, error) {
	bad := func(msg string) (*Remote, error) {
		return nil, fmt.Errorf("%w: %s", jwtverify.ErrInvalidConfig, msg)
	}
	cfg.FetchTimeout = cmp.Or(cfg.FetchTimeout, DefaultFetchTimeout)
	cfg.MinRefresh = cmp.Or(cfg.MinRefresh, DefaultMinRefresh)
	cfg.MaxRefresh = cmp.Or(cfg.MaxRefresh, DefaultMaxRefresh)
	cfg.UnknownKIDInterval = cmp.Or(cfg.UnknownKIDInterval, DefaultUnknownKIDInterval)
	cfg.MaxStale = cmp.Or(cfg.MaxStale, DefaultMaxStale)
	cfg.MaxResponseBytes = cmp.Or(cfg.MaxResponseBytes, DefaultMaxResponseBytes)
	cfg.MaxKeys = cmp.Or(cfg.MaxKeys, DefaultMaxKeys)
	cfg.NegativeCacheSize = cmp.Or(cfg.NegativeCacheSize, DefaultNegativeCacheSize)
	switch {
	case cfg.FetchTimeout < 0 || cfg.MinRefresh < 0 || cfg.MaxRefresh < 0 || cfg.MaxStale < 0:
		return bad("negative duration")
	case cfg.MinRefresh > cfg.MaxRefresh:
		return bad("MinRefresh is above MaxRefresh")
	case cfg.MaxStale < cfg.MaxRefresh:
		return bad("MaxStale is below MaxRefresh")
	case cfg.MaxResponseBytes < 0 || cfg.MaxKeys < 0 || cfg.MaxKeys > MaxKeys || cfg.NegativeCacheSize < 0:
		return bad(fmt.Sprintf("limits must be positive, MaxKeys at most %d", MaxKeys))
	}
	wall := cfg.Now != nil
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	r := &Remote{url: rawURL, shown: redact.URL(rawURL), cfg: cfg, cache: cfg.Cache, epoch: cfg.Now(), wall: wall}
	if r.cache == nil {
		var err error
		if r.cache, err = cache.NewKeys(cfg.MaxKeys); err != nil {
			return nil, err
		}
	}
	neg, err := lru.New[string, negEntry](cfg.NegativeCacheSize)
	if err != nil {
		return nil, err
	}
	r.neg = neg
	r.negTTL = max(cfg.MinRefresh, cfg.UnknownKIDInterval)
	r.client = clientFor(cfg.Client, cfg.FetchTimeout, cfg.AllowCrossHostRedirect)
	r.base, r.cancel = context.WithCancel(context.Background())
	return r, nil
}

// checkURL checks a URL the operator gave: https, and http only to
// loopback unless insecure.
func checkURL(rawURL string, insecure bool) error {
	u, err := url.Parse(rawURL)
	if err != nil || u.Host == "" {
		return fmt.Errorf("%w: %q is not an absolute URL", jwtverify.ErrInvalidConfig, redact.URL(rawURL))
	}
	switch {
	case u.Scheme == "https":
		return nil
	case u.Scheme == "http" && (insecure || isLoopback(u.Hostname())):
		return nil
	}
	return fmt.Errorf("%w: %q: only https URLs (http to loopback) unless AllowInsecureHTTP", jwtverify.ErrInvalidConfig, redact.URL(rawURL))
}

// learnedURLAllowed reports whether u, learned from a response to a
// request for from, may be requested: https, or http on from's own origin
// (scheme, host and port), which names no host and no transport that from
// did not.
func learnedURLAllowed(u, from *url.URL) bool {
	return u.Scheme == "https" || (u.Scheme == "http" && from.Scheme == "http" && strings.EqualFold(u.Host, from.Host))
}

func isLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// clientFor returns a copy of c (or a new client with timeout) whose
// redirects stay on the original host (unless crossHost) and go to https,
// or to http on the original origin (learnedURLAllowed), before any
// CheckRedirect of the caller's own runs.
func clientFor(c *http.Client, timeout time.Duration, crossHost bool) *http.Client {
	var out http.Client
	if c != nil {
		out = *c
	} else {
		out.Timeout = timeout
	}
	theirs := out.CheckRedirect
	out.CheckRedirect = func(req *http.Request, via []*http.Request) error {
		if len(via) >= 5 {
			return errors.New("too many redirects")
		}
		if !crossHost && req.URL.Host != via[0].URL.Host {
			return errors.New("redirect to another host refused")
		}
		if !learnedURLAllowed(req.URL, via[0].URL) {
			return errors.New("redirect to http refused: a redirect must go to https, or stay on the http origin requested")
		}
		if theirs != nil {
			return theirs(req, via)
		}
		return nil
	}
	out.Transport = locationGuard{out.Transport}
	return &out
}

// locationGuard refuses a redirect whose Location does not parse, with
// text of its own: net/http's error for it quotes the whole header, which
// the server chose and may fill with credentials or megabytes.
type locationGuard struct{ rt http.RoundTripper }

func (g locationGuard) RoundTrip(req *http.Request) (*http.Response, error) {
	rt := g.rt
	if rt == nil {
		rt = http.DefaultTransport
	}
	resp, err := rt.RoundTrip(req)
	if err != nil {
		return nil, err
	}
	switch resp.StatusCode {
	case http.StatusMovedPermanently, http.StatusFound, http.StatusSeeOther, http.StatusTemporaryRedirect, http.StatusPermanentRedirect:
		if loc := resp.Header.Get("Location"); loc != "" {
			if _, perr := req.URL.Parse(loc); perr != nil {
				resp.Body.Close()
				return nil, errors.New("redirect whose Location is not a URL")
			}
		}
	}
	return resp, nil
}

// Generation returns a number that changes whenever a fetch installs a set
// (a 304 included), and 0 before the first. A cache of verified tokens can
// use it to forget tokens verified under an older set.
func (r *Remote) Generation() uint64 {
	if s := r.snap.Load(); s != nil {
		return s.gen
	}
	return 0
}

// Age returns how long ago the set in use was fetched (its last 200 or
// 304), and false before the first fetch.
func (r *Remote) Age() (time.Duration, bool) {
	s := r.snap.Load()
	if s == nil {
		return 0, false
	}
	return r.cfg.Now().Sub(s.fetchedAt), true
}

// URL returns the JWKS URL without its userinfo, query and fragment (where
// credentials are put), as events, logs and errors show it: safe to log.
// The requests use the URL as configured.
func (r *Remote) URL() string { return r.shown }

// Algorithms returns every asymmetric algorithm: the keys of a remote set
// change, and HMAC secrets never come from one. A Verifier with no
// configured allowlist uses this; configuring one is better.
func (r *Remote) Algorithms() []string {
	var out []string
	for _, alg := range jwtverify.Algorithms() {
		if !strings.HasPrefix(alg, "HS") {
			out = append(out, alg)
		}
	}
	return out
}

// Key implements jwtverify.KeySource. It serves the current set while it
// is no older than MaxStale, starting a refresh in the background when the
// set is due. With no set, or one past MaxStale, it refreshes and waits
// (bounded by ctx), failing with jwtverify.ErrKeysUnavailable if that
// fails. An unknown kid is jwtverify.ErrUnknownKey: Key never fetches for
// it; see RefreshKey.
func (r *Remote) Key(ctx context.Context, kid, alg string) (jwtverify.Key, error) {
	seen := r.fetchSeq.Load()
	s, err := r.current(ctx)
	if err != nil {
		return jwtverify.Key{}, err
	}
	k, err := s.set.lookup(kid, alg)
	if err != nil && s.seq > seen && kid != "" && errors.Is(err, jwtverify.ErrUnknownKey) {
		r.absent(kid, s) // fetched during this call: RefreshKey need not fetch again
	}
	return k, err
}

// current returns a snapshot fit to serve.
func (r *Remote) current(ctx context.Context) (*snapshot, error) {
	s := r.snap.Load()
	if s != nil {
		el := r.elapsed()
		if el <= s.staleOff {
			if el >= s.refreshOff && !r.fetching.Load() && !r.closedFlag.Load() && r.retryAllowed(r.cfg.Now()) {
				r.sf.DoChan("jwks", r.fetchFn(TriggerScheduled, s.gen)) // not awaited
			}
			return s, nil
		}
	}
	now := r.cfg.Now()
	trigger, gen := TriggerInitial, uint64(0)
	if s != nil {
		trigger, gen = TriggerStale, s.gen
	}
	if !r.retryAllowed(now) {
		return nil, r.unavailable(s, errors.New("the last fetch failed; waiting to retry"))
	}
	res, err := r.await(ctx, trigger, gen)
	if err != nil {
		return nil, r.unavailable(s, err)
	}
	s = res
	if s == nil || r.cfg.Now().Sub(s.fetchedAt) > r.cfg.MaxStale {
		return nil, r.unavailable(s, errors.New("no key set within MaxStale"))
	}
	return s, nil
}

// elapsed is the time since r.epoch: from the monotonic clock (cheaper than
// time.Now) unless the configuration supplied its own clock.
func (r *Remote) elapsed() time.Duration {
	if r.wall {
		return r.cfg.Now().Sub(r.epoch)
	}
	return time.Since(r.epoch)
}

func (r *Remote) unavailable(s *snapshot, cause error) error {
	if s == nil {
		return jwtverify.Reject(jwtverify.ErrKeysUnavailable, "no JWKS fetched yet: "+cause.Error())
	}
	return jwtverify.Reject(jwtverify.ErrKeysUnavailable, fmt.Sprintf("JWKS is %v old, past MaxStale %v: %v",
		r.cfg.Now().Sub(s.fetchedAt).Truncate(time.Second), r.cfg.MaxStale, cause))
}

// await joins or starts a request and waits for it within ctx.
func (r *Remote) await(ctx context.Context, trigger string, gen uint64) (*snapshot, error) {
	ch := r.sf.DoChan("jwks", r.fetchFn(trigger, gen))
	select {
	case res := <-ch:
		s, _ := res.Val.(*snapshot)
		return s, res.Err
	case <-ctx.Done():
		return nil, fmt.Errorf("gave up waiting for the JWKS: %w", ctx.Err())
	}
}

// RefreshKey implements jwtverify.Refresher: for a kid the set lacks, it
// refreshes the set at most once per UnknownKIDInterval (not at all while
// failed refreshes back off, nor for a kid a set fetched after its first
// miss already lacked, until a newer set or max(MinRefresh,
// UnknownKIDInterval)), and looks the kid up again. A caller past the limit
// fails fast with jwtverify.ErrUnknownKey, without starting anything; a
// caller that finds a request in flight waits for it, within ctx. If the
// request it joined began before the caller's miss, it tries once more.
// jwtverify.Core calls this only for tokens that pass its cheap checks.
func (r *Remote) RefreshKey(ctx context.Context, kid, alg string) (jwtverify.Key, error) {
	seen := r.fetchSeq.Load()
	s, err := r.current(ctx)
	if err != nil {
		return jwtverify.Key{}, err
	}
	k, err := s.set.lookup(kid, alg)
	if err == nil || !errors.Is(err, jwtverify.ErrUnknownKey) || kid == "" || r.cfg.UnknownKIDInterval < 0 {
		return k, err
	}
	if s.seq > seen { // fetched after this token arrived, and it lacks the kid
		r.absent(kid, s)
		return k, err
	}
	now := r.cfg.Now()
	if e, ok := r.neg.Get(kid); ok && e.gen == s.gen && now.Sub(e.at) < r.negTTL {
		r.miss("negative_cache")
		return k, err
	}
	for round := 0; round < 2; round++ {
		if !r.retryAllowed(now) {
			r.miss("backoff")
			return k, err
		}
		if !r.admit(now, s.gen) {
			if latest := r.snap.Load(); latest.gen != s.gen { // a request ended meanwhile
				if k, err2 := latest.set.lookup(kid, alg); err2 == nil || !errors.Is(err2, jwtverify.ErrUnknownKey) {
					return k, err2
				}
			}
			r.miss("rate_limited")
			return k, err
		}
		fresh, ferr := r.await(ctx, TriggerUnknownKID, s.gen)
		if fresh == nil {
			return k, err
		}
		k, err = fresh.set.lookup(kid, alg)
		if err == nil || !errors.Is(err, jwtverify.ErrUnknownKey) || ferr != nil {
			return k, err
		}
		if fresh.seq > seen {
			r.absent(kid, fresh)
			return k, err
		}
		s = fresh // the request joined began before this token arrived
	}
	return k, err
}

// admit reports whether an unknown-kid caller may wait for a request: one
// is in flight, one was granted for the set the caller saw, or the budget
// allows a new one (which it then spends).
func (r *Remote) admit(now time.Time, gen uint64) bool {
	r.admitMu.Lock()
	defer r.admitMu.Unlock()
	if r.fetching.Load() || r.grantGen == gen+1 {
		return true
	}
	if !r.lastUnknown.IsZero() && now.Sub(r.lastUnknown) < r.cfg.UnknownKIDInterval {
		return false
	}
	r.lastUnknown, r.grantGen = now, gen+1
	return true
}

// absent remembers that s, fetched after the kid's first miss, lacks it.
func (r *Remote) absent(kid string, s *snapshot) {
	r.neg.Add(kid, negEntry{at: r.cfg.Now(), gen: s.gen})
	r.miss("absent_after_refresh")
}

var (
	errBackoff = errors.New("the last fetch failed; waiting to retry")
	errClosed  = errors.New("key set closed")
)

// Refresh fetches the set now (joining a request in flight), ignoring the
// schedule, the rate limit and the backoff. ctx bounds the wait only.
func (r *Remote) Refresh(ctx context.Context) error {
	var gen uint64
	if s := r.snap.Load(); s != nil {
		gen = s.gen
	}
	_, err := r.await(ctx, TriggerManual, gen)
	if errors.Is(err, errBackoff) { // joined a call that backed off; a manual refresh does not
		_, err = r.await(ctx, TriggerManual, gen)
	}
	return err
}

// Close cancels a request in flight and waits for it. Afterwards no request
// is made: the set in use serves until it is older than MaxStale, then
// lookups fail with jwtverify.ErrKeysUnavailable.
func (r *Remote) Close() error {
	r.mu.Lock()
	r.closed = true
	r.mu.Unlock()
	r.closedFlag.Store(true)
	r.cancel()
	r.wg.Wait()
	return nil
}

func (r *Remote) retryAllowed(now time.Time) bool {
	return now.UnixNano() >= r.nextAttempt.Load()
}

// fetchFn returns the function singleflight runs. gen is the generation
// the caller saw: if a newer set has arrived since, the caller gets it and
// no request is made.
func (r *Remote) fetchFn(trigger string, gen uint64) func() (any, error) {
	return func() (any, error) {
		r.mu.Lock()
		if r.closed {
			r.mu.Unlock()
			return r.snap.Load(), errClosed
		}
		r.wg.Add(1)
		r.mu.Unlock()
		defer r.wg.Done()

		cur := r.snap.Load()
		if cur != nil && cur.gen != gen && trigger != TriggerManual {
			return cur, nil
		}
		if trigger != TriggerManual && !r.retryAllowed(r.cfg.Now()) {
			return cur, errBackoff
		}
		r.fetching.Store(true)
		defer func() {
			r.fetching.Store(false)
			r.admitMu.Lock()
			r.grantGen = 0 // a granted request has ended, whatever triggered it
			r.admitMu.Unlock()
		}()
		return r.fetch(trigger, cur)
	}
}

// fetch makes one request and installs its result.
func (r *Remote) fetch(trigger string, cur *snapshot) (*snapshot, error) {
	start := r.cfg.Now()
	ev := RefreshEvent{URL: r.shown, Trigger: trigger}
	seq := r.fetchSeq.Add(1)
	next, skipped, err := r.request(cur)
	err = redact.Error(err) // net/http's errors quote the URL, query included
	ev.Duration = r.cfg.Now().Sub(start)
	ev.Skipped = skipped
	if err != nil {
		n := r.failures.Add(1)
		delay := retryBase << min(n-1, 20)
		delay = min(delay, r.cfg.MinRefresh)
		delay = delay/2 + rand.N(delay/2+1)
		r.nextAttempt.Store(r.cfg.Now().Add(delay).UnixNano())
		ev.Outcome, ev.Err = OutcomeFailed, err
		if cur != nil {
			ev.Keys, ev.Age = cur.set.n, r.cfg.Now().Sub(cur.fetchedAt)
		}
		r.report(ev)
		return cur, err
	}
	r.failures.Store(0)
	r.nextAttempt.Store(0)
	next.seq = seq
	r.snap.Store(next)
	ev.Outcome = OutcomeUpdated
	if cur != nil && next.set == cur.set {
		ev.Outcome = OutcomeNotModified
	}
	ev.Keys = next.set.n
	r.report(ev)
	return next, nil
}

// request performs the HTTP exchange and builds the next snapshot.
func (r *Remote) request(cur *snapshot) (*snapshot, []error, error) {
	ctx, cancel := context.WithTimeout(r.base, r.cfg.FetchTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, r.url, nil)
	if err != nil {
		return nil, nil, err
	}
	req.Header.Set("Accept", "application/jwk-set+json, application/json")
	if cur != nil {
		if cur.etag != "" {
			req.Header.Set("If-None-Match", cur.etag)
		}
		if cur.modified != "" {
			req.Header.Set("If-Modified-Since", cur.modified)
		}
	}
	resp, err := r.client.Do(req)
	if err != nil {
		return nil, nil, err
	}
	defer resp.Body.Close()
	now := r.cfg.Now()
	next := &snapshot{gen: r.gen.Add(1), fetchedAt: now, etag: resp.Header.Get("ETag"), modified: resp.Header.Get("Last-Modified")}
	interval := r.interval(resp.Header, now)
	next.refreshAt = now.Add(time.Duration(float64(interval) * (0.8 + 0.1*rand.Float64())))
	next.refreshOff, next.staleOff = next.refreshAt.Sub(r.epoch), now.Add(r.cfg.MaxStale).Sub(r.epoch)
	switch {
	case resp.StatusCode == http.StatusNotModified && cur != nil:
		next.set = cur.set
		if next.etag == "" {
			next.etag = cur.etag
		}
		if next.modified == "" {
			next.modified = cur.modified
		}
		return next, nil, nil
	case resp.StatusCode != http.StatusOK:
		return nil, nil, fmt.Errorf("HTTP status %d", resp.StatusCode)
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, r.cfg.MaxResponseBytes+1))
	if err != nil {
		return nil, nil, err
	}
	if int64(len(body)) > r.cfg.MaxResponseBytes {
		return nil, nil, fmt.Errorf("response larger than %d bytes", r.cfg.MaxResponseBytes)
	}
	keys, skipped, err := parseJWKS(body, r.cfg.MaxKeys, r.cache)
	if err != nil {
		return nil, skipped, err
	}
	if next.set, err = newSet(keys); err != nil {
		return nil, skipped, err
	}
	return next, skipped, nil
}

// interval is the response's freshness lifetime clamped to
// [MinRefresh, MaxRefresh]: Cache-Control max-age, else Expires - Date.
func (r *Remote) interval(h http.Header, now time.Time) time.Duration {
	d, noCache := time.Duration(-1), false
	for _, dir := range strings.Split(strings.Join(h.Values("Cache-Control"), ","), ",") {
		name, val, _ := strings.Cut(strings.TrimSpace(dir), "=")
		switch strings.ToLower(name) {
		case "max-age":
			if n, err := strconv.ParseInt(strings.Trim(val, `"`), 10, 64); err == nil && n >= 0 && n < 1<<31 {
				d = time.Duration(n) * time.Second
			}
		case "no-cache", "no-store":
			noCache = true
		}
	}
	if noCache {
		d = 0
	}
	if d < 0 {
		if exp, err := http.ParseTime(h.Get("Expires")); err == nil {
			date := now
			if t, err := http.ParseTime(h.Get("Date")); err == nil {
				date = t
			}
			d = exp.Sub(date)
		}
	}
	return min(max(d, r.cfg.MinRefresh), r.cfg.MaxRefresh)
}

func (r *Remote) report(ev RefreshEvent) {
	if r.cfg.OnRefresh != nil {
		r.cfg.OnRefresh(ev)
	}
	if r.cfg.Logger != nil {
		attrs := []any{"url", ev.URL, "trigger", ev.Trigger, "outcome", ev.Outcome,
			"duration", ev.Duration, "keys", ev.Keys, "skipped", len(ev.Skipped), "age", ev.Age}
		if ev.Err != nil {
			r.cfg.Logger.Warn("jwks refresh failed", append(attrs, "err", ev.Err)...)
		} else {
			r.cfg.Logger.Info("jwks refresh", attrs...)
		}
	}
}

func (r *Remote) miss(reason string) {
	if r.cfg.OnMiss != nil {
		r.cfg.OnMiss(MissEvent{URL: r.shown, Reason: reason})
	}
	if r.cfg.Logger != nil {
		r.cfg.Logger.Debug("jwks unknown kid without refresh", "url", r.shown, "reason", reason)
	}
}
