package jwttest

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jwtverify/jwtverify/internal/mint"
)

// Paths of the documents an Issuer serves, relative to its URL.
const (
	discoveryPath = "/.well-known/openid-configuration"
	jwksPath      = "/jwks"
)

// Issuer is a fake OpenID Provider for tests: an httptest.Server on
// loopback that serves an OpenID Connect discovery document at
// URL + "/.well-known/openid-configuration" (its issuer is URL, its
// jwks_uri URL + "/jwks") and the published keys as a JWKS at
// URL + "/jwks", and signs tokens with keys it makes. keyset.Discover(ctx,
// is.URL, ...) and keyset.NewRemote(is.URL+"/jwks", ...) accept it (http
// is allowed to loopback).
//
// Its keys are all of one algorithm, chosen in [NewIssuer], and are named
// "key-1", "key-2", ... in the order they are made. A key is published from
// when it is made until [Issuer.Retire]; the key made last signs by
// default. The JWKS is served with Cache-Control: max-age=300 and an ETag
// that changes whenever the published set does, and answers a matching
// If-None-Match with 304 Not Modified, as a real provider's does.
//
// Make an Issuer with NewIssuer; the zero Issuer is not usable. The caller
// owns it and must call [Issuer.Close] when done (defer is.Close(), or
// t.Cleanup(is.Close)). An Issuer is safe for concurrent use by multiple
// goroutines: a test may sign, rotate and retire while verifiers fetch.
type Issuer struct {
	// URL is the issuer identifier, which tokens name in iss, and the base
	// URL of its endpoints: http://127.0.0.1:port, without a trailing
	// slash. Changing it changes nothing the Issuer serves or signs.
	URL string

	alg       string
	srv       *httptest.Server
	discovery []byte // the discovery document, fixed at start
	failing   atomic.Bool
	requests  atomic.Int64 // JWKS requests

	mu        sync.Mutex // protects the fields below
	keys      map[string]crypto.Signer
	published []string // kids in the JWKS, oldest first
	current   string   // kid of the key Sign uses by default
	jwks      []byte   // the JWKS of published
	version   int      // changes with jwks; the ETag
}

// NewIssuer starts and returns an Issuer whose keys are of algorithm alg:
// ES256, ES384 or ES512 (ECDSA on P-256, P-384, P-521; ES256 is the fastest
// to make), RS256, RS384, RS512, PS256, PS384 or PS512 (2048-bit RSA) or
// EdDSA (Ed25519). It has one key, "key-1". NewIssuer panics for any
// other alg, as httptest.NewServer does when it cannot listen.
func NewIssuer(alg string) *Issuer {
	k, err := newKey(alg)
	if err != nil {
		panic("jwttest: NewIssuer: " + err.Error())
	}
	is := &Issuer{alg: alg, keys: map[string]crypto.Signer{}}
	is.add(k)
	mux := http.NewServeMux()
	mux.HandleFunc("GET "+discoveryPath, is.serveDiscovery)
	mux.HandleFunc("GET "+jwksPath, is.serveJWKS)
	is.srv = httptest.NewUnstartedServer(mux)
	is.URL = "http://" + is.srv.Listener.Addr().String() // what Start sets as srv.URL
	is.discovery, _ = json.Marshal(map[string]any{
		"issuer":                                is.URL,
		"jwks_uri":                              is.URL + jwksPath,
		"id_token_signing_alg_values_supported": []string{alg},
		"response_types_supported":              []string{"id_token"},
		"subject_types_supported":               []string{"public"},
	})
	is.srv.Start()
	return is
}

// newKey makes a private key for alg.
func newKey(alg string) (crypto.Signer, error) {
	switch alg {
	case "ES256":
		return ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	case "ES384":
		return ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	case "ES512":
		return ecdsa.GenerateKey(elliptic.P521(), rand.Reader)
	case "RS256", "RS384", "RS512", "PS256", "PS384", "PS512":
		return rsa.GenerateKey(rand.Reader, 2048)
	case "EdDSA":
		_, k, err := ed25519.GenerateKey(rand.Reader)
		return k, err
	}
	return nil, fmt.Errorf("unsupported algorithm %q", alg)
}

