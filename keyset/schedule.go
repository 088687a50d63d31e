package keyset

import (
	"math/rand/v2"
	"time"
)

// This file is the schedule: when a fetched set is due, how long a failed
// request waits before the next, and how old a set may serve. Pure
// arithmetic on RemoteConfig; Remote applies it (see refreshState).

// retryBase is the first delay after a failed request; it doubles per
// failure up to MinRefresh, with jitter.
const retryBase = time.Second

// refreshAfter returns how long after its fetch a set whose response
// stated the freshness lifetime life (-1: none) is due: at a random point
// in the last twentieth of the clamped lifetime L, [0.95·L, L], moved
// earlier where needed so that a tenth of L remains before MaxStale.
//
// The set is never refreshed later than the origin's lifetime, so a key
// the origin removes stops verifying within L of its removal, as the
// origin's Cache-Control promises; and hardly earlier, so a fleet costs
// the origin close to the least it asked for: with max-age 300 s, one
// request per instance per 292 s on average (TestFleet). The tenth kept
// before MaxStale leaves room for retries (backoff starts at a second)
// before a lookup would have to wait. The randomness keeps a fleet
// started together from refreshing together.
func (c *RemoteConfig) refreshAfter(life time.Duration) time.Duration {
	l := min(max(life, c.MinRefresh), c.MaxRefresh)
	w := l / 20
	hi := min(l, c.MaxStale-l/10) // MaxStale >= MaxRefresh >= l: hi >= 0.9·l
	return hi - w + rand.N(w+1)
}

// backoff returns the wait after the failures-th consecutive failed
// request: retryBase doubled per failure up to MinRefresh, then a random
// point in [d/2, d], so failing instances do not retry in lockstep.
func (c *RemoteConfig) backoff(failures int) time.Duration {
	d := min(retryBase<<min(failures-1, 20), c.MinRefresh)
	return d/2 + rand.N(d/2+1)
}
