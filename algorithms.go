package jwtverify

import "crypto"

// family is the kind of key an algorithm needs.
type family uint8

const (
	famNone family = iota
	famRSA
	famEC
	famEd25519
	famHMAC
)

type algInfo struct {
	family family
	hash   crypto.Hash
	curve  string // for ES*: the JWK crv name
	size   int    // ES*: coordinate bytes; HS*: hash bytes (minimum secret length)
}

// algs is the fixed table of supported JWS algorithms (RFC 7518, RFC 8037).
var algs = map[string]algInfo{
	"RS256": {famRSA, crypto.SHA256, "", 0},
	"RS384": {famRSA, crypto.SHA384, "", 0},
	"RS512": {famRSA, crypto.SHA512, "", 0},
	"PS256": {famRSA, crypto.SHA256, "", 0},
	"PS384": {famRSA, crypto.SHA384, "", 0},
	"PS512": {famRSA, crypto.SHA512, "", 0},
	"ES256": {famEC, crypto.SHA256, "P-256", 32},
	"ES384": {famEC, crypto.SHA384, "P-384", 48},
	"ES512": {famEC, crypto.SHA512, "P-521", 66},
	"EdDSA": {famEd25519, 0, "", 0},
	"HS256": {famHMAC, crypto.SHA256, "", 32},
	"HS384": {famHMAC, crypto.SHA384, "", 48},
	"HS512": {famHMAC, crypto.SHA512, "", 64},
}

// Algorithms returns the names of every JWS algorithm this package
// supports, in a fixed order. "none" is never among them.
func Algorithms() []string {
	return []string{
		"RS256", "RS384", "RS512", "PS256", "PS384", "PS512",
		"ES256", "ES384", "ES512", "EdDSA", "HS256", "HS384", "HS512",
	}
}

// isNone reports whether alg spells "none" in any letter case.
func isNone(alg string) bool {
	return len(alg) == 4 && (alg[0]|0x20) == 'n' && (alg[1]|0x20) == 'o' && (alg[2]|0x20) == 'n' && (alg[3]|0x20) == 'e'
}
