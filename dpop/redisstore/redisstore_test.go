package redisstore_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"net"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jwtverify/jwtverify/dpop/redisstore"
	"github.com/jwtverify/jwtverify/dpop/redisstore/redistest"
	"github.com/jwtverify/jwtverify/internal/proctest"
	"github.com/redis/go-redis/v9"
)

// newID returns a fresh id shaped like a Checker's: the base64url SHA-256
// of random bytes.
func newID(t testing.TB) string {
	t.Helper()
	sum := sha256.Sum256([]byte(rand.Text()))
	return base64.RawURLEncoding.EncodeToString(sum[:])
}

// newStore returns a Store of its own on the test server.
func newStore(t testing.TB, opts redisstore.Options) *redisstore.Store {
	t.Helper()
	s, err := redisstore.NewFromURL(testURL, opts)
	if err != nil {
		t.Fatalf("NewFromURL: %v", err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func remember(t testing.TB, s *redisstore.Store, id string, until time.Time) bool {
	t.Helper()
	seen, err := s.Remember(context.Background(), id, until)
	if err != nil {
		t.Fatalf("Remember: %v", err)
	}
	return seen
}

func TestRememberThenSeen(t *testing.T) {
	s := newStore(t, redisstore.Options{})
	id := newID(t)
	until := time.Now().Add(time.Minute)
	if remember(t, s, id, until) {
		t.Fatal("first Remember: seen = true, want false")
	}
	for i := range 3 {
		if !remember(t, s, id, until) {
			t.Fatalf("Remember #%d of the same id: seen = false, want true", i+2)
		}
	}
}

func TestDistinctIDsIndependent(t *testing.T) {
	s := newStore(t, redisstore.Options{})
	until := time.Now().Add(time.Minute)
	a, b := newID(t), newID(t)
	if remember(t, s, a, until) {
		t.Fatal("Remember(a): seen = true, want false")
	}
	if remember(t, s, b, until) {
		t.Fatal("Remember(b) after Remember(a): seen = true, want false")
	}
	if !remember(t, s, a, until) || !remember(t, s, b, until) {
		t.Fatal("second Remember of a or b: seen = false, want true")
	}
	// Ids differing in case only, or one a prefix of the other, are
	// different ids.
	if remember(t, s, strings.ToUpper(a), until) {
		t.Error("Remember(upper-case a): seen = true, want false")
	}
	if remember(t, s, a[:20], until) {
		t.Error("Remember(a[:20]): seen = true, want false")
	}
}

func TestKeyStored(t *testing.T) {
	for _, prefix := range []string{"", "test:stored:" + newID(t)[:8] + ":"} {
		s := newStore(t, redisstore.Options{Prefix: prefix})
		want := prefix
		if want == "" {
			want = redisstore.DefaultPrefix
		}
		id := newID(t)
		ttl := 30 * time.Second
		if remember(t, s, id, time.Now().Add(ttl)) {
			t.Fatal("first Remember: seen = true")
		}
		c := rawClient(t)
		ctx := context.Background()
		key := want + id
		if v, err := c.Get(ctx, key).Result(); err != nil || v != "1" {
			t.Errorf("GET %s = %q, %v; want \"1\"", key, v, err)
		}
		if typ, err := c.Type(ctx, key).Result(); err != nil || typ != "string" {
			t.Errorf("TYPE %s = %q, %v; want string", key, typ, err)
		}
		pttl, err := c.PTTL(ctx, key).Result()
		if err != nil || pttl <= ttl-5*time.Second || pttl > ttl {
			t.Errorf("PTTL %s = %v, %v; want in (%v, %v]", key, pttl, err, ttl-5*time.Second, ttl)
		}
		if n, err := c.Exists(ctx, id).Result(); err != nil || n != 0 {
			t.Errorf("EXISTS of the bare id = %d, %v; want 0", n, err)
		}
		// The Store wrote that key and no other.
		keys, err := c.Keys(ctx, "*"+id+"*").Result()
		if err != nil || len(keys) != 1 || keys[0] != key {
			t.Errorf("keys holding the id = %q, %v; want just %q", keys, err, key)
		}
	}
}

func TestKeyExpiresAtUntil(t *testing.T) {
	s := newStore(t, redisstore.Options{})
	c := rawClient(t)
	ctx := context.Background()
	id := newID(t)
	key := redisstore.DefaultPrefix + id
	until := time.Now().Add(300 * time.Millisecond)
	if remember(t, s, id, until) {
		t.Fatal("first Remember: seen = true")
	}
	if pttl, err := c.PTTL(ctx, key).Result(); err != nil || pttl <= 0 || pttl > 300*time.Millisecond {
		t.Fatalf("PTTL = %v, %v; want in (0, 300ms]", pttl, err)
	}
	deadline := until.Add(3 * time.Second)
	for {
		n, err := c.Exists(ctx, key).Result()
		if err != nil {
			t.Fatalf("EXISTS: %v", err)
		}
		now := time.Now()
		if n == 0 {
			if now.Before(until) {
				t.Fatalf("key gone %v before until", until.Sub(now))
			}
			break
		}
		if now.After(deadline) {
			t.Fatalf("key still there %v after until", now.Sub(until))
		}
		time.Sleep(5 * time.Millisecond)
	}
	// Once expired, the id is new again.
	if remember(t, s, id, time.Now().Add(time.Minute)) {
		t.Error("Remember after expiry: seen = true, want false")
	}
}

// TestTTLRoundedUp: the key lives at least until until, so the time left
// is rounded up to a whole millisecond: a fraction of one is one (PX 0
// would be an error reply), and PTTL never falls short.
func TestTTLRoundedUp(t *testing.T) {
	s := newStore(t, redisstore.Options{})
	c := rawClient(t)
	ok := 0
	for range 20 {
		// Remember may find until passed already (ErrUntilPassed) on a
		// slow machine; any other error is a failure.
		_, err := s.Remember(context.Background(), newID(t), time.Now().Add(700*time.Microsecond))
		switch {
		case err == nil:
			ok++
		case !errors.Is(err, redisstore.ErrUntilPassed):
			t.Fatalf("Remember with 0.7ms left: %v", err)
		}
	}
	if ok == 0 {
		t.Fatal("Remember with 0.7ms left never got to the server")
	}

	id := newID(t)
	until := time.Now().Add(10*time.Second + 999*time.Microsecond)
	if remember(t, s, id, until) {
		t.Fatal("first Remember: seen = true")
	}
	pttl, err := c.PTTL(context.Background(), redisstore.DefaultPrefix+id).Result()
	if err != nil || pttl <= 9*time.Second || pttl > 10*time.Second+time.Millisecond {
		t.Fatalf("PTTL = %v, %v; want in (9s, 10.001s]", pttl, err)
	}
}

func TestConcurrentSameID(t *testing.T) {
	s := newStore(t, redisstore.Options{Timeout: 5 * time.Second})
	id := newID(t)
	until := time.Now().Add(time.Minute)
	const n = 100
	var (
		wg     sync.WaitGroup
		start  = make(chan struct{})
		mu     sync.Mutex
		unseen int
		errs   []error
	)
	for range n {
		wg.Go(func() {
			<-start
			seen, err := s.Remember(context.Background(), id, until)
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				errs = append(errs, err)
			} else if !seen {
				unseen++
			}
		})
	}
	close(start)
	wg.Wait()
	if len(errs) > 0 {
		t.Fatalf("%d of %d Remember calls failed, first: %v", len(errs), n, errs[0])
	}
	if unseen != 1 {
		t.Fatalf("%d of %d concurrent Remember calls of one id had seen = false, want exactly 1", unseen, n)
	}
}

// TestTwoInstancesShareOneStore: two Stores with clients of their own,
// as two proxy instances have, see each other's ids.
func TestTwoInstancesShareOneStore(t *testing.T) {
	a := newStore(t, redisstore.Options{})
	client := redis.NewClient(&redis.Options{Addr: testServer.Addr(), ContextTimeoutEnabled: true, MaxRetries: -1})
	defer client.Close()
	b, err := redisstore.New(client, redisstore.Options{})
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	until := time.Now().Add(time.Minute)
	id1, id2 := newID(t), newID(t)
	if remember(t, a, id1, until) {
		t.Fatal("a.Remember(id1): seen = true")
	}
	if !remember(t, b, id1, until) {
		t.Error("b.Remember(id1) after a.Remember(id1): seen = false, want true")
	}
	if remember(t, b, id2, until) {
		t.Fatal("b.Remember(id2): seen = true")
	}
	if !remember(t, a, id2, until) {
		t.Error("a.Remember(id2) after b.Remember(id2): seen = false, want true")
	}
	// Stores with different prefixes are different stores.
	c := newStore(t, redisstore.Options{Prefix: "other:"})
	if remember(t, c, id1, until) {
		t.Error("Remember(id1) under another prefix: seen = true, want false")
	}
}

// checkFailClosed calls Remember and checks that it fails, within
// max, with an error that holds neither the id nor any of secrets.
func checkFailClosed(t *testing.T, s *redisstore.Store, ctx context.Context, max time.Duration, secrets ...string) error {
	t.Helper()
	id := newID(t)
	start := time.Now()
	seen, err := s.Remember(ctx, id, time.Now().Add(time.Minute))
	took := time.Since(start)
	t.Logf("Remember failed in %v: %v", took, err)
	if err == nil {
		t.Fatalf("Remember: seen = %v and no error, want an error", seen)
	}
	if seen {
		t.Errorf("Remember failed but seen = true")
	}
	if took > max {
		t.Errorf("Remember took %v to fail, want at most %v", took, max)
	}
	for _, x := range append(secrets, id) {
		if strings.Contains(err.Error(), x) {
			t.Errorf("error %q holds %q", err, x)
		}
	}
	return err
}

func TestFailClosedNoServer(t *testing.T) {
	port, err := proctest.FreePort()
	if err != nil {
		t.Fatal(err)
	}
	s, err := redisstore.NewFromURL("redis://127.0.0.1:"+strconv.Itoa(port)+"/0", redisstore.Options{Timeout: time.Second})
	if err != nil {
		t.Fatalf("NewFromURL: %v", err)
	}
	defer s.Close()
	// A refused connection fails at once, not after retrying dials until
	// Timeout.
	for range 3 {
		checkFailClosed(t, s, context.Background(), 100*time.Millisecond)
	}
}

// TestFailClosedServerStopped: a store that worked fails closed once its
// server is gone, and works again once a server is back on its address.
func TestFailClosedServerStopped(t *testing.T) {
	srv, err := redistest.Start()
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Stop()
	s, err := redisstore.NewFromURL(srv.URL(), redisstore.Options{Timeout: 200 * time.Millisecond})
	if err != nil {
		t.Fatalf("NewFromURL: %v", err)
	}
	defer s.Close()
	id := newID(t)
	if remember(t, s, id, time.Now().Add(time.Minute)) {
		t.Fatal("first Remember: seen = true")
	}
	srv.Stop()
	for range 3 {
		checkFailClosed(t, s, context.Background(), 2*time.Second)
	}
	// The id is not reported as new by a failing store either.
	if seen, err := s.Remember(context.Background(), id, time.Now().Add(time.Minute)); err == nil {
		t.Fatalf("Remember(id) on a stopped server: seen = %v, no error", seen)
	}
}

// TestFailClosedSlowServer: a server that accepts connections but never
// answers fails Remember within Timeout, far sooner than go-redis's own
// default read timeout (3s).
func TestFailClosedSlowServer(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	var mu sync.Mutex
	var conns []net.Conn
	wg.Go(func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, c) // read nothing, answer nothing
			mu.Unlock()
		}
	})
	defer func() {
		l.Close()
		wg.Wait()
		for _, c := range conns {
			c.Close()
		}
	}()

	timeout := 100 * time.Millisecond
	s, err := redisstore.NewFromURL("redis://"+l.Addr().String()+"/0", redisstore.Options{Timeout: timeout})
	if err != nil {
		t.Fatalf("NewFromURL: %v", err)
	}
	defer s.Close()
	for range 3 {
		err := checkFailClosed(t, s, context.Background(), timeout+500*time.Millisecond)
		if !errors.Is(err, context.DeadlineExceeded) && !isTimeout(err) {
			t.Errorf("error %v is not a timeout", err)
		}
	}
	// The same through New, with a client of the caller's.
	client := redis.NewClient(&redis.Options{Addr: l.Addr().String(), ContextTimeoutEnabled: true})
	defer client.Close()
	s2, err := redisstore.New(client, redisstore.Options{Timeout: timeout})
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	checkFailClosed(t, s2, context.Background(), timeout+500*time.Millisecond)
}

