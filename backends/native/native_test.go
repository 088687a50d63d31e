package native_test

import (
	"testing"

	"github.com/jwtverify/jwtverify/backends/backendtest"
	"github.com/jwtverify/jwtverify/backends/native"
)

func TestConformance(t *testing.T) {
	backendtest.Run(t, native.Backend{})
}

func TestWycheproof(t *testing.T) {
	backendtest.Wycheproof(t, native.Backend{})
}
