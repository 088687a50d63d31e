package metrics_test

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"maps"
	"math"
	"net/http"
	"net/http/httptest"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/jwtverify/jwtverify"
	"github.com/jwtverify/jwtverify/access"
	"github.com/jwtverify/jwtverify/backends/native"
	"github.com/jwtverify/jwtverify/dpop"
	"github.com/jwtverify/jwtverify/jwttest"
	"github.com/jwtverify/jwtverify/keyset"
	"github.com/jwtverify/jwtverify/metrics"
	"github.com/jwtverify/jwtverify/middleware"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/prometheus/client_golang/prometheus/testutil"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
)

const (
	verificationsName = "jwtverify_verifications_total"
	durationName      = "jwtverify_verify_duration_seconds"
	refreshName       = "jwtverify_jwks_refresh_total"
	ageName           = "jwtverify_jwks_age_seconds"
	replayErrorsName  = "jwtverify_replay_store_errors_total"
)

// register registers m in a new pedantic registry, which also checks at
// each gather that what Collect sends matches what Describe declared.
func register(t *testing.T, m *metrics.Metrics) *prometheus.Registry {
	t.Helper()
	reg := prometheus.NewPedanticRegistry()
	if err := reg.Register(m); err != nil {
		t.Fatalf("Register: %v", err)
	}
	return reg
}

// scrape serves reg with promhttp.HandlerFor, as a service does, and
// parses the response body with the text parser of prometheus/common.
// It returns the families and the body.
func scrape(t *testing.T, reg prometheus.Gatherer) (map[string]*dto.MetricFamily, string) {
	t.Helper()
	req := httptest.NewRequest(http.MethodGet, "/metrics", nil)
	req.Header.Set("Accept", "text/plain; version=0.0.4")
	rec := httptest.NewRecorder()
	promhttp.HandlerFor(reg, promhttp.HandlerOpts{}).ServeHTTP(rec, req)
	resp := rec.Result()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET /metrics: %s\n%s", resp.Status, rec.Body)
	}
	if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/plain") {
		t.Fatalf("Content-Type %q, want the text format", ct)
	}
	body := rec.Body.String()
	p := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := p.TextToMetricFamilies(strings.NewReader(body))
	if err != nil {
		t.Fatalf("parsing the exposition: %v\n%s", err, body)
	}
	return fams, body
}

// names returns the sorted names of fams.
func names(fams map[string]*dto.MetricFamily) []string {
	return slices.Sorted(maps.Keys(fams))
}

// family returns the family name of type typ, failing if it is absent or
// of another type.
func family(t *testing.T, fams map[string]*dto.MetricFamily, name string, typ dto.MetricType) *dto.MetricFamily {
	t.Helper()
	f, ok := fams[name]
	if !ok {
		t.Fatalf("no family %s; families: %v", name, names(fams))
	}
	if f.GetType() != typ {
		t.Fatalf("%s is a %v, want %v", name, f.GetType(), typ)
	}
	return f
}

// key renders the labels of s as "name=value,..." in name order.
func key(s *dto.Metric) string {
	var pairs []string
	for _, l := range s.GetLabel() {
		pairs = append(pairs, l.GetName()+"="+l.GetValue())
	}
	sort.Strings(pairs)
	return strings.Join(pairs, ",")
}

// counters returns the values of the series of the counter family name,
// by their labels (see key).
func counters(t *testing.T, fams map[string]*dto.MetricFamily, name string) map[string]float64 {
	t.Helper()
	out := map[string]float64{}
	for _, s := range family(t, fams, name, dto.MetricType_COUNTER).GetMetric() {
		k := key(s)
		if _, dup := out[k]; dup {
			t.Fatalf("%s has two series {%s}", name, k)
		}
		out[k] = s.GetCounter().GetValue()
	}
	return out
}

// checkCounters fails unless the counter family name has exactly want.
func checkCounters(t *testing.T, fams map[string]*dto.MetricFamily, name string, want map[string]float64) {
	t.Helper()
	if got := counters(t, fams, name); !maps.Equal(got, want) {
		t.Errorf("%s:\n got %v\nwant %v", name, got, want)
	}
}