// TestLostReplyNotRetried: when the reply to the SET is lost (the
// connection drops after the server applied it), Remember fails; it does
// not send the SET again, which would find the key and call a new proof
// a replay.
func TestLostReplyNotRetried(t *testing.T) {
	addr := lossyProxy(t, testServer.Addr())
	s, err := redisstore.NewFromURL("redis://"+addr+"/0", redisstore.Options{Timeout: 2 * time.Second})
	if err != nil {
		t.Fatalf("NewFromURL: %v", err)
	}
	defer s.Close()
	id := newID(t)
	seen, err := s.Remember(context.Background(), id, time.Now().Add(time.Minute))
	if err == nil {
		t.Fatalf("Remember with its reply lost: seen = %v, no error; want an error", seen)
	}
	t.Logf("Remember with its reply lost: %v", err)
	// The SET did reach the server: the id is seen from now on.
	if n, err := rawClient(t).Exists(context.Background(), redisstore.DefaultPrefix+id).Result(); err != nil || n != 1 {
		t.Fatalf("EXISTS = %d, %v; want 1 (the proxy should have passed the SET on)", n, err)
	}
	if !remember(t, s, id, time.Now().Add(time.Minute)) {
		t.Error("Remember after the lost reply: seen = false, want true")
	}
}

// lossyProxy forwards TCP connections to target, except that it drops
// the connection that carries the first SET command, after passing the
// command on and on receipt of the server's reply, which it discards.
// It returns its address; it stops when t ends.
func lossyProxy(t *testing.T, target string) string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var (
		wg      sync.WaitGroup
		mu      sync.Mutex
		conns   []net.Conn
		dropped atomic.Bool
	)
	track := func(c net.Conn) {
		mu.Lock()
		conns = append(conns, c)
		mu.Unlock()
	}
	t.Cleanup(func() {
		l.Close()
		mu.Lock()
		for _, c := range conns {
			c.Close()
		}
		mu.Unlock()
		wg.Wait()
	})
	wg.Go(func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			srv, err := net.Dial("tcp", target)
			if err != nil {
				c.Close()
				continue
			}
			track(c)
			track(srv)
			var drop atomic.Bool
			wg.Go(func() { // server to client
				defer c.Close()
				defer srv.Close()
				buf := make([]byte, 4096)
				for {
					n, err := srv.Read(buf)
					if err != nil || drop.Load() {
						return
					}
					if _, err := c.Write(buf[:n]); err != nil {
						return
					}
				}
			})
			wg.Go(func() { // client to server
				defer c.Close()
				defer srv.Close()
				buf := make([]byte, 4096)
				for {
					n, err := c.Read(buf)
					if err != nil {
						return
					}
					if bytes.Contains(bytes.ToLower(buf[:n]), []byte("$3\r\nset\r\n")) && dropped.CompareAndSwap(false, true) {
						drop.Store(true)
					}
					if _, err := srv.Write(buf[:n]); err != nil {
						return
					}
				}
			})
		}
	})
	return l.Addr().String()
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

