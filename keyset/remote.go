package keyset

import (
	"cmp"
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/sync/singleflight"

	"github.com/jwtverify/jwtverify"
	"github.com/jwtverify/jwtverify/internal/redact"
)

// Defaults of RemoteConfig, documented on its fields.
const (
	defaultFetchTimeout       = 10 * time.Second
	defaultMinRefresh         = 5 * time.Minute
	defaultMaxRefresh         = 24 * time.Hour
	defaultUnknownKIDInterval = 30 * time.Second
	defaultMaxStale           = 24 * time.Hour
	defaultMaxResponseBytes   = 1 << 20
	defaultMaxKeys            = 1024
	defaultNegativeCacheSize  = 1024
)

// Triggers of a request, as RefreshEvent.Trigger reports them.
const (
	triggerInitial    = "initial"     // first use: no key set yet
	triggerScheduled  = "scheduled"   // the set is due (Cache-Control/Expires, clamped, jittered)
	triggerStale      = "stale"       // the set is past MaxStale: refresh before serving
	triggerUnknownKID = "unknown_kid" // a plausible token named a kid the set lacks
	triggerManual     = "manual"      // Remote.Refresh
)

// Outcomes of a request, as RefreshEvent.Outcome reports them.
const (
	outcomeUpdated     = "updated"      // 200 with a usable set, now in use
	outcomeNotModified = "not_modified" // 304: the set is kept and its age reset
	outcomeFailed      = "failed"       // the set in use (if any) is kept
)

// RefreshEvent describes one request to the JWKS endpoint, as
// RemoteConfig.OnRefresh receives it. Neither URL nor Err shows the URL's
// userinfo, query or fragment. The Remote keeps nothing of an event it
// has passed on: the callback may keep it, Skipped included.
type RefreshEvent struct {
	URL string // the JWKS URL as Remote.URL shows it
	// Trigger is what made the request, one of a fixed set: "initial"
	// (first use, no set yet), "scheduled" (the set is due: see
	// RemoteConfig.MinRefresh), "stale" (the set is past MaxStale and
	// lookups wait for this request), "unknown_kid" (a plausible token
	// named a kid the set lacks) or "manual" (Remote.Refresh).
	Trigger string
	// Outcome is one of "updated" (a 200 with a usable set, now in use),
	// "not_modified" (a 304: the set is kept and its age reset) or "failed"
	// (the set in use, if any, is kept; Err says why).
	Outcome  string
	Err      error         // for "failed"; nil otherwise
	Duration time.Duration // of the request
	Keys     int           // usable keys in the set now in use
	Skipped  []error       // keys of the response that were refused
	Age      time.Duration // age of the set now in use (0 right after a success)
}

// MissEvent describes a lookup of an unknown kid that did not cause a
// request, as RemoteConfig.OnMiss receives it. It carries no token
// content, not even the kid.
type MissEvent struct {
	URL string // the JWKS URL as Remote.URL shows it
	// Reason is one of a fixed set: "negative_cache" (the kid is
	// remembered absent from the set in use), "rate_limited" (the
	// unknown-kid budget is spent: see RemoteConfig.UnknownKIDInterval),
	// "backoff" (failed requests are backing off) or
	// "absent_after_refresh" (a set fetched after the lookup began lacks
	// the kid, which is now remembered absent).
	Reason string
}

