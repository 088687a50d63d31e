package keyset

import (
	"context"
	"errors"
	"time"

	lru "github.com/hashicorp/golang-lru/v2"
	"golang.org/x/time/rate"

	"github.com/jwtverify/jwtverify"
)

// This file is admission: whether a kid the set lacks may cost a request.
// The verifier says whether the token is plausible (Lookup.MayFetch); the
// Remote decides the rest, in order:
//
//  1. a set fetched after the token arrived is the answer: a kid it lacks
//     is absent, and remembered as such (the negative cache);
//  2. a kid remembered absent from the set in use causes nothing until a
//     newer set arrives or max(MinRefresh, UnknownKIDInterval) passes, so
//     repeated junk does not spend the budget a real new kid needs;
//  3. a request in flight is joined, free; a newer set in use is looked at;
//  4. no new request while failed requests back off;
//  5. a new request spends the limiter's budget: one per
//     UnknownKIDInterval (a rate.Limiter with a burst of 1, asked with
//     Allow, never Wait: a caller past the budget fails fast).
//
// A caller that joined a request sent before its token arrived may find
// the kid still missing (the key was published meanwhile): it goes
// through 2–5 once more.

// Reasons of MissEvent.
const (
	missNegative    = "negative_cache"
	missRateLimited = "rate_limited"
	missBackoff     = "backoff"
	missAbsent      = "absent_after_refresh"
)

// admission holds the two admission structures. Both are safe for
// concurrent use on their own; Remote consults the limiter with its mutex
// held, so that spending the budget and starting the request are one step.
type admission struct {
	limiter *rate.Limiter                // nil: unknown kids never cause a request
	absent  *lru.Cache[string, absentAt] // the negative cache
	ttl     time.Duration
}

// absentAt records that the set of generation gen, fetched after the
// kid's miss, lacked it.
type absentAt struct {
	gen uint64
	at  time.Time
}

func newAdmission(cfg *RemoteConfig) (admission, error) {
	a := admission{ttl: max(cfg.MinRefresh, cfg.UnknownKIDInterval)}
	if cfg.UnknownKIDInterval > 0 {
		a.limiter = rate.NewLimiter(rate.Every(cfg.UnknownKIDInterval), 1)
	}
	var err error
	a.absent, err = lru.New[string, absentAt](cfg.NegativeCacheSize)
	return a, err
}

// knownAbsent reports whether the set of generation gen is remembered to
// lack kid.
func (a *admission) knownAbsent(kid string, gen uint64) bool {
	e, ok := a.absent.Get(kid)
	return ok && e.gen == gen && time.Since(e.at) < a.ttl
}

// errRateLimited and errBackoff are reasons a request was not started.
var (
	errRateLimited = errors.New("unknown-kid budget spent")
	errBackoff     = errors.New("the last fetch failed; waiting to retry")
)

// unknownKID is Key's path for a kid that s lacks (k and err are that
// lookup's answer). seen is such that a set with seq > seen was fetched
// by a request sent after the lookup began.
func (r *Remote) unknownKID(ctx context.Context, l jwtverify.Lookup, s *snapshot, seen uint64, k jwtverify.Key, err error) (jwtverify.Key, error) {
	if s.seq > seen {
		r.absent(l.KID, s)
		return k, err
	}
	if !l.MayFetch || r.adm.limiter == nil {
		return k, err
	}
	if r.adm.knownAbsent(l.KID, s.gen) {
		r.miss(missNegative)
		return k, err
	}
	for round := 0; round < 2; round++ {
		r.mu.Lock()
		fl, latest, why := r.requestLocked(ctx, triggerUnknownKID, s)
		r.mu.Unlock()
		var ferr error
		if fl.ch != nil {
			latest, ferr = r.wait(ctx, fl)
		}
		if latest == nil {
			if errors.Is(why, errRateLimited) {
				r.miss(missRateLimited)
			} else if errors.Is(why, errBackoff) {
				r.miss(missBackoff)
			}
			return k, err
		}
		k, err = latest.set.lookup(l)
		if err == nil || err == errBoundElsewhere || !errors.Is(err, jwtverify.ErrUnknownKey) || ferr != nil {
			return k, err
		}
		if latest.seq > seen {
			r.absent(l.KID, latest)
			return k, err
		}
		s = latest // fetched by a request sent before the token arrived: once more
	}
	return k, err
}

// absent remembers that s, fetched after the kid's miss, lacks it.
func (r *Remote) absent(kid string, s *snapshot) {
	r.adm.absent.Add(kid, absentAt{gen: s.gen, at: time.Now()})
	r.miss(missAbsent)
}