func TestContextCancelled(t *testing.T) {
	s := newStore(t, redisstore.Options{})
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	err := checkFailClosed(t, s, ctx, time.Second)
	if !errors.Is(err, context.Canceled) {
		t.Errorf("error %v is not context.Canceled", err)
	}
	// A deadline of the caller's already passed.
	ctx, cancel = context.WithDeadline(context.Background(), time.Now().Add(-time.Second))
	defer cancel()
	err = checkFailClosed(t, s, ctx, time.Second)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("error %v is not context.DeadlineExceeded", err)
	}
}

func TestInvalidIDs(t *testing.T) {
	s := newStore(t, redisstore.Options{Prefix: "test:invalid:"})
	c := rawClient(t)
	ctx := context.Background()
	until := time.Now().Add(time.Minute)
	long := strings.Repeat("a", redisstore.MaxIDLen)
	for _, id := range []string{
		"", long + "b", "has space", "colon:id", "slash/id", "plus+id", "pad=",
		"dot.id", "star*", "new\nline", "nul\x00", "é", "{hashtag}",
	} {
		seen, err := s.Remember(ctx, id, until)
		if !errors.Is(err, redisstore.ErrInvalidID) {
			t.Errorf("Remember(%q) = %v, %v; want ErrInvalidID", id, seen, err)
			continue
		}
		if id != "" && strings.Contains(err.Error(), id) {
			t.Errorf("error %q holds the id", err)
		}
		if n, err := c.Exists(ctx, "test:invalid:"+id).Result(); err != nil || n != 0 {
			t.Errorf("invalid id %q reached the server", id)
		}
	}
	// The limits themselves are valid.
	for _, id := range []string{long, "a", "Az09_-", strings.Repeat("f", 64)} {
		if _, err := s.Remember(ctx, id, until); err != nil {
			t.Errorf("Remember(%q): %v", id, err)
		}
	}
	if n, err := c.Exists(ctx, "test:invalid:"+long).Result(); err != nil || n != 1 {
		t.Errorf("EXISTS of the %d-byte id's key = %d, %v; want 1", len(long), n, err)
	}
}

