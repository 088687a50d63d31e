package jwtverify_test

import (
	"encoding/base64"
	"testing"

	"github.com/jwtverify/jwtverify/internal/mint"
)

func signHS(t *testing.T, secret []byte, header, payload string) string {
	t.Helper()
	tok, err := mint.Raw("HS256", secret, []byte(header), []byte(payload))
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

// b64 is base64url without padding, for hand-built segments.
func b64(s string) string { return base64.RawURLEncoding.EncodeToString([]byte(s)) }
