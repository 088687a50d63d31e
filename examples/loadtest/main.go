// Command loadtest drives an API behind the jwtverify middleware with
// concurrent clients on loopback while the issuer (a fake, package
// jwttest) rotates its keys
// (publishing each new key ahead of use, retiring the old one after) and
// its JWKS endpoint fails intermittently. Every client sends valid tokens
// and hostile ones (tampered, expired, wrong audience, alg none, unknown
// kid) and checks each verdict. It reports wrong verdicts (which must be
// zero), throughput and latency percentiles. It is bounded in time and
// talks only to loopback.
//
//	go run ./examples/loadtest -duration 20s -clients 32
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"os"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jwtverify/jwtverify"
	"github.com/jwtverify/jwtverify/backends/golangjwt"
	"github.com/jwtverify/jwtverify/jwttest"
	"github.com/jwtverify/jwtverify/keyset"
	"github.com/jwtverify/jwtverify/middleware"
)

func main() {
	duration := flag.Duration("duration", 10*time.Second, "how long to run (at most 5m)")
	clients := flag.Int("clients", 16, "concurrent clients (at most 256)")
	flag.Parse()
	r, err := run(min(*duration, 5*time.Minute), max(1, min(*clients, 256)))
	if err != nil {
		log.Fatal(err)
	}
	r.print(os.Stdout)
	if r.wrong() > 0 {
		os.Exit(1)
	}
}

// report is what the load test measured.
type report struct {
	duration                   time.Duration
	clients                    int
	validOK, validRejected     atomic.Int64
	validRetired               atomic.Int64
	invalidRejected, invalidOK atomic.Int64
	rotations, outages         int
	fetches                    int
	latencies                  []time.Duration
}

func (r *report) wrong() int64 { return r.validRejected.Load() + r.invalidOK.Load() }

func (r *report) print(w io.Writer) {
	total := r.validOK.Load() + r.validRejected.Load() + r.invalidOK.Load() + r.invalidRejected.Load()
	sort.Slice(r.latencies, func(i, j int) bool { return r.latencies[i] < r.latencies[j] })
	pct := func(p float64) time.Duration {
		if len(r.latencies) == 0 {
			return 0
		}
		return r.latencies[min(len(r.latencies)-1, int(p*float64(len(r.latencies))))]
	}
	fmt.Fprintf(w, "%d clients for %v: %d requests (%.0f/s); %d key rotations, %d JWKS outages, %d JWKS requests\n",
		r.clients, r.duration, total, float64(total)/r.duration.Seconds(), r.rotations, r.outages, r.fetches)
	fmt.Fprintf(w, "valid tokens:   %d accepted, %d rejected (and %d signed by a key retired in flight)\n", r.validOK.Load(), r.validRejected.Load(), r.validRetired.Load())
	fmt.Fprintf(w, "hostile tokens: %d rejected, %d accepted\n", r.invalidRejected.Load(), r.invalidOK.Load())
	fmt.Fprintf(w, "latency (client, loopback HTTP): p50 %v, p90 %v, p99 %v, max %v\n", pct(.50), pct(.90), pct(.99), pct(1))
}