func TestUntilNotInFuture(t *testing.T) {
	s := newStore(t, redisstore.Options{})
	c := rawClient(t)
	for _, until := range []time.Time{time.Now(), time.Now().Add(-time.Hour), {}} {
		id := newID(t)
		seen, err := s.Remember(context.Background(), id, until)
		if !errors.Is(err, redisstore.ErrUntilPassed) {
			t.Errorf("Remember(until %v) = %v, %v; want ErrUntilPassed", until, seen, err)
		}
		if n, err := c.Exists(context.Background(), redisstore.DefaultPrefix+id).Result(); err != nil || n != 0 {
			t.Errorf("an id with a past until reached the server")
		}
	}
}

func TestPasswordNeverInErrors(t *testing.T) {
	const secret = "s3cret"
	// A closed port.
	s, err := redisstore.NewFromURL("redis://:"+secret+"@127.0.0.1:1/0", redisstore.Options{})
	if err != nil {
		t.Fatalf("NewFromURL: %v", err)
	}
	checkFailClosed(t, s, context.Background(), time.Second, secret)
	s.Close()

	// A server that refuses the password (it has none set).
	s, err = redisstore.NewFromURL("redis://user:"+secret+"@"+testServer.Addr()+"/0", redisstore.Options{})
	if err != nil {
		t.Fatalf("NewFromURL: %v", err)
	}
	checkFailClosed(t, s, context.Background(), time.Second, secret)
	s.Close()

	// URLs that do not parse, or that go-redis rejects.
	for _, u := range []string{
		"redis://:" + secret + "@[::1",
		"redis://:" + secret + "@127.0.0.1:notaport/0",
		"redis://:" + secret + "@127.0.0.1:6379/notadb",
		"redis://:" + secret + "@127.0.0.1:6379/0?pool_size=" + secret,
		"redis://:" + secret + "@127.0.0.1:6379/0?dial_timeout=" + secret,
		"redis://:" + secret + "@127.0.0.1:6379/0?nosuchoption=1",
		"http://:" + secret + "@127.0.0.1:6379/0",
		"redis://" + secret + ":" + secret + "@127.0.0.1:6379/" + secret,
		":" + secret + "@127.0.0.1",
		"redis://%zz:" + secret + "@127.0.0.1/0",
	} {
		s, err := redisstore.NewFromURL(u, redisstore.Options{})
		if err == nil {
			s.Close()
			t.Errorf("NewFromURL(%q): no error", u)
			continue
		}
		t.Logf("NewFromURL error: %v", err)
		if strings.Contains(err.Error(), secret) {
			t.Errorf("NewFromURL(%q) error %q holds the password", u, err)
		}
		for e := errors.Unwrap(err); e != nil; e = errors.Unwrap(e) {
			if strings.Contains(e.Error(), secret) {
				t.Errorf("NewFromURL(%q) error wraps %q, which holds the password", u, e)
			}
		}
	}
}

