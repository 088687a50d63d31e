package jwtverify_test

import (
	"os/exec"
	"strings"
	"testing"
)

// TestDependencyDirection checks the import graph: the root package uses
// the standard library only, keyset no JOSE library, and each backend links
// only its own.
func TestDependencyDirection(t *testing.T) {
	const mod = "github.com/jwtverify/jwtverify"
	for pkg, forbidden := range map[string][]string{
		".":                    {"github.com/golang-jwt/", "github.com/lestrrat-go/", mod + "/backends", mod + "/keyset"},
		"./keyset":             {"github.com/golang-jwt/", "github.com/lestrrat-go/", mod + "/backends"},
		"./backends/golangjwt": {"github.com/lestrrat-go/", mod + "/backends/jwx"},
		"./backends/jwx":       {"github.com/golang-jwt/", mod + "/backends/golangjwt"},
	} {
		out, err := exec.Command("go", "list", "-deps", pkg).Output()
		if err != nil {
			t.Fatalf("go list -deps %s: %v", pkg, err)
		}
		for _, dep := range strings.Fields(string(out)) {
			for _, f := range forbidden {
				if strings.HasPrefix(dep, f) {
					t.Errorf("%s depends on %s", pkg, dep)
				}
			}
		}
	}
}
