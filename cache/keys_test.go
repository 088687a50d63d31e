package cache_test

import (
	"errors"
	"testing"

	"github.com/jwtverify/jwtverify"
	"github.com/jwtverify/jwtverify/cache"
	"github.com/jwtverify/jwtverify/internal/testkeys"
)

func TestKeys(t *testing.T) {
	if _, err := cache.NewKeys(0); !errors.Is(err, jwtverify.ErrInvalidConfig) {
		t.Fatalf("NewKeys(0) = %v", err)
	}
	c, err := cache.NewKeys(2)
	if err != nil {
		t.Fatal(err)
	}
	ks := testkeys.Load()
	k1, _ := jwtverify.NewPublicKey("1", "", &ks.P256.PublicKey)
	k2, _ := jwtverify.NewPublicKey("2", "", &ks.P384.PublicKey)
	k3, _ := jwtverify.NewPublicKey("3", "", &ks.P521.PublicKey)
	c.Add(cache.Digest{1}, k1)
	c.Add(cache.Digest{2}, k2)
	if got, ok := c.Get(cache.Digest{1}); !ok || got != k1 {
		t.Fatal("Get(1) missed")
	}
	c.Add(cache.Digest{3}, k3) // evicts 2, the least recently used
	if _, ok := c.Get(cache.Digest{2}); ok {
		t.Fatal("2 not evicted")
	}
	if c.Len() != 2 {
		t.Fatalf("Len = %d", c.Len())
	}
}
