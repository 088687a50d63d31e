// Package metrics is a Prometheus collector for services that embed
// jwtverify: the families the jwtverify command exposes, for any service,
// as one [prometheus.Collector] made by [New]. It registers nothing by
// itself: the service registers the collector in the registry it serves,
// once, together with the Go and process collectors if it wants them
// (this package does not add those).
//
//	m := metrics.New("native")
//	reg := prometheus.NewRegistry()
//	reg.MustRegister(m, collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
//
//	remote, err := keyset.NewRemote(jwksURL, keyset.RemoteConfig{OnRefresh: m.OnRefresh})
//	...
//	m.KeySets(remote)
//	checker, err := dpop.New(backend, dpop.Config{Store: m.ReplayStore(store)})
//	...
//	mw, err := middleware.New(verifier, middleware.Options{Observe: m.Observe, DPoP: checker})
//	...
//	http.Handle("/metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
//
// # Families
//
//   - jwtverify_verifications_total{result, backend}, counter: verifications
//     by result. result is "valid" or the reason the request or token was
//     refused (the lists below). backend is the name given to [New].
//   - jwtverify_verify_duration_seconds{backend}, histogram: the time Verify
//     took, in buckets from 50µs to 1s (.00005 .0001 .00025 .0005 .001
//     .0025 .005 .01 .025 .05 .1 .25 .5 1). Only verifications that called
//     Verify are timed: a request refused before (no credentials, no TLS)
//     or by a Require policy counts in verifications_total only.
//   - jwtverify_jwks_refresh_total{trigger, outcome}, counter: requests to
//     the JWKS endpoints, by what made them and how they ended.
//   - jwtverify_jwks_age_seconds, gauge: the age of the oldest key set in
//     use (since its last 200 or 304), of the Remotes given to
//     [Metrics.KeySets]; absent until each of them has a set.
//   - jwtverify_replay_store_errors_total, counter: errors of the DPoP
//     replay store that [Metrics.ReplayStore] wraps; absent until a store
//     is wrapped, so that 0 means no error rather than no wrapped store.
//     (A dpop.Checker without a Store makes a MemoryStore of its own,
//     which nothing wraps: give it m.ReplayStore(dpop.NewMemoryStore(n))
//     to count its errors.)
//
// A series of verifications_total or jwks_refresh_total appears with its
// first count (the collector keeps no empty series); the histogram is
// always shown, at 0 until a verification is timed.
//
// # Where the counts come from
//
// [Metrics.Observe] is for middleware.Options.Observe. It counts every
// outcome the middleware reports, which is one per request the Handler
// decides and one more per request a Require (or RequireRequest) refuses:
// such a request counts as valid (the Handler passed it on) and as policy.
//
// [Metrics.Verifier] wraps a verifier for code that verifies without the
// middleware (gRPC interceptors, queue consumers): each Verify is timed and
// counted as Observe counts it. Use one of the two for a given path, not
// both: a wrapped verifier given to a middleware whose Observe is also
// [Metrics.Observe] counts each request twice.
//
// Replay store errors are counted by the wrapper of [Metrics.ReplayStore]
// alone, once per failed Remember, whoever called it. Observe counts a
// request refused for them as result "dpop_replay_store" in
// verifications_total, and never in replay_store_errors_total, so that
// an error is counted once there.
//
// # Label values and cardinality
//
// Every label value comes from a fixed set, never from a token, a URL or an
// error's text, so the collector has at most 24 verification series, one
// histogram, 24 refresh series, one gauge and one replay counter:
//
//   - result: "valid"; a rejection class of [jwtverify.Class]
//     ("too_large", "malformed", "unsupported", "type", "algorithm",
//     "keys_unavailable", "unknown_key", "signature", "missing_claim",
//     "issuer", "audience", "expired", "not_yet_valid",
//     "issued_in_future"); or a class of the middleware
//     (middleware.Outcome.Class: "policy", "missing", "invalid_request",
//     "insecure", "error", "binding", "dpop_proof", "dpop_nonce",
//     "dpop_replay_store"). Any other class, which a custom caller of
//     Observe may pass, counts as "error", as does a Verify error without
//     a rejection class.
//   - trigger: "initial", "scheduled", "stale", "unknown_kid", "manual"
//     (keyset.RefreshEvent.Trigger); any other value counts as "other".
//   - outcome: "updated", "not_modified", "failed"
//     (keyset.RefreshEvent.Outcome); any other value counts as "other".
//   - backend: the one value given to [New].
//
// The URL and error of a RefreshEvent, and the Route, Description and
// Err of an Outcome, are never read.
//
// This package is a module of its own, so that the Prometheus client stays
// out of the module graph of github.com/jwtverify/jwtverify.
package metrics
