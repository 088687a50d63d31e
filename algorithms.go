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

// lookupAlg returns the fixed description of a supported JWS algorithm
// (RFC 7518, RFC 8037). A switch, not a map: it is on the hot path.
func lookupAlg(alg string) (algInfo, bool) {
	switch alg {
	case "RS256":
		return algInfo{famRSA, crypto.SHA256, "", 0}, true
	case "RS384":
		return algInfo{famRSA, crypto.SHA384, "", 0}, true
	case "RS512":
		return algInfo{famRSA, crypto.SHA512, "", 0}, true
	case "PS256":
		return algInfo{famRSA, crypto.SHA256, "", 0}, true
	case "PS384":
		return algInfo{famRSA, crypto.SHA384, "", 0}, true
	case "PS512":
		return algInfo{famRSA, crypto.SHA512, "", 0}, true
	case "ES256":
		return algInfo{famEC, crypto.SHA256, "P-256", 32}, true
	case "ES384":
		return algInfo{famEC, crypto.SHA384, "P-384", 48}, true
	case "ES512":
		return algInfo{famEC, crypto.SHA512, "P-521", 66}, true
	case "EdDSA":
		return algInfo{famEd25519, 0, "", 0}, true
	case "HS256":
		return algInfo{famHMAC, crypto.SHA256, "", 32}, true
	case "HS384":
		return algInfo{famHMAC, crypto.SHA384, "", 48}, true
	case "HS512":
		return algInfo{famHMAC, crypto.SHA512, "", 64}, true
	}
	return algInfo{}, false
}

// Algorithms returns the names of every JWS algorithm this package
// supports, in a fixed order, in a new slice the caller owns. "none" is
// never among them.
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
