package keyset_test

import (
	"context"
	"crypto/rsa"
	"net/http"
	"slices"
	"sync"
	"testing"
	"testing/synctest"

	"github.com/jwtverify/jwtverify/keyset"
)

type ctxKey string

// TestFetchHooks: OnFetch gets the triggering caller's context values and
// trigger, and the context it returns is the request's: the HTTP request
// and OnRefresh get its values; OnWait is called for every caller that
// waits, with the caller's own context and that request context; and the
// triggering caller's cancellation, which its context values ride along
// with, reaches neither the request nor the other caller.
func TestFetchHooks(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := newFixture()
		o := newOrigin(t, jwks(t, map[string]*rsa.PrivateKey{"A": f.a}))
		entered := o.hangRequests()
		var mu sync.Mutex
		var fetches []string
		var waits [][2]any
		var refreshCtx context.Context
		var reqSpan any
		r := f.remote(t, o, func(c *keyset.RemoteConfig) {
			c.Client = &http.Client{Transport: roundTripFunc(func(req *http.Request) (*http.Response, error) {
				mu.Lock()
				reqSpan = req.Context().Value(ctxKey("span"))
				mu.Unlock()
				return o.RoundTrip(req)
			})}
			c.OnFetch = func(ctx context.Context, trigger string) context.Context {
				mu.Lock()
				defer mu.Unlock()
				if ctx.Done() != nil {
					t.Error("OnFetch's context can be cancelled")
				}
				fetches = append(fetches, trigger+":"+ctx.Value(ctxKey("caller")).(string))
				return context.WithValue(ctx, ctxKey("span"), "fetch-span")
			}
			c.OnWait = func(caller, request context.Context) {
				mu.Lock()
				defer mu.Unlock()
				waits = append(waits, [2]any{caller.Value(ctxKey("caller")), request.Value(ctxKey("span"))})
			}
			c.OnRefresh = func(ctx context.Context, ev keyset.RefreshEvent) {
				mu.Lock()
				defer mu.Unlock()
				refreshCtx = ctx
			}
		})
		ctxA, cancelA := context.WithCancel(context.WithValue(context.Background(), ctxKey("caller"), "A"))
		done := make(chan error, 2)
		go func() { _, err := r.Key(ctxA, plausible("A")); done <- err }()
		<-entered
		ctxB := context.WithValue(context.Background(), ctxKey("caller"), "B")
		go func() { _, err := r.Key(ctxB, plausible("A")); done <- err }()
		synctest.Wait()
		cancelA() // A gives up; the request goes on for B
		<-done
		o.release()
		if err := <-done; err != nil {
			t.Fatalf("B: %v", err)
		}
		mu.Lock()
		defer mu.Unlock()
		if len(fetches) != 1 || fetches[0] != "initial:A" {
			t.Fatalf("OnFetch calls %q, want one with A's context", fetches)
		}
		// In either order: A's OnWait may come after the request began.
		if len(waits) != 2 || !slices.Contains(waits, [2]any{"A", "fetch-span"}) || !slices.Contains(waits, [2]any{"B", "fetch-span"}) {
			t.Fatalf("OnWait calls %v, want A and B, each with the request's context", waits)
		}
		if refreshCtx == nil || refreshCtx.Value(ctxKey("span")) != "fetch-span" || refreshCtx.Err() != nil {
			t.Fatalf("OnRefresh context: values %v, err %v", refreshCtx.Value(ctxKey("span")), refreshCtx.Err())
		}
		if reqSpan != "fetch-span" {
			t.Fatalf("the HTTP request's context has span %v, want OnFetch's", reqSpan)
		}
	})
}
