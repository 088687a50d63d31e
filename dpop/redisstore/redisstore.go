// Package redisstore is a [dpop.ReplayStore] kept in Redis (or any server
// that speaks the Redis protocol and implements SET with NX and PX), so
// that every instance of a fleet shares one store: a DPoP proof accepted
// by one instance is a replay on every other.
//
// Each [Store.Remember] is one command, and so one round trip on a pooled
// connection:
//
//	SET <prefix><id> 1 NX PX <milliseconds until until, rounded up>
//
// A reply of OK means the id was new (not seen); a nil reply means the
// key exists (seen: a replay). Any failure (connection refused, a slow
// server past [Options.Timeout], a cancelled context, an error reply) is
// returned as an error, on which the Checker fails closed.
//
// The key's lifetime is given relative to the server's receipt of the
// command (PX, not PXAT), so a clock difference between an instance and
// the Redis server never shortens it: the key lives at least until until
// by the instance's clock.
//
// This package is a module of its own, so that go-redis stays out of the
// module graph of github.com/jwtverify/jwtverify.
package redisstore

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"sync/atomic"
	"time"

	"github.com/jwtverify/jwtverify/dpop"
	"github.com/redis/go-redis/v9"
)

const (
	// DefaultPrefix is the key prefix used when Options.Prefix is empty.
	DefaultPrefix = "jwtverify:dpop:"

	// DefaultTimeout is the bound on each Remember's round trip used when
	// Options.Timeout is zero.
	DefaultTimeout = 250 * time.Millisecond

	// MaxIDLen is the longest id, in bytes, that Remember accepts.
	MaxIDLen = 128
)

var (
	// ErrInvalidID is returned by Remember for an id that is
	// empty, longer than MaxIDLen bytes, or has a byte other than
	// A-Z, a-z, 0-9, '_' and '-'. Such an id never reaches the server.
	ErrInvalidID = errors.New("redisstore: invalid id: want 1 to 128 bytes of A-Z a-z 0-9 _ -")

	// ErrUntilPassed is returned by Remember when until is not
	// in the future: there is nothing left to remember, and a Checker
	// never asks for that, so it is a caller's error, not a new proof.
	ErrUntilPassed = errors.New("redisstore: until is not in the future")
)

// Options configures a Store. The zero value is the defaults.
type Options struct {
	// Prefix is put before each id to make its key, so that the store's
	// keys are told apart from others in the same database. Empty means
	// DefaultPrefix. Instances that share a store must use the same
	// Prefix (and the same database).
	Prefix string

	// Timeout bounds each Remember, its wait for a pooled connection (or
	// dial) and its round trip, so that a slow or unreachable server fails
	// closed fast. A deadline of the caller's context that comes earlier
	// applies instead. Zero means DefaultTimeout; it must not be negative.
	Timeout time.Duration

	// AllowEviction lets the store be used on a server whose
	// maxmemory-policy may evict keys. By default a Store asks the server
	// (CONFIG GET maxmemory-policy) before its first Remember, and fails
	// every Remember (closed) with ErrEvictionPolicy while the answer is
	// anything but noeviction: under memory pressure, which any client
	// holding a token can cause with proofs of its own, an evicted id is a
	// proof accepted twice. A server that does not answer CONFIG (managed
	// services often disable it) is taken as configured: set noeviction
	// there. Zero: false.
	AllowEviction bool
}

// ErrEvictionPolicy is returned by Remember when the server's
// maxmemory-policy is not noeviction and Options.AllowEviction is unset.
var ErrEvictionPolicy = errors.New("redisstore: the server's maxmemory-policy may evict remembered proofs: set it to noeviction")

// Store is a dpop.ReplayStore in Redis. It is made by New or NewFromURL;
// the zero value is not usable. A Store is safe for concurrent use by any
// number of goroutines, as is the client under it.
//
// A Store made by New does not own its client: Close does not close it.
// One made by NewFromURL owns the client it made, which Close closes.
type Store struct {
	client  redis.UniversalClient
	prefix  string
	timeout time.Duration
	owned   bool

	allowEviction bool
	policyOK      atomic.Bool // the server's maxmemory-policy was found safe
}

var _ dpop.ReplayStore = (*Store)(nil)

// New returns a Store that keeps its ids in Redis through client, which
// it does not own: the caller closes client once it has stopped using the
// Store, and Store.Close leaves it open.
//
// The client must honour context deadlines, or no Timeout could bound a
// round trip: for a *redis.Client, *redis.ClusterClient or *redis.Ring,
// New checks that its options have ContextTimeoutEnabled set, and returns
// an error if not; another implementation is taken on trust. It should
// also not retry (MaxRetries: -1): a retried SET NX whose first attempt
// did reach the server reports the id as seen, failing closed on a proof
// that was new.
func New(client redis.UniversalClient, opts Options) (*Store, error) {
	if client == nil {
		return nil, errors.New("redisstore: nil client")
	}
	if !honoursContext(client) {
		return nil, errors.New("redisstore: the client must have ContextTimeoutEnabled set, or Timeout cannot bound a round trip")
	}
	if err := opts.check(); err != nil {
		return nil, err
	}
	return newStore(client, opts, false), nil
}

// NewFromURL returns a Store with a client of its own, made from rawURL
// as redis.ParseURL reads it: redis://[[user]:password@]host[:port][/db],
// rediss:// for TLS, or unix://[[user]:password@]/path?db=N, with go-redis
// options as query parameters (redis://127.0.0.1:6379/0?pool_size=20).
// This is the form the proxy's --replay-store flag takes.
//
// The client honours context deadlines (ContextTimeoutEnabled is always
// set), dials once per attempt (DialerRetries: 1) and, unless the URL sets
// max_retries, does not retry a command. The Store owns the client: call
// Close when done with the Store.
//
// No connection is made here: an unreachable server shows as errors from
// Remember. An error from NewFromURL never holds the URL's password.
func NewFromURL(rawURL string, opts Options) (*Store, error) {
	if err := opts.check(); err != nil {
		return nil, err
	}
	ropts, err := parseURL(rawURL)
	if err != nil {
		return nil, err
	}
	ropts.ContextTimeoutEnabled = true
	return newStore(redis.NewClient(ropts), opts, true), nil
}

