package tracing_test

import (
	"context"
	"errors"
	"slices"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"go.opentelemetry.io/otel/codes"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"

	"github.com/jwtverify/jwtverify"
	"github.com/jwtverify/jwtverify/keyset"
	"github.com/jwtverify/jwtverify/tracing"
)

// The tests of the Remote hooks run in a synctest bubble, where time is
// fake and moves only when every goroutine waits, against an origin
// reached in memory.

// newRemote returns a Remote of jwksURL served by o, with the hooks of each
// of trs installed in cfg in turn, closed by t.Cleanup.
func newRemote(t *testing.T, o *origin, cfg keyset.RemoteConfig, trs ...*tracing.Tracer) *keyset.Remote {
	t.Helper()
	cfg.Client = o.client()
	for _, tr := range trs {
		tr.Remote(&cfg)
	}
	r, err := keyset.NewRemote(jwksURL, cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(r.Close)
	return r
}

// checkFetchSpan fails unless s is a SpanFetch span, a client span that
// is the root of a trace of its own (none of others'), with exactly the
// attributes want and the links links.
func checkFetchSpan(t *testing.T, s sdktrace.ReadOnlySpan, want map[string]string, links []trace.SpanContext, others ...trace.SpanContext) {
	t.Helper()
	if s.Name() != tracing.SpanFetch || s.SpanKind() != trace.SpanKindClient {
		t.Errorf("span %q of kind %v, want %q, client", s.Name(), s.SpanKind(), tracing.SpanFetch)
	}
	if s.Parent().IsValid() {
		t.Errorf("fetch span has parent %v, want a new root", s.Parent())
	}
	for _, o := range others {
		if s.SpanContext().TraceID() == o.TraceID() {
			t.Errorf("fetch span is in the trace of %v, want a trace of its own", o)
		}
	}
	checkAttrs(t, s, want)
	if got := linked(s); !slices.EqualFunc(got, links, trace.SpanContext.Equal) {
		t.Errorf("fetch span links to %v, want %v", got, links)
	}
}

// byParent returns the span of spans whose parent is parent.
func byParent(t *testing.T, spans []sdktrace.ReadOnlySpan, parent trace.SpanContext) sdktrace.ReadOnlySpan {
	t.Helper()
	for _, s := range spans {
		if s.Parent().Equal(parent) {
			return s
		}
	}
	t.Fatalf("no span is a child of %v", parent)
	return nil
}

type result struct {
	tok *jwtverify.Token
	err error
}

// TestFetchSharedAndLinked: two callers, each in a span of its own, wait
// for one request, which the first triggered. There is one fetch span, a
// new root, linked to the triggering caller's verify span and current in
// the HTTP request's context; each caller's verify span links to it; the
// triggering caller gives up (its context is cancelled) without ending
// the fetch, which goes on for the other caller, and ends once, when the
// request does, with its outcome and the URL without its secrets.
func TestFetchSharedAndLinked(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		tp, rec := newProvider(t)
		tr := tracing.New(tp)
		k := newKeys()
		o := newOrigin(t, k.jwks())
		entered := o.hangRequests()
		v := tr.Verifier(newVerifier(t, newRemote(t, o, keyset.RemoteConfig{}, tr)))
		token := sign(k.k1, "k1", claims(nil))

		callers := tp.Tracer("test")
		ctxA, cancelA := context.WithCancel(context.Background())
		ctxA, parentA := callers.Start(ctxA, "caller A")
		ctxB, parentB := callers.Start(context.Background(), "caller B")
		doneA, doneB := make(chan result, 1), make(chan result, 1)
		go func() { tok, err := v.Verify(ctxA, token); doneA <- result{tok, err} }()
		<-entered // A's lookup started the request, which hangs
		go func() { tok, err := v.Verify(ctxB, token); doneB <- result{tok, err} }()
		synctest.Wait()             // B waits for the request too
		time.Sleep(2 * time.Second) // the request takes 2s
		cancelA()                   // A gives up
		if res := <-doneA; jwtverify.Class(res.err) != "keys_unavailable" {
			t.Fatalf("A: %v, %v, want keys_unavailable", res.tok, res.err)
		}
		synctest.Wait()
		if n := len(named(rec.Ended(), tracing.SpanFetch)); n != 0 {
			t.Fatalf("A's cancellation ended %d fetch spans", n)
		}
		if n := len(named(rec.Started(), tracing.SpanFetch)); n != 1 {
			t.Fatalf("%d fetch spans started, want 1", n)
		}
		select {
		case res := <-doneB:
			t.Fatalf("B returned %v, %v before the request ended", res.tok, res.err)
		default:
		}
		o.release()
		if res := <-doneB; res.err != nil {
			t.Fatalf("B: %v", res.err)
		}
		parentA.End()
		parentB.End()

		if n := o.requests.Load(); n != 1 {
			t.Fatalf("%d requests, want 1", n)
		}
		fetches := named(rec.Ended(), tracing.SpanFetch)
		if len(fetches) != 1 {
			t.Fatalf("%d fetch spans ended, want 1", len(fetches))
		}
		f := fetches[0]
		verifies := named(rec.Ended(), tracing.SpanVerify)
		if len(verifies) != 2 {
			t.Fatalf("%d verify spans, want 2", len(verifies))
		}
		vA := byParent(t, verifies, parentA.SpanContext())
		vB := byParent(t, verifies, parentB.SpanContext())
		checkFetchSpan(t, f, map[string]string{
			"jwtverify.jwks.trigger": "initial", "jwtverify.jwks.outcome": "updated",
			"jwtverify.jwks.keys": "1", "jwtverify.jwks.skipped": "0",
			"jwtverify.jwks.duration": "2", "jwtverify.jwks.age": "0", "url.full": shownURL,
		}, []trace.SpanContext{vA.SpanContext()}, parentA.SpanContext(), parentB.SpanContext())
		if d := f.EndTime().Sub(f.StartTime()); d != 2*time.Second {
			t.Errorf("fetch span lasts %v, want the request's 2s", d)
		}
		if st := f.Status(); st.Code != codes.Unset {
			t.Errorf("fetch span status %v, want unset", st)
		}
		if got := o.requestSpans(); len(got) != 1 || !got[0].Equal(f.SpanContext()) {
			t.Errorf("the HTTP request carried spans %v, want the fetch span %v", got, f.SpanContext())
		}
		for name, s := range map[string]sdktrace.ReadOnlySpan{"A": vA, "B": vB} {
			if got := linked(s); len(got) != 1 || !got[0].Equal(f.SpanContext()) {
				t.Errorf("%s's verify span links to %v, want the fetch span %v", name, got, f.SpanContext())
			}
		}
		checkAttrs(t, vA, map[string]string{"jwtverify.result": "keys_unavailable"})
		checkAttrs(t, vB, map[string]string{
			"jwt.alg": "EdDSA", "jwt.kid": "k1", "jwt.iss": issuer, "jwtverify.result": "valid",
		})
		checkNoLeak(t, rec.Ended(), slices.Concat([]string{token}, claimSecrets(), urlSecrets())...)
	})
}

