package keyset_test

import (
	"context"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"math/big"
	"strings"
	"testing"
	"time"

	"github.com/jwtverify/jwtverify"
	"github.com/jwtverify/jwtverify/internal/mint"
	"github.com/jwtverify/jwtverify/internal/testkeys"
	"github.com/jwtverify/jwtverify/keyset"
)

var b64 = base64.RawURLEncoding.EncodeToString

func jwkOf(t *testing.T, pub any, kid, alg string, extra ...any) []byte {
	t.Helper()
	m, err := mint.JWK(pub, kid, alg)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < len(extra); i += 2 {
		if extra[i+1] == nil {
			delete(m, extra[i].(string))
		} else {
			m[extra[i].(string)] = extra[i+1]
		}
	}
	b, _ := json.Marshal(m)
	return b
}

func TestParsePEM(t *testing.T) {
	ks := testkeys.Load()
	spki := testkeys.PublicPEM(&ks.RSA1.PublicKey)
	pkcs1 := pem.EncodeToMemory(&pem.Block{Type: "RSA PUBLIC KEY", Bytes: x509.MarshalPKCS1PublicKey(&ks.RSA1.PublicKey)})
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "t"}, NotBefore: time.Now(), NotAfter: time.Now().Add(time.Hour)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &ks.P256.PublicKey, ks.P256)
	if err != nil {
		t.Fatal(err)
	}
	cert := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
	privDER, _ := x509.MarshalPKCS8PrivateKey(ks.RSA1)
	priv := pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: privDER})

	for name, tt := range map[string]struct {
		data []byte
		algs string
	}{
		"spki-rsa":   {spki, "RS256 RS384 RS512 PS256 PS384 PS512"},
		"pkcs1":      {pkcs1, "RS256 RS384 RS512 PS256 PS384 PS512"},
		"spki-ec":    {testkeys.PublicPEM(&ks.P384.PublicKey), "ES384"},
		"spki-ed":    {testkeys.PublicPEM(ks.Ed25519.Public()), "EdDSA"},
		"cert":       {cert, "ES256"},
		"cert-chain": {append(append([]byte{}, cert...), cert...), "ES256"},
	} {
		k, err := keyset.ParsePEM(tt.data)
		if err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		if got := strings.Join(k.Algorithms(), " "); got != tt.algs || k.ID() != "" {
			t.Errorf("%s: algorithms %q id %q", name, got, k.ID())
		}
	}
	for name, data := range map[string][]byte{
		"private":        priv,
		"weak-rsa":       testkeys.PublicPEM(&ks.RSA1024.PublicKey),
		"two-keys":       append(append([]byte{}, spki...), spki...),
		"cert-then-priv": append(append([]byte{}, cert...), priv...),
		"garbage":        []byte("hello"),
		"bad-der":        pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: []byte{1, 2, 3}}),
		"unknown-type":   pem.EncodeToMemory(&pem.Block{Type: "OPENSSH PUBLIC KEY", Bytes: []byte{1}}),
	} {
		_, err := keyset.ParsePEM(data)
		if !errors.Is(err, keyset.ErrInvalidKey) {
			t.Errorf("%s: ParsePEM() = %v, want ErrInvalidKey", name, err)
			continue
		}
		if name == "private" && strings.Contains(err.Error(), string(privDER[:8])) {
			t.Errorf("error echoes key material")
		}
	}
}