// histogram returns the one series of the duration histogram, which must
// be labelled backend="<backend>" alone and have the command's buckets.
func histogram(t *testing.T, fams map[string]*dto.MetricFamily, backend string) *dto.Histogram {
	t.Helper()
	f := family(t, fams, durationName, dto.MetricType_HISTOGRAM)
	if len(f.GetMetric()) != 1 {
		t.Fatalf("%s has %d series, want 1", durationName, len(f.GetMetric()))
	}
	s := f.GetMetric()[0]
	if k := key(s); k != "backend="+backend {
		t.Fatalf("%s has labels {%s}, want {backend=%s}", durationName, k, backend)
	}
	h := s.GetHistogram()
	// The buckets of the command's histogram.
	wantBuckets := []float64{.00005, .0001, .00025, .0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1}
	var bounds []float64
	for _, b := range h.GetBucket() {
		if !math.IsInf(b.GetUpperBound(), 1) {
			bounds = append(bounds, b.GetUpperBound())
		}
	}
	if !slices.Equal(bounds, wantBuckets) {
		t.Fatalf("%s buckets %v, want %v", durationName, bounds, wantBuckets)
	}
	return h
}

// cumulative returns the cumulative count of h's bucket le.
func cumulative(t *testing.T, h *dto.Histogram, le float64) uint64 {
	t.Helper()
	for _, b := range h.GetBucket() {
		if b.GetUpperBound() == le {
			return b.GetCumulativeCount()
		}
	}
	t.Fatalf("no bucket le=%v", le)
	return 0
}

// age returns the value of the age gauge, failing if it is absent.
func age(t *testing.T, reg prometheus.Gatherer) float64 {
	t.Helper()
	fams, _ := scrape(t, reg)
	f := family(t, fams, ageName, dto.MetricType_GAUGE)
	if len(f.GetMetric()) != 1 || key(f.GetMetric()[0]) != "" {
		t.Fatalf("%s: %v, want one series without labels", ageName, f.GetMetric())
	}
	return f.GetMetric()[0].GetGauge().GetValue()
}

// checkAbsent fails if the exposition has a family called name, even one
// without samples.
func checkAbsent(t *testing.T, fams map[string]*dto.MetricFamily, body, name string) {
	t.Helper()
	if _, ok := fams[name]; ok || strings.Contains(body, name) {
		t.Errorf("%s is exposed, want it absent:\n%s", name, body)
	}
}

type verifyFunc func(ctx context.Context, token string) (*jwtverify.Token, error)

func (f verifyFunc) Verify(ctx context.Context, token string) (*jwtverify.Token, error) {
	return f(ctx, token)
}

type storeFunc func(ctx context.Context, id string, until time.Time) (bool, error)

func (f storeFunc) Remember(ctx context.Context, id string, until time.Time) (bool, error) {
	return f(ctx, id, until)
}

func TestObserve(t *testing.T) {
	m := metrics.New("native")
	reg := register(t, m)
	ctx := context.Background()
	for _, o := range []middleware.Outcome{
		{Route: "/a", Duration: 500 * time.Microsecond},
		{Route: "/a", Duration: 250 * time.Millisecond},
		{Route: "/a", Status: 401, Class: "expired", Code: "invalid_token", Description: "expired", Duration: time.Millisecond},
		// A Require refusal and missing credentials: Verify was not called.
		{Route: "/a", Status: 403, Class: "policy", Code: "insufficient_scope"},
		{Route: "/a", Status: 401, Class: "missing"},
	} {
		m.Observe(ctx, o)
	}
	fams, body := scrape(t, reg)
	if got, want := names(fams), []string{verificationsName, durationName}; !slices.Equal(got, want) {
		t.Errorf("families %v, want %v", got, want)
	}
	checkCounters(t, fams, verificationsName, map[string]float64{
		"backend=native,result=valid":   2,
		"backend=native,result=expired": 1,
		"backend=native,result=policy":  1,
		"backend=native,result=missing": 1,
	})
	h := histogram(t, fams, "native")
	if h.GetSampleCount() != 3 {
		t.Errorf("histogram count %d, want 3 (the outcomes with a Duration)", h.GetSampleCount())
	}
	if got, want := h.GetSampleSum(), 0.2515; math.Abs(got-want) > 1e-12 {
		t.Errorf("histogram sum %v, want %v", got, want)
	}
	for le, want := range map[float64]uint64{.00025: 0, .0005: 1, .001: 2, .1: 2, .25: 3, 1: 3} {
		if got := cumulative(t, h, le); got != want {
			t.Errorf("bucket le=%v: %d, want %d", le, got, want)
		}
	}
	// No refresh, no Remote, no wrapped store: none of their families.
	for _, name := range []string{refreshName, ageName, replayErrorsName} {
		checkAbsent(t, fams, body, name)
	}
}