// RemoteConfig configures a Remote. The zero value is valid: a zero field
// means its documented default, and every default is safe. A negative
// value is refused with jwtverify.ErrInvalidConfig, except where a field
// gives it a meaning. NewRemote and Discover keep a copy: changing a
// RemoteConfig afterwards changes no Remote, and one RemoteConfig may
// configure many.
type RemoteConfig struct {
	// Client makes the requests. Nil: a client with FetchTimeout as its
	// timeout. Every request also carries a FetchTimeout deadline, and
	// redirects to another host are refused unless AllowCrossHostRedirect.
	// The Remote uses a copy with these redirect rules added before the
	// client's own CheckRedirect: the Client is not modified and may be
	// shared.
	Client *http.Client
	// RootCAs, when set, are the certificate authorities TLS trusts for
	// every request, Discover's included, instead of the system's (a
	// cluster CA, for a Kubernetes API server). They apply to a clone of
	// Client's Transport (http.DefaultTransport when Client or its
	// Transport is nil), so the Client is not modified. A Transport that is
	// not an *http.Transport, that dials TLS itself (DialTLS,
	// DialTLSContext) or that has RootCAs of its own is a configuration
	// error: configure its roots there instead. Zero: the system roots (in
	// Go, SSL_CERT_FILE included), or those of Client's Transport.
	RootCAs *x509.CertPool
	// BearerTokenFile, when set, names a file whose content, trimmed of
	// surrounding white space, every request (Discover's included) sends
	// as "Authorization: Bearer <content>". It is read on each request, so
	// a token that rotates (a Kubernetes projected service-account token)
	// is always current. A file that cannot be read, is empty, is over 64
	// KiB or holds a space or a character that is not visible ASCII fails
	// that request, as any failed fetch does (jwtverify.ErrKeysUnavailable
	// for lookups), with an error that names the file and never shows its
	// content. The header goes only to the URL requested and to redirects
	// on its very origin (scheme, host and port): a redirect elsewhere,
	// which AllowCrossHostRedirect allows, is sent without it. The token
	// is never logged, reported in an event or shown in an error. Zero:
	// no Authorization header.
	BearerTokenFile string
	// FetchTimeout bounds one request, Discover's included. Zero: 10s.
	FetchTimeout time.Duration
	// MinRefresh and MaxRefresh clamp the freshness lifetime L taken from
	// the response's Cache-Control max-age or Expires (MinRefresh when it
	// has neither). The set is refreshed at a random point in [0.95·L, L],
	// so a fleet does not refresh in lockstep and a set is never used past
	// the lifetime its origin gave it; when MaxStale leaves less room, the
	// window moves earlier so that 0.1·L remains before MaxStale. Zero: 5m
	// and 24h.
	// MinRefresh may not exceed MaxRefresh.
	MinRefresh, MaxRefresh time.Duration
	// UnknownKIDInterval is the least time between two refreshes caused by
	// unknown kids. Zero: 30s (on by default). Negative: unknown kids never
	// cause a refresh.
	UnknownKIDInterval time.Duration
	// MaxStale is the oldest the set may be, counted from the last
	// successful fetch or 304, while refreshes fail; past it, lookups fail
	// with jwtverify.ErrKeysUnavailable. Zero: 24h. At least MaxRefresh.
	MaxStale time.Duration
	// MaxResponseBytes bounds the body read. Zero: 1 MiB.
	MaxResponseBytes int64
	// MaxKeys bounds the keys in a set; a larger set is refused. Zero:
	// 1024. At most 4096, the bound of ParseJWKS.
	MaxKeys int
	// NegativeCacheSize bounds the kids remembered as absent after a fresh
	// refresh: such a kid causes no further refresh until a newer set
	// arrives or max(MinRefresh, UnknownKIDInterval) passes, so repeated
	// junk does not spend the unknown-kid budget a real new kid needs.
	// Zero: 1024.
	NegativeCacheSize int
	// AllowInsecureHTTP allows http:// URLs to hosts other than loopback,
	// for the URL given to NewRemote and the issuer given to Discover only.
	// It never applies to a URL learned from a response (a discovery
	// document's jwks_uri, a redirect's Location): that must be https, or
	// http on the very origin (scheme, host and port) of the URL it was
	// learned from, so no response can downgrade the transport or point
	// the requests at a host the operator did not name. Zero: false.
	AllowInsecureHTTP bool
	// AllowCrossHostRedirect follows redirects to another host (to https
	// only, see AllowInsecureHTTP). Zero: false.
	AllowCrossHostRedirect bool
	// EnforceKeyIssuer binds each key with an issuer member (Microsoft
	// Entra publishes one on every key of its multi-tenant key set) to
	// that issuer: the key serves a lookup only when Lookup.Issuer, the
	// token's iss, equals it or, for a template such as
	// "https://login.microsoftonline.com/{tenantid}/v2.0", fills it (see
	// issuers.NewTemplate); a token naming a key bound to another issuer,
	// or with no kid (its Lookup has no Issuer), is then
	// jwtverify.ErrUnknownKey and causes no refresh, and a key whose
	// issuer member is not a string is skipped. Zero: the member is
	// ignored, because Entra also signs its v1 tokens (iss
	// https://sts.windows.net/{tid}/) with keys bound to the v2 issuer.
	// NewSPIFFERemote ignores it: bundle keys are bound to their trust
	// domain by the caller.
	EnforceKeyIssuer bool
	// OnRefresh, when set, is called after every request, synchronously,
	// from the goroutine that ran it, before the callers waiting for the
	// request resume: keep it short. Two calls may overlap (a request can
	// end while the previous one is still being reported). It must not
	// call the Remote's Close, which waits for the request to end. ctx is
	// the request's context (see OnFetch): the values of the context of
	// the caller that triggered the request, with no deadline or
	// cancellation.
	OnRefresh func(ctx context.Context, ev RefreshEvent)
	// OnFetch, when set, is called as a request starts, with the context
	// of the caller whose lookup (or Refresh) triggered it, detached from
	// that caller's cancellation, and the trigger (see
	// RefreshEvent.Trigger). The context it returns (nil: the one it got)
	// is the request's: its values go with the HTTP request and to
	// OnRefresh and OnWait, while its deadline and cancellation are
	// ignored, because the request is bounded by FetchTimeout and Close
	// alone and no caller's cancellation may end a request others share.
	// A tracer starts the fetch's span here. It is called with the
	// Remote's lock held: it must be quick and must not call the Remote.
	OnFetch func(ctx context.Context, trigger string) context.Context
	// OnWait, when set, is called for every caller about to wait for a
	// request, the one that triggered it included (a scheduled refresh
	// has none), with the caller's context and the request's: a tracer
	// links the caller's span to the fetch's here. It is called from the
	// caller's goroutine, without the Remote's lock.
	OnWait func(caller, request context.Context)
	// OnMiss, when set, is called when an unknown kid causes no request,
	// from the goroutine of the lookup, concurrently with other lookups.
	OnMiss func(MissEvent)
	// Logger, when set, receives one record per request and per miss. Like
	// the events and every error, it shows the URL without userinfo, query
	// or fragment.
	Logger *slog.Logger
}

