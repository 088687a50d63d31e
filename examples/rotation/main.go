// Command rotation shows key rotation end to end: a fake issuer (package
// jwttest) on loopback rotates
// its signing key three times, switching to each new key at once and
// retiring the previous one shortly after, while clients keep calling an
// API behind the middleware with fresh tokens. No request with a valid
// token fails: a token naming a new kid refreshes the key set (at most
// once per UnknownKIDInterval), and a retired key stops verifying when the
// refresh that saw it go completes.
package main

import (
	"context"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jwtverify/jwtverify"
	"github.com/jwtverify/jwtverify/backends/jwx"
	"github.com/jwtverify/jwtverify/jwttest"
	"github.com/jwtverify/jwtverify/keyset"
	"github.com/jwtverify/jwtverify/middleware"
)

func main() {
	if err := run(os.Stdout, 400*time.Millisecond); err != nil {
		log.Fatal(err)
	}
}

// result counts what the clients saw.
type result struct {
	requests, ok, failed, retired, staleRejected atomic.Int64
}

func run(out io.Writer, every time.Duration) error {
	is := jwttest.NewIssuer("ES256")
	defer is.Close()
	keys, err := keyset.NewRemote(is.URL+"/jwks", keyset.RemoteConfig{UnknownKIDInterval: every / 2})
	if err != nil {
		return err
	}
	defer keys.Close()
	v, err := jwx.New(jwtverify.Config{Keys: keys, Algorithms: []string{"ES256"}, Issuers: []string{is.URL}, Audiences: []string{"api"}})
	if err != nil {
		return err
	}
	mw, err := middleware.New(v, middleware.Options{})
	if err != nil {
		return err
	}
	api := httptest.NewServer(mw.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "ok") })))
	defer api.Close()

	// The kid clients sign with, and the kids retired: each is marked
	// before Retire, so a client whose token failed because its key was
	// retired finds it marked.
	var signing atomic.Value
	signing.Store("key-1")
	var retired sync.Map
	token := func(kid, sub string, ttl time.Duration) string {
		return is.Sign(map[string]any{"kid": kid}, map[string]any{
			"iss": is.URL, "sub": sub, "aud": "api", "exp": time.Now().Add(ttl).Unix(),
		})
	}

	var res result
	ctx, stop := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	for c := 0; c < 4; c++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for ctx.Err() == nil {
				kid := signing.Load().(string)
				req, _ := http.NewRequest("GET", api.URL, nil)
				req.Header.Set("Authorization", "Bearer "+token(kid, "client", time.Minute))
				resp, err := http.DefaultClient.Do(req)
				res.requests.Add(1)
				_, wasRetired := retired.Load(kid)
				switch {
				case err == nil && resp.StatusCode == 200:
					res.ok.Add(1)
				case wasRetired:
					res.retired.Add(1) // minted just before its key was retired: allowed to fail
				default:
					res.failed.Add(1)
				}
				if resp != nil {
					io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
				}
			}
		}()
	}

	// An old token kept by a client that stopped refreshing it.
	stale := token("key-1", "sleepy", time.Hour)
	for i := 0; i < 3; i++ {
		time.Sleep(every)
		old := signing.Load().(string)
		kid := is.Rotate()
		signing.Store(kid) // new tokens are signed with the new key at once
		time.Sleep(every / 4)
		retired.Store(old, true)
		is.Retire(old)
		fmt.Fprintf(out, "rotated %s -> %s, retired %s\n", old, kid, old)
	}
	time.Sleep(every)
	stop()
	wg.Wait()

	// The retired key stops verifying once a refresh has seen it go.
	if err := keys.Refresh(context.Background()); err != nil {
		return err
	}
	if _, err := v.Verify(context.Background(), stale); err != nil {
		res.staleRejected.Add(1)
		fmt.Fprintf(out, "token of a retired key: %s\n", jwtverify.Class(err))
	}
	fmt.Fprintf(out, "requests %d, accepted %d, failed %d (and %d signed by a key retired in flight), JWKS fetches %d\n",
		res.requests.Load(), res.ok.Load(), res.failed.Load(), res.retired.Load(), is.JWKSRequests())
	if res.failed.Load() != 0 || res.staleRejected.Load() != 1 {
		return fmt.Errorf("%d requests with valid tokens failed; retired key rejected: %v", res.failed.Load(), res.staleRejected.Load() == 1)
	}
	return nil
}
