package keyset

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"math/rand/v2"
	"net/http"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"golang.org/x/sync/singleflight"

	"github.com/jwtverify/jwtverify"
	"github.com/jwtverify/jwtverify/internal/mint"
	"github.com/jwtverify/jwtverify/internal/testkeys"
)

// TestRefreshWindow: a set is due at a random point in [0.95·L, L], L the
// stated lifetime clamped to [MinRefresh, MaxRefresh], spread over the
// window, and moved earlier when MaxStale leaves less than 1.1·L, so that
// 0.1·L remains before MaxStale.
func TestRefreshWindow(t *testing.T) {
	for _, tt := range []struct {
		name   string
		cfg    RemoteConfig
		life   time.Duration
		lo, hi time.Duration
	}{
		{"max-age", RemoteConfig{}, 1000 * time.Second, 950 * time.Second, 1000 * time.Second},
		{"no header", RemoteConfig{}, -1, 285 * time.Second, 300 * time.Second},
		{"no-cache", RemoteConfig{}, 0, 285 * time.Second, 300 * time.Second},
		{"below MinRefresh", RemoteConfig{MinRefresh: time.Minute}, time.Second, 57 * time.Second, time.Minute},
		{"above MaxRefresh", RemoteConfig{MaxRefresh: time.Hour, MaxStale: 2 * time.Hour}, 90 * time.Minute, 57 * time.Minute, time.Hour},
		{"MaxRefresh = MaxStale", RemoteConfig{}, 7 * 24 * time.Hour, 204 * time.Minute * 6, 216 * time.Minute * 6},
		{"little room before MaxStale", RemoteConfig{MaxRefresh: time.Hour, MaxStale: 65 * time.Minute}, time.Hour, 56 * time.Minute, 59 * time.Minute},
	} {
		t.Run(tt.name, func(t *testing.T) {
			r, err := NewRemote("https://issuer.example/jwks", tt.cfg)
			if err != nil {
				t.Fatal(err)
			}
			lo, hi := time.Duration(1<<62), time.Duration(0)
			buckets := map[time.Duration]bool{}
			for i := 0; i < 2000; i++ {
				d := r.cfg.refreshAfter(tt.life)
				lo, hi = min(lo, d), max(hi, d)
				buckets[(d-tt.lo)*10/(tt.hi-tt.lo+1)] = true
			}
			if lo < tt.lo || hi > tt.hi {
				t.Fatalf("refresh after [%v, %v], want within [%v, %v]", lo, hi, tt.lo, tt.hi)
			}
			if len(buckets) < 10 {
				t.Fatalf("refresh times bunch up: [%v, %v] over %d of 10 buckets", lo, hi, len(buckets))
			}
		})
	}
}

// TestBackoffDelays: retryBase doubled per failure, capped at MinRefresh,
// jittered over [d/2, d].
func TestBackoffDelays(t *testing.T) {
	cfg := RemoteConfig{MinRefresh: time.Minute}
	for failures, d := range map[int]time.Duration{1: time.Second, 2: 2 * time.Second, 6: 32 * time.Second, 7: time.Minute, 1000: time.Minute} {
		for i := 0; i < 100; i++ {
			if got := cfg.backoff(failures); got < d/2 || got > d {
				t.Fatalf("backoff(%d) = %v, want within [%v, %v]", failures, got, d/2, d)
			}
		}
	}
}

// fleetOrigin is one JWKS endpoint for a whole fleet: it answers with
// Cache-Control: max-age=300 and an ETag, and 304 to a matching
// If-None-Match. It is its own http.RoundTripper, in memory.
type fleetOrigin struct {
	start time.Time

	mu          sync.Mutex
	body        []byte
	etag        string
	requests    int
	notModified int
	perMinute   map[int]int
}

func (o *fleetOrigin) RoundTrip(req *http.Request) (*http.Response, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.requests++
	o.perMinute[int(time.Since(o.start)/time.Minute)]++
	resp := &http.Response{
		StatusCode: http.StatusOK,
		Header:     http.Header{"Cache-Control": {"max-age=300"}, "Etag": {o.etag}},
		Body:       io.NopCloser(bytes.NewReader(o.body)),
		Request:    req,
	}
	if req.Header.Get("If-None-Match") == o.etag {
		o.notModified++
		resp.StatusCode, resp.Body = http.StatusNotModified, http.NoBody
	}
	return resp, nil
}