// Remote is a key source that fetches a JWKS from a URL and keeps it
// fresh. Lookups read an immutable snapshot through an atomic pointer: no
// lock and no allocation, never blocked by a request in flight. At most
// one request is in flight, whatever triggered it: concurrent triggers
// share it (golang.org/x/sync/singleflight), and a caller's context bounds
// only its own wait, never the shared request.
//
// A Remote starts no goroutine of its own but the one running a request,
// bounded by FetchTimeout; requests are triggered by lookups and Refresh.
// Close cancels a request in flight and waits for it. A Remote is safe for
// concurrent use by multiple goroutines. The zero Remote is not usable:
// make one with NewRemote or Discover. The caller owns it (a verifier
// using it does not) and calls Close when done with it. The Keys it
// returns are immutable and may be kept.
type Remote struct {
	url   string // as configured: the requests use it
	shown string // url without its secrets: events, logs and errors use it
	// issuer is the discovery document's issuer (Discover); "" otherwise.
	issuer string
	cfg    RemoteConfig // defaults applied; read-only
	// spiffe: the responses are SPIFFE bundles (NewSPIFFERemote).
	spiffe bool
	get    getter
	keys   *keyCache // parsed keys, consulted only while parsing a response
	adm    admission
	epoch  time.Time // snapshot deadlines are offsets from it

	snap atomic.Pointer[snapshot] // what lookups read; nil until the first successful fetch

	mu sync.Mutex // guards st, every store of snap, every call of sf, and wg.Add
	st refreshState
	sf singleflight.Group // runs the request in flight; one key, flightKey

	base   context.Context // the requests' context; cancelled by Close
	cancel context.CancelFunc
	wg     sync.WaitGroup // the request in flight (Remote.run)
}

// flightKey is the one key of Remote.sf: every request, whatever its
// trigger, is the same call.
const flightKey = "jwks"