func TestParseJWK(t *testing.T) {
	ks := testkeys.Load()
	rsaPub := &ks.RSA1.PublicKey
	valid := map[string]struct {
		data []byte
		algs string
	}{
		"rsa":          {jwkOf(t, rsaPub, "a", ""), "RS256 RS384 RS512 PS256 PS384 PS512"},
		"rsa-alg":      {jwkOf(t, rsaPub, "a", "PS384"), "PS384"},
		"rsa-use-sig":  {jwkOf(t, rsaPub, "a", "", "use", "sig", "key_ops", []string{"verify"}), "RS256 RS384 RS512 PS256 PS384 PS512"},
		"ec-256":       {jwkOf(t, &ks.P256.PublicKey, "a", "ES256"), "ES256"},
		"ec-521":       {jwkOf(t, &ks.P521.PublicKey, "a", ""), "ES512"},
		"ed25519":      {jwkOf(t, ks.Ed25519.Public(), "a", "EdDSA"), "EdDSA"},
		"x5c-ignored":  {jwkOf(t, rsaPub, "a", "", "x5c", []string{"AAAA"}), "RS256 RS384 RS512 PS256 PS384 PS512"},
		"unknown-memb": {jwkOf(t, rsaPub, "a", "", "KTY", "oct"), "RS256 RS384 RS512 PS256 PS384 PS512"},
	}
	for name, tt := range valid {
		k, err := keyset.ParseJWK(tt.data)
		if err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		if got := strings.Join(k.Algorithms(), " "); got != tt.algs || k.ID() != "a" {
			t.Errorf("%s: algorithms %q id %q", name, got, k.ID())
		}
	}

	p256 := jwkOf(t, &ks.P256.PublicKey, "a", "")
	var ecm map[string]any
	json.Unmarshal(p256, &ecm)
	x, _ := base64.RawURLEncoding.DecodeString(ecm["x"].(string))
	offY := make([]byte, 32)
	offY[31] = 1
	invalid := map[string][]byte{
		"rsa-1024":       jwkOf(t, &ks.RSA1024.PublicKey, "a", ""),
		"rsa-e-1":        jwkOf(t, rsaPub, "a", "", "e", b64([]byte{1})),
		"rsa-512":        jwkOf(t, rsaPub, "a", "", "n", b64(append(rsaPub.N.Bytes()[:63], 0x01))),
		"rsa-e-huge":     jwkOf(t, rsaPub, "a", "", "e", b64([]byte{1, 0, 0, 0, 1})),
		"rsa-no-n":       jwkOf(t, rsaPub, "a", "", "n", nil),
		"rsa-padded-n":   jwkOf(t, rsaPub, "a", "", "n", base64.URLEncoding.EncodeToString(rsaPub.N.Bytes())),
		"rsa-private":    jwkOf(t, rsaPub, "a", "", "d", "AAAA"),
		"rsa-private-p":  jwkOf(t, rsaPub, "a", "", "p", "AAAA"),
		"ec-private":     jwkOf(t, &ks.P256.PublicKey, "a", "", "d", "AAAA"),
		"use-enc":        jwkOf(t, rsaPub, "a", "", "use", "enc"),
		"use-other":      jwkOf(t, rsaPub, "a", "", "use", "x"),
		"key-ops-sign":   jwkOf(t, rsaPub, "a", "", "key_ops", []string{"sign"}),
		"key-ops-string": jwkOf(t, rsaPub, "a", "", "key_ops", "verify"),
		"alg-mismatch":   jwkOf(t, rsaPub, "a", "ES256"),
		"alg-hs-on-rsa":  jwkOf(t, rsaPub, "a", "HS256"),
		"crv-alg-mism":   jwkOf(t, &ks.P256.PublicKey, "a", "ES384"),
		"ec-off-curve":   jwkOf(t, &ks.P256.PublicKey, "a", "", "y", b64(offY)),
		"ec-wrong-curve": jwkOf(t, &ks.P256.PublicKey, "a", "", "crv", "P-384"),
		"ec-short-x":     jwkOf(t, &ks.P256.PublicKey, "a", "", "x", b64(x[1:])),
		"ec-no-crv":      jwkOf(t, &ks.P256.PublicKey, "a", "", "crv", nil),
		"ed-short":       jwkOf(t, ks.Ed25519.Public(), "a", "", "x", b64(make([]byte, 31))),
		"ed-identity":    jwkOf(t, ks.Ed25519.Public(), "a", "", "x", b64(append([]byte{1}, make([]byte, 31)...))),
		"oct":            []byte(`{"kty":"oct","k":"` + b64(make([]byte, 32)) + `"}`),
		"no-kty":         []byte(`{"n":"AQAB"}`),
		"kty-number":     []byte(`{"kty":1}`),
		"duplicate-kty":  []byte(`{"kty":"RSA","kty":"EC"}`),
		"not-object":     []byte(`[]`),
		"trailing":       append(jwkOf(t, rsaPub, "a", ""), 'x'),
	}
	for name, data := range invalid {
		if _, err := keyset.ParseJWK(data); !errors.Is(err, keyset.ErrInvalidKey) {
			t.Errorf("%s: ParseJWK() = %v, want ErrInvalidKey", name, err)
		}
	}
	unsupported := map[string][]byte{
		"ed448":      []byte(`{"kty":"OKP","crv":"Ed448","x":"AAAA"}`),
		"x25519":     []byte(`{"kty":"OKP","crv":"X25519","x":"AAAA"}`),
		"akp":        []byte(`{"kty":"AKP","alg":"ML-DSA-44","pub":"AAAA"}`),
		"secp256k1":  []byte(`{"kty":"EC","crv":"secp256k1","x":"AAAA","y":"AAAA"}`),
		"alg-rsa1_5": jwkOf(t, rsaPub, "a", "RSA1_5"),
		"alg-none":   jwkOf(t, rsaPub, "a", "none"),
	}
	for name, data := range unsupported {
		if _, err := keyset.ParseJWK(data); !errors.Is(err, keyset.ErrUnsupportedKey) {
			t.Errorf("%s: ParseJWK() = %v, want ErrUnsupportedKey", name, err)
		}
	}
}