// Sign returns a token of claims signed by one of the Issuer's keys, with
// the protected header {"alg": the Issuer's algorithm, "kid": the signing
// key's kid} plus the entries of header, which may be nil (add "typ": "at+jwt" for an RFC 9068 access
// token). claims are encoded as [Sign] encodes them, exactly as given: add
// "iss": is.URL, "aud" and "exp" for a token a verifier of this issuer
// accepts.
//
// The key is the one header's kid names when that is a key the Issuer
// made, retired or not (so a test can sign with a key before it becomes
// the default, or after it is retired); otherwise it is the key made last,
// and a kid in header that names no key of the Issuer stays in the header
// (a token naming a key that was never published). An alg in header
// replaces the one written, not the one signed with. Sign works after
// Close, and does not modify or retain header or claims.
func (is *Issuer) Sign(header map[string]any, claims any) string {
	is.mu.Lock()
	kid := is.current
	if k, ok := header["kid"].(string); ok && is.keys[k] != nil {
		kid = k
	}
	key := is.keys[kid]
	is.mu.Unlock()
	h := map[string]any{"kid": kid}
	for name, v := range header {
		h[name] = v
	}
	return Sign(is.alg, key, h, claims)
}

// Rotate makes a new key, publishes it, makes it the key Sign uses by
// default, and returns its kid. The keys made before stay published until
// retired. To publish a key ahead of its use, as a careful provider does,
// keep passing the previous kid to Sign for a while.
func (is *Issuer) Rotate() string {
	k, err := newKey(is.alg)
	if err != nil {
		panic("jwttest: Rotate: " + err.Error())
	}
	return is.add(k)
}

// add publishes k under the next kid, makes it the default and returns the kid.
func (is *Issuer) add(k crypto.Signer) string {
	is.mu.Lock()
	defer is.mu.Unlock()
	kid := "key-" + strconv.Itoa(len(is.keys)+1)
	is.keys[kid] = k
	is.current = kid
	is.published = append(is.published, kid)
	is.encodeJWKS()
	return kid
}

// Retire stops publishing the key kid; a kid that is not published is
// ignored. A retired key still signs when Sign names it, and the default
// key stays the default even when retired: its tokens then name a kid the
// JWKS lacks.
func (is *Issuer) Retire(kid string) {
	is.mu.Lock()
	defer is.mu.Unlock()
	for i, p := range is.published {
		if p == kid {
			is.published = append(is.published[:i], is.published[i+1:]...)
			is.encodeJWKS()
			return
		}
	}
}

// encodeJWKS rebuilds the JWKS from published. is.mu must be held.
func (is *Issuer) encodeJWKS() {
	keys := make([]map[string]any, 0, len(is.published))
	for _, kid := range is.published {
		jwk, err := mint.JWK(is.keys[kid].Public(), kid, is.alg)
		if err != nil {
			panic("jwttest: " + err.Error()) // newKey makes only keys mint encodes
		}
		jwk["use"] = "sig"
		keys = append(keys, jwk)
	}
	is.jwks, _ = json.Marshal(map[string]any{"keys": keys})
	is.version++
}

// SetFailing makes the discovery document and the JWKS answer 503 Service
// Unavailable while failing is true, as a provider in an outage does, and
// serve again when it is false.
func (is *Issuer) SetFailing(failing bool) { is.failing.Store(failing) }

// JWKSRequests returns the number of requests for the JWKS served so far,
// those answered with 304 or 503 included.
func (is *Issuer) JWKSRequests() int { return int(is.requests.Load()) }

// Close shuts the server down and waits for the requests in flight, as
// httptest.Server.Close does. It may be called more than once; Sign,
// Rotate and Retire still work afterwards.
func (is *Issuer) Close() { is.srv.Close() }

func (is *Issuer) serveDiscovery(w http.ResponseWriter, r *http.Request) {
	if is.failing.Load() {
		http.Error(w, "jwttest: failing", http.StatusServiceUnavailable)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Write(is.discovery)
}

func (is *Issuer) serveJWKS(w http.ResponseWriter, r *http.Request) {
	is.requests.Add(1)
	if is.failing.Load() {
		http.Error(w, "jwttest: failing", http.StatusServiceUnavailable)
		return
	}
	is.mu.Lock()
	body, version := is.jwks, is.version
	is.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "max-age=300")
	w.Header().Set("ETag", `"`+strconv.Itoa(version)+`"`)
	// ServeContent answers If-None-Match with 304.
	http.ServeContent(w, r, "", time.Time{}, bytes.NewReader(body))
}
