package issuers

import (
	"context"
	"testing"
	"time"

	"github.com/jwtverify/jwtverify"
)

// TestDocumentedDefaults: a TenantsConfig with only Allow and New, and a
// Router with maxTokenBytes 0, get the defaults their fields document.
// (TestTenantsBuildEvents checks BuildEvent's Outcome strings and the
// 256-byte cut of its Issuer.)
func TestDocumentedDefaults(t *testing.T) {
	newV := func(context.Context, string) (Verifier, func(), error) { return nil, nil, jwtverify.ErrInvalidConfig }
	allow := func(string) bool { return true }
	tn, err := NewTenants(TenantsConfig{Allow: allow, New: newV})
	if err != nil {
		t.Fatal(err)
	}
	defer tn.Close()
	type limits struct {
		size, known, tokenBytes, burst int
		buildTimeout, failureTTL       time.Duration
		perSecond                      float64
	}
	c := tn.cfg
	got := limits{c.Size, c.KnownIssuers, c.MaxTokenBytes, tn.builds.Burst(), c.BuildTimeout, c.FailureTTL, c.BuildsPerSecond}
	want := limits{1000, 10 * 1000, 16 << 10, 10, 30 * time.Second, 30 * time.Second, 10}
	if got != want {
		t.Fatalf("defaults %+v, documented %+v", got, want)
	}

	// KnownIssuers scales with Size.
	small, err := NewTenants(TenantsConfig{Allow: allow, New: newV, Size: 5})
	if err != nil {
		t.Fatal(err)
	}
	defer small.Close()
	if small.cfg.KnownIssuers != 50 {
		t.Errorf("KnownIssuers with Size 5: %d, documented 50", small.cfg.KnownIssuers)
	}

	r, err := NewRouter(map[string]Verifier{"https://a.example": tn}, 0)
	if err != nil {
		t.Fatal(err)
	}
	if r.maxBytes != 16<<10 {
		t.Errorf("Router's token limit: %d, documented 16 KiB", r.maxBytes)
	}
}