// refreshState is all that changes about requests. Remote.mu guards it,
// and this is the Remote's concurrency invariant, which the whole package
// relies on:
//
//   - A lookup reads Remote.snap without a lock and, until that snapshot's
//     check deadline, nothing else that changes: no lock, no allocation.
//     Only the slow path past the deadline, the admission of an unknown
//     kid, Refresh and Close take mu.
//   - Remote.snap is stored only with mu held (storeLocked, which derives
//     the check deadline from this state), so the snapshot in use and this
//     state change together, and no deadline is later than the first
//     moment a lookup has something to do here.
//   - Requests run through Remote.sf, under one key, and sf is called only
//     with mu held, so that "is a request in flight" is one fact, st.inFlight,
//     whichever lock is asked. inFlight is true exactly while sf holds a
//     call: the critical section that starts a request (startLocked) sets
//     it, counts the request in started, calls wg.Add(1), then DoChan,
//     which finds no call and starts run; the critical section of run that
//     stores the request's result clears it and calls sf.Forget. Every
//     other DoChan (joinLocked, with inFlight true) finds the call and
//     joins it. Hence at most one request is in flight; a caller that joins
//     gets the result of a request that has not yet stored one; and a
//     request triggered once a result is stored is a new request, even
//     while the previous one is still reporting (OnRefresh) and
//     singleflight would otherwise still hand out its call.
//   - A request starts only with mu held and closed false. Close sets
//     closed with mu held, then cancels Remote.base and waits for wg, which
//     run releases as it returns: no request outlives Close, none starts
//     after it. (singleflight's goroutine then hands the result to the
//     waiters' buffered channels and ends; it never blocks.)
//   - A caller waits for its own DoChan channel or its own ctx, whichever
//     comes first; the request's context carries the triggering caller's
//     values (st.reqCtx, for tracing) but is cancelled by Remote.base
//     alone, so no caller's cancellation reaches it.
//   - started numbers requests in the order they start; the one in flight
//     is the latest. A snapshot records started when stored: a request
//     with seq > s.started was sent after s was stored, so after any
//     lookup that read s began. That is how a lookup tells a set fetched
//     after its token arrived from an older one.
//   - The unknown-kid budget is spent with mu held, and only by starting a
//     request; joining one is free.
type refreshState struct {
	inFlight bool            // sf holds a call: request number started is in flight
	trigger  string          // what started the request in flight
	started  uint64          // requests started so far
	gen      uint64          // sets installed so far (200 or 304)
	failures int             // consecutive failed requests
	reqCtx   context.Context // the request in flight's context (values only; see OnFetch)
	retryAt  time.Duration   // offset from epoch before which only Refresh makes a request
	closed   bool
}

var _ jwtverify.KeySource = (*Remote)(nil)

// NewRemote returns a Remote for the JWKS at rawURL, which must be https,
// or http to a loopback host (or any host with AllowInsecureHTTP). The
// requests use rawURL as given, userinfo and query included; nothing else
// shows them (see URL). It does no I/O: the first lookup fetches. Errors
// wrap jwtverify.ErrInvalidConfig. The caller owns the Remote and closes
// it.
// Keys with an issuer member are bound to that issuer only with
// RemoteConfig.EnforceKeyIssuer; keys that ParseJWKS returns carry no
// binding.
func NewRemote(rawURL string, cfg RemoteConfig) (*Remote, error) {
	if err := checkURL(rawURL, cfg.AllowInsecureHTTP); err != nil {
		return nil, err
	}
	return newRemote(rawURL, cfg, false)
}

// NewSPIFFERemote returns a Remote for the SPIFFE bundle endpoint at
// rawURL (SPIFFE Trust Domain and Bundle §5, the https_web profile: TLS
// authenticated by the Web PKI, or by cfg.RootCAs), for verifying the
// JWT-SVIDs of the one trust domain the caller associates with rawURL. It
// is a Remote as NewRemote makes one, with the same URL rules, requests,
// admission of unknown kids and bounded staleness, and three differences:
//
//   - Each response is read as ParseSPIFFEBundle reads a bundle: keys with
//     use "jwt-svid" or no use serve; "x509-svid" keys never do.
//   - The freshness lifetime is the bundle's spiffe_refresh_hint, in
//     seconds, when it is present and positive, instead of the response's
//     Cache-Control or Expires; it is clamped by MinRefresh and MaxRefresh
//     and scheduled as RemoteConfig.MinRefresh says. A 304 keeps the hint
//     of the bundle it confirms.
//   - spiffe_sequence never goes backwards: once a bundle with a sequence
//     is in use, a bundle with a smaller one, or with none, is refused
//     (the request fails, and the bundle in use serves on within
//     MaxStale, then lookups fail closed). An equal sequence is accepted,
//     whatever the keys: the bundle's contents, revocations included,
//     take effect. A bundle with no usable JWT-SVID key (the last one
//     revoked, or only x509-svid keys left) is installed as it is, and
//     every SVID is then jwtverify.ErrUnknownKey.
//
// Errors wrap jwtverify.ErrInvalidConfig. The caller owns the Remote and
// closes it.
func NewSPIFFERemote(rawURL string, cfg RemoteConfig) (*Remote, error) {
	if err := checkURL(rawURL, cfg.AllowInsecureHTTP); err != nil {
		return nil, err
	}
	return newRemote(rawURL, cfg, true)
}

