package keyset

import (
	"testing"
	"time"
)

func TestDigestFieldsDoNotCollide(t *testing.T) {
	a := jwk{kty: "RSA", n: "x", e: "AQAB", kid: "X\x00"}
	b := jwk{kty: "RSA", n: "x", e: "AQAB", kid: "X", use: "\x00"}
	c := jwk{kty: "RSA", n: "x", e: "AQAB", kid: "X", keyOps: []string{"verify"}, hasKeyOps: true}
	d := jwk{kty: "RSA", n: "x", e: "AQAB", kid: "X"}
	if a.digest() == b.digest() || c.digest() == d.digest() {
		t.Fatal("distinct JWKs share a digest")
	}
}

// TestDocumentedDefaults: a zero RemoteConfig gets the defaults its fields
// document, and MaxKeys may be raised to the documented bound of 4096.
func TestDocumentedDefaults(t *testing.T) {
	r, err := NewRemote("https://issuer.example/jwks", RemoteConfig{})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	type limits struct {
		fetch, minRefresh, maxRefresh, unknownKID, maxStale time.Duration
		body                                                int64
		keys, negative                                      int
	}
	c := r.cfg
	got := limits{c.FetchTimeout, c.MinRefresh, c.MaxRefresh, c.UnknownKIDInterval, c.MaxStale, c.MaxResponseBytes, c.MaxKeys, c.NegativeCacheSize}
	want := limits{10 * time.Second, 5 * time.Minute, 24 * time.Hour, 30 * time.Second, 24 * time.Hour, 1 << 20, 1024, 1024}
	if got != want {
		t.Fatalf("defaults %+v, documented %+v", got, want)
	}
	if r2, err := NewRemote("https://issuer.example/jwks", RemoteConfig{MaxKeys: 4096}); err != nil {
		t.Fatalf("MaxKeys 4096: %v", err)
	} else {
		r2.Close()
	}
}
