package jwtsvid_test

import (
	"os/exec"
	"strings"
	"testing"
)

// The JWT-SVID verifier is backend-neutral: it depends on the root
// package, its own module's internal packages and the standard library
// only, never on a JOSE library, a backend or net/http.
func TestDependencies(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", "-f", "{{.ImportPath}} {{.Standard}}", ".").Output()
	if err != nil {
		t.Fatalf("go list -deps: %v", err)
	}
	const mod = "github.com/jwtverify/jwtverify"
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		dep, std, _ := strings.Cut(line, " ")
		ours := dep == mod || dep == mod+"/jwtsvid" || strings.HasPrefix(dep, mod+"/internal/")
		if dep == "net/http" || std != "true" && !ours {
			t.Errorf("jwtsvid depends on %s", dep)
		}
	}
}