// TestFetchFailed: a failed request's span has the outcome "failed", the
// status Error with the error's text, which shows neither the URL's
// userinfo nor its query, and the waiting caller's verify span links to
// it.
func TestFetchFailed(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		tp, rec := newProvider(t)
		tr := tracing.New(tp)
		k := newKeys()
		o := newOrigin(t, k.jwks())
		o.failWith(errors.New(transportFailure))
		v := tr.Verifier(newVerifier(t, newRemote(t, o, keyset.RemoteConfig{}, tr)))
		token := sign(k.k1, "k1", claims(nil))
		parent, _, err := verifyIn(tp, v, token)
		if jwtverify.Class(err) != "keys_unavailable" {
			t.Fatalf("Verify: %v, want keys_unavailable", err)
		}
		fetches := named(rec.Ended(), tracing.SpanFetch)
		if len(fetches) != 1 {
			t.Fatalf("%d fetch spans, want 1", len(fetches))
		}
		f := fetches[0]
		vs := byParent(t, named(rec.Ended(), tracing.SpanVerify), parent)
		checkFetchSpan(t, f, map[string]string{
			"jwtverify.jwks.trigger": "initial", "jwtverify.jwks.outcome": "failed",
			"jwtverify.jwks.keys": "0", "jwtverify.jwks.skipped": "0",
			"jwtverify.jwks.duration": "0", "jwtverify.jwks.age": "0", "url.full": shownURL,
		}, []trace.SpanContext{vs.SpanContext()}, parent)
		if st := f.Status(); st.Code != codes.Error || !strings.Contains(st.Description, transportFailure) {
			t.Errorf("fetch span status %v, want Error with %q", st, transportFailure)
		}
		if got := linked(vs); len(got) != 1 || !got[0].Equal(f.SpanContext()) {
			t.Errorf("verify span links to %v, want the fetch span %v", got, f.SpanContext())
		}
		checkNoLeak(t, rec.Ended(), slices.Concat([]string{token}, claimSecrets(), urlSecrets())...)
	})
}

