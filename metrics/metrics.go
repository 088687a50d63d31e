package metrics

import (
	"context"
	"fmt"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"github.com/jwtverify/jwtverify"
	"github.com/jwtverify/jwtverify/dpop"
	"github.com/jwtverify/jwtverify/keyset"
	"github.com/jwtverify/jwtverify/middleware"
	"github.com/prometheus/client_golang/prometheus"
)

// The families' names.
const (
	verificationsName = "jwtverify_verifications_total"
	durationName      = "jwtverify_verify_duration_seconds"
	refreshName       = "jwtverify_jwks_refresh_total"
	ageName           = "jwtverify_jwks_age_seconds"
	replayErrorsName  = "jwtverify_replay_store_errors_total"
)

// Metrics counts verifications, JWKS refreshes and replay store errors
// and reports the age of key sets, as a [prometheus.Collector]: register it
// (reg.MustRegister(m)). Make one with [New]; the zero
// Metrics is not usable. Every method is safe for
// concurrent use by multiple goroutines, with each other and with scrapes.
//
// Two Metrics cannot be registered in one registry (their families
// collide: the registry refuses the second); a service has one Metrics,
// and may register it in several registries, which then show the same
// counts.
type Metrics struct {
	backend string

	results  labels          // the values of result: "valid" first
	verified []atomic.Uint64 // by index in results

	triggers, outcomes labels
	refreshed          []atomic.Uint64 // by trigger index*len(outcomes.names) + outcome index

	duration prometheus.Histogram

	remotes atomic.Pointer[[]*keyset.Remote] // nil: KeySets was never called

	replayWrapped atomic.Bool // ReplayStore was called: the replay counter is shown
	replayErrors  atomic.Uint64

	verificationsDesc, refreshDesc, ageDesc, replayDesc *prometheus.Desc
}

// labels is a fixed set of label values, and the index of each.
type labels struct {
	names []string
	index map[string]int
	other int // the index of a value not in the set
}

// newLabels returns the labels of names, in which a value not in names
// is counted as other, which must be one of them.
func newLabels(other string, names ...string) labels {
	l := labels{names: names, index: make(map[string]int, len(names))}
	for i, n := range names {
		l.index[n] = i
	}
	l.other = l.index[other]
	return l
}

// of returns the index of v, or that of the value that stands for all
// the others.
func (l labels) of(v string) int {
	if i, ok := l.index[v]; ok {
		return i
	}
	return l.other
}

// New returns a Metrics whose verification families have the label
// backend="<backend>": the name of the JOSE backend that verifies
// ("golang-jwt", "jwx", "native"), a name of the caller's, never data from
// a request. It registers nothing: the caller registers the Metrics, which
// the caller owns. New panics if backend is not valid UTF-8, which no
// Prometheus label value may be.
func New(backend string) *Metrics {
	if !utf8.ValidString(backend) {
		panic(fmt.Sprintf("metrics: New: backend %q is not valid UTF-8", backend))
	}
	m := &Metrics{
		backend: backend,
		results: newLabels("error", "valid",
			// The rejection classes of jwtverify.Class, in check order.
			"too_large", "malformed", "unsupported", "type", "algorithm",
			"keys_unavailable", "unknown_key", "signature", "missing_claim",
			"issuer", "audience", "expired", "not_yet_valid", "issued_in_future",
			// The middleware's own classes (middleware.Outcome.Class).
			"policy", "missing", "invalid_request", "insecure", "error",
			"binding", "dpop_proof", "dpop_nonce", "dpop_replay_store"),
		triggers: newLabels("other", "initial", "scheduled", "stale", "unknown_kid", "manual", "other"),
		outcomes: newLabels("other", "updated", "not_modified", "failed", "other"),
		duration: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:        durationName,
			Help:        "Time to verify a token.",
			ConstLabels: prometheus.Labels{"backend": backend},
			Buckets:     []float64{.00005, .0001, .00025, .0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1},
		}),
		verificationsDesc: prometheus.NewDesc(verificationsName,
			"Verifications by result: valid, a rejection class, or why the middleware refused the request (policy, missing, invalid_request, insecure, error, binding, dpop_*).",
			[]string{"result"}, prometheus.Labels{"backend": backend}),
		refreshDesc: prometheus.NewDesc(refreshName,
			"Requests to the JWKS endpoint by trigger and outcome.",
			[]string{"trigger", "outcome"}, nil),
		ageDesc: prometheus.NewDesc(ageName,
			"Age of the oldest key set in use (since its last 200 or 304).", nil, nil),
		replayDesc: prometheus.NewDesc(replayErrorsName,
			"Errors of the DPoP replay store: proofs refused because the store could not tell whether they were replays.", nil, nil),
	}
	// The index of "" is that of "valid": a request passed on, a token
	// verified. "valid" itself is no class and counts as "error".
	m.results.index[""] = 0
	delete(m.results.index, "valid")
	m.verified = make([]atomic.Uint64, len(m.results.names))
	m.refreshed = make([]atomic.Uint64, len(m.triggers.names)*len(m.outcomes.names))
	return m
}