func TestParseJWKS(t *testing.T) {
	ks := testkeys.Load()
	a := json.RawMessage(jwkOf(t, &ks.RSA1.PublicKey, "a", ""))
	a2 := json.RawMessage(jwkOf(t, &ks.RSA2.PublicKey, "a", ""))
	b := json.RawMessage(jwkOf(t, &ks.P256.PublicKey, "b", ""))
	c := json.RawMessage(jwkOf(t, ks.Ed25519.Public(), "c", ""))
	enc := json.RawMessage(jwkOf(t, &ks.RSA2.PublicKey, "e", "", "use", "enc"))
	ed448 := json.RawMessage(`{"kty":"OKP","crv":"Ed448","x":"AAAA","kid":"x"}`)
	set := func(keys ...json.RawMessage) []byte {
		data, _ := json.Marshal(map[string]any{"keys": keys})
		return data
	}

	keys, skipped, err := keyset.ParseJWKS(set(a, enc, b, ed448, c))
	if err != nil || len(keys) != 3 || len(skipped) != 2 {
		t.Fatalf("ParseJWKS = %d keys, %v, %v; want 3 keys, 2 skipped", len(keys), skipped, err)
	}
	if !errors.Is(skipped[0], keyset.ErrInvalidKey) || !errors.Is(skipped[1], keyset.ErrUnsupportedKey) {
		t.Fatalf("skipped = %v", skipped)
	}

	// The same key twice is one key; different keys under one kid are both dropped.
	keys, _, err = keyset.ParseJWKS(set(a, a, b))
	if err != nil || len(keys) != 2 {
		t.Fatalf("duplicate identical key: %d keys, %v", len(keys), err)
	}
	keys, skipped, err = keyset.ParseJWKS(set(a, b, a2))
	if err != nil || len(keys) != 1 || keys[0].ID() != "b" || len(skipped) != 1 {
		t.Fatalf("ambiguous kid: %d keys, %v, %v", len(keys), skipped, err)
	}

	many := make([]json.RawMessage, keyset.MaxKeys+1)
	for i := range many {
		many[i] = b
	}
	for name, data := range map[string][]byte{
		"no-usable-key": set(enc, ed448),
		"empty":         set(),
		"no-keys":       []byte(`{}`),
		"keys-object":   []byte(`{"keys":{}}`),
		"duplicate":     []byte(`{"keys":[],"keys":[]}`),
		"not-json":      []byte(`keys`),
		"too-many":      set(many...),
	} {
		if _, _, err := keyset.ParseJWKS(data); !errors.Is(err, keyset.ErrInvalidKey) {
			t.Errorf("%s: ParseJWKS() = %v, want ErrInvalidKey", name, err)
		}
	}
}