// TestFetchScheduled: a scheduled refresh, which no caller waits for,
// links to the span of the caller whose lookup found the set due, and
// that caller's span gets no link.
func TestFetchScheduled(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		tp, rec := newProvider(t)
		tr := tracing.New(tp)
		k := newKeys()
		o := newOrigin(t, k.jwks())
		v := tr.Verifier(newVerifier(t, newRemote(t, o, keyset.RemoteConfig{}, tr)))
		token := sign(k.k1, "k1", claims(map[string]any{"exp": time.Now().Add(24 * time.Hour).Unix()}))
		first, _, err := verifyIn(tp, v, token)
		if err != nil {
			t.Fatal(err)
		}
		time.Sleep(5 * time.Minute) // the default MinRefresh: the set is due
		second, _, err := verifyIn(tp, v, token)
		if err != nil {
			t.Fatal(err)
		}
		synctest.Wait() // the refresh, in the background
		if n := o.requests.Load(); n != 2 {
			t.Fatalf("%d requests, want 2", n)
		}
		fetches := named(rec.Ended(), tracing.SpanFetch)
		verifies := named(rec.Ended(), tracing.SpanVerify)
		if len(fetches) != 2 || len(verifies) != 2 {
			t.Fatalf("%d fetch spans and %d verify spans, want 2 and 2", len(fetches), len(verifies))
		}
		v1, v2 := byParent(t, verifies, first), byParent(t, verifies, second)
		initial, scheduled := fetches[0], fetches[1]
		if attrs(initial)["jwtverify.jwks.trigger"] != "initial" {
			t.Fatalf("first fetch span %v, want the initial request", attrs(initial))
		}
		checkFetchSpan(t, scheduled, map[string]string{
			"jwtverify.jwks.trigger": "scheduled", "jwtverify.jwks.outcome": "updated",
			"jwtverify.jwks.keys": "1", "jwtverify.jwks.skipped": "0",
			"jwtverify.jwks.duration": "0", "jwtverify.jwks.age": "0", "url.full": shownURL,
		}, []trace.SpanContext{v2.SpanContext()}, first, second)
		if got := linked(v2); len(got) != 0 {
			t.Errorf("the verify span that did not wait links to %v", got)
		}
		if got := linked(v1); len(got) != 1 || !got[0].Equal(initial.SpanContext()) {
			t.Errorf("the first verify span links to %v, want the initial fetch %v", got, initial.SpanContext())
		}
	})
}

type ctxKey string

// recorder records the calls of the hooks it installs.
type recorder struct {
	mu    sync.Mutex
	calls []string
}

func (r *recorder) add(call string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.calls = append(r.calls, call)
}

func (r *recorder) get() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.calls)
}

// value returns the string ctx holds under key.
func value(ctx context.Context, key string) string {
	s, _ := ctx.Value(ctxKey(key)).(string)
	return s
}

// hooks returns a RemoteConfig with hooks that r records: OnFetch adds
// a value to the request's context, which OnWait and OnRefresh report.
func (r *recorder) hooks() keyset.RemoteConfig {
	return keyset.RemoteConfig{
		OnFetch: func(ctx context.Context, trigger string) context.Context {
			r.add("fetch " + trigger + " " + value(ctx, "caller"))
			return context.WithValue(ctx, ctxKey("prev"), "prev-value")
		},
		OnWait: func(caller, request context.Context) {
			r.add("wait " + value(caller, "caller") + " " + value(request, "prev"))
		},
		OnRefresh: func(ctx context.Context, ev keyset.RefreshEvent) {
			r.add("refresh " + ev.Outcome + " " + value(ctx, "prev"))
		},
	}
}

