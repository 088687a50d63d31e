package backendtest_test

import (
	"fmt"
	"slices"

	"github.com/jwtverify/jwtverify"
	"github.com/jwtverify/jwtverify/backends/backendtest"
)

// A backend's own test runs the suite with its Backend:
//
//	func TestConformance(t *testing.T) { backendtest.Run(t, mybackend.Backend{}) }
//
// Every case names the one class it expects, so a backend that passes
// gives the verdicts of every other; the table covers every class.
func ExampleFixture_Cases() {
	f, err := backendtest.NewFixture()
	if err != nil {
		panic(err)
	}
	var classes []string
	for _, c := range f.Cases() {
		class := jwtverify.Class(c.Want)
		if class == "" {
			class = "valid"
		}
		if !slices.Contains(classes, class) {
			classes = append(classes, class)
		}
	}
	slices.Sort(classes)
	fmt.Println(classes)
	fmt.Println(f.Static.Algorithms())
	// Output:
	// [algorithm audience expired issued_in_future issuer keys_unavailable malformed missing_claim not_yet_valid signature too_large type unknown_key unsupported valid]
	// [RS256 RS384 RS512 PS256 PS384 PS512 ES256 ES384 ES512 EdDSA HS256 HS384 HS512]
}
