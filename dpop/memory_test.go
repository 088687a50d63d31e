package dpop_test

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"runtime"
	"testing"
	"testing/synctest"
	"time"

	"github.com/jwtverify/jwtverify/dpop"
)

func digest(i int) string {
	sum := sha256.Sum256(binary.BigEndian.AppendUint64(nil, uint64(i)))
	return base64.RawURLEncoding.EncodeToString(sum[:])
}

// TestMemoryStoreExpiry: an id is seen until its deadline, and then
// forgotten, in fake time.
func TestMemoryStoreExpiry(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s := dpop.NewMemoryStore(64)
		ctx := context.Background()
		until := time.Now().Add(2 * time.Minute)
		if seen, err := s.Remember(ctx, digest(1), until); seen || err != nil {
			t.Fatalf("first: %v %v", seen, err)
		}
		time.Sleep(2*time.Minute - time.Nanosecond)
		if seen, _ := s.Remember(ctx, digest(1), until); !seen {
			t.Fatal("forgotten before its deadline")
		}
		time.Sleep(time.Nanosecond)
		if seen, err := s.Remember(ctx, digest(1), time.Now().Add(time.Minute)); seen || err != nil {
			t.Fatalf("after its deadline: %v %v", seen, err)
		}
	})
}

// TestMemoryStoreBounded: a flood of unique ids fills the store to its
// capacity and no further: the next unexpired id is refused (fail
// closed), and once the flood's window has passed the store takes new ids
// again, its size back under the bound. It reports the memory of a full
// store of DefaultMemoryEntries (1 M) ids.
func TestMemoryStoreBounded(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		const n = 4096
		s := dpop.NewMemoryStore(n)
		ctx := context.Background()
		until := time.Now().Add(time.Minute)
		accepted := 0
		for i := range 2 * n {
			if _, err := s.Remember(ctx, digest(i), until); err == nil {
				accepted++
			}
		}
		if accepted > n || accepted < n*9/10 || s.Len() > n {
			t.Fatalf("accepted %d, holding %d, of capacity %d", accepted, s.Len(), n)
		}
		if _, err := s.Remember(ctx, digest(-1), until); err == nil {
			t.Fatal("a full store took another unexpired id")
		}
		time.Sleep(time.Minute)
		for i := range n / 2 {
			if seen, err := s.Remember(ctx, digest(1_000_000+i), time.Now().Add(time.Minute)); seen || err != nil {
				t.Fatalf("after the window: %v %v", seen, err)
			}
		}
		if s.Len() > n {
			t.Fatalf("holding %d after expiry, capacity %d", s.Len(), n)
		}
	})
	if testing.Short() {
		return
	}
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	s := dpop.NewMemoryStore(0)
	until := time.Now().Add(time.Hour)
	for i := range dpop.DefaultMemoryEntries {
		s.Remember(context.Background(), digest(i), until)
	}
	runtime.GC()
	runtime.ReadMemStats(&after)
	mib := float64(after.HeapAlloc-before.HeapAlloc) / (1 << 20)
	t.Logf("MemoryStore of %d ids: %.0f MiB live heap (%.0f bytes per id)", s.Len(), mib, mib*(1<<20)/float64(s.Len()))
	if s.Len() > dpop.DefaultMemoryEntries || mib > 512 {
		t.Fatalf("%d ids in %.0f MiB", s.Len(), mib)
	}
	runtime.KeepAlive(s)
}