// TestResults: every class of jwtverify and of the middleware is its own
// result; any other class, "valid" included, is "error".
func TestResults(t *testing.T) {
	var classes []string
	for _, sentinel := range []error{
		jwtverify.ErrTooLarge, jwtverify.ErrMalformed, jwtverify.ErrUnsupported, jwtverify.ErrType,
		jwtverify.ErrAlgorithm, jwtverify.ErrKeysUnavailable, jwtverify.ErrUnknownKey, jwtverify.ErrSignature,
		jwtverify.ErrMissingClaim, jwtverify.ErrIssuer, jwtverify.ErrAudience, jwtverify.ErrExpired,
		jwtverify.ErrNotYetValid, jwtverify.ErrIssuedInFuture,
	} {
		classes = append(classes, jwtverify.Class(jwtverify.Reject(sentinel, "detail")))
	}
	classes = append(classes, "policy", "missing", "invalid_request", "insecure", "error",
		"binding", "dpop_proof", "dpop_nonce", "dpop_replay_store")

	m := metrics.New("golang-jwt")
	reg := register(t, m)
	ctx := context.Background()
	want := map[string]float64{}
	for _, c := range classes {
		m.Observe(ctx, middleware.Outcome{Status: 401, Class: c})
		want["backend=golang-jwt,result="+c] = 1
	}
	for _, c := range []string{"valid", "Expired", "quota_exceeded", "expired "} {
		m.Observe(ctx, middleware.Outcome{Status: 401, Class: c})
		want["backend=golang-jwt,result=error"]++
	}
	m.Observe(ctx, middleware.Outcome{})
	want["backend=golang-jwt,result=valid"] = 1
	fams, _ := scrape(t, reg)
	checkCounters(t, fams, verificationsName, want)
	if n := len(fams[verificationsName].GetMetric()); n != 24 {
		t.Errorf("%d series, want 24: the documented bound", n)
	}
}

func TestVerifier(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		m := metrics.New("jwx")
		reg := register(t, m)
		good := &jwtverify.Token{}
		expired := jwtverify.Reject(jwtverify.ErrExpired, "exp is 2 minutes past")
		broken := errors.New("backend unreachable")
		type ctxKey struct{}
		var tokens []string
		v := m.Verifier(verifyFunc(func(ctx context.Context, token string) (*jwtverify.Token, error) {
			if ctx.Value(ctxKey{}) != "caller" {
				t.Errorf("Verify got another context")
			}
			tokens = append(tokens, token)
			time.Sleep(2 * time.Millisecond) // fake time: exactly 2ms
			switch token {
			case "good":
				return good, nil
			case "old":
				return nil, expired
			case "broken":
				return nil, broken
			}
			return nil, nil
		}))
		ctx := context.WithValue(context.Background(), ctxKey{}, "caller")
		if tok, err := v.Verify(ctx, "good"); tok != good || err != nil {
			t.Errorf("Verify(good) = %v, %v; want the inner token", tok, err)
		}
		if tok, err := v.Verify(ctx, "old"); tok != nil || err != expired {
			t.Errorf("Verify(old) = %v, %v; want the inner rejection", tok, err)
		}
		if tok, err := v.Verify(ctx, "broken"); tok != nil || err != broken {
			t.Errorf("Verify(broken) = %v, %v; want the inner error", tok, err)
		}
		if tok, err := v.Verify(ctx, "nothing"); tok != nil || err != nil {
			t.Errorf("Verify(nothing) = %v, %v; want nil, nil", tok, err)
		}
		if want := []string{"good", "old", "broken", "nothing"}; !slices.Equal(tokens, want) {
			t.Errorf("inner Verify got %q, want %q", tokens, want)
		}

		fams, _ := scrape(t, reg)
		checkCounters(t, fams, verificationsName, map[string]float64{
			"backend=jwx,result=valid":   1,
			"backend=jwx,result=expired": 1,
			"backend=jwx,result=error":   2, // an error of no class; no token and no error
		})
		h := histogram(t, fams, "jwx")
		if h.GetSampleCount() != 4 {
			t.Errorf("histogram count %d, want 4: every Verify is timed", h.GetSampleCount())
		}
		if got := h.GetSampleSum(); math.Abs(got-0.008) > 1e-12 {
			t.Errorf("histogram sum %v, want 0.008", got)
		}
		if a, b := cumulative(t, h, .001), cumulative(t, h, .0025); a != 0 || b != 4 {
			t.Errorf("buckets le=0.001: %d, le=0.0025: %d; want 0 and 4", a, b)
		}
	})
}

