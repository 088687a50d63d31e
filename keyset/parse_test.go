package keyset_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

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
		"unknown-memb": {jwkOf(t, rsaPub, "a", "", "ext", true, "x5t", "AAAA"), "RS256 RS384 RS512 PS256 PS384 PS512"},
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
		// A decoder that matches names without regard to case (encoding/json
		// into a struct) would read kty "oct" here.
		"case-folded-kty": jwkOf(t, rsaPub, "a", "", "KTY", "oct"),
		"kelvin-kty":      jwkOf(t, rsaPub, "a", "", "\u212aty", "oct"),
		"not-object":      []byte(`[]`),
		"trailing":        append(jwkOf(t, rsaPub, "a", ""), 'x'),
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
	if err != nil || len(keys) != 1 || keys[0].ID() != "b" || len(skipped) != 2 {
		t.Fatalf("ambiguous kid: %d keys, %v, %v; want 1 key, both keys of kid a skipped", len(keys), skipped, err)
	}

	many := make([]json.RawMessage, maxKeys+1)
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
		got, err := s.Key(ctx, jwtverify.Lookup{KID: tt.kid, Alg: tt.alg})
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

// TestJWKMinimalOctets: RSA n and e are Base64urlUInt values, which RFC
// 7518 §2 and §6.3.1 require in the minimum number of octets; EC x and y
// are the other way round, always the full length of the curve (§6.2.1.2).
func TestJWKMinimalOctets(t *testing.T) {
	ks := testkeys.Load()
	rsaPub := &ks.RSA1.PublicKey
	for name, data := range map[string][]byte{
		"n-leading-zero":  jwkOf(t, rsaPub, "a", "", "n", b64(append([]byte{0}, rsaPub.N.Bytes()...))),
		"e-leading-zero":  jwkOf(t, rsaPub, "a", "", "e", b64([]byte{0, 1, 0, 1})),
		"e-two-zeros":     jwkOf(t, rsaPub, "a", "", "e", b64([]byte{0, 0, 1, 0, 1})),
		"e-zero":          jwkOf(t, rsaPub, "a", "", "e", "AA"),
		"n-only-zero-pad": jwkOf(t, rsaPub, "a", "", "n", b64(append(make([]byte, 3), rsaPub.N.Bytes()...))),
	} {
		_, err := keyset.ParseJWK(data)
		if !errors.Is(err, keyset.ErrInvalidKey) || !strings.Contains(err.Error(), "leading zero octet") {
			t.Errorf("%s: ParseJWK() = %v, want ErrInvalidKey for a leading zero octet", name, err)
		}
	}

	// A P-256 key whose x starts with a zero octet, as 1 in 256 do.
	var x, y []byte
	var m map[string]any
	for {
		k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		json.Unmarshal(jwkOf(t, &k.PublicKey, "a", ""), &m)
		x, _ = base64.RawURLEncoding.DecodeString(m["x"].(string))
		y, _ = base64.RawURLEncoding.DecodeString(m["y"].(string))
		if x[0] == 0 {
			break
		}
	}
	full, _ := json.Marshal(m)
	if _, err := keyset.ParseJWK(full); err != nil {
		t.Fatalf("x with its leading zero octet kept: %v", err)
	}
	for name, xy := range map[string][2][]byte{
		"x-zero-stripped": {x[1:], y},
		"y-short":         {x, y[1:]},
		"x-extra-zero":    {append([]byte{0}, x...), y},
	} {
		m["x"], m["y"] = b64(xy[0]), b64(xy[1])
		data, _ := json.Marshal(m)
		_, err := keyset.ParseJWK(data)
		if !errors.Is(err, keyset.ErrInvalidKey) || !strings.Contains(err.Error(), "must be 32 bytes each, the full length of P-256") {
			t.Errorf("%s: ParseJWK() = %v, want ErrInvalidKey saying x and y are full length", name, err)
		}
	}
}

