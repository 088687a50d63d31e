package keyset

import (
	"fmt"

	"github.com/jwtverify/jwtverify"
	"github.com/jwtverify/jwtverify/internal/jwkthumb"
)

// Thumbprint returns the RFC 7638 JWK thumbprint of k's public key, with
// SHA-256, base64url-encoded without padding: the value DPoP's cnf.jkt
// names (RFC 9449 §6.1). It fails, wrapping ErrUnsupportedKey, for an HMAC
// secret or a zero Key, which have no public JWK.
func Thumbprint(k jwtverify.Key) (string, error) {
	tp, err := jwkthumb.Of(k.Public())
	if err != nil {
		return "", fmt.Errorf("%w: %v", ErrUnsupportedKey, err)
	}
	return tp, nil
}
