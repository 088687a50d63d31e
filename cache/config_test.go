package cache_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/jwtverify/jwtverify"
	"github.com/jwtverify/jwtverify/cache"
)

// TestVerifiedConfigLimits: a token longer than MaxBytes goes to the
// verifier every time, and negative limits are refused.
func TestVerifiedConfigLimits(t *testing.T) {
	c, f, _ := setup(t, cache.VerifiedConfig{MaxBytes: 64})
	ctx := context.Background()
	long := "ok-" + strings.Repeat("x", 62) // 65 bytes
	for i := 0; i < 2; i++ {
		if _, err := c.Verify(ctx, long); err != nil {
			t.Fatal(err)
		}
	}
	if f.calls.Load() != 2 || c.Len() != 0 {
		t.Fatalf("a token over MaxBytes: %d verifier calls, %d entries; want 2 and 0", f.calls.Load(), c.Len())
	}
	for _, cfg := range []cache.VerifiedConfig{{MaxEntries: -1}, {MaxBytes: -1}, {TTL: -1}} {
		if _, err := cache.NewVerified(f, cfg); !errors.Is(err, jwtverify.ErrInvalidConfig) {
			t.Errorf("NewVerified(%+v): %v", cfg, err)
		}
	}
}

// TestDocumentedDefaults: the zero VerifiedConfig holds 10,000 entries and
// tokens of up to 16 MiB, each served for 5m.
func TestDocumentedDefaults(t *testing.T) {
	ctx := context.Background()
	c, f, clk := setup(t, cache.VerifiedConfig{})
	if _, err := c.Verify(ctx, "ok"); err != nil {
		t.Fatal(err)
	}
	clk.add(5*time.Minute - 1)
	c.Verify(ctx, "ok")
	if f.calls.Load() != 1 {
		t.Fatalf("within 5m: %d verifier calls, want 1", f.calls.Load())
	}
	clk.add(1)
	c.Verify(ctx, "ok")
	if f.calls.Load() != 2 {
		t.Fatalf("at 5m: %d verifier calls, want 2", f.calls.Load())
	}

	c, _, _ = setup(t, cache.VerifiedConfig{})
	for i := range 10001 {
		if _, err := c.Verify(ctx, fmt.Sprintf("ok-%d", i)); err != nil {
			t.Fatal(err)
		}
	}
	if c.Len() != 10000 {
		t.Errorf("%d entries, want 10000", c.Len())
	}

	for size, cached := range map[int]bool{16 << 20: true, 16<<20 + 1: false} {
		c, f, _ := setup(t, cache.VerifiedConfig{})
		token := "ok" + strings.Repeat("x", size-2)
		c.Verify(ctx, token)
		c.Verify(ctx, token)
		if got := f.calls.Load() == 1 && c.Len() == 1; got != cached {
			t.Errorf("a token of %d bytes: %d verifier calls, %d entries; want cached: %v", size, f.calls.Load(), c.Len(), cached)
		}
	}
}
