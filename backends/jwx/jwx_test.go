package jwx_test

import (
	"testing"

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