func TestVerifierPanicsOnNil(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Error("Verifier(nil) did not panic")
		}
	}()
	metrics.New("native").Verifier(nil)
}

func TestOnRefresh(t *testing.T) {
	m := metrics.New("native")
	reg := register(t, m)
	ctx := context.Background()
	for _, ev := range []keyset.RefreshEvent{
		{Trigger: "initial", Outcome: "updated", Keys: 2},
		{Trigger: "scheduled", Outcome: "not_modified"},
		{Trigger: "stale", Outcome: "failed", Err: errors.New("503")},
		{Trigger: "unknown_kid", Outcome: "failed", Err: errors.New("503")},
		{Trigger: "unknown_kid", Outcome: "failed", Err: errors.New("503")},
		{Trigger: "manual", Outcome: "updated"},
		{Trigger: "cron", Outcome: "partial"}, // not documented: other, other
	} {
		ev.URL = "https://idp.example/tenant-a/jwks"
		m.OnRefresh(ctx, ev)
	}
	fams, body := scrape(t, reg)
	checkCounters(t, fams, refreshName, map[string]float64{
		"outcome=updated,trigger=initial":        1,
		"outcome=not_modified,trigger=scheduled": 1,
		"outcome=failed,trigger=stale":           1,
		"outcome=failed,trigger=unknown_kid":     2,
		"outcome=updated,trigger=manual":         1,
		"outcome=other,trigger=other":            1,
	})
	if strings.Contains(body, "idp.example") {
		t.Errorf("the exposition shows the URL:\n%s", body)
	}
	checkAbsent(t, fams, body, verificationsName)
}

// TestKeySets: against a JWKS served over HTTP, the age gauge is absent
// until every Remote has a set, then shows the oldest.
func TestKeySets(t *testing.T) {
	is := jwttest.NewIssuer("ES256")
	t.Cleanup(is.Close)
	m := metrics.New("native")
	reg := register(t, m)
	remote := func() *keyset.Remote {
		r, err := keyset.NewRemote(is.URL+"/jwks", keyset.RemoteConfig{OnRefresh: m.OnRefresh})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(r.Close)
		return r
	}
	a, b := remote(), remote()
	ctx := context.Background()

	fams, body := scrape(t, reg)
	checkAbsent(t, fams, body, ageName) // before KeySets
	m.KeySets(a, b)
	fams, body = scrape(t, reg)
	checkAbsent(t, fams, body, ageName) // no set yet
	start := time.Now()
	if err := a.Refresh(ctx); err != nil {
		t.Fatal(err)
	}
	fams, body = scrape(t, reg)
	checkAbsent(t, fams, body, ageName) // b has none yet
	if err := b.Refresh(ctx); err != nil {
		t.Fatal(err)
	}
	got := age(t, reg)
	if elapsed := time.Since(start).Seconds(); got < 0 || got > elapsed {
		t.Errorf("age %v s, want within [0, %v]: the sets were fetched since", got, elapsed)
	}
	fams, _ = scrape(t, reg)
	checkCounters(t, fams, refreshName, map[string]float64{"outcome=updated,trigger=manual": 2})

	m.KeySets() // no Remotes: no gauge
	fams, body = scrape(t, reg)
	checkAbsent(t, fams, body, ageName)
}

// origin serves a JWKS in memory, so that Remotes run in fake time.
type origin []byte

func (o origin) RoundTrip(*http.Request) (*http.Response, error) {
	rec := httptest.NewRecorder()
	rec.Header().Set("Content-Type", "application/json")
	rec.Write(o)
	return rec.Result(), nil
}

func newOrigin(t *testing.T) origin {
	pub, _, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return origin(fmt.Sprintf(`{"keys":[{"kty":"OKP","crv":"Ed25519","kid":"k1","alg":"EdDSA","use":"sig","x":%q}]}`,
		base64.RawURLEncoding.EncodeToString(pub)))
}