// Describe sends the descriptors of every family to ch, for
// [prometheus.Registerer]; it is called by the registry.
func (m *Metrics) Describe(ch chan<- *prometheus.Desc) {
	ch <- m.verificationsDesc
	m.duration.Describe(ch)
	ch <- m.refreshDesc
	ch <- m.ageDesc
	ch <- m.replayDesc
}

// Collect sends the current values to ch, for [prometheus.Gatherer]; it is
// called by the registry at each scrape. A counter series is sent once it
// has counted; the age gauge when every key set given to KeySets has a
// set (computed now, from their Age); the replay counter once ReplayStore
// has wrapped a store.
func (m *Metrics) Collect(ch chan<- prometheus.Metric) {
	for i := range m.verified {
		if n := m.verified[i].Load(); n > 0 {
			ch <- prometheus.MustNewConstMetric(m.verificationsDesc, prometheus.CounterValue, float64(n), m.results.names[i])
		}
	}
	m.duration.Collect(ch)
	for i := range m.refreshed {
		if n := m.refreshed[i].Load(); n > 0 {
			t, o := i/len(m.outcomes.names), i%len(m.outcomes.names)
			ch <- prometheus.MustNewConstMetric(m.refreshDesc, prometheus.CounterValue, float64(n), m.triggers.names[t], m.outcomes.names[o])
		}
	}
	if age, ok := m.age(); ok {
		ch <- prometheus.MustNewConstMetric(m.ageDesc, prometheus.GaugeValue, age.Seconds())
	}
	if m.replayWrapped.Load() {
		ch <- prometheus.MustNewConstMetric(m.replayDesc, prometheus.CounterValue, float64(m.replayErrors.Load()))
	}
}

// Observe counts one outcome of a middleware, and is meant to be
// middleware.Options.Observe: in jwtverify_verifications_total, as result
// "valid" when o.Class is "" and as o.Class otherwise (a class outside the
// documented set as "error"); and, when o.Duration is positive (Verify
// was called), in jwtverify_verify_duration_seconds. It reads neither
// o.Route, o.Description nor o.Err, and never counts replay store errors
// (see [Metrics.ReplayStore]). ctx is not used.
func (m *Metrics) Observe(_ context.Context, o middleware.Outcome) {
	m.verified[m.results.of(o.Class)].Add(1)
	if o.Duration > 0 {
		m.duration.Observe(o.Duration.Seconds())
	}
}

