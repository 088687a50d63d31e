// Package issuer is a small OpenID Provider for the examples: it publishes
// a discovery document and a JWKS on loopback, signs ES256 access tokens,
// rotates and retires keys, and can be told to fail.
package issuer

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jwtverify/jwtverify/internal/mint"
)

// Issuer is a local token issuer. Safe for concurrent use.
type Issuer struct {
	URL string // the issuer identifier (and base URL)

	srv     *httptest.Server
	mu      sync.Mutex
	keys    map[string]*ecdsa.PrivateKey // published
	current string                       // signs new tokens
	n       int
	failing atomic.Bool
	Fetches atomic.Int64 // JWKS requests served (failed ones included)
}

// Start starts an issuer with one key.
func Start() (*Issuer, error) {
	is := &Issuer{keys: map[string]*ecdsa.PrivateKey{}}
	mux := http.NewServeMux()
	mux.HandleFunc("/.well-known/openid-configuration", func(w http.ResponseWriter, r *http.Request) {
		json.NewEncoder(w).Encode(map[string]string{"issuer": is.URL, "jwks_uri": is.URL + "/jwks"})
	})
	mux.HandleFunc("/jwks", is.serveJWKS)
	is.srv = httptest.NewServer(mux)
	is.URL = is.srv.URL
	if _, err := is.Rotate(); err != nil {
		is.srv.Close()
		return nil, err
	}
	return is, nil
}

func (is *Issuer) serveJWKS(w http.ResponseWriter, r *http.Request) {
	is.Fetches.Add(1)
	if is.failing.Load() {
		http.Error(w, "unavailable", http.StatusServiceUnavailable)
		return
	}
	is.mu.Lock()
	var keys []any
	for kid, k := range is.keys {
		m, _ := mint.JWK(&k.PublicKey, kid, "ES256")
		keys = append(keys, m)
	}
	is.mu.Unlock()
	w.Header().Set("Cache-Control", "max-age=300")
	json.NewEncoder(w).Encode(map[string]any{"keys": keys})
}

// Rotate publishes a new key and signs new tokens with it; the old keys
// stay published until retired. It returns the new kid.
func (is *Issuer) Rotate() (string, error) {
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return "", err
	}
	is.mu.Lock()
	defer is.mu.Unlock()
	is.n++
	kid := fmt.Sprintf("key-%d", is.n)
	is.keys[kid] = k
	is.current = kid
	return kid, nil
}

// Prepublish publishes a new key without signing with it yet, as a careful
// issuer does before a rotation. It returns the new kid.
func (is *Issuer) Prepublish() (string, error) {
	is.mu.Lock()
	current := is.current
	is.mu.Unlock()
	kid, err := is.Rotate()
	if err != nil {
		return "", err
	}
	is.Activate(current)
	return kid, nil
}

// Activate makes kid, a published key, sign new tokens.
func (is *Issuer) Activate(kid string) {
	is.mu.Lock()
	if _, ok := is.keys[kid]; ok {
		is.current = kid
	}
	is.mu.Unlock()
}

// Retire stops publishing kid.
func (is *Issuer) Retire(kid string) {
	is.mu.Lock()
	delete(is.keys, kid)
	is.mu.Unlock()
}

// Published reports whether kid is still in the published key set.
func (is *Issuer) Published(kid string) bool {
	is.mu.Lock()
	defer is.mu.Unlock()
	_, ok := is.keys[kid]
	return ok
}

// KeyID returns the kid in a token's header ("" if it cannot be read).
func KeyID(token string) string {
	h, _, _ := strings.Cut(token, ".")
	raw, err := base64.RawURLEncoding.DecodeString(h)
	if err != nil {
		return ""
	}
	var hdr struct {
		Kid string `json:"kid"`
	}
	json.Unmarshal(raw, &hdr)
	return hdr.Kid
}

// Current returns the kid that signs new tokens.
func (is *Issuer) Current() string {
	is.mu.Lock()
	defer is.mu.Unlock()
	return is.current
}

// SetFailing makes the JWKS endpoint answer 503 (or recover).
func (is *Issuer) SetFailing(f bool) { is.failing.Store(f) }

// Token signs an access token for sub with the given scope and audience.
func (is *Issuer) Token(sub, scope, aud string, ttl time.Duration) (string, error) {
	is.mu.Lock()
	kid, key := is.current, is.keys[is.current]
	is.mu.Unlock()
	now := time.Now()
	return mint.Token("ES256", key, map[string]any{"kid": kid, "typ": "at+jwt"}, map[string]any{
		"iss": is.URL, "sub": sub, "aud": aud, "scope": scope,
		"iat": now.Unix(), "exp": now.Add(ttl).Unix(),
	})
}

// Close stops the issuer.
func (is *Issuer) Close() { is.srv.Close() }
