package jwtverify_test

import (
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