// Verifier returns a middleware.Verifier that verifies with v, timing
// each Verify in jwtverify_verify_duration_seconds and counting its result
// in jwtverify_verifications_total: "valid" for a token, the rejection
// class of the error ([jwtverify.Class]) otherwise, and "error" for an
// error of no class or a nil token without an error. It returns v's
// results unchanged. It is for code that verifies without the middleware;
// do not also give it to a middleware observed by [Metrics.Observe], which
// would count each request twice. The returned Verifier is safe for
// concurrent use when v is. Verifier panics if v is nil.
func (m *Metrics) Verifier(v middleware.Verifier) middleware.Verifier {
	if v == nil {
		panic("metrics: Verifier(nil)")
	}
	return &verifier{m: m, v: v}
}

type verifier struct {
	m *Metrics
	v middleware.Verifier
}

func (w *verifier) Verify(ctx context.Context, token string) (*jwtverify.Token, error) {
	start := time.Now()
	tok, err := w.v.Verify(ctx, token)
	w.m.duration.Observe(time.Since(start).Seconds())
	i := w.m.results.of("error")
	switch class := jwtverify.Class(err); {
	case err == nil && tok != nil:
		i = w.m.results.of("")
	case class != "":
		i = w.m.results.of(class)
	}
	w.m.verified[i].Add(1)
	return tok, err
}

// OnRefresh counts one request for a JWKS in jwtverify_jwks_refresh_total
// by ev.Trigger and ev.Outcome (a value outside the documented sets as
// "other"), and is meant to be keyset.RemoteConfig.OnRefresh, for any
// number of Remotes. It reads no other field of ev. ctx is not used.
func (m *Metrics) OnRefresh(_ context.Context, ev keyset.RefreshEvent) {
	m.refreshed[m.triggers.of(ev.Trigger)*len(m.outcomes.names)+m.outcomes.of(ev.Outcome)].Add(1)
}

// KeySets sets the Remotes whose age jwtverify_jwks_age_seconds reports,
// replacing those of any earlier call: at each scrape, the largest Age of
// them, absent while any has no set yet, and absent when there are none
// (KeySets with no argument removes the gauge). Call it once, when the
// Remotes are made; calling it again, even during scrapes, is safe, and
// a scrape then sees either list. The Metrics keeps a copy of the list,
// not the Remotes: the caller still owns them and closes them (the age of
// a closed Remote's last set is still reported, until KeySets replaces
// it). KeySets panics if a Remote is nil.
func (m *Metrics) KeySets(remotes ...*keyset.Remote) {
	for _, r := range remotes {
		if r == nil {
			panic("metrics: KeySets with a nil Remote")
		}
	}
	list := append([]*keyset.Remote(nil), remotes...)
	m.remotes.Store(&list)
}

// age returns the age of the oldest set of the Remotes of KeySets, and
// false when there are none or one has no set.
func (m *Metrics) age() (time.Duration, bool) {
	p := m.remotes.Load()
	if p == nil || len(*p) == 0 {
		return 0, false
	}
	var oldest time.Duration
	for _, r := range *p {
		age, ok := r.Age()
		if !ok {
			return 0, false
		}
		oldest = max(oldest, age)
	}
	return oldest, true
}

// ReplayStore returns a dpop.ReplayStore that remembers with s and counts
// every error of its Remember in jwtverify_replay_store_errors_total, a
// cancelled context's included (a Checker refuses the proof for each):
// give it to dpop.Config.Store. This wrapper is the counter's only source.
// From the first call on, the counter is shown, at 0 until an error. It
// returns s's results unchanged. The returned store is safe for concurrent
// use when s is; the caller still owns s. ReplayStore panics if s is nil.
func (m *Metrics) ReplayStore(s dpop.ReplayStore) dpop.ReplayStore {
	if s == nil {
		panic("metrics: ReplayStore(nil)")
	}
	m.replayWrapped.Store(true)
	return &replayStore{m: m, s: s}
}

type replayStore struct {
	m *Metrics
	s dpop.ReplayStore
}

func (w *replayStore) Remember(ctx context.Context, id string, until time.Time) (bool, error) {
	seen, err := w.s.Remember(ctx, id, until)
	if err != nil {
		w.m.replayErrors.Add(1)
	}
	return seen, err
}
