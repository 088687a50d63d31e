package keyset

import (
	"errors"
	"testing"

	"github.com/jwtverify/jwtverify"
	"github.com/jwtverify/jwtverify/internal/testkeys"
)

// TestKeyCache: the size must be positive, and a full cache evicts the
// least recently used key.
func TestKeyCache(t *testing.T) {
	for _, size := range []int{0, -1} {
		if _, err := newKeyCache(size); !errors.Is(err, jwtverify.ErrInvalidConfig) {
			t.Fatalf("newKeyCache(%d) = %v, want ErrInvalidConfig", size, err)
		}
	}
	c, err := newKeyCache(2)
	if err != nil {
		t.Fatal(err)
	}
	ks := testkeys.Load()
	k1, _ := jwtverify.NewPublicKey("1", "", &ks.P256.PublicKey)
	k2, _ := jwtverify.NewPublicKey("2", "", &ks.P384.PublicKey)
	k3, _ := jwtverify.NewPublicKey("3", "", &ks.P521.PublicKey)
	c.add(digest{1}, k1)
	c.add(digest{2}, k2)
	if got, ok := c.get(digest{1}); !ok || got != k1 {
		t.Fatal("get(1) missed")
	}
	c.add(digest{3}, k3) // evicts 2, the least recently used
	if _, ok := c.get(digest{2}); ok {
		t.Fatal("2 not evicted")
	}
	if got, ok := c.get(digest{3}); !ok || got != k3 {
		t.Fatal("get(3) missed")
	}
	if c.len() != 2 {
		t.Fatalf("len = %d, want 2", c.len())
	}
}