// withDefaults returns cfg with every zero field replaced by the default
// its doc states, or an ErrInvalidConfig error when a value is out of
// range. NewRemote, NewSPIFFERemote and Discover call it before any
// request, so a bad config costs no I/O.
func (cfg RemoteConfig) withDefaults() (RemoteConfig, error) {
	bad := func(msg string) (RemoteConfig, error) {
		return RemoteConfig{}, fmt.Errorf("%w: %s", jwtverify.ErrInvalidConfig, msg)
	}
	cfg.FetchTimeout = cmp.Or(cfg.FetchTimeout, defaultFetchTimeout)
	cfg.MinRefresh = cmp.Or(cfg.MinRefresh, defaultMinRefresh)
	cfg.MaxRefresh = cmp.Or(cfg.MaxRefresh, defaultMaxRefresh)
	cfg.UnknownKIDInterval = cmp.Or(cfg.UnknownKIDInterval, defaultUnknownKIDInterval)
	cfg.MaxStale = cmp.Or(cfg.MaxStale, defaultMaxStale)
	cfg.MaxResponseBytes = cmp.Or(cfg.MaxResponseBytes, defaultMaxResponseBytes)
	cfg.MaxKeys = cmp.Or(cfg.MaxKeys, defaultMaxKeys)
	cfg.NegativeCacheSize = cmp.Or(cfg.NegativeCacheSize, defaultNegativeCacheSize)
	switch {
	case cfg.FetchTimeout < 0 || cfg.MinRefresh < 0 || cfg.MaxRefresh < 0 || cfg.MaxStale < 0:
		return bad("negative duration")
	case cfg.MinRefresh > cfg.MaxRefresh:
		return bad("MinRefresh is above MaxRefresh")
	case cfg.MaxStale < cfg.MaxRefresh:
		return bad("MaxStale is below MaxRefresh")
	case cfg.MaxResponseBytes < 0 || cfg.MaxKeys < 0 || cfg.MaxKeys > maxKeys || cfg.NegativeCacheSize < 0:
		return bad(fmt.Sprintf("limits must be positive, MaxKeys at most %d", maxKeys))
	}
	return cfg, nil
}

// newRemote is NewRemote (or, with spiffe, NewSPIFFERemote) for a URL
// already checked.
func newRemote(rawURL string, cfg RemoteConfig, spiffe bool) (*Remote, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	r := &Remote{url: rawURL, shown: redact.URL(rawURL), cfg: cfg, spiffe: spiffe, epoch: time.Now()}
	client, err := clientFor(cfg.Client, cfg.FetchTimeout, cfg.AllowCrossHostRedirect, cfg.RootCAs)
	if err != nil {
		return nil, err
	}
	r.get = getter{
		client:     client,
		timeout:    cfg.FetchTimeout,
		maxBytes:   cfg.MaxResponseBytes,
		accept:     "application/jwk-set+json, application/json",
		bearerFile: cfg.BearerTokenFile,
	}
	if r.keys, err = newKeyCache(cfg.MaxKeys); err != nil {
		return nil, err
	}
	if r.adm, err = newAdmission(&r.cfg); err != nil {
		return nil, err
	}
	r.base, r.cancel = context.WithCancel(context.Background())
	return r, nil
}

// Generation returns a number that changes whenever a fetch installs a set
// (a 304 included), and 0 before the first. A cache of verified tokens can
// use it to forget tokens verified under an older set. It takes no lock.
func (r *Remote) Generation() uint64 {
	if s := r.snap.Load(); s != nil {
		return s.gen
	}
	return 0
}