func TestLoad(t *testing.T) {
	ks := testkeys.Load()
	jwk := jwkOf(t, &ks.P256.PublicKey, "b", "")
	for name, tt := range map[string]struct {
		data []byte
		n    int
	}{
		"pem":  {append([]byte("\n  "), testkeys.PublicPEM(&ks.P256.PublicKey)...), 1},
		"jwk":  {jwk, 1},
		"jwks": {[]byte(`{"keys":[` + string(jwk) + `]}`), 1},
	} {
		keys, _, err := keyset.Load(tt.data)
		if err != nil || len(keys) != tt.n {
			t.Errorf("%s: Load = %d keys, %v", name, len(keys), err)
		}
	}
	if _, _, err := keyset.Load([]byte("ssh-ed25519 AAAA")); !errors.Is(err, keyset.ErrInvalidKey) {
		t.Errorf("Load(ssh key) = %v", err)
	}
}

func TestStaticSelection(t *testing.T) {
	ks := testkeys.Load()
	rsa1, _ := jwtverify.NewPublicKey("rsa-1", "", &ks.RSA1.PublicKey)
	rsa2, _ := jwtverify.NewPublicKey("rsa-2", "", &ks.RSA2.PublicKey)
	ec, _ := jwtverify.NewPublicKey("ec", "", &ks.P256.PublicKey)
	anonEd, _ := jwtverify.NewPublicKey("", "", ks.Ed25519.Public())
	s, err := keyset.NewStatic(rsa1, rsa2, ec, anonEd)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	tests := []struct {
		kid, alg string
		want     jwtverify.Key
		err      error
	}{
		{"rsa-1", "RS256", rsa1, nil},
		{"rsa-2", "PS512", rsa2, nil},
		{"rsa-1", "ES256", jwtverify.Key{}, jwtverify.ErrAlgorithm},
		{"ec", "ES384", jwtverify.Key{}, jwtverify.ErrAlgorithm},
		{"", "ES256", ec, nil},                                  // no kid, one key fits
		{"", "RS256", jwtverify.Key{}, jwtverify.ErrUnknownKey}, // no kid, two keys fit
		{"other", "ES256", jwtverify.Key{}, jwtverify.ErrUnknownKey},
		{"other", "EdDSA", anonEd, nil}, // the id-less key is the one key for any kid
		{"", "EdDSA", anonEd, nil},
		{"", "HS256", jwtverify.Key{}, jwtverify.ErrUnknownKey},
	}
	for _, tt := range tests {
		got, err := s.Key(ctx, tt.kid, tt.alg)
		if !errors.Is(err, tt.err) || got != tt.want {
			t.Errorf("Key(%q, %s) = %v, %v; want %v, %v", tt.kid, tt.alg, got.ID(), err, tt.want.ID(), tt.err)
		}
		if err != nil && tt.kid != "" && strings.Contains(err.Error(), tt.kid) {
			t.Errorf("error %q echoes the kid", err)
		}
	}
	if _, err := keyset.NewStatic(); !errors.Is(err, jwtverify.ErrInvalidConfig) {
		t.Errorf("NewStatic() = %v", err)
	}
	if _, err := keyset.NewStatic(rsa1, rsa1); !errors.Is(err, jwtverify.ErrInvalidConfig) {
		t.Errorf("NewStatic(duplicate id) = %v", err)
	}
	if _, err := keyset.NewStatic(jwtverify.Key{}); !errors.Is(err, jwtverify.ErrInvalidConfig) {
		t.Errorf("NewStatic(zero key) = %v", err)
	}
}
