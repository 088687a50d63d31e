package backendtest

import (
	"embed"
	"encoding/json"
	"fmt"

	"github.com/jwtverify/jwtverify"
	"github.com/jwtverify/jwtverify/internal/b64url"
	"github.com/jwtverify/jwtverify/keyset"
)

//go:embed testdata/rfc.json
var rfcFile embed.FS

// Vector is one published test vector. Vectors returns values the caller
// owns; a Vector holds no state.
type Vector struct {
	Name  string          `json:"name"`
	Alg   string          `json:"alg"`
	JWK   json.RawMessage `json:"jwk"`
	Token string          `json:"token"`
	JWT   bool            `json:"jwt"` // the payload is a claim set valid at RFCNow
}

// RFCNow is the time at which the JWT vectors of RFC 7515 A.1-A.3 are valid
// (their exp is 1300819380).
const RFCNow = 1300819000

// Vectors returns RFC 7515 Appendix A.1-A.4 and RFC 8037 Appendix A.4.
func Vectors() ([]Vector, error) {
	data, err := rfcFile.ReadFile("testdata/rfc.json")
	if err != nil {
		return nil, err
	}
	var doc struct {
		Vectors []Vector `json:"vectors"`
	}
	if err := json.Unmarshal(data, &doc); err != nil {
		return nil, err
	}
	return doc.Vectors, nil
}

// Key returns the vector's verification key. The HS256 vector's key is an
// oct JWK, which keyset refuses in public key sets by design; its secret
// becomes a jwtverify.NewSecretKey.
func (v Vector) Key() (jwtverify.Key, error) {
	var oct struct {
		Kty string `json:"kty"`
		K   string `json:"k"`
	}
	if err := json.Unmarshal(v.JWK, &oct); err != nil {
		return jwtverify.Key{}, err
	}
	if oct.Kty == "oct" {
		secret, err := b64url.DecodeString(oct.K)
		if err != nil {
			return jwtverify.Key{}, fmt.Errorf("vector %s: %w", v.Name, err)
		}
		return jwtverify.NewSecretKey("", v.Alg, secret)
	}
	return keyset.ParseJWK(v.JWK)
}