// Age returns how long ago the set in use was fetched (its last 200 or
// 304), and false before the first fetch. It takes no lock.
func (r *Remote) Age() (time.Duration, bool) {
	s := r.snap.Load()
	if s == nil {
		return 0, false
	}
	return time.Since(r.epoch) - s.fetched, true
}

// Issuer returns the issuer the discovery document named, for a Remote
// of Discover (the multi-tenant template, such as
// "https://login.microsoftonline.com/{tenantid}/v2.0", when the document
// names one: see issuers.NewTemplate); "" for a Remote of NewRemote or
// NewSPIFFERemote.
func (r *Remote) Issuer() string { return r.issuer }

// URL returns the JWKS URL without its userinfo, query and fragment (where
// credentials are put), as events, logs and errors show it: safe to log.
// The requests use the URL as configured.
func (r *Remote) URL() string { return r.shown }

// Algorithms returns every asymmetric algorithm, in a new slice the caller
// owns: the keys of a remote set change, and HMAC secrets never come from
// one. A verifier with no configured allowlist uses this; configuring one
// is better.
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
// fails. A kid the set lacks is jwtverify.ErrUnknownKey; when l.MayFetch,
// it may first cost one refresh, within the admission rules (see
// UnknownKIDInterval and NegativeCacheSize): a caller past them fails fast
// without starting anything, and one that finds a request in flight waits
// for it, within ctx. A caller whose ctx ends stops waiting; the request
// goes on for the others.
func (r *Remote) Key(ctx context.Context, l jwtverify.Lookup) (jwtverify.Key, error) {
	s := r.snap.Load()
	var seen uint64
	if s != nil {
		seen = s.started
	}
	if s == nil || time.Since(r.epoch) >= s.check {
		var err error
		if s, seen, err = r.slow(ctx, s); err != nil {
			return jwtverify.Key{}, err
		}
	}
	k, err := s.set.lookup(l)
	if err == nil || l.KID == "" || err == errBoundElsewhere || !errors.Is(err, jwtverify.ErrUnknownKey) {
		return k, err
	}
	return r.unknownKID(ctx, l, s, seen, k, err)
}

// slow is Key's path past the snapshot's check deadline, or with no
// snapshot: it returns a snapshot fit to serve, starting a scheduled
// request in the background when the set is due, or waiting for a request
// when there is no set or it is past MaxStale. seen is such that a set
// with seq > seen was fetched by a request sent after Key began.
func (r *Remote) slow(ctx context.Context, s *snapshot) (*snapshot, uint64, error) {
	now := time.Since(r.epoch)
	r.mu.Lock()
	if s != nil && now < s.stale {
		if !r.st.closed && !r.st.inFlight && now >= s.refresh && now >= r.st.retryAt {
			r.startLocked(ctx, triggerScheduled) // not awaited
		}
		r.mu.Unlock()
		return s, s.started, nil
	}
	// A request started from here on is sent after Key began; one in
	// flight may have been sent before.
	trigger, seen := triggerInitial, r.st.started
	if s != nil {
		trigger, seen = triggerStale, s.started
	}
	fl, latest, err := r.requestLocked(ctx, trigger, s)
	r.mu.Unlock()
	switch {
	case fl.ch != nil:
		if latest, err = r.wait(ctx, fl); err != nil && latest == nil {
			return nil, 0, r.unavailable(s, err)
		}
	case latest != nil: // installed since s was read
		seen = max(seen, latest.seq)
	default:
		return nil, 0, r.unavailable(s, err)
	}
	if latest == nil || now >= latest.stale {
		if err == nil {
			err = errors.New("no key set within MaxStale")
		}
		return nil, 0, r.unavailable(latest, err)
	}
	return latest, seen, nil
}

func (r *Remote) unavailable(s *snapshot, cause error) error {
	if s == nil {
		return jwtverify.Reject(jwtverify.ErrKeysUnavailable, "no JWKS fetched yet: "+cause.Error())
	}
	age := time.Since(r.epoch) - s.fetched
	return jwtverify.Reject(jwtverify.ErrKeysUnavailable, fmt.Sprintf("JWKS is %v old, past MaxStale %v: %v",
		age.Truncate(time.Second), r.cfg.MaxStale, cause))
}

// errClosed is the reason no request starts after Close.
var errClosed = errors.New("key set closed")

