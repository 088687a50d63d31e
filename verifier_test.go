package jwtverify_test

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rsa"
	"errors"
	"fmt"
	"math"
	"math/big"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jwtverify/jwtverify"
	"github.com/jwtverify/jwtverify/backends/backendtest"
	"github.com/jwtverify/jwtverify/backends/golangjwt"
	"github.com/jwtverify/jwtverify/internal/testkeys"
	"github.com/jwtverify/jwtverify/keyset"
)

func fixture(t testing.TB) *backendtest.Fixture {
	t.Helper()
	f, err := backendtest.NewFixture()
	if err != nil {
		t.Fatal(err)
	}
	return f
}

func TestConfigValidation(t *testing.T) {
	f := fixture(t)
	hmacOnly, err := jwtverify.NewSecretKey("", "", make([]byte, 32))
	if err != nil {
		t.Fatal(err)
	}
	hmacSet, _ := keyset.NewStatic(hmacOnly)
	tests := []struct {
		name string
		mod  func(*jwtverify.Config)
		ok   bool
	}{
		{"base", func(*jwtverify.Config) {}, true},
		{"no keys", func(c *jwtverify.Config) { c.Keys = nil }, false},
		{"alg none", func(c *jwtverify.Config) { c.Algorithms = []string{"none"} }, false},
		{"alg None", func(c *jwtverify.Config) { c.Algorithms = []string{"RS256", "None"} }, false},
		{"alg unknown", func(c *jwtverify.Config) { c.Algorithms = []string{"RS1"} }, false},
		{"alg without a key", func(c *jwtverify.Config) { c.Keys = hmacSet; c.Algorithms = []string{"RS256"} }, false},
		{"HS512 with a 32-byte secret", func(c *jwtverify.Config) { c.Keys = hmacSet; c.Algorithms = []string{"HS512"} }, false},
		{"explicit allowlist", func(c *jwtverify.Config) { c.Algorithms = []string{"RS256", "ES256"} }, true},
		{"no issuers", func(c *jwtverify.Config) { c.Issuers = nil }, false},
		{"skip issuer", func(c *jwtverify.Config) { c.Issuers = nil; c.SkipIssuerCheck = true }, true},
		{"issuers and skip", func(c *jwtverify.Config) { c.SkipIssuerCheck = true }, false},
		{"empty issuer", func(c *jwtverify.Config) { c.Issuers = []string{""} }, false},
		{"no audiences", func(c *jwtverify.Config) { c.Audiences = nil }, false},
		{"skip audience", func(c *jwtverify.Config) { c.Audiences = nil; c.SkipAudienceCheck = true }, true},
		{"audiences and skip", func(c *jwtverify.Config) { c.SkipAudienceCheck = true }, false},
		{"leeway 5m", func(c *jwtverify.Config) { c.Leeway = 5 * time.Minute }, true},
		{"leeway over 5m", func(c *jwtverify.Config) { c.Leeway = 5*time.Minute + 1 }, false},
		{"negative leeway", func(c *jwtverify.Config) { c.Leeway = -1 }, false},
		{"negative max age", func(c *jwtverify.Config) { c.MaxAge = -1 }, false},
		{"max age 100 years", func(c *jwtverify.Config) { c.MaxAge = maxMaxAge; c.Leeway = 5 * time.Minute }, true},
		{"max age over 100 years", func(c *jwtverify.Config) { c.MaxAge = maxMaxAge + 1 }, false},
		{"max age that overflows", func(c *jwtverify.Config) { c.MaxAge = math.MaxInt64 }, false},
		{"negative max bytes", func(c *jwtverify.Config) { c.MaxTokenBytes = -1 }, false},
		{"empty type", func(c *jwtverify.Config) { c.Types = []string{"application/"} }, false},
		{"empty required claim", func(c *jwtverify.Config) { c.RequiredClaims = []string{""} }, false},
		{"65 required claims", func(c *jwtverify.Config) { c.RequiredClaims = make([]string, 65) }, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := f.Config()
			tt.mod(&cfg)
			v, err := golangjwt.New(cfg)
			if tt.ok != (err == nil) {
				t.Fatalf("New() error = %v, want ok=%v", err, tt.ok)
			}
			if err != nil && !errors.Is(err, jwtverify.ErrInvalidConfig) {
				t.Fatalf("error %v does not wrap ErrInvalidConfig", err)
			}
			if err != nil && jwtverify.Class(err) != "" {
				t.Fatalf("config error %v has a rejection class", err)
			}
			if err == nil && v == nil {
				t.Fatal("nil verifier")
			}
		})
	}
	if _, err := jwtverify.New(nil, f.Config()); !errors.Is(err, jwtverify.ErrInvalidConfig) {
		t.Fatalf("New(nil backend) = %v", err)
	}
}

