package jwx_test

import (
	"testing"

	"github.com/jwtverify/jwtverify"
	"github.com/jwtverify/jwtverify/backends/backendtest"
	"github.com/jwtverify/jwtverify/backends/jwx"
)

func TestConformance(t *testing.T) {
	b, err := jwx.NewBackend()
	if err != nil {
		t.Fatal(err)
	}
	backendtest.Run(t, b)
}

func TestWycheproof(t *testing.T) {
	b, err := jwx.NewBackend()
	if err != nil {
		t.Fatal(err)
	}
	backendtest.Wycheproof(t, b)
}

// TestZeroBackendRefuses: the documented zero value refuses every
// signature instead of panicking.
func TestZeroBackendRefuses(t *testing.T) {
	var b jwx.Backend
	for _, alg := range jwtverify.Algorithms() {
		if b.VerifySignature(alg, []byte("key"), "a.b", []byte("sig")) == nil {
			t.Errorf("zero Backend accepted %s", alg)
		}
	}
}
