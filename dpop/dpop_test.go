package dpop_test

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	bigpkg "math/big"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/jwtverify/jwtverify"
	"github.com/jwtverify/jwtverify/backends/golangjwt"
	"github.com/jwtverify/jwtverify/backends/jwx"
	"github.com/jwtverify/jwtverify/dpop"
	"github.com/jwtverify/jwtverify/internal/testkeys"
	"github.com/jwtverify/jwtverify/jwttest"
)

const (
	accessToken = "eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiJhbGljZSJ9.c2lnbmF0dXJl" // the checker only hashes it
	reqURL      = "https://api.example/orders"
)

func newChecker(t *testing.T, b jwtverify.Backend, mod func(*dpop.Config)) *dpop.Checker {
	t.Helper()
	var cfg dpop.Config
	if mod != nil {
		mod(&cfg)
	}
	c, err := dpop.New(b, cfg)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func backends(t *testing.T) map[string]jwtverify.Backend {
	jb, err := jwx.NewBackend()
	if err != nil {
		t.Fatal(err)
	}
	return map[string]jwtverify.Backend{"golang-jwt": golangjwt.Backend{}, "jwx": jb}
}

func ecKey(t *testing.T) *ecdsa.PrivateKey {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// rawProof signs a proof with an arbitrary header and payload.
func rawProof(t *testing.T, key crypto.PrivateKey, alg string, header map[string]any, claims any) string {
	t.Helper()
	return jwttest.Sign(alg, key, header, claims)
}

func TestCheck(t *testing.T) {
	ks := testkeys.Load()
	key, other := ecKey(t), ecKey(t)
	jkt := jwttest.Thumbprint(key)
	pubJWK := func(k crypto.Signer) map[string]any {
		var m map[string]any
		p := jwttest.DPoPProof("ES256", k, "GET", reqURL, "", nil)
		h, _ := base64.RawURLEncoding.DecodeString(strings.Split(p, ".")[0])
		json.Unmarshal(h, &m)
		return m["jwk"].(map[string]any)
	}
	good := func() map[string]any {
		return map[string]any{"htm": "GET", "htu": reqURL, "iat": time.Now().Unix(), "jti": randJTI(), "ath": ath(accessToken)}
	}
	with := func(kv ...any) map[string]any {
		c := good()
		for i := 0; i < len(kv); i += 2 {
			if kv[i+1] == nil {
				delete(c, kv[i].(string))
			} else {
				c[kv[i].(string)] = kv[i+1]
			}
		}
		return c
	}
	hdr := map[string]any{"typ": "dpop+jwt", "jwk": pubJWK(key)}
	privJWK := pubJWK(key)
	privJWK["d"] = "AAAA"
	for _, tc := range []struct {
		name  string
		proof func() string
		req   func(*dpop.Request)
		want  error // nil: accepted
	}{
		{"good ES256", func() string { return jwttest.DPoPProof("ES256", key, "GET", reqURL, accessToken, nil) }, nil, nil},
		{"good RS256", func() string { return jwttest.DPoPProof("RS256", ks.RSA1, "GET", reqURL, accessToken, nil) },
			func(r *dpop.Request) { r.JKT = jwttest.Thumbprint(ks.RSA1) }, nil},
		{"good EdDSA", func() string { return jwttest.DPoPProof("EdDSA", ks.Ed25519, "GET", reqURL, accessToken, nil) },
			func(r *dpop.Request) { r.JKT = jwttest.Thumbprint(ks.Ed25519) }, nil},
		{"htu with query, fragment, default port, case", func() string {
			return jwttest.DPoPProof("ES256", key, "GET", "HTTPS://API.example:443/orders?x=1#f", accessToken, nil)
		}, nil, nil},
		{"request URL with query", func() string { return jwttest.DPoPProof("ES256", key, "GET", reqURL, accessToken, nil) },
			func(r *dpop.Request) { r.URL = reqURL + "?page=2" }, nil},
		{"iat at the window's edge", func() string {
			return rawProof(t, key, "ES256", hdr, with("iat", time.Now().Add(-59*time.Second).Unix()))
		}, nil, nil},

		{"no proof", func() string { return "" }, nil, dpop.ErrProof},
		{"not a JWS", func() string { return "not-a-proof" }, nil, dpop.ErrProof},
		{"typ missing", func() string { return rawProof(t, key, "ES256", map[string]any{"jwk": pubJWK(key)}, good()) }, nil, dpop.ErrProof},
		{"typ JWT", func() string {
			return rawProof(t, key, "ES256", map[string]any{"typ": "JWT", "jwk": pubJWK(key)}, good())
		}, nil, dpop.ErrProof},
		{"no jwk", func() string { return rawProof(t, key, "ES256", map[string]any{"typ": "dpop+jwt"}, good()) }, nil, dpop.ErrProof},
		{"jwk with private members", func() string {
			return rawProof(t, key, "ES256", map[string]any{"typ": "dpop+jwt", "jwk": privJWK}, good())
		}, nil, dpop.ErrProof},
		{"jwk oct", func() string {
			return rawProof(t, []byte("0123456789abcdef0123456789abcdef"), "HS256",
				map[string]any{"typ": "dpop+jwt", "jwk": map[string]any{"kty": "oct", "k": "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY"}}, good())
		}, nil, dpop.ErrProof},
		{"alg none", func() string { return rawProof(t, nil, "none", hdr, good()) }, nil, dpop.ErrProof},
		{"HS256 over the jwk", func() string { return rawProof(t, []byte("0123456789abcdef0123456789abcdef"), "HS256", hdr, good()) }, nil, dpop.ErrProof},
		{"signed by another key", func() string { return rawProof(t, other, "ES256", hdr, good()) }, nil, dpop.ErrProof},
		{"htm other", func() string { return jwttest.DPoPProof("ES256", key, "POST", reqURL, accessToken, nil) }, nil, dpop.ErrProof},
		{"htm lower case", func() string { return jwttest.DPoPProof("ES256", key, "get", reqURL, accessToken, nil) }, nil, dpop.ErrProof},
		{"htu other path", func() string {
			return jwttest.DPoPProof("ES256", key, "GET", "https://api.example/admin", accessToken, nil)
		}, nil, dpop.ErrProof},
		{"htu other host", func() string {
			return jwttest.DPoPProof("ES256", key, "GET", "https://evil.example/orders", accessToken, nil)
		}, nil, dpop.ErrProof},
		{"htu http", func() string {
			return jwttest.DPoPProof("ES256", key, "GET", "http://api.example/orders", accessToken, nil)
		}, nil, dpop.ErrProof},
		{"htu relative", func() string { return jwttest.DPoPProof("ES256", key, "GET", "/orders", accessToken, nil) }, nil, dpop.ErrProof},
		{"htu not a string", func() string { return rawProof(t, key, "ES256", hdr, with("htu", 7)) }, nil, dpop.ErrProof},
		{"jti missing", func() string { return rawProof(t, key, "ES256", hdr, with("jti", nil)) }, nil, dpop.ErrProof},
		{"jti empty", func() string { return rawProof(t, key, "ES256", hdr, with("jti", "")) }, nil, dpop.ErrProof},
		{"jti too long", func() string { return rawProof(t, key, "ES256", hdr, with("jti", strings.Repeat("j", 257))) }, nil, dpop.ErrProof},
		{"iat missing", func() string { return rawProof(t, key, "ES256", hdr, with("iat", nil)) }, nil, dpop.ErrProof},
		{"iat stale", func() string {
			return rawProof(t, key, "ES256", hdr, with("iat", time.Now().Add(-61*time.Second).Unix()))
		}, nil, dpop.ErrProof},
		{"iat in the future", func() string {
			return rawProof(t, key, "ES256", hdr, with("iat", time.Now().Add(61*time.Second).Unix()))
		}, nil, dpop.ErrProof},
		{"ath missing", func() string { return rawProof(t, key, "ES256", hdr, with("ath", nil)) }, nil, dpop.ErrProof},
		{"ath of another token", func() string { return rawProof(t, key, "ES256", hdr, with("ath", ath("other"))) }, nil, dpop.ErrProof},
		{"key not the token's cnf.jkt", func() string { return jwttest.DPoPProof("ES256", other, "GET", reqURL, accessToken, nil) }, nil, dpop.ErrProof},
		{"token not bound", func() string { return jwttest.DPoPProof("ES256", key, "GET", reqURL, accessToken, nil) },
			func(r *dpop.Request) { r.JKT = "" }, dpop.ErrProof},
		{"duplicate htm", func() string {
			return rawProof(t, key, "ES256", hdr, json.RawMessage(`{"htm":"GET","htm":"POST","htu":"`+reqURL+`","jti":"x","iat":`+itoa(time.Now().Unix())+`}`))
		}, nil, dpop.ErrProof},
		{"too large", func() string { return rawProof(t, key, "ES256", hdr, with("pad", strings.Repeat("p", 9000))) }, nil, dpop.ErrProof},
	} {
		for name, b := range backends(t) {
			// In a synctest bubble the clock stands still, so the proof's
			// iat and the checker's now are the same instant: a case 1 s
			// past the window's edge cannot land inside it when a second
			// ticks between making the proof and checking it.
			t.Run(name+"/"+tc.name, func(t *testing.T) {
				synctest.Test(t, func(t *testing.T) {
					c := newChecker(t, b, nil)
					r := dpop.Request{Method: "GET", URL: reqURL, AccessToken: accessToken, JKT: jkt}
					if tc.req != nil {
						tc.req(&r)
					}
					proof := tc.proof()
					err := c.Check(context.Background(), proof, r)
					if tc.want == nil {
						if err != nil {
							t.Fatalf("refused: %v", err)
						}
					} else if !errors.Is(err, tc.want) {
						t.Fatalf("got %v, want %v", err, tc.want)
					}
					if err != nil {
						for _, seg := range strings.Split(proof, ".") {
							if len(seg) >= 8 && strings.Contains(err.Error(), seg) {
								t.Fatalf("error %q holds proof bytes", err)
							}
						}
						if strings.Contains(err.Error(), accessToken) || strings.Contains(err.Error(), jkt) {
							t.Fatalf("error %q holds the token or its thumbprint", err)
						}
					}
				})
			})
		}
	}
}

func randJTI() string {
	b := make([]byte, 12)
	rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

func ath(tok string) string {
	p := jwttest.DPoPProof("ES256", testkeys.Load().P256, "GET", reqURL, tok, nil)
	var m map[string]any
	b, _ := base64.RawURLEncoding.DecodeString(strings.Split(p, ".")[1])
	json.Unmarshal(b, &m)
	return m["ath"].(string)
}

func itoa(n int64) string { b, _ := json.Marshal(n); return string(b) }

// TestReplay: a proof is accepted once; the same jti with the same key is
// a replay, whether in the same proof or a new one, until its window
// ends; another key's jti does not collide.
func TestReplay(t *testing.T) {
	key, other := ecKey(t), ecKey(t)
	c := newChecker(t, golangjwt.Backend{}, nil)
	r := dpop.Request{Method: "GET", URL: reqURL, AccessToken: accessToken, JKT: jwttest.Thumbprint(key)}
	p := jwttest.DPoPProof("ES256", key, "GET", reqURL, accessToken, map[string]any{"jti": "once"})
	if err := c.Check(context.Background(), p, r); err != nil {
		t.Fatal(err)
	}
	if err := c.Check(context.Background(), p, r); !errors.Is(err, dpop.ErrProof) || !strings.Contains(err.Error(), "replay") {
		t.Fatalf("replayed proof: %v", err)
	}
	again := jwttest.DPoPProof("ES256", key, "GET", reqURL, accessToken, map[string]any{"jti": "once", "iat": time.Now().Unix() - 1})
	if err := c.Check(context.Background(), again, r); !errors.Is(err, dpop.ErrProof) {
		t.Fatalf("new proof, same jti: %v", err)
	}
	r2 := r
	r2.JKT = jwttest.Thumbprint(other)
	if err := c.Check(context.Background(), jwttest.DPoPProof("ES256", other, "GET", reqURL, accessToken, map[string]any{"jti": "once"}), r2); err != nil {
		t.Fatalf("another key's jti collides: %v", err)
	}
}

// TestConcurrentReplay: of 50 concurrent checks of one proof, exactly one
// is accepted (run under -race).
func TestConcurrentReplay(t *testing.T) {
	key := ecKey(t)
	c := newChecker(t, golangjwt.Backend{}, nil)
	r := dpop.Request{Method: "GET", URL: reqURL, AccessToken: accessToken, JKT: jwttest.Thumbprint(key)}
	p := jwttest.DPoPProof("ES256", key, "GET", reqURL, accessToken, nil)
	var ok atomic.Int32
	var wg sync.WaitGroup
	for range 50 {
		wg.Go(func() {
			if c.Check(context.Background(), p, r) == nil {
				ok.Add(1)
			}
		})
	}
	wg.Wait()
	if ok.Load() != 1 {
		t.Fatalf("%d of 50 accepted, want 1", ok.Load())
	}
}

// failingStore cannot answer.
type failingStore struct{}

func (failingStore) Remember(context.Context, string, time.Time) (bool, error) {
	return false, errors.New("connection refused")
}

// recordingStore records the ids and deadlines it is given.
type recordingStore struct {
	mu    sync.Mutex
	ids   []string
	until []time.Time
}

func (s *recordingStore) Remember(_ context.Context, id string, until time.Time) (bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.ids, s.until = append(s.ids, id), append(s.until, until)
	return false, nil
}

// TestStore: a store that cannot answer fails closed (ErrUnavailable);
// the store is given a digest, never the jti or proof, and the end of the
// proof's window; a refused proof never reaches the store.
func TestStore(t *testing.T) {
	key := ecKey(t)
	r := dpop.Request{Method: "GET", URL: reqURL, AccessToken: accessToken, JKT: jwttest.Thumbprint(key)}
	c := newChecker(t, golangjwt.Backend{}, func(cfg *dpop.Config) { cfg.Store = failingStore{} })
	if err := c.Check(context.Background(), jwttest.DPoPProof("ES256", key, "GET", reqURL, accessToken, nil), r); !errors.Is(err, dpop.ErrUnavailable) {
		t.Fatalf("store down: %v, want ErrUnavailable", err)
	}
	rec := &recordingStore{}
	c = newChecker(t, golangjwt.Backend{}, func(cfg *dpop.Config) { cfg.Store, cfg.Leeway = rec, 5*time.Second })
	iat := time.Now().Unix()
	if err := c.Check(context.Background(), jwttest.DPoPProof("ES256", key, "GET", reqURL, accessToken, map[string]any{"jti": "my-jti", "iat": iat}), r); err != nil {
		t.Fatal(err)
	}
	c.Check(context.Background(), jwttest.DPoPProof("ES256", key, "POST", reqURL, accessToken, nil), r) // refused before the store
	if len(rec.ids) != 1 || strings.Contains(rec.ids[0], "my-jti") || len(rec.ids[0]) != 43 {
		t.Fatalf("store ids %q, want one 43-byte digest", rec.ids)
	}
	if want := time.Unix(iat, 0).Add(65 * time.Second); rec.until[0].Sub(want).Abs() > time.Second {
		t.Fatalf("until %v, want iat + Window + Leeway = %v", rec.until[0], want)
	}
}

// TestStoreClock: the deadline given to the store is on the wall clock,
// which stores read, whatever Config.Now says: with a Checker clock ten
// minutes behind, a proof is still accepted once only.
func TestStoreClock(t *testing.T) {
	key := ecKey(t)
	behind := func() time.Time { return time.Now().Add(-10 * time.Minute) }
	c := newChecker(t, golangjwt.Backend{}, func(cfg *dpop.Config) { cfg.Now = behind })
	r := dpop.Request{Method: "GET", URL: reqURL, AccessToken: accessToken, JKT: jwttest.Thumbprint(key)}
	p := jwttest.DPoPProof("ES256", key, "GET", reqURL, accessToken, map[string]any{"iat": behind().Unix()})
	if err := c.Check(context.Background(), p, r); err != nil {
		t.Fatal(err)
	}
	if err := c.Check(context.Background(), p, r); !errors.Is(err, dpop.ErrProof) {
		t.Fatalf("second use with a clock behind: %v, want a replay", err)
	}
}

// TestProofExpNbf: exp and nbf of a proof get Config.Leeway only, not the
// iat window; a proof key above 4096 bits and a jwk with an odd member
// are refused with fixed reasons holding no proof bytes.
func TestProofExpNbf(t *testing.T) {
	key := ecKey(t)
	c := newChecker(t, golangjwt.Backend{}, nil)
	r := dpop.Request{Method: "GET", URL: reqURL, AccessToken: accessToken, JKT: jwttest.Thumbprint(key)}
	for name, claims := range map[string]map[string]any{
		"exp 30 s ago":   {"exp": time.Now().Add(-30 * time.Second).Unix()},
		"nbf 30 s ahead": {"nbf": time.Now().Add(30 * time.Second).Unix()},
	} {
		if err := c.Check(context.Background(), jwttest.DPoPProof("ES256", key, "GET", reqURL, accessToken, claims), r); !errors.Is(err, dpop.ErrProof) {
			t.Errorf("%s: %v, want refused", name, err)
		}
	}
	if err := c.Check(context.Background(), jwttest.DPoPProof("ES256", key, "GET", reqURL, accessToken, map[string]any{"exp": time.Now().Add(30 * time.Second).Unix()}), r); err != nil {
		t.Errorf("exp ahead: %v", err)
	}
	// A modulus of more than 4096 bits with no small factor: the product
	// of fixture moduli (a real key's modulus would take seconds to make).
	ks := testkeys.Load()
	n := new(bigpkg.Int).Mul(ks.RSA1.N, ks.RSA2.N)
	n.Mul(n, ks.RSA1.N)
	big := map[string]any{"kty": "RSA", "n": base64.RawURLEncoding.EncodeToString(n.Bytes()), "e": "AQAB"}
	bigProof := jwttest.Sign("RS256", testkeys.Load().RSA1, map[string]any{"typ": "dpop+jwt", "jwk": big}, map[string]any{"htm": "GET"})
	if err := c.Check(context.Background(), bigProof, dpop.Request{Method: "GET", URL: reqURL, AccessToken: accessToken, JKT: "x"}); !errors.Is(err, dpop.ErrProof) || !strings.Contains(err.Error(), "4096") {
		t.Errorf("4200-bit proof key: %v", err)
	}
	jwk := map[string]any{"kty": "EC", "crv": "P-256", "x": "x", "y": "y", "use": "SECRETVALUE-use"}
	p := jwttest.Sign("ES256", key, map[string]any{"typ": "dpop+jwt", "jwk": jwk}, map[string]any{"htm": "GET"})
	if err := c.Check(context.Background(), p, r); !errors.Is(err, dpop.ErrProof) || strings.Contains(err.Error(), "SECRETVALUE") {
		t.Errorf("odd jwk: %v", err)
	}
}

// TestNonce: with NonceSecret, a proof needs the current nonce (or the
// previous step's); none, a wrong one or an old one is ErrNonce, and
// Nonce gives the one to send. Another instance with the same secret
// accepts it.
func TestNonce(t *testing.T) {
	key := ecKey(t)
	now := time.Unix(1_800_000_000, 0)
	clock := func() time.Time { return now }
	secret := []byte("0123456789abcdef0123456789abcdef")
	mk := func() *dpop.Checker {
		return newChecker(t, golangjwt.Backend{}, func(c *dpop.Config) { c.NonceSecret, c.NonceStep, c.Now = secret, time.Minute, clock })
	}
	c, c2 := mk(), mk()
	r := dpop.Request{Method: "GET", URL: reqURL, AccessToken: accessToken, JKT: jwttest.Thumbprint(key)}
	proof := func(nonce any) string {
		return jwttest.DPoPProof("ES256", key, "GET", reqURL, accessToken, map[string]any{"nonce": nonce, "iat": now.Unix()})
	}
	n := c.Nonce()
	if n == "" || n != c2.Nonce() {
		t.Fatalf("nonces %q and %q", n, c2.Nonce())
	}
	for name, tc := range map[string]struct {
		nonce any
		want  error
	}{
		"none": {nil, dpop.ErrNonce}, "wrong": {"bm9wZQ", dpop.ErrNonce}, "current": {n, nil},
	} {
		if err := c.Check(context.Background(), proof(tc.nonce), r); !errors.Is(err, tc.want) && !(tc.want == nil && err == nil) {
			t.Errorf("%s: %v, want %v", name, err, tc.want)
		}
	}
	now = now.Add(time.Minute) // one step on: the previous nonce is still good, on the other instance too
	if err := c2.Check(context.Background(), proof(n), r); err != nil {
		t.Fatalf("previous step's nonce: %v", err)
	}
	if c.Nonce() == n {
		t.Fatal("the nonce did not rotate")
	}
	now = now.Add(time.Minute) // two steps on: too old
	if err := c.Check(context.Background(), proof(n), r); !errors.Is(err, dpop.ErrNonce) {
		t.Fatalf("nonce two steps old: %v", err)
	}
	if off := newChecker(t, golangjwt.Backend{}, nil); off.Nonce() != "" {
		t.Fatal("Nonce with nonces off")
	}
}

func TestNewRefuses(t *testing.T) {
	for name, cfg := range map[string]dpop.Config{
		"HS256":          {Algorithms: []string{"HS256"}},
		"none":           {Algorithms: []string{"none"}},
		"unknown":        {Algorithms: []string{"ES257"}},
		"window too big": {Window: 5 * time.Minute, Leeway: time.Second},
		"negative":       {Window: -time.Second},
		"short secret":   {NonceSecret: []byte("short")},
	} {
		if _, err := dpop.New(golangjwt.Backend{}, cfg); !errors.Is(err, jwtverify.ErrInvalidConfig) {
			t.Errorf("%s: %v", name, err)
		}
	}
}

// TestAlgorithmsAllowlist: a proof alg outside Config.Algorithms is
// refused.
func TestAlgorithmsAllowlist(t *testing.T) {
	ks := testkeys.Load()
	c := newChecker(t, golangjwt.Backend{}, func(cfg *dpop.Config) { cfg.Algorithms = []string{"ES256"} })
	r := dpop.Request{Method: "GET", URL: reqURL, AccessToken: accessToken, JKT: jwttest.Thumbprint(ks.RSA1)}
	if err := c.Check(context.Background(), jwttest.DPoPProof("RS256", ks.RSA1, "GET", reqURL, accessToken, nil), r); !errors.Is(err, dpop.ErrProof) {
		t.Fatalf("RS256 with an ES256 allowlist: %v", err)
	}
	if got := strings.Join(c.Algorithms(), " "); got != "ES256" {
		t.Fatalf("Algorithms %q", got)
	}
}