// The limits Config and NewPublicKey document, which these tests rely on
// (TestConfigValidation and TestDocumentedDefaults check them).
const (
	defaultMaxTokenBytes = 16 << 10                   // Config.MaxTokenBytes when zero
	maxMaxAge            = 100 * 365 * 24 * time.Hour // the largest Config.MaxAge
)

// TestDocumentedDefaults: a zero MaxTokenBytes is 16 KiB, checked before
// anything else, and NewPublicKey takes RSA keys of at least 2048 bits.
// (TestConfigValidation checks the bounds of Leeway and MaxAge.)
func TestDocumentedDefaults(t *testing.T) {
	f := fixture(t)
	v, err := golangjwt.New(f.Config())
	if err != nil {
		t.Fatal(err)
	}
	for n, tooLarge := range map[int]bool{defaultMaxTokenBytes: false, defaultMaxTokenBytes + 1: true} {
		_, err := v.Verify(context.Background(), strings.Repeat("a", n))
		if errors.Is(err, jwtverify.ErrTooLarge) != tooLarge {
			t.Errorf("a %d-byte token: %v; want too_large: %v", n, err, tooLarge)
		}
	}

	rsa2048 := &testkeys.Load().RSA1.PublicKey
	if rsa2048.N.BitLen() != 2048 {
		t.Fatalf("fixture key of %d bits", rsa2048.N.BitLen())
	}
	if _, err := jwtverify.NewPublicKey("", "", rsa2048); err != nil {
		t.Errorf("2048-bit RSA key: %v", err)
	}
	n2047 := new(big.Int).Rsh(rsa2048.N, 1)
	n2047.SetBit(n2047, 0, 1)
	_, err = jwtverify.NewPublicKey("", "", &rsa.PublicKey{N: n2047, E: 65537})
	if !errors.Is(err, jwtverify.ErrInvalidConfig) || !strings.Contains(err.Error(), "RSA key of 2047 bits; at least 2048 required") {
		t.Errorf("2047-bit RSA modulus: %v", err)
	}
}

func TestDerivedAllowlist(t *testing.T) {
	f := fixture(t)
	ec, _ := jwtverify.NewPublicKey("a", "", &f.Keys.P384.PublicKey)
	rs, _ := jwtverify.NewPublicKey("b", "PS256", &f.Keys.RSA1.PublicKey)
	hs, _ := jwtverify.NewSecretKey("c", "", f.Keys.HMAC[:48])
	ks, _ := keyset.NewStatic(ec, rs, hs)
	cfg := f.Config()
	cfg.Keys = ks
	v, err := golangjwt.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	got := strings.Join(v.Algorithms(), " ")
	if want := "ES384 PS256 HS256 HS384"; got != want {
		t.Fatalf("derived allowlist = %q, want %q", got, want)
	}
}

func TestConfigIsCopied(t *testing.T) {
	f := fixture(t)
	cfg := f.Config()
	issuers := []string{backendtest.Issuer}
	cfg.Issuers = issuers
	v, err := golangjwt.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	issuers[0] = "https://changed.example"
	tok := f.Sign("ES256", nil, backendtest.Claims())
	if _, err := v.Verify(context.Background(), tok); err != nil {
		t.Fatalf("changing the caller's slice changed the verifier: %v", err)
	}
}

