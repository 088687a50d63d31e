// Package jwttest provides utilities for testing code that verifies JWTs
// with jwtverify, as net/http/httptest does for HTTP handlers: [Issuer], a
// fake OpenID Provider on a loopback httptest server that publishes a
// discovery document and a JWKS and signs tokens with keys it rotates, and
// [Sign], which signs a token with a key of the caller's.
//
// Tokens are signed exactly as given: nothing is added to the claims and
// nothing in them is checked, so a test builds an expired, misaddressed or
// hostile token as easily as a valid one. An Issuer makes its keys with
// crypto/rand and never hands out their private halves.
//
// For convenience, functions and methods panic instead of returning errors:
// every failure is a bug in the test (an algorithm that does not suit the
// key, claims encoding/json cannot encode). The package is for tests and
// examples; none of jwtverify's other packages imports it.
package jwttest

import (
	"crypto"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"maps"
	"strings"

	"github.com/jwtverify/jwtverify/internal/mint"
)

// Sign returns a compact JWS of claims signed for alg with key, an
// *rsa.PrivateKey (RS256, RS384, RS512, PS256, PS384, PS512), an
// *ecdsa.PrivateKey (ES256 on P-256, ES384 on P-384, ES512 on P-521), an
// ed25519.PrivateKey (EdDSA) or an HMAC secret as a []byte (HS256, HS384,
// HS512). With alg "none" and a nil key it returns an unsecured token, the
// signature segment empty, for tests that such tokens are refused.
//
// The protected header is {"alg": alg} with the entries of header added,
// which may replace alg (to build a token whose header lies about its
// signature); header may be nil, and Sign adds no kid of its own. claims is
// encoded with encoding/json (a map, a struct) unless it is a
// json.RawMessage, which is used byte for byte, so a test can sign a
// payload no encoder would write (duplicate members, say). Sign does not
// modify or retain header, claims or key.
//
// Sign panics if key cannot sign alg or header or claims cannot be encoded.
// It is safe for concurrent use.
func Sign(alg string, key crypto.PrivateKey, header map[string]any, claims any) string {
	h := map[string]any{"alg": alg}
	maps.Copy(h, header)
	hb, err := json.Marshal(h)
	if err != nil {
		panic(fmt.Sprintf("jwttest: Sign: header: %v", err))
	}
	payload, ok := claims.(json.RawMessage)
	if !ok {
		if payload, err = json.Marshal(claims); err != nil {
			panic(fmt.Sprintf("jwttest: Sign: claims: %v", err))
		}
	}
	if alg == "none" && key == nil {
		enc := base64.RawURLEncoding.EncodeToString
		return enc(hb) + "." + enc(payload) + "."
	}
	tok, err := mint.Raw(alg, key, hb, payload)
	if err != nil {
		panic("jwttest: Sign: " + strings.TrimPrefix(err.Error(), "mint: "))
	}
	return tok
}
