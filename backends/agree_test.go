// Package backends_test checks that the backends agree on every
// conformance case.
package backends_test

import (
	"testing"

	"github.com/jwtverify/jwtverify/backends/backendtest"
	"github.com/jwtverify/jwtverify/backends/golangjwt"
	"github.com/jwtverify/jwtverify/backends/jwx"
	"github.com/jwtverify/jwtverify/backends/native"
)

func TestBackendsAgree(t *testing.T) {
	j, err := jwx.NewBackend()
	if err != nil {
		t.Fatal(err)
	}
	backendtest.Agree(t, golangjwt.Backend{}, j, native.Backend{})
}