// TestFleet: 1,000 Remotes with the default configuration against one
// origin (max-age 300 s, ETag) over a simulated day: the instances start
// at random in the first five minutes, the origin publishes a new key at
// noon, and each instance looks its key up exactly when its snapshot says
// a lookup may start a request (the busiest traffic; real traffic can only
// come later and make fewer). Scaled to 10,000 instances, the origin must
// see at most 35 requests a second, at least 95% of them 304, and no
// instance serves a set older than max-age. (Each refresh comes at a
// uniform point of [0.95, 1] × max-age, so the mean rate is 10,000 /
// 292.5 s = 34.2/s by construction; over about 300,000 requests a run
// varies by well under 1%.)
func TestFleet(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		const (
			fleet = 1000
			day   = 24 * time.Hour
		)
		ks := testkeys.Load()
		jwksOf := func(kids ...string) []byte {
			var keys []any
			for i, kid := range kids {
				k := []any{&ks.RSA1.PublicKey, &ks.RSA2.PublicKey}[i]
				m, err := mint.JWK(k, kid, "RS256")
				if err != nil {
					t.Fatal(err)
				}
				keys = append(keys, m)
			}
			b, _ := json.Marshal(map[string]any{"keys": keys})
			return b
		}
		o := &fleetOrigin{start: time.Now(), body: jwksOf("A"), etag: `"1"`, perMinute: map[int]int{}}
		client := &http.Client{Transport: o}
		go func() {
			time.Sleep(day / 2)
			o.mu.Lock()
			o.body, o.etag = jwksOf("A", "B"), `"2"`
			o.mu.Unlock()
		}()
		var wg sync.WaitGroup
		var failed atomic.Int32
		var oldest atomic.Int64
		for i := 0; i < fleet; i++ {
			r, err := NewRemote("https://issuer.example/jwks", RemoteConfig{Client: client})
			if err != nil {
				t.Fatal(err)
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				defer r.Close()
				time.Sleep(rand.N(300 * time.Second)) // a rolling start
				for time.Since(o.start) < day {
					if s := r.snap.Load(); s != nil {
						age := int64(time.Since(r.epoch) - s.fetched)
						for cur := oldest.Load(); age > cur && !oldest.CompareAndSwap(cur, age); cur = oldest.Load() {
						}
					}
					if _, err := r.Key(context.Background(), jwtverify.Lookup{KID: "A", Alg: "RS256"}); err != nil {
						failed.Add(1)
						return
					}
					r.mu.Lock()
					var ch <-chan singleflight.Result
					if r.st.inFlight {
						ch = r.joinLocked().ch
					}
					r.mu.Unlock()
					if ch != nil {
						<-ch
					}
					time.Sleep(r.snap.Load().check - time.Since(r.epoch))
				}
			}()
		}
		wg.Wait()
		if failed.Load() > 0 {
			t.Fatalf("%d instances failed a lookup", failed.Load())
		}
		o.mu.Lock()
		defer o.mu.Unlock()
		rate := float64(o.requests) / day.Seconds()
		share := float64(o.notModified) / float64(o.requests)
		peak := 0
		for _, n := range o.perMinute {
			peak = max(peak, n)
		}
		t.Logf("%d instances over %v: %d requests, %.2f/s (scaled to 10,000 instances: %.1f/s), %.2f%% of them 304; busiest minute %.2f/s (scaled %.1f/s); oldest set served %v",
			fleet, day, o.requests, rate, rate*10, 100*share, float64(peak)/60, float64(peak)/6, time.Duration(oldest.Load()))
		if rate*10 > 35 || share < 0.95 {
			t.Errorf("scaled to 10,000 instances: %.1f requests/s (want at most 35), %.2f%% 304 (want at least 95%%)", rate*10, 100*share)
		}
		if max := 300 * time.Second; time.Duration(oldest.Load()) > max {
			t.Errorf("an instance served a set %v old, past max-age", time.Duration(oldest.Load()))
		}
	})
}
