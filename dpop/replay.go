package dpop

import (
	"context"
	"errors"
	"time"
)

// ReplayStore remembers the proofs a Checker has accepted, so that each
// is accepted once. A Checker calls Remember once per proof that passed
// every other check, with an id derived from the proof's key and jti (a
// SHA-256 digest, never proof content) and the instant after which the
// proof can no longer be accepted anyway (the end of its iat window):
// the store must keep id at least until then.
//
// Remember reports whether id was remembered already (seen: the proof is
// a replay) after recording it. An error means the store cannot tell; the
// Checker then fails closed with ErrUnavailable, never accepting the
// proof. Implementations must be safe for concurrent use, and for a fleet
// must be shared by every instance (a replay caught on one instance is
// otherwise accepted on another): package
// github.com/jwtverify/jwtverify/dpop/redisstore (a module of its own)
// is one.
type ReplayStore interface {
	Remember(ctx context.Context, id string, until time.Time) (seen bool, err error)
}

// errStoreFull is MemoryStore's refusal when it holds its maximum of
// unexpired ids.
var errStoreFull = errors.New("replay store is full of unexpired proofs")