func run(duration time.Duration, clients int) (*report, error) {
	is := jwttest.NewIssuer("ES256")
	defer is.Close()
	keys, err := keyset.NewRemote(is.URL+"/jwks", keyset.RemoteConfig{
		MinRefresh: 300 * time.Millisecond, MaxRefresh: 300 * time.Millisecond, UnknownKIDInterval: 100 * time.Millisecond,
	})
	if err != nil {
		return nil, err
	}
	defer keys.Close()
	v, err := golangjwt.New(jwtverify.Config{Keys: keys, Algorithms: []string{"ES256"}, Issuers: []string{is.URL}, Audiences: []string{"api"}})
	if err != nil {
		return nil, err
	}
	mw, err := middleware.New(v, middleware.Options{})
	if err != nil {
		return nil, err
	}
	api := httptest.NewServer(mw.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "ok") })))
	defer api.Close()
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: clients}, Timeout: 10 * time.Second}

	rep := &report{duration: duration, clients: clients}
	ctx, cancel := context.WithTimeout(context.Background(), duration)
	defer cancel()

	// The issuer: every 1.5 s publish a key, 1 s later sign with it, 1 s
	// later retire the old one; the endpoint is down 400 ms of every 1.1 s.
	// signing is the kid clients sign with; a kid is marked retired before
	// Retire, so a client whose token failed because its key was retired
	// finds it marked.
	var signing atomic.Value
	signing.Store("key-1")
	var retired sync.Map
	var adminWG sync.WaitGroup
	adminWG.Add(2)
	go func() {
		defer adminWG.Done()
		for ctx.Err() == nil {
			if !sleep(ctx, 1500*time.Millisecond) {
				return
			}
			old := signing.Load().(string)
			next := is.Rotate() // published; clients keep signing with old
			if !sleep(ctx, time.Second) {
				return
			}
			signing.Store(next)
			if !sleep(ctx, time.Second) {
				return
			}
			retired.Store(old, true)
			is.Retire(old)
			rep.rotations++
		}
	}()
	go func() {
		defer adminWG.Done()
		for ctx.Err() == nil {
			if !sleep(ctx, 700*time.Millisecond) {
				return
			}
			is.SetFailing(true)
			rep.outages++
			sleep(ctx, 400*time.Millisecond)
			is.SetFailing(false)
		}
	}()

	var mu sync.Mutex
	var wg sync.WaitGroup
	for c := 0; c < clients; c++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var lat []time.Duration
			for ctx.Err() == nil {
				kid := signing.Load().(string)
				token, valid := pick(is, kid)
				start := time.Now()
				req, _ := http.NewRequest("GET", api.URL, nil)
				req.Header.Set("Authorization", "Bearer "+token)
				resp, err := client.Do(req)
				if err != nil {
					if ctx.Err() == nil {
						rep.validRejected.Add(1) // a transport failure counts against us
					}
					continue
				}
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				lat = append(lat, time.Since(start))
				switch {
				case valid && resp.StatusCode == 200:
					rep.validOK.Add(1)
				case valid && isRetired(&retired, kid):
					rep.validRetired.Add(1) // minted just before its key was retired: allowed to fail
				case valid:
					rep.validRejected.Add(1)
				case resp.StatusCode == 200:
					rep.invalidOK.Add(1)
				default:
					rep.invalidRejected.Add(1)
				}
			}
			mu.Lock()
			rep.latencies = append(rep.latencies, lat...)
			mu.Unlock()
		}()
	}
	wg.Wait()
	adminWG.Wait()
	rep.fetches = is.JWKSRequests()
	return rep, nil
}

func sleep(ctx context.Context, d time.Duration) bool {
	select {
	case <-ctx.Done():
		return false
	case <-time.After(d):
		return true
	}
}

func isRetired(retired *sync.Map, kid string) bool {
	_, ok := retired.Load(kid)
	return ok
}

// pick returns a token signed with the key kid or, half the time, a
// hostile one.
func pick(is *jwttest.Issuer, kid string) (token string, valid bool) {
	sign := func(kid, aud string, ttl time.Duration) string {
		return is.Sign(map[string]any{"kid": kid}, map[string]any{
			"iss": is.URL, "sub": "client", "aud": aud, "exp": time.Now().Add(ttl).Unix(),
		})
	}
	good := sign(kid, "api", time.Minute)
	switch rand.IntN(10) {
	case 0:
		return good[:len(good)-6] + "AAAAAA", false // tampered signature
	case 1:
		return sign(kid, "other-api", time.Minute), false // wrong audience
	case 2:
		return sign(kid, "api", -time.Minute), false // expired
	case 3:
		return jwttest.Sign("none", nil, nil, map[string]any{"iss": is.URL, "aud": "api"}), false // alg none
	case 4:
		return sign("intruder", "api", time.Minute), false // unknown kid
	}
	return good, true
}