// flight is a request in flight as a caller waits for it: the channel its
// result arrives on and the request's context (see RemoteConfig.OnFetch).
type flight struct {
	ch  <-chan singleflight.Result
	ctx context.Context
}

// requestLocked returns the request for which a caller with the given
// trigger and context, who read snapshot s, is to wait: the one in
// flight, or a new one. It returns no flight but a newer snapshot when
// one was installed since s (except for triggerManual), and neither but
// the reason when the caller may not start one: closed, backing off
// (except triggerManual), or, for triggerUnknownKID, past the limiter's
// budget. r.mu must be held.
func (r *Remote) requestLocked(ctx context.Context, trigger string, s *snapshot) (flight, *snapshot, error) {
	switch latest := r.snap.Load(); {
	case r.st.closed:
		return flight{}, nil, errClosed
	case r.st.inFlight:
		return r.joinLocked(), nil, nil
	case trigger == triggerManual:
	case latest != nil && (s == nil || latest.gen != s.gen):
		return flight{}, latest, nil
	case time.Since(r.epoch) < r.st.retryAt:
		return flight{}, nil, errBackoff
	case trigger == triggerUnknownKID && !r.adm.limiter.Allow():
		return flight{}, nil, errRateLimited
	}
	return r.startLocked(ctx, trigger), nil, nil
}

// startLocked starts a request, which Remote.sf runs in its own goroutine,
// triggered by a caller with context ctx, and returns the flight its
// result arrives on. r.mu must be held, and r.st.closed and r.st.inFlight
// false.
func (r *Remote) startLocked(ctx context.Context, trigger string) flight {
	r.st.inFlight, r.st.trigger = true, trigger
	r.st.started++
	r.st.reqCtx = context.WithoutCancel(ctx)
	if r.cfg.OnFetch != nil {
		if c := r.cfg.OnFetch(r.st.reqCtx, trigger); c != nil {
			r.st.reqCtx = context.WithoutCancel(c)
		}
	}
	r.wg.Add(1)
	if s := r.snap.Load(); s != nil {
		r.storeLocked(*s) // check deadline: stale, while the request runs
	}
	return r.joinLocked() // sf holds no call: this one starts run
}

// joinLocked returns the flight of the request in flight. r.mu must be
// held and r.st.inFlight true: sf then holds the request's call, and
// DoChan joins it (run is called only by the DoChan of startLocked).
func (r *Remote) joinLocked() flight {
	return flight{r.sf.DoChan(flightKey, r.run), r.st.reqCtx}
}

// storeLocked stores s as the snapshot in use, its check deadline derived
// from the refresh state. r.mu must be held.
func (r *Remote) storeLocked(s snapshot) {
	s.started = r.st.started
	s.check = s.stale
	if !r.st.closed && !r.st.inFlight {
		s.check = min(s.stale, max(s.refresh, r.st.retryAt))
	}
	r.snap.Store(&s)
}

// wait waits for the result of the request fl, within ctx: the snapshot
// in use after the request (nil: none) and the request's error.
func (r *Remote) wait(ctx context.Context, fl flight) (*snapshot, error) {
	if r.cfg.OnWait != nil {
		r.cfg.OnWait(ctx, fl.ctx)
	}
	select {
	case res := <-fl.ch:
		s, _ := res.Val.(*snapshot)
		return s, res.Err
	case <-ctx.Done():
		return nil, fmt.Errorf("gave up waiting for the JWKS: %w", ctx.Err())
	}
}

