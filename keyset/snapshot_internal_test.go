package keyset

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/jwtverify/jwtverify"
	"github.com/jwtverify/jwtverify/internal/mint"
	"github.com/jwtverify/jwtverify/internal/testkeys"
)

// stubOrigin answers every request with its status and body, in memory;
// while hang is set, requests wait for it to be closed, then answer with
// the status and body of that moment.
type stubOrigin struct {
	mu     sync.Mutex
	status int
	body   string
	hang   chan struct{}
}

func (o *stubOrigin) RoundTrip(req *http.Request) (*http.Response, error) {
	o.mu.Lock()
	hang := o.hang
	o.mu.Unlock()
	if hang != nil {
		select {
		case <-hang:
		case <-req.Context().Done():
			return nil, req.Context().Err()
		}
	}
	o.mu.Lock()
	status, body := o.status, o.body
	o.mu.Unlock()
	return &http.Response{StatusCode: status, Body: io.NopCloser(strings.NewReader(body)), Header: http.Header{}, Request: req}, nil
}

// TestCheckDeadline: the snapshot's check deadline follows the refresh
// state, so that lookups before it have nothing to ask that state: the
// refresh time when idle, the set's stale time while a request is in
// flight and after Close, the end of the backoff after a failure.
func TestCheckDeadline(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		jwk, err := mint.JWK(&testkeys.Load().P256.PublicKey, "A", "ES256")
		if err != nil {
			t.Fatal(err)
		}
		b, _ := json.Marshal(map[string]any{"keys": []any{jwk}})
		o := &stubOrigin{status: http.StatusOK, body: string(b)}
		r, err := NewRemote("https://issuer.example/jwks", RemoteConfig{Client: &http.Client{Transport: o}})
		if err != nil {
			t.Fatal(err)
		}
		defer r.Close()
		ctx := context.Background()
		l := jwtverify.Lookup{KID: "A", Alg: "ES256"}
		if _, err := r.Key(ctx, l); err != nil {
			t.Fatal(err)
		}
		s := r.snap.Load()
		if s.check != s.refresh || s.refresh-s.fetched < defaultMinRefresh*19/20 || s.stale-s.fetched != defaultMaxStale {
			t.Fatalf("idle: check %v, refresh %v, stale %v, fetched %v", s.check, s.refresh, s.stale, s.fetched)
		}

		hang := make(chan struct{})
		o.mu.Lock()
		o.hang = hang
		o.mu.Unlock()
		time.Sleep(s.check - time.Since(r.epoch))
		if _, err := r.Key(ctx, l); err != nil { // due: starts a request, which hangs
			t.Fatal(err)
		}
		synctest.Wait() // the request waits for hang
		if s := r.snap.Load(); s.check != s.stale {
			t.Fatalf("with a request in flight: check %v, want the stale time %v", s.check, s.stale)
		}

		o.mu.Lock()
		o.hang, o.status = nil, http.StatusInternalServerError
		o.mu.Unlock()
		close(hang)
		synctest.Wait() // the request has failed
		r.mu.Lock()
		retryAt := r.st.retryAt
		r.mu.Unlock()
		if s := r.snap.Load(); s.check != retryAt || retryAt <= time.Since(r.epoch) {
			t.Fatalf("after a failure: check %v, want the end of the backoff %v (now %v)", s.check, retryAt, time.Since(r.epoch))
		}

		r.Close()
		if s := r.snap.Load(); s.check != s.stale {
			t.Fatalf("after Close: check %v, want the stale time %v", s.check, s.stale)
		}
	})
}
