package jwttest_test

import (
	"bytes"
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jwtverify/jwtverify"
	"github.com/jwtverify/jwtverify/backends/golangjwt"
	"github.com/jwtverify/jwtverify/backends/jwx"
	"github.com/jwtverify/jwtverify/jwttest"
	"github.com/jwtverify/jwtverify/keyset"
)

// verify verifies token with both backends against keys, checking no iss
// or aud, and returns the class ("" for valid) after checking that the
// backends agree.
func verify(t *testing.T, keys jwtverify.KeySource, token string) (*jwtverify.Token, string) {
	t.Helper()
	cfg := jwtverify.Config{Keys: keys, SkipIssuerCheck: true, SkipAudienceCheck: true}
	var tok *jwtverify.Token
	var classes []string
	for _, newV := range []func(jwtverify.Config) (*jwtverify.Verifier, error){golangjwt.New, jwx.New} {
		v, err := newV(cfg)
		if err != nil {
			t.Fatal(err)
		}
		got, err := v.Verify(context.Background(), token)
		if err == nil {
			tok = got
		}
		classes = append(classes, jwtverify.Class(err))
	}
	if classes[0] != classes[1] {
		t.Fatalf("backends disagree: %q", classes)
	}
	return tok, classes[0]
}

func staticKeys(t *testing.T, keys ...jwtverify.Key) *keyset.Static {
	t.Helper()
	s, err := keyset.NewStatic(keys...)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func publicKey(t *testing.T, kid string, pub crypto.PublicKey) jwtverify.Key {
	t.Helper()
	k, err := jwtverify.NewPublicKey(kid, "", pub)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// segment returns the decoded segment i of token.
func segment(t *testing.T, token string, i int) []byte {
	t.Helper()
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		t.Fatalf("token has %d segments", len(parts))
	}
	b, err := base64.RawURLEncoding.DecodeString(parts[i])
	if err != nil {
		t.Fatal(err)
	}
	return b
}

var future = map[string]any{"sub": "alice", "exp": 4102444800} // 2100

func TestSignEveryAlgorithm(t *testing.T) {
	rsaKey, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	ecKey := func(c elliptic.Curve) *ecdsa.PrivateKey {
		k, err := ecdsa.GenerateKey(c, rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		return k
	}
	p256, p384, p521 := ecKey(elliptic.P256()), ecKey(elliptic.P384()), ecKey(elliptic.P521())
	_, edKey, _ := ed25519.GenerateKey(rand.Reader)
	secret := bytes.Repeat([]byte{42}, 64)
	secretKey, err := jwtverify.NewSecretKey("", "", secret)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		alg  string
		priv crypto.PrivateKey
		key  jwtverify.Key
	}{
		{"RS256", rsaKey, publicKey(t, "", &rsaKey.PublicKey)},
		{"RS384", rsaKey, publicKey(t, "", &rsaKey.PublicKey)},
		{"RS512", rsaKey, publicKey(t, "", &rsaKey.PublicKey)},
		{"PS256", rsaKey, publicKey(t, "", &rsaKey.PublicKey)},
		{"PS384", rsaKey, publicKey(t, "", &rsaKey.PublicKey)},
		{"PS512", rsaKey, publicKey(t, "", &rsaKey.PublicKey)},
		{"ES256", p256, publicKey(t, "", &p256.PublicKey)},
		{"ES384", p384, publicKey(t, "", &p384.PublicKey)},
		{"ES512", p521, publicKey(t, "", &p521.PublicKey)},
		{"EdDSA", edKey, publicKey(t, "", edKey.Public())},
		{"HS256", secret, secretKey},
		{"HS384", secret, secretKey},
		{"HS512", secret, secretKey},
	} {
		t.Run(c.alg, func(t *testing.T) {
			token := jwttest.Sign(c.alg, c.priv, nil, future)
			if got := string(segment(t, token, 0)); got != `{"alg":"`+c.alg+`"}` {
				t.Errorf("header %s", got)
			}
			tok, class := verify(t, staticKeys(t, c.key), token)
			if class != "" || tok.Header.Algorithm != c.alg || tok.Claims.Subject != "alice" {
				t.Fatalf("class %q, token %+v", class, tok)
			}
			// A token of another key of the same type does not verify.
			other := token[:strings.LastIndexByte(token, '.')+1] + base64.RawURLEncoding.EncodeToString(make([]byte, len(segment(t, token, 2))))
			if _, class := verify(t, staticKeys(t, c.key), other); class != "signature" {
				t.Fatalf("zeroed signature: class %q", class)
			}
		})
	}
}

func TestSignHeaderAndPayload(t *testing.T) {
	_, key, _ := ed25519.GenerateKey(rand.Reader)
	token := jwttest.Sign("EdDSA", key, map[string]any{"kid": "k1", "typ": "at+jwt"}, future)
	if got := string(segment(t, token, 0)); got != `{"alg":"EdDSA","kid":"k1","typ":"at+jwt"}` {
		t.Errorf("header %s", got)
	}
	// header may replace alg: the token then lies about its signature.
	liar := jwttest.Sign("EdDSA", key, map[string]any{"alg": "ES256"}, future)
	if got := string(segment(t, liar, 0)); got != `{"alg":"ES256"}` {
		t.Errorf("header %s", got)
	}
	if _, class := verify(t, staticKeys(t, publicKey(t, "", key.Public())), liar); class != "algorithm" {
		t.Errorf("lying alg: class %q", class)
	}
	// A json.RawMessage is signed byte for byte, duplicate members included.
	raw := json.RawMessage(`{"sub":"alice",  "sub":"mallory","exp":4102444800}`)
	dup := jwttest.Sign("EdDSA", key, nil, raw)
	if got := segment(t, dup, 1); !bytes.Equal(got, raw) {
		t.Errorf("payload %s, want %s", got, raw)
	}
	if _, class := verify(t, staticKeys(t, publicKey(t, "", key.Public())), dup); class != "malformed" {
		t.Errorf("duplicate members: class %q", class)
	}
	// A struct is encoded with encoding/json.
	st := jwttest.Sign("EdDSA", key, nil, struct {
		Sub string `json:"sub"`
		Exp int64  `json:"exp"`
	}{"bob", 4102444800})
	if got := string(segment(t, st, 1)); got != `{"sub":"bob","exp":4102444800}` {
		t.Errorf("payload %s", got)
	}
}

func TestSignNone(t *testing.T) {
	token := jwttest.Sign("none", nil, nil, future)
	if !strings.HasSuffix(token, ".") || strings.Count(token, ".") != 2 {
		t.Fatalf("unsecured token %q", token)
	}
	_, key, _ := ed25519.GenerateKey(rand.Reader)
	if _, class := verify(t, staticKeys(t, publicKey(t, "", key.Public())), token); class != "algorithm" {
		t.Fatalf("class %q", class)
	}
}

// mustPanic calls f and checks that it panics with a message naming the
// package and containing want.
func mustPanic(t *testing.T, want string, f func()) {
	t.Helper()
	defer func() {
		t.Helper()
		r := recover()
		s, _ := r.(string)
		if !strings.HasPrefix(s, "jwttest: ") || !strings.Contains(s, want) {
			t.Errorf("panic %v, want a jwttest message containing %q", r, want)
		}
	}()
	f()
}

func TestSignPanicsOnMisuse(t *testing.T) {
	_, edKey, _ := ed25519.GenerateKey(rand.Reader)
	mustPanic(t, "does not sign ES256", func() { jwttest.Sign("ES256", edKey, nil, future) })
	mustPanic(t, "EdDSA", func() { jwttest.Sign("EdDSA", []byte("secret"), nil, future) })
	mustPanic(t, "unsupported alg", func() { jwttest.Sign("XX999", edKey, nil, future) })
	mustPanic(t, "unsupported alg", func() { jwttest.Sign("none", edKey, nil, future) })
	mustPanic(t, "claims", func() { jwttest.Sign("EdDSA", edKey, nil, map[string]any{"c": make(chan int)}) })
	mustPanic(t, "header", func() { jwttest.Sign("EdDSA", edKey, map[string]any{"c": make(chan int)}, future) })
}

func TestNewIssuerRefusesAlgorithms(t *testing.T) {
	for _, alg := range []string{"", "none", "HS256", "es256", "RS1"} {
		mustPanic(t, "unsupported algorithm", func() { jwttest.NewIssuer(alg).Close() })
	}
}

// discover returns a Remote for is, closed when the test ends.
func discover(t *testing.T, is *jwttest.Issuer) *keyset.Remote {
	t.Helper()
	keys, err := keyset.Discover(context.Background(), is.URL, keyset.RemoteConfig{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(keys.Close)
	return keys
}

func TestIssuerEveryAlgorithm(t *testing.T) {
	for _, alg := range []string{"ES256", "ES384", "ES512", "RS256", "PS512", "EdDSA"} {
		t.Run(alg, func(t *testing.T) {
			is := jwttest.NewIssuer(alg)
			defer is.Close()
			if _, kids := jwks(t, is, alg); len(kids) != 1 || kids[0] != "key-1" {
				t.Errorf("published %v", kids)
			}
			keys := discover(t, is)
			v, err := golangjwt.New(jwtverify.Config{Keys: keys, Issuers: []string{is.URL}, Audiences: []string{"api"}})
			if err != nil {
				t.Fatal(err)
			}
			tok, err := v.Verify(context.Background(), is.Sign(nil, map[string]any{"iss": is.URL, "aud": "api", "exp": 4102444800}))
			if err != nil || tok.Header.KeyID != "key-1" || tok.Header.Algorithm != alg {
				t.Fatalf("Verify: %v, %+v", err, tok)
			}
		})
	}
}

// jwks fetches is's JWKS, checks that its keys are signing keys of alg,
// and returns them as a Static key set, with their kids in order.
func jwks(t *testing.T, is *jwttest.Issuer, alg string) (*keyset.Static, []string) {
	t.Helper()
	resp, err := http.Get(is.URL + "/jwks")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	var doc struct {
		Keys []struct {
			Kid, Use, Alg string
		}
	}
	if err := json.Unmarshal(body, &doc); err != nil {
		t.Fatalf("%d %s: %v", resp.StatusCode, body, err)
	}
	keys, skipped, err := keyset.ParseJWKS(body)
	if err != nil || len(skipped) != 0 {
		t.Fatalf("ParseJWKS: %v %v", skipped, err)
	}
	var kids []string
	for _, k := range doc.Keys {
		if k.Use != "sig" || k.Alg != alg {
			t.Errorf("JWK %+v", k)
		}
		kids = append(kids, k.Kid)
	}
	return staticKeys(t, keys...), kids
}

func TestIssuerRotateAndRetire(t *testing.T) {
	is := jwttest.NewIssuer("ES256")
	defer is.Close()
	claims := map[string]any{"exp": 4102444800}
	first := is.Sign(nil, claims)
	if kid := is.Rotate(); kid != "key-2" {
		t.Fatalf("Rotate = %q", kid)
	}
	second := is.Sign(nil, claims)
	early := is.Sign(map[string]any{"kid": "key-1"}, claims) // a kid it made: that key signs
	stranger := is.Sign(map[string]any{"kid": "never"}, claims)

	keys, kids := jwks(t, is, "ES256")
	if strings.Join(kids, ",") != "key-1,key-2" {
		t.Fatalf("published %v", kids)
	}
	for _, c := range []struct {
		token, kid, class string
	}{{first, "key-1", ""}, {second, "key-2", ""}, {early, "key-1", ""}, {stranger, "never", "unknown_key"}} {
		var hdr struct{ Kid string }
		json.Unmarshal(segment(t, c.token, 0), &hdr)
		if _, class := verify(t, keys, c.token); hdr.Kid != c.kid || class != c.class {
			t.Errorf("token of kid %q: class %q, want kid %q class %q", hdr.Kid, class, c.kid, c.class)
		}
	}

	is.Retire("key-1")
	is.Retire("never") // ignored
	keys, kids = jwks(t, is, "ES256")
	if strings.Join(kids, ",") != "key-2" {
		t.Fatalf("published %v after Retire", kids)
	}
	for _, c := range []struct {
		token, class string
	}{{first, "unknown_key"}, {is.Sign(map[string]any{"kid": "key-1"}, claims), "unknown_key"}, {second, ""}, {is.Sign(nil, claims), ""}} {
		if _, class := verify(t, keys, c.token); class != c.class {
			t.Errorf("class %q, want %q", class, c.class)
		}
	}
	// Retiring the default key leaves it signing: its tokens name a kid
	// the JWKS lacks.
	is.Retire("key-2")
	orphan := is.Sign(nil, claims)
	var hdr struct{ Kid string }
	json.Unmarshal(segment(t, orphan, 0), &hdr)
	if hdr.Kid != "key-2" {
		t.Errorf("default kid after Retire: %q", hdr.Kid)
	}
}

// TestIssuerEndToEnd: a Remote from Discover follows a rotation through an
// unknown-kid refresh, and drops a retired key at its next refresh.
func TestIssuerEndToEnd(t *testing.T) {
	is := jwttest.NewIssuer("ES256")
	defer is.Close()
	keys := discover(t, is)
	v, err := jwx.New(jwtverify.Config{Keys: keys, Issuers: []string{is.URL}, Audiences: []string{"api"}, Types: []string{"at+jwt"}})
	if err != nil {
		t.Fatal(err)
	}
	claims := map[string]any{"iss": is.URL, "aud": "api", "exp": time.Now().Add(time.Hour).Unix(), "sub": "alice"}
	at := map[string]any{"typ": "at+jwt"}
	check := func(token, want string) {
		t.Helper()
		_, err := v.Verify(context.Background(), token)
		if got := jwtverify.Class(err); got != want {
			t.Errorf("class %q (%v), want %q", got, err, want)
		}
	}
	check(is.Sign(at, claims), "")
	check(is.Sign(nil, claims), "type")
	is.Rotate()
	check(is.Sign(at, claims), "") // unknown kid: one refresh
	if n := is.JWKSRequests(); n != 2 {
		t.Errorf("%d JWKS requests after a rotation, want 2", n)
	}
}

func TestIssuerJWKSCaching(t *testing.T) {
	is := jwttest.NewIssuer("ES256")
	defer is.Close()
	get := func(etag string) *http.Response {
		t.Helper()
		req, _ := http.NewRequest("GET", is.URL+"/jwks", nil)
		if etag != "" {
			req.Header.Set("If-None-Match", etag)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		return resp
	}
	first := get("")
	etag := first.Header.Get("ETag")
	if first.StatusCode != 200 || etag == "" || first.Header.Get("Cache-Control") != "max-age=300" ||
		first.Header.Get("Content-Type") != "application/json" {
		t.Fatalf("%d %v", first.StatusCode, first.Header)
	}
	if resp := get(etag); resp.StatusCode != http.StatusNotModified {
		t.Errorf("If-None-Match of the current ETag: %d", resp.StatusCode)
	}
	is.Rotate()
	second := get(etag)
	if second.StatusCode != 200 || second.Header.Get("ETag") == etag {
		t.Errorf("after Rotate: %d, ETag %q (was %q)", second.StatusCode, second.Header.Get("ETag"), etag)
	}
	is.Retire("key-1")
	if resp := get(second.Header.Get("ETag")); resp.StatusCode != 200 {
		t.Errorf("after Retire: %d", resp.StatusCode)
	}
	if n := is.JWKSRequests(); n != 4 {
		t.Errorf("JWKSRequests = %d, want 4", n)
	}
}

func TestIssuerFailing(t *testing.T) {
	is := jwttest.NewIssuer("ES256")
	defer is.Close()
	is.SetFailing(true)
	for _, path := range []string{"/.well-known/openid-configuration", "/jwks"} {
		resp, err := http.Get(is.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusServiceUnavailable {
			t.Errorf("%s while failing: %d", path, resp.StatusCode)
		}
	}
	if _, err := keyset.Discover(context.Background(), is.URL, keyset.RemoteConfig{}); !errors.Is(err, jwtverify.ErrKeysUnavailable) {
		t.Errorf("Discover while failing: %v", err)
	}
	is.SetFailing(false)
	keys := discover(t, is)
	if _, class := verify(t, keys, is.Sign(nil, future)); class != "" {
		t.Errorf("after recovery: %q", class)
	}
	if n := is.JWKSRequests(); n != 2 {
		t.Errorf("JWKSRequests = %d, want 2 (one failed)", n)
	}
}

func TestIssuerDiscoveryDocument(t *testing.T) {
	is := jwttest.NewIssuer("EdDSA")
	defer is.Close()
	url := is.URL
	is.URL = "https://elsewhere.example" // changes nothing served
	resp, err := http.Get(url + "/.well-known/openid-configuration")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var doc struct {
		Issuer  string   `json:"issuer"`
		JWKSURI string   `json:"jwks_uri"`
		Algs    []string `json:"id_token_signing_alg_values_supported"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&doc); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(url, "http://127.0.0.1:") && !strings.HasPrefix(url, "http://[::1]:") {
		t.Errorf("URL %q", url)
	}
	if doc.Issuer != url || doc.JWKSURI != url+"/jwks" || len(doc.Algs) != 1 || doc.Algs[0] != "EdDSA" {
		t.Errorf("discovery document %+v for %s", doc, url)
	}
	if resp, err := http.Post(url+"/jwks", "text/plain", nil); err != nil || resp.StatusCode != http.StatusMethodNotAllowed {
		t.Errorf("POST /jwks: %v %v", resp.Status, err)
	}
}

func TestIssuerClose(t *testing.T) {
	is := jwttest.NewIssuer("ES256")
	url := is.URL
	is.Close()
	is.Close()
	if resp, err := http.Get(url + "/jwks"); err == nil {
		resp.Body.Close()
		t.Fatal("served after Close")
	}
	if tok := is.Sign(nil, future); strings.Count(tok, ".") != 2 {
		t.Fatalf("Sign after Close: %q", tok)
	}
	is.Rotate()
	is.Retire("key-1")
}

// TestIssuerConcurrent signs, rotates and fetches at once (run under
// -race): every token must carry the kid of the key that signed it.
func TestIssuerConcurrent(t *testing.T) {
	is := jwttest.NewIssuer("ES256")
	defer is.Close()
	var (
		wg     sync.WaitGroup
		mu     sync.Mutex
		tokens []string
	)
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 20; i++ {
				var h map[string]any
				if i%3 == 0 {
					h = map[string]any{"kid": "key-1"}
				}
				tok := is.Sign(h, future)
				mu.Lock()
				tokens = append(tokens, tok)
				mu.Unlock()
			}
		}()
	}
	wg.Add(2)
	go func() {
		defer wg.Done()
		for i := 0; i < 10; i++ {
			is.Rotate()
		}
	}()
	go func() {
		defer wg.Done()
		for i := 0; i < 10; i++ {
			resp, err := http.Get(is.URL + "/jwks")
			if err != nil {
				t.Error(err)
				return
			}
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
		}
	}()
	wg.Wait()
	keys, kids := jwks(t, is, "ES256")
	if len(kids) != 11 {
		t.Fatalf("published %v", kids)
	}
	for _, tok := range tokens {
		if _, class := verify(t, keys, tok); class != "" {
			t.Fatalf("class %q", class)
		}
	}
}
