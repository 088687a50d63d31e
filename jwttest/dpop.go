package jwttest

import (
	"crypto"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"maps"
	"time"

	"github.com/jwtverify/jwtverify/internal/jwkthumb"
	"github.com/jwtverify/jwtverify/internal/mint"
)

// DPoPProof returns a DPoP proof (RFC 9449 §4.2) for one request, signed
// for alg with key (as Sign takes them, asymmetric only): header typ
// dpop+jwt and the jwk of key's public half; claims htm method, htu url,
// iat now, a random jti and, when accessToken is not "", ath, its
// base64url SHA-256. The entries of claims are added last and may replace
// any of these (nil values remove one), so a test builds a stale,
// misaddressed or replayed proof as easily as a good one.
//
// DPoPProof panics if key cannot sign alg. It is safe for concurrent use.
func DPoPProof(alg string, key crypto.Signer, method, url, accessToken string, claims map[string]any) string {
	jwk, err := mint.JWK(key.Public(), "", "")
	if err != nil {
		panic("jwttest: DPoPProof: " + err.Error())
	}
	jti := make([]byte, 16)
	rand.Read(jti)
	c := map[string]any{
		"htm": method, "htu": url, "iat": time.Now().Unix(),
		"jti": base64.RawURLEncoding.EncodeToString(jti),
	}
	if accessToken != "" {
		sum := sha256.Sum256([]byte(accessToken))
		c["ath"] = base64.RawURLEncoding.EncodeToString(sum[:])
	}
	maps.Copy(c, claims)
	for k, v := range c {
		if v == nil {
			delete(c, k)
		}
	}
	return Sign(alg, key, map[string]any{"typ": "dpop+jwt", "jwk": jwk}, c)
}

// Thumbprint returns the RFC 7638 thumbprint (SHA-256, base64url) of
// key's public half, as keyset.Thumbprint computes it: the cnf.jkt of a
// token bound to key. It panics for a key type jwtverify does not support.
func Thumbprint(key crypto.Signer) string {
	tp, err := jwkthumb.Of(key.Public())
	if err != nil {
		panic("jwttest: Thumbprint: " + err.Error())
	}
	return tp
}