// TestKeySetsOldest: in fake time, the gauge is the age of the oldest set,
// to the second.
func TestKeySetsOldest(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		m := metrics.New("native")
		reg := register(t, m)
		client := &http.Client{Transport: newOrigin(t)}
		remote := func(url string) *keyset.Remote {
			r, err := keyset.NewRemote(url, keyset.RemoteConfig{Client: client, OnRefresh: m.OnRefresh})
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(r.Close)
			return r
		}
		a, b := remote("https://a.example/jwks"), remote("https://b.example/jwks")
		m.KeySets(a, b)
		refresh := func(r *keyset.Remote) {
			t.Helper()
			if err := r.Refresh(context.Background()); err != nil {
				t.Fatal(err)
			}
		}
		refresh(a)
		time.Sleep(10 * time.Second)
		refresh(b)
		if got := age(t, reg); got != 10 {
			t.Errorf("age %v, want 10 (a's)", got)
		}
		time.Sleep(5 * time.Second)
		if got := age(t, reg); got != 15 {
			t.Errorf("age %v, want 15 (a's)", got)
		}
		refresh(a)
		if got := age(t, reg); got != 5 {
			t.Errorf("age %v, want 5 (b's, now the oldest)", got)
		}
		fams, _ := scrape(t, reg)
		checkCounters(t, fams, refreshName, map[string]float64{"outcome=updated,trigger=manual": 3})
	})
}

func TestKeySetsPanicsOnNil(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Error("KeySets(nil) did not panic")
		}
	}()
	metrics.New("native").KeySets(nil)
}

func TestReplayStore(t *testing.T) {
	m := metrics.New("native")
	reg := register(t, m)
	fams, body := scrape(t, reg)
	checkAbsent(t, fams, body, replayErrorsName) // no store wrapped

	errDown := errors.New("dial tcp 127.0.0.1:6379: connection refused")
	type call struct {
		id    string
		until time.Time
	}
	var calls []call
	failing := m.ReplayStore(storeFunc(func(_ context.Context, id string, until time.Time) (bool, error) {
		calls = append(calls, call{id, until})
		return false, errDown
	}))
	working := m.ReplayStore(dpop.NewMemoryStore(16))
	replays := func() float64 {
		t.Helper()
		fams, _ := scrape(t, reg)
		got := counters(t, fams, replayErrorsName)
		if len(got) != 1 {
			t.Fatalf("%s: %v, want one series without labels", replayErrorsName, got)
		}
		return got[""]
	}
	if n := replays(); n != 0 {
		t.Errorf("%v errors before any Remember, want 0", n)
	}

	ctx := context.Background()
	until := time.Now().Add(time.Minute)
	if seen, err := working.Remember(ctx, "proof-1", until); seen || err != nil {
		t.Errorf("first Remember = %v, %v; want false, nil", seen, err)
	}
	if seen, err := working.Remember(ctx, "proof-1", until); !seen || err != nil {
		t.Errorf("second Remember = %v, %v; want true, nil (a replay)", seen, err)
	}
	for i := range 3 {
		if _, err := failing.Remember(ctx, fmt.Sprint("proof-", i), until); err != errDown {
			t.Errorf("failing Remember: %v, want the store's error", err)
		}
	}
	if want := []call{{"proof-0", until}, {"proof-1", until}, {"proof-2", until}}; !slices.Equal(calls, want) {
		t.Errorf("the store got %v, want %v", calls, want)
	}
	// A request the middleware refused for the store's error counts as a
	// verification result, not as a second store error.
	m.Observe(ctx, middleware.Outcome{Status: 503, Class: "dpop_replay_store"})
	if n := replays(); n != 3 {
		t.Errorf("%v errors, want 3", n)
	}
	fams, _ = scrape(t, reg)
	checkCounters(t, fams, verificationsName, map[string]float64{"backend=native,result=dpop_replay_store": 1})
}