// parseURL is redis.ParseURL with errors that never show the password:
// url.Parse's errors quote the whole URL, so they are not passed on.
func parseURL(rawURL string) (*redis.Options, error) {
	u, err := url.Parse(rawURL)
	if err != nil {
		return nil, errors.New("redisstore: the replay store URL does not parse (not shown: it may hold a password)")
	}
	ropts, err := redis.ParseURL(rawURL)
	if err != nil {
		// Only the host is shown, and the password is cut out of
		// everything (it may equal any other part of the URL).
		scrub := func(s string) string { return s }
		if pw, ok := u.User.Password(); ok && pw != "" {
			scrub = func(s string) string { return strings.ReplaceAll(s, pw, "xxxxx") }
		}
		return nil, fmt.Errorf("redisstore: replay store URL for host %q: %s", scrub(u.Host), scrub(err.Error()))
	}
	if !u.Query().Has("max_retries") {
		ropts.MaxRetries = -1
	}
	// A refused dial fails this Remember at once, rather than retrying
	// until Timeout; the next Remember dials again.
	ropts.DialerRetries = 1
	return ropts, nil
}

// check reports an error for options that New and NewFromURL refuse.
func (o Options) check() error {
	if o.Timeout < 0 {
		return fmt.Errorf("redisstore: negative Timeout %v", o.Timeout)
	}
	return nil
}

// newStore returns a Store on client with opts, which passed check, and
// their defaults.
func newStore(client redis.UniversalClient, opts Options, owned bool) *Store {
	s := &Store{client: client, prefix: opts.Prefix, timeout: opts.Timeout, owned: owned, allowEviction: opts.AllowEviction}
	if s.prefix == "" {
		s.prefix = DefaultPrefix
	}
	if s.timeout == 0 {
		s.timeout = DefaultTimeout
	}
	return s
}

// honoursContext reports whether client applies context deadlines to its
// round trips, as far as can be told from its options.
func honoursContext(client redis.UniversalClient) bool {
	switch c := client.(type) {
	case *redis.Client:
		return c.Options().ContextTimeoutEnabled
	case *redis.ClusterClient:
		return c.Options().ContextTimeoutEnabled
	case *redis.Ring:
		return c.Options().ContextTimeoutEnabled
	}
	return true
}

// Remember records id until until, and reports whether it was recorded
// already (seen). It makes one round trip, bounded by the Store's Timeout
// and by ctx; any failure is an error, never seen=false.
//
// id must be 1 to MaxIDLen bytes of A-Z, a-z, 0-9, '_' and '-' (a hex or
// base64url digest), and until must be in the future; otherwise Remember
// returns ErrInvalidID or ErrUntilPassed without asking the server. The key is kept for the time left until until, rounded up to
// a whole millisecond. No error holds id.
func (s *Store) Remember(ctx context.Context, id string, until time.Time) (seen bool, err error) {
	if !validID(id) {
		return false, ErrInvalidID
	}
	left := time.Until(until)
	if left <= 0 {
		return false, ErrUntilPassed
	}
	ms := int64(left / time.Millisecond)
	if left%time.Millisecond != 0 {
		ms++
	}

	ctx, cancel := context.WithTimeout(ctx, s.timeout)
	defer cancel()
	if !s.allowEviction && !s.policyOK.Load() {
		if err := s.checkPolicy(ctx); err != nil {
			return false, err
		}
	}
	cmd := redis.NewBoolCmd(ctx, "set", s.prefix+id, "1", "nx", "px", ms)
	if err := s.client.Process(ctx, cmd); err != nil {
		return false, fmt.Errorf("redisstore: SET NX: %w", err)
	}
	// BoolCmd reads OK as true and the nil reply (the key exists) as false.
	return !cmd.Val(), nil
}

// checkPolicy asks the server for its maxmemory-policy, until it has
// answered noeviction once (a policy changed later is not seen). A server
// that refuses CONFIG is taken as configured; one that cannot be reached
// fails this Remember.
func (s *Store) checkPolicy(ctx context.Context) error {
	res, err := s.client.ConfigGet(ctx, "maxmemory-policy").Result()
	switch {
	case err != nil && strings.Contains(strings.ToLower(err.Error()), "unknown command"),
		err != nil && strings.Contains(strings.ToUpper(err.Error()), "NOPERM"):
		s.policyOK.Store(true) // CONFIG disabled: cannot tell
		return nil
	case err != nil:
		return fmt.Errorf("redisstore: CONFIG GET maxmemory-policy: %w", err)
	case res["maxmemory-policy"] != "noeviction":
		return ErrEvictionPolicy
	}
	s.policyOK.Store(true)
	return nil
}

// Close closes the client if the Store owns it (it was made by
// NewFromURL), and otherwise does nothing and returns nil. Remember fails
// after Close on an owned client. Close is to be called once.
func (s *Store) Close() error {
	if !s.owned {
		return nil
	}
	return s.client.Close()
}

// validID reports whether id is 1 to MaxIDLen bytes of the base64url
// alphabet (a superset of lowercase and uppercase hex).
func validID(id string) bool {
	if id == "" || len(id) > MaxIDLen {
		return false
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9', c == '_', c == '-':
		default:
			return false
		}
	}
	return true
}
