package access_test

import (
	"os/exec"
	"strings"
	"testing"
)

// Policies are not tied to HTTP or to a JOSE library: package access
// depends on the root package and the standard library only, and not on
// net/http, so that a gRPC interceptor or a queue consumer can use it.
func TestDependencies(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", "-f", "{{.ImportPath}} {{.Standard}}", ".").Output()
	if err != nil {
		t.Fatalf("go list -deps: %v", err)
	}
	const mod = "github.com/jwtverify/jwtverify"
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		dep, std, _ := strings.Cut(line, " ")
		ours := dep == mod || dep == mod+"/access" || strings.HasPrefix(dep, mod+"/internal/")
		if dep == "net/http" || std != "true" && !ours {
			t.Errorf("access depends on %s", dep)
		}
	}
}