func TestNewRejects(t *testing.T) {
	if _, err := redisstore.New(nil, redisstore.Options{}); err == nil {
		t.Error("New(nil): no error")
	}
	// A client that ignores context deadlines could not honour Timeout.
	for _, c := range []redis.UniversalClient{
		redis.NewClient(&redis.Options{Addr: testServer.Addr()}),
		redis.NewClusterClient(&redis.ClusterOptions{Addrs: []string{testServer.Addr()}}),
		redis.NewRing(&redis.RingOptions{Addrs: map[string]string{"a": testServer.Addr()}}),
	} {
		if _, err := redisstore.New(c, redisstore.Options{}); err == nil {
			t.Errorf("New(%T without ContextTimeoutEnabled): no error", c)
		}
		c.Close()
	}
	client := redis.NewClient(&redis.Options{Addr: testServer.Addr(), ContextTimeoutEnabled: true})
	defer client.Close()
	if _, err := redisstore.New(client, redisstore.Options{Timeout: -time.Second}); err == nil {
		t.Error("New with a negative Timeout: no error")
	}
	if _, err := redisstore.NewFromURL(testURL, redisstore.Options{Timeout: -time.Second}); err == nil {
		t.Error("NewFromURL with a negative Timeout: no error")
	}
}

// TestClose: Close closes a client the Store made, and leaves the
// caller's open.
func TestClose(t *testing.T) {
	owned, err := redisstore.NewFromURL(testURL, redisstore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	remember(t, owned, newID(t), time.Now().Add(time.Minute))
	if err := owned.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	checkFailClosed(t, owned, context.Background(), time.Second)

	client := redis.NewClient(&redis.Options{Addr: testServer.Addr(), ContextTimeoutEnabled: true})
	defer client.Close()
	s, err := redisstore.New(client, redisstore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if err := client.Ping(context.Background()).Err(); err != nil {
		t.Fatalf("the caller's client after Store.Close: %v", err)
	}
	remember(t, s, newID(t), time.Now().Add(time.Minute))
}

// TestEvictionPolicy: on a server that may evict keys (volatile-lru, as
// managed services often default to), every Remember fails closed with
// ErrEvictionPolicy, so that a flood cannot evict a remembered proof and
// have it accepted again; AllowEviction opts out.
func TestEvictionPolicy(t *testing.T) {
	srv, err := redistest.Start("--maxmemory", "64mb", "--maxmemory-policy", "volatile-lru")
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Stop()
	s, err := redisstore.NewFromURL(srv.URL(), redisstore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if _, err := s.Remember(context.Background(), newID(t), time.Now().Add(time.Minute)); !errors.Is(err, redisstore.ErrEvictionPolicy) {
		t.Fatalf("volatile-lru: %v, want ErrEvictionPolicy", err)
	}
	opted, err := redisstore.NewFromURL(srv.URL(), redisstore.Options{AllowEviction: true})
	if err != nil {
		t.Fatal(err)
	}
	defer opted.Close()
	if seen, err := opted.Remember(context.Background(), newID(t), time.Now().Add(time.Minute)); seen || err != nil {
		t.Fatalf("AllowEviction: %v %v", seen, err)
	}
}