// TestNoSecretsInOutput: tokens in outcomes, errors and classes, and the
// userinfo and query of a JWKS URL, never reach the exposition; what they
// came with is counted under fixed label values.
func TestNoSecretsInOutput(t *testing.T) {
	const token = "eyJhbGciOiJFUzI1NiIsImtpZCI6InNlY3JldC1raWQifQ.eyJzdWIiOiJhbGljZSJ9.c2VjcmV0LXNpZ25hdHVyZQ"
	const url = "https://user:hunter2@idp.example/jwks?key=s3cr3t"
	m := metrics.New("native")
	reg := register(t, m)
	ctx := context.Background()
	m.Observe(ctx, middleware.Outcome{Route: "/t/" + token, Status: 401, Class: "signature", Code: "invalid_token",
		Description: token, Err: jwtverify.Reject(jwtverify.ErrSignature, "token "+token), Duration: time.Millisecond})
	m.Observe(ctx, middleware.Outcome{Route: token, Status: 503, Class: token, Err: errors.New(token)}) // a careless caller
	m.Verifier(verifyFunc(func(_ context.Context, tok string) (*jwtverify.Token, error) {
		return nil, fmt.Errorf("cannot parse %s", tok)
	})).Verify(ctx, token)
	m.Verifier(verifyFunc(func(_ context.Context, tok string) (*jwtverify.Token, error) {
		return nil, jwtverify.Reject(jwtverify.ErrMalformed, tok)
	})).Verify(ctx, token)
	m.OnRefresh(ctx, keyset.RefreshEvent{URL: url, Trigger: token, Outcome: "failed", Err: errors.New("GET " + url + ": 500")})
	m.ReplayStore(storeFunc(func(context.Context, string, time.Time) (bool, error) {
		return false, errors.New("store refused " + token)
	})).Remember(ctx, token, time.Now().Add(time.Minute))

	fams, body := scrape(t, reg)
	for _, secret := range []string{token, "eyJ", "c2VjcmV0", "hunter2", "s3cr3t", "idp.example", "cannot parse"} {
		if strings.Contains(body, secret) {
			t.Errorf("the exposition contains %q:\n%s", secret, body)
		}
	}
	checkCounters(t, fams, verificationsName, map[string]float64{
		"backend=native,result=signature": 1,
		"backend=native,result=malformed": 1,
		"backend=native,result=error":     2,
	})
	checkCounters(t, fams, refreshName, map[string]float64{"outcome=failed,trigger=other": 1})
	checkCounters(t, fams, replayErrorsName, map[string]float64{"": 1})
}

// TestMiddleware wires Metrics as a service does: Observe to a middleware
// verifying with keys of a Remote whose OnRefresh and age it reports.
func TestMiddleware(t *testing.T) {
	is := jwttest.NewIssuer("ES256")
	t.Cleanup(is.Close)
	m := metrics.New("native")
	reg := register(t, m)
	keys, err := keyset.NewRemote(is.URL+"/jwks", keyset.RemoteConfig{OnRefresh: m.OnRefresh})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(keys.Close)
	m.KeySets(keys)
	v, err := native.New(jwtverify.Config{Keys: keys, Issuers: []string{is.URL}, Audiences: []string{"api"}})
	if err != nil {
		t.Fatal(err)
	}
	mw, err := middleware.New(v, middleware.Options{Observe: m.Observe})
	if err != nil {
		t.Fatal(err)
	}
	ok := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {})
	open := mw.Handler(ok)
	admin := mw.Handler(mw.Require(access.Roles("admin"))(ok))

	claims := func(exp time.Time) map[string]any {
		return map[string]any{"iss": is.URL, "sub": "alice", "aud": "api", "exp": exp.Unix()}
	}
	valid, expired := is.Sign(nil, claims(time.Now().Add(time.Hour))), is.Sign(nil, claims(time.Now().Add(-time.Hour)))
	for _, c := range []struct {
		h     http.Handler
		token string
		want  int
	}{
		{open, valid, http.StatusOK},
		{open, expired, http.StatusUnauthorized},
		{open, "", http.StatusUnauthorized},
		{admin, valid, http.StatusForbidden},
	} {
		req := httptest.NewRequest(http.MethodGet, "/", nil)
		if c.token != "" {
			req.Header.Set("Authorization", "Bearer "+c.token)
		}
		rec := httptest.NewRecorder()
		c.h.ServeHTTP(rec, req)
		if rec.Code != c.want {
			t.Fatalf("status %d, want %d", rec.Code, c.want)
		}
	}

	fams, body := scrape(t, reg)
	checkCounters(t, fams, verificationsName, map[string]float64{
		"backend=native,result=valid":   2, // the admin request passed the Handler, then Require refused it
		"backend=native,result=policy":  1,
		"backend=native,result=expired": 1,
		"backend=native,result=missing": 1,
	})
	if n := histogram(t, fams, "native").GetSampleCount(); n != 3 {
		t.Errorf("histogram count %d, want 3: the requests with a token", n)
	}
	checkCounters(t, fams, refreshName, map[string]float64{"outcome=updated,trigger=initial": 1})
	if a := age(t, reg); a < 0 {
		t.Errorf("age %v, want at least 0", a)
	}
	for _, tok := range []string{valid, expired} {
		if strings.Contains(body, tok) {
			t.Errorf("the exposition contains a token")
		}
	}
}