func TestClass(t *testing.T) {
	all := []error{jwtverify.ErrTooLarge, jwtverify.ErrMalformed, jwtverify.ErrUnsupported, jwtverify.ErrType,
		jwtverify.ErrAlgorithm, jwtverify.ErrKeysUnavailable, jwtverify.ErrUnknownKey, jwtverify.ErrSignature,
		jwtverify.ErrMissingClaim, jwtverify.ErrIssuer, jwtverify.ErrAudience, jwtverify.ErrExpired,
		jwtverify.ErrNotYetValid, jwtverify.ErrIssuedInFuture}
	names := map[string]bool{}
	for _, e := range all {
		wrapped := fmt.Errorf("outer: %w", e)
		if got := jwtverify.Class(wrapped); got != e.Error() {
			t.Errorf("Class(%v) = %q", wrapped, got)
		}
		names[e.Error()] = true
	}
	if len(names) != 14 {
		t.Fatalf("%d distinct class names, want 14", len(names))
	}
	if jwtverify.Class(nil) != "" || jwtverify.Class(errors.New("x")) != "" || jwtverify.Class(jwtverify.ErrInvalidConfig) != "" {
		t.Fatal("Class of a non-rejection is not empty")
	}
}

func TestNewPublicKeyRefusesWeakKeys(t *testing.T) {
	ks := testkeys.Load()
	offCurve := &ecdsa.PublicKey{Curve: elliptic.P256(), X: big.NewInt(1), Y: big.NewInt(1)}
	tests := map[string]any{
		"rsa-1024":            &ks.RSA1024.PublicKey,
		"rsa-e-1":             &rsa.PublicKey{N: ks.RSA1.N, E: 1},
		"rsa-e-even":          &rsa.PublicKey{N: ks.RSA1.N, E: 65536},
		"rsa-even-n":          &rsa.PublicKey{N: new(big.Int).Lsh(ks.RSA1.N, 1), E: 65537},
		"rsa-nil":             (*rsa.PublicKey)(nil),
		"ec-off-curve":        offCurve,
		"ec-p224":             &ecdsa.PublicKey{Curve: elliptic.P224(), X: elliptic.P224().Params().Gx, Y: elliptic.P224().Params().Gy},
		"ed25519-short":       ed25519.PublicKey(make([]byte, 31)),
		"ed25519-identity":    ed25519.PublicKey(append([]byte{1}, make([]byte, 31)...)),
		"ed25519-order-2":     ed25519.PublicKey(append(append([]byte{0xec}, bytes.Repeat([]byte{0xff}, 30)...), 0x7f)),
		"ed25519-not-a-point": ed25519.PublicKey(append([]byte{2}, make([]byte, 31)...)),
		"unsupported-type":    "not a key",
	}
	for name, pub := range tests {
		if _, err := jwtverify.NewPublicKey("", "", pub); !errors.Is(err, jwtverify.ErrInvalidConfig) {
			t.Errorf("%s: NewPublicKey() = %v, want ErrInvalidConfig", name, err)
		}
	}
	if _, err := jwtverify.NewPublicKey("", "HS256", &ks.RSA1.PublicKey); err == nil {
		t.Error("RSA key restricted to HS256 accepted")
	}
	if _, err := jwtverify.NewPublicKey("", "ES384", &ks.P256.PublicKey); err == nil {
		t.Error("P-256 key restricted to ES384 accepted")
	}
	if _, err := jwtverify.NewSecretKey("", "", make([]byte, 31)); err == nil {
		t.Error("31-byte HMAC secret accepted")
	}
	if _, err := jwtverify.NewSecretKey("", "HS512", make([]byte, 63)); err == nil {
		t.Error("63-byte secret restricted to HS512 accepted")
	}
	if _, err := jwtverify.NewSecretKey("", "RS256", make([]byte, 64)); err == nil {
		t.Error("secret restricted to RS256 accepted")
	}
}

