package dpop

import (
	"context"
	"crypto/sha256"
	"hash/maphash"
	"sync"
	"time"
)

// DefaultMemoryEntries is the capacity of NewMemoryStore(0): the proofs
// it remembers at once, about 1 M. At 60 s either side of iat, that is a
// sustained 8,700 proofs a second; a flood of more is refused (fail
// closed), not remembered past the bound.
const DefaultMemoryEntries = 1 << 20

// shards splits a MemoryStore so that concurrent proofs seldom wait for
// one another.
const shards = 16

// MemoryStore is the embedded ReplayStore: proofs remembered in this
// process only, each until the end of its window, with a bounded number
// of entries. It protects one instance; a fleet needs a shared store. Make
// one with NewMemoryStore; the zero MemoryStore is not usable. It is safe
// for concurrent use by multiple goroutines and holds no goroutine or
// other resource to release.
//
// Memory is bounded by the capacity: a flood of unique proofs fills it,
// and then Remember fails (the Checker answers ErrUnavailable) until
// entries expire, rather than forgetting a proof that could still be
// replayed. TestMemoryStoreBounded measures the memory at capacity.
type MemoryStore struct {
	seed  maphash.Seed // spreads ids over the shards
	shard [shards]memShard
}

type memShard struct {
	mu    sync.Mutex
	until map[memKey]int64 // id -> the end of its window, Unix nanoseconds
	order []memEntry       // ids in the order remembered, for expiry
	head  int              // order[head:] are live or unswept
	max   int
}

// memKey is the first 16 bytes of the SHA-256 of an id: a fixed size,
// whatever the id. Two ids that share one (a chance of about 2^-88 among
// a million) make the second look seen: a refusal, never an acceptance.
type memKey [16]byte

type memEntry struct {
	key   memKey
	until int64
}

// NewMemoryStore returns a MemoryStore remembering at most entries proofs
// at once; zero means DefaultMemoryEntries. It panics if entries is
// negative.
func NewMemoryStore(entries int) *MemoryStore {
	if entries < 0 {
		panic("dpop: NewMemoryStore with a negative capacity")
	}
	if entries == 0 {
		entries = DefaultMemoryEntries
	}
	per := max(entries/shards, 1)
	s := &MemoryStore{seed: maphash.MakeSeed()}
	for i := range s.shard {
		s.shard[i] = memShard{until: make(map[memKey]int64), max: per}
	}
	return s
}

// Remember implements ReplayStore. It fails only when the store is full
// of unexpired proofs; ctx is not used (nothing blocks).
func (s *MemoryStore) Remember(_ context.Context, id string, until time.Time) (bool, error) {
	sum := sha256.Sum256([]byte(id))
	key := memKey(sum[:16])
	sh := &s.shard[maphash.Comparable(s.seed, key)%shards]
	now := time.Now().UnixNano()
	sh.mu.Lock()
	defer sh.mu.Unlock()
	if u, ok := sh.until[key]; ok && u > now {
		return true, nil
	}
	sh.sweep(now)
	if len(sh.until) >= sh.max {
		return false, errStoreFull
	}
	u := until.UnixNano()
	sh.until[key] = u
	sh.order = append(sh.order, memEntry{key, u})
	return false, nil
}

// sweep forgets the entries at the front of the order that have expired,
// and compacts the order once half of it is forgotten.
func (sh *memShard) sweep(now int64) {
	for sh.head < len(sh.order) && sh.order[sh.head].until <= now {
		e := sh.order[sh.head]
		if u, ok := sh.until[e.key]; ok && u == e.until {
			delete(sh.until, e.key)
		}
		sh.head++
	}
	if sh.head > 0 && sh.head >= len(sh.order)/2 {
		sh.order = append(sh.order[:0], sh.order[sh.head:]...)
		sh.head = 0
	}
}

// Len returns the number of proofs remembered, expired ones not yet
// forgotten included.
func (s *MemoryStore) Len() int {
	n := 0
	for i := range s.shard {
		sh := &s.shard[i]
		sh.mu.Lock()
		n += len(sh.until)
		sh.mu.Unlock()
	}
	return n
}