// run is the request in flight, called by Remote.sf: it makes the
// request, installs its result, reports it, and returns the snapshot in
// use afterwards (nil: none) with the request's error, which sf hands to
// every waiting caller.
func (r *Remote) run() (any, error) {
	defer r.wg.Done()
	r.mu.Lock()
	reqCtx := r.st.reqCtx
	r.mu.Unlock()
	// The request carries reqCtx's values and ends with Remote.base.
	ctx, cancel := context.WithCancel(reqCtx)
	defer cancel()
	defer context.AfterFunc(r.base, cancel)()
	cur := r.snap.Load() // stable: only this goroutine installs a set while the request runs
	start := time.Now()
	next, life, skipped, err := r.fetch(ctx, cur)
	ev := RefreshEvent{URL: r.shown, Duration: time.Since(start), Skipped: skipped}
	now := time.Since(r.epoch)

	r.mu.Lock()
	ev.Trigger = r.st.trigger
	seq := r.st.started // the request in flight is the latest started
	r.st.inFlight = false
	r.sf.Forget(flightKey) // from here on, a DoChan starts a new request
	if err != nil {
		r.st.failures++
		r.st.retryAt = now + r.cfg.backoff(r.st.failures)
		ev.Outcome, ev.Err = outcomeFailed, err
		if cur != nil {
			ev.Keys, ev.Age = cur.set.n, now-cur.fetched
			r.storeLocked(*cur) // check deadline: the end of the backoff
			next = r.snap.Load()
		}
	} else {
		r.st.failures, r.st.retryAt = 0, 0
		r.st.gen++
		next.gen, next.seq, next.fetched = r.st.gen, seq, now
		next.refresh = now + r.cfg.refreshAfter(life)
		next.stale = now + r.cfg.MaxStale
		r.storeLocked(*next)
		next = r.snap.Load()
		ev.Outcome, ev.Keys = outcomeUpdated, next.set.n
		if cur != nil && next.set == cur.set {
			ev.Outcome = outcomeNotModified
		}
	}
	r.mu.Unlock()

	r.report(reqCtx, ev)
	return next, err
}

// fetch makes one conditional GET and parses its answer into a snapshot
// of the set and its validators (run sets the rest), with the freshness
// lifetime the response stated: for a SPIFFE bundle, its refresh hint when
// it has one.
func (r *Remote) fetch(ctx context.Context, cur *snapshot) (next *snapshot, life time.Duration, skipped []error, err error) {
	var prev validators
	if cur != nil {
		prev = cur.valid
	}
	resp, err := r.get.get(ctx, r.url, prev)
	if err != nil {
		return nil, 0, nil, err
	}
	next = &snapshot{valid: resp.valid}
	if resp.notModified {
		next.set, next.bundle = cur.set, cur.bundle // prev had a validator: cur is not nil
		return next, next.bundle.lifetime(resp.lifetime), nil, nil
	}
	keys, skipped, meta, err := parseSet(resp.body, r.cfg.MaxKeys, r.keys, setRules{spiffe: r.spiffe, bindIssuers: r.cfg.EnforceKeyIssuer && !r.spiffe})
	if r.spiffe && errors.Is(err, errNoUsableKey) {
		// A bundle without a JWT-SVID key (the last one revoked) is a
		// bundle all the same: it is installed, and every SVID is then
		// unknown_key, rather than refused, which would keep the
		// revoked keys serving until MaxStale.
		err = nil
	}
	if err == nil && cur != nil {
		err = cur.bundle.supersededBy(meta)
	}
	if err == nil {
		next.set, err = newSet(keys, meta.bound)
	}
	if err != nil {
		return nil, 0, skipped, err
	}
	next.bundle = meta
	return next, meta.lifetime(resp.lifetime), skipped, nil
}

// Refresh fetches the set now (joining a request in flight), ignoring the
// schedule, the unknown-kid budget and the backoff, and returns the
// request's error. ctx bounds the wait only: when it ends, Refresh
// returns and the request goes on. After Close, Refresh fails at once.
func (r *Remote) Refresh(ctx context.Context) error {
	r.mu.Lock()
	fl, _, err := r.requestLocked(ctx, triggerManual, nil)
	r.mu.Unlock()
	if err != nil {
		return err
	}
	_, err = r.wait(ctx, fl)
	return err
}

// Close cancels a request in flight and waits for it to end. Afterwards no
// request is made: the set in use serves until it is older than MaxStale,
// then lookups fail with jwtverify.ErrKeysUnavailable; Refresh fails.
// Close cannot fail; it may be called more than once, and concurrently
// with lookups.
func (r *Remote) Close() {
	r.mu.Lock()
	r.st.closed = true
	if s := r.snap.Load(); s != nil {
		r.storeLocked(*s) // check deadline: stale
	}
	r.mu.Unlock()
	r.cancel()
	r.wg.Wait()
	if r.cfg.RootCAs != nil {
		r.get.client.CloseIdleConnections() // the transport is the Remote's own clone
	}
}

func (r *Remote) report(ctx context.Context, ev RefreshEvent) {
	if r.cfg.OnRefresh != nil {
		r.cfg.OnRefresh(ctx, ev)
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
