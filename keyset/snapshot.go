package keyset

import "time"

// This file is what lookups read: one immutable snapshot of the set in use
// and its deadlines, behind Remote.snap (an atomic pointer). A lookup
// loads it, compares the clock with one deadline, and looks the kid up in
// a map: no lock, no allocation. Only Remote.storeLocked stores one.

// snapshot is one fetched key set with its deadlines. It is never
// modified after it is stored: a change of schedule stores a copy.
//
// The deadlines are offsets from Remote.epoch, so the hot path reads only
// the monotonic clock (time.Since), never the wall clock.
type snapshot struct {
	set   *set
	valid validators // sent with the next request
	// bundle holds the SPIFFE members of the set in use: zero but for a
	// Remote of NewSPIFFERemote.
	bundle setMeta
	gen    uint64 // changes with every 200 or 304 (Remote.Generation)
	seq    uint64 // the request that fetched it (refreshState.started then)
	// started is refreshState.started when this copy was stored: a
	// request with a larger seq was sent after this copy was stored, and so
	// after any lookup that loaded it began.
	started uint64

	fetched time.Duration // the last 200 or 304
	refresh time.Duration // due from then: a lookup starts a request in the background
	stale   time.Duration // fetched + MaxStale: past it the set never serves
	// check is when a lookup must look past this snapshot, at the refresh
	// state: min(stale, max(refresh, the end of a backoff)), or stale while
	// a request is in flight or after Close. Before it, lookups take no
	// lock.
	check time.Duration
}