// TestConcurrent runs every method with scrapes in parallel; under -race
// it checks the synchronization, and the totals check no count is lost.
func TestConcurrent(t *testing.T) {
	const workers, rounds = 8, 200
	m := metrics.New("native")
	reg := register(t, m)
	store := m.ReplayStore(storeFunc(func(context.Context, string, time.Time) (bool, error) { return false, errors.New("down") }))
	v := m.Verifier(verifyFunc(func(context.Context, string) (*jwtverify.Token, error) { return &jwtverify.Token{}, nil }))
	ctx := context.Background()
	done := make(chan struct{})
	var scrapes sync.WaitGroup
	scrapes.Go(func() {
		for {
			select {
			case <-done:
				return
			default:
				if _, err := reg.Gather(); err != nil {
					t.Error(err)
					return
				}
			}
		}
	})
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for i := range rounds {
				m.Observe(ctx, middleware.Outcome{Class: "expired", Duration: time.Millisecond})
				v.Verify(ctx, "token")
				m.OnRefresh(ctx, keyset.RefreshEvent{Trigger: "scheduled", Outcome: "not_modified"})
				store.Remember(ctx, "id", time.Now())
				if i%50 == 0 {
					m.KeySets()
				}
			}
		})
	}
	wg.Wait()
	close(done)
	scrapes.Wait()

	fams, _ := scrape(t, reg)
	n := float64(workers * rounds)
	checkCounters(t, fams, verificationsName, map[string]float64{"backend=native,result=expired": n, "backend=native,result=valid": n})
	checkCounters(t, fams, refreshName, map[string]float64{"outcome=not_modified,trigger=scheduled": n})
	checkCounters(t, fams, replayErrorsName, map[string]float64{"": n})
	if c := histogram(t, fams, "native").GetSampleCount(); c != uint64(2*n) {
		t.Errorf("histogram count %d, want %v", c, 2*n)
	}
}

// TestRegistration: New registers nothing globally; one Metrics may be
// registered in several registries; a second Metrics in the same registry
// is refused, as documented.
func TestRegistration(t *testing.T) {
	m := metrics.New("native")
	m.Observe(context.Background(), middleware.Outcome{})
	global, err := prometheus.DefaultGatherer.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range global {
		if strings.HasPrefix(f.GetName(), "jwtverify_") {
			t.Errorf("the default registry has %s", f.GetName())
		}
	}
	r1, r2 := register(t, m), register(t, m)
	for _, reg := range []*prometheus.Registry{r1, r2} {
		fams, _ := scrape(t, reg)
		checkCounters(t, fams, verificationsName, map[string]float64{"backend=native,result=valid": 1})
	}
	if err := r1.Register(metrics.New("jwx")); err == nil {
		t.Error("a second Metrics was registered in the same registry")
	}
}

func TestNewPanicsOnInvalidUTF8(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Error("New with invalid UTF-8 did not panic")
		}
	}()
	metrics.New("native\xff")
}

// TestLint: client_golang's linter finds nothing to fault in the families
// (names, units, counter suffixes, help).
func TestLint(t *testing.T) {
	m := metrics.New("native")
	ctx := context.Background()
	m.Observe(ctx, middleware.Outcome{Duration: time.Millisecond})
	m.OnRefresh(ctx, keyset.RefreshEvent{Trigger: "initial", Outcome: "updated"})
	m.ReplayStore(dpop.NewMemoryStore(1))
	r, err := keyset.NewRemote("https://idp.example/jwks", keyset.RemoteConfig{Client: &http.Client{Transport: newOrigin(t)}})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	if err := r.Refresh(ctx); err != nil {
		t.Fatal(err)
	}
	m.KeySets(r)
	problems, err := testutil.CollectAndLint(m)
	if err != nil {
		t.Fatal(err)
	}
	if n := testutil.CollectAndCount(m); n != 5 {
		t.Fatalf("linted %d series, want 5: one of each family", n)
	}
	for _, p := range problems {
		t.Errorf("%s: %s", p.Metric, p.Text)
	}
}