func TestKeySupports(t *testing.T) {
	ks := testkeys.Load()
	rsaKey, _ := jwtverify.NewPublicKey("", "", &ks.RSA1.PublicKey)
	ecKey, _ := jwtverify.NewPublicKey("", "", &ks.P521.PublicKey)
	edKey, _ := jwtverify.NewPublicKey("", "", ks.Ed25519.Public())
	hsKey, _ := jwtverify.NewSecretKey("", "", ks.HMAC[:32])
	for _, tt := range []struct {
		key  jwtverify.Key
		want string
	}{
		{rsaKey, "RS256 RS384 RS512 PS256 PS384 PS512"},
		{ecKey, "ES512"},
		{edKey, "EdDSA"},
		{hsKey, "HS256"},
		{jwtverify.Key{}, ""},
	} {
		if got := strings.Join(tt.key.Algorithms(), " "); got != tt.want {
			t.Errorf("Algorithms() = %q, want %q", got, tt.want)
		}
	}
	if hsKey.Public() != nil {
		t.Error("Public() of a secret key is not nil")
	}
}

func TestKeyCopiesMaterial(t *testing.T) {
	secret := make([]byte, 32)
	k, _ := jwtverify.NewSecretKey("hs", "", secret)
	ks, _ := keyset.NewStatic(k)
	v, err := golangjwt.New(jwtverify.Config{Keys: ks, SkipIssuerCheck: true, SkipAudienceCheck: true, AllowMissingExpiry: true})
	if err != nil {
		t.Fatal(err)
	}
	tok := signHS(t, secret, `{"alg":"HS256"}`, `{}`)
	secret[0] = 1 // the key must not change with the caller's slice
	if _, err := v.Verify(context.Background(), tok); err != nil {
		t.Fatalf("Verify after mutating the caller's secret: %v", err)
	}
}

// TestConcurrentVerify runs one verifier from many goroutines (meaningful under -race).
func TestConcurrentVerify(t *testing.T) {
	f := fixture(t)
	v, err := golangjwt.New(f.Config())
	if err != nil {
		t.Fatal(err)
	}
	good := f.Sign("ES256", nil, backendtest.Claims())
	bad := good[:len(good)-4] + "AAAA"
	var wg sync.WaitGroup
	errs := make(chan error, 64)
	for i := 0; i < 32; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := 0; j < 20; j++ {
				if _, err := v.Verify(context.Background(), good); err != nil {
					errs <- err
					return
				}
				if _, err := v.Verify(context.Background(), bad); !errors.Is(err, jwtverify.ErrSignature) {
					errs <- fmt.Errorf("bad token: %v", err)
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
}

func TestDecode(t *testing.T) {
	f := fixture(t)
	v, err := golangjwt.New(f.Config())
	if err != nil {
		t.Fatal(err)
	}
	tok, err := v.Verify(context.Background(), f.Sign("ES256", nil, backendtest.Claims()))
	if err != nil {
		t.Fatal(err)
	}
	var custom struct {
		Scope string   `json:"scope"`
		Roles []string `json:"roles"`
	}
	if err := tok.Claims.Decode(&custom); err != nil || custom.Scope != "read write" || len(custom.Roles) != 1 {
		t.Fatalf("Decode = %+v, %v", custom, err)
	}
	var wrong struct {
		Scope int `json:"scope"`
	}
	err = tok.Claims.Decode(&wrong)
	if !errors.Is(err, jwtverify.ErrMalformed) || strings.Contains(err.Error(), "read write") {
		t.Fatalf("Decode into the wrong type = %v", err)
	}
	c := tok.Claims
	if c.Subject != "user-1" || c.ID != "id-1" || len(c.Audience) != 2 || c.Audience[0] != "api" ||
		!c.ExpiresAt.Equal(backendtest.Now().Add(time.Hour)) || !c.NotBefore.Equal(backendtest.Now().Add(-time.Minute)) ||
		!c.IssuedAt.Equal(backendtest.Now().Add(-time.Minute)) || tok.Header.KeyID != "ec-256" || tok.Header.Algorithm != "ES256" {
		t.Fatalf("claims = %+v, header = %+v", c, tok.Header)
	}
}