// checkCalls fails unless the hooks of recorder.hooks were called once
// each, with the caller's value and the value the previous OnFetch put
// in the request's context. OnWait and OnRefresh may come in either
// order: a request can end before the caller that started it waits.
func checkCalls(t *testing.T, got []string) {
	t.Helper()
	want := []string{"fetch initial A", "refresh updated prev-value", "wait A prev-value"}
	slices.Sort(got)
	if !slices.Equal(got, want) {
		t.Fatalf("previous hooks called %q, want %q in any order", got, want)
	}
}

// TestHooksChained: hooks set before Remote are still called, with what
// they would get alone, and two Tracers installed on one RemoteConfig
// (as the metrics adapter may be beside this one) each make their own
// fetch span, which the waiting caller's span links to, each once.
func TestHooksChained(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		tp1, rec1 := newProvider(t)
		tp2, rec2 := newProvider(t)
		tr1, tr2 := tracing.New(tp1), tracing.New(tp2)
		k := newKeys()
		o := newOrigin(t, k.jwks())
		var calls recorder
		v := tr1.Verifier(newVerifier(t, newRemote(t, o, calls.hooks(), tr1, tr2)))
		ctx := context.WithValue(context.Background(), ctxKey("caller"), "A")
		ctx, parent := tp1.Tracer("test").Start(ctx, "caller")
		if _, err := v.Verify(ctx, sign(k.k1, "k1", claims(nil))); err != nil {
			t.Fatal(err)
		}
		parent.End()
		checkCalls(t, calls.get())
		vs := byParent(t, named(rec1.Ended(), tracing.SpanVerify), parent.SpanContext())
		f1, f2 := named(rec1.Ended(), tracing.SpanFetch), named(rec2.Ended(), tracing.SpanFetch)
		if len(f1) != 1 || len(f2) != 1 {
			t.Fatalf("%d and %d fetch spans, want one of each Tracer", len(f1), len(f2))
		}
		for _, f := range []sdktrace.ReadOnlySpan{f1[0], f2[0]} {
			checkFetchSpan(t, f, map[string]string{
				"jwtverify.jwks.trigger": "initial", "jwtverify.jwks.outcome": "updated",
				"jwtverify.jwks.keys": "1", "jwtverify.jwks.skipped": "0",
				"jwtverify.jwks.duration": "0", "jwtverify.jwks.age": "0", "url.full": shownURL,
			}, []trace.SpanContext{vs.SpanContext()}, parent.SpanContext())
		}
		wantLinks := []trace.SpanContext{f1[0].SpanContext(), f2[0].SpanContext()}
		if got := linked(vs); !slices.EqualFunc(got, wantLinks, trace.SpanContext.Equal) {
			t.Errorf("verify span links to %v, want both fetch spans %v", got, wantLinks)
		}
		// The span last installed is the one current in the request.
		if got := o.requestSpans(); len(got) != 1 || !got[0].Equal(f2[0].SpanContext()) {
			t.Errorf("the HTTP request carried spans %v, want %v", got, f2[0].SpanContext())
		}
	})
}

// TestNoopRemote: the hooks of a Tracer that records nothing still call
// the hooks they chain, and add no link to the caller's span.
func TestNoopRemote(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		tp, rec := newProvider(t)
		k := newKeys()
		o := newOrigin(t, k.jwks())
		var calls recorder
		v := newVerifier(t, newRemote(t, o, calls.hooks(), tracing.New(nil)))
		ctx := context.WithValue(context.Background(), ctxKey("caller"), "A")
		ctx, parent := tp.Tracer("test").Start(ctx, "caller")
		if _, err := v.Verify(ctx, sign(k.k1, "k1", claims(nil))); err != nil {
			t.Fatal(err)
		}
		parent.End()
		checkCalls(t, calls.get())
		spans := rec.Ended()
		if len(spans) != 1 || len(spans[0].Links()) != 0 {
			t.Fatalf("spans %v, want the caller's alone, without links", spans)
		}
	})
}
