package golangjwt_test

import (
	"testing"

	"github.com/jwtverify/jwtverify/backends/backendtest"
	"github.com/jwtverify/jwtverify/backends/golangjwt"
)

func TestConformance(t *testing.T) {
	backendtest.Run(t, golangjwt.Backend{})
}

func TestWycheproof(t *testing.T) {
	backendtest.Wycheproof(t, golangjwt.Backend{})
}