// TestJWKSSkipReasons: a set with no usable key says why each key was
// skipped, each key named by index and bounded kid; the list is bounded;
// the reasons are those of skipped, and of a Remote's RefreshEvent.
func TestJWKSSkipReasons(t *testing.T) {
	ks := testkeys.Load()
	set := func(keys ...[]byte) []byte {
		raw := make([]json.RawMessage, len(keys))
		for i, k := range keys {
			raw[i] = k
		}
		data, _ := json.Marshal(map[string]any{"keys": raw})
		return data
	}
	k1 := jwkOf(t, &ks.RSA1.PublicKey, "k1", "", "use", "jwt-svid")
	k2a := jwkOf(t, &ks.RSA1.PublicKey, "k2", "")
	k2b := jwkOf(t, &ks.P256.PublicKey, "k2", "")
	noKid := jwkOf(t, &ks.RSA1024.PublicKey, "", "")
	data := set(k1, k2a, noKid, k2b)
	_, skipped, err := keyset.ParseJWKS(data)
	if !errors.Is(err, keyset.ErrInvalidKey) {
		t.Fatalf("ParseJWKS = %v, want ErrInvalidKey", err)
	}
	want := []string{
		`key 0 (kid "k1"): invalid key: JWK use "jwt-svid" is not sig`,
		`key 2: invalid key: RSA key of 1024 bits; at least 2048 required`,
		`key 1 (kid "k2"): invalid key: kid is used by different keys`,
		`key 3 (kid "k2"): invalid key: kid is used by different keys`,
	}
	if len(skipped) != len(want) {
		t.Fatalf("skipped = %q, want %q", skipped, want)
	}
	for i, w := range want {
		if skipped[i].Error() != w || !errors.Is(skipped[i], keyset.ErrInvalidKey) {
			t.Errorf("skipped[%d] = %q, want %q", i, skipped[i], w)
		}
	}
	if got, w := err.Error(), "invalid key: JWKS has no usable key: "+strings.Join(want, "; "); got != w {
		t.Errorf("ParseJWKS error\n%s\nwant\n%s", got, w)
	}

	// Hostile kids and use values: long, multi-byte at the cut, control
	// characters. The error keeps 32 bytes of each, Go-quoted.
	longKid := strings.Repeat("a", 31) + "é" + strings.Repeat("b", 10000)
	var bad [][]byte
	bad = append(bad, jwkOf(t, &ks.RSA1.PublicKey, longKid, "", "use", "x\n"+strings.Repeat("u", 5000)))
	bad = append(bad, jwkOf(t, &ks.RSA1.PublicKey, "line\nbreak\x1b[31m", "", "use", "enc"))
	for i := 0; i < 18; i++ {
		bad = append(bad, jwkOf(t, &ks.RSA1.PublicKey, fmt.Sprintf("enc-%d", i), "", "use", "enc"))
	}
	_, skipped, err = keyset.ParseJWKS(set(bad...))
	if err == nil || len(skipped) != 20 {
		t.Fatalf("ParseJWKS = %d skipped, %v", len(skipped), err)
	}
	msg := err.Error()
	for _, w := range []string{
		`key 0 (kid "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"...): invalid key: JWK use "x\nuuuuuuuuuuuuuuuuuuuuuuuuuuuuuu"... is not sig`,
		`key 1 (kid "line\nbreak\x1b[31m"): invalid key: JWK use "enc" is not sig`,
		`key 7 (kid "enc-5"): `,
		`; and 12 more`,
	} {
		if !strings.Contains(msg, w) {
			t.Errorf("error %q lacks %q", msg, w)
		}
	}
	if strings.Contains(msg, "enc-6") || strings.ContainsAny(msg, "\n\x1b") || !utf8.ValidString(msg) || len(msg) > 1200 {
		t.Errorf("error is not bounded or not escaped (%d bytes): %q", len(msg), msg)
	}

	// A Remote reports the same reasons, in its event and its error.
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.Write(data) }))
	defer srv.Close()
	var ev keyset.RefreshEvent
	r, err := keyset.NewRemote(srv.URL, keyset.RemoteConfig{OnRefresh: func(_ context.Context, e keyset.RefreshEvent) { ev = e }})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	refreshErr := r.Refresh(context.Background())
	if len(ev.Skipped) != len(want) {
		t.Fatalf("RefreshEvent.Skipped = %q, want %q", ev.Skipped, want)
	}
	for i, w := range want {
		if ev.Skipped[i].Error() != w {
			t.Errorf("RefreshEvent.Skipped[%d] = %q, want %q", i, ev.Skipped[i], w)
		}
	}
	if refreshErr == nil || !strings.Contains(refreshErr.Error(), strings.Join(want, "; ")) || ev.Err == nil || !strings.Contains(ev.Err.Error(), want[0]) {
		t.Errorf("Refresh = %v, event error %v; want the reasons", refreshErr, ev.Err)
	}
}

// TestKeyErrorsKeepReason: a key jwtverify.NewPublicKey refuses is
// ErrInvalidKey from every parser, with NewPublicKey's reason.
func TestKeyErrorsKeepReason(t *testing.T) {
	ks := testkeys.Load()
	rsaPub := &ks.RSA1.PublicKey
	even := &rsa.PublicKey{N: new(big.Int).Lsh(rsaPub.N, 1), E: 65537}
	for name, tt := range map[string]struct {
		parse  func() error
		reason string
	}{
		"pem-weak": {func() error { _, err := keyset.ParsePEM(testkeys.PublicPEM(&ks.RSA1024.PublicKey)); return err }, "RSA key of 1024 bits; at least 2048 required"},
		"pem-even": {func() error { _, err := keyset.ParsePEM(testkeys.PublicPEM(even)); return err }, "RSA modulus has a prime factor below 168"},
		"jwk-weak": {func() error { _, err := keyset.ParseJWK(jwkOf(t, &ks.RSA1024.PublicKey, "a", "")); return err }, "RSA key of 1024 bits"},
		"jwk-e-3":  {func() error { _, err := keyset.ParseJWK(jwkOf(t, rsaPub, "a", "", "e", b64([]byte{2}))); return err }, "RSA public exponent must be odd"},
		"jwk-ed-zero": {func() error {
			_, err := keyset.ParseJWK(jwkOf(t, ks.Ed25519.Public(), "a", "", "x", b64(append([]byte{1}, make([]byte, 31)...))))
			return err
		}, "Ed25519 key is not a curve point of large order"},
		"jwk-alg": {func() error { _, err := keyset.ParseJWK(jwkOf(t, rsaPub, "a", "ES256")); return err }, "key algorithm ES256 does not suit the key"},
	} {
		err := tt.parse()
		if !errors.Is(err, keyset.ErrInvalidKey) || errors.Is(err, jwtverify.ErrInvalidConfig) || !strings.HasPrefix(err.Error(), "invalid key: "+tt.reason) {
			t.Errorf("%s: %v, want ErrInvalidKey with reason %q", name, err, tt.reason)
		}
	}
}
