package jwtverify_test

import (
	"os"
	"os/exec"
	"strings"
	"testing"
)

// TestDependencyDirection checks the import graph: the root package uses
// the standard library only, keyset and dpop no JOSE library, each
// backend links only its own, and no package of the module, nor the module graph itself,
// has the Redis client, which only the nested module dpop/redisstore
// requires.
func TestDependencyDirection(t *testing.T) {
	const mod = "github.com/jwtverify/jwtverify"
	// The library's own module graph, as a module that requires it sees
	// it: without the repository's go.work, which joins the nested modules.
	list := exec.Command("go", "list", "-m", "all")
	list.Env = append(os.Environ(), "GOWORK=off")
	out, err := list.Output()
	if err != nil {
		t.Fatalf("go list -m all: %v", err)
	}
	for _, m := range strings.Split(string(out), "\n") {
		if strings.HasPrefix(m, "github.com/redis/") {
			t.Errorf("the module graph has %s", m)
		}
	}
	for pkg, forbidden := range map[string][]string{
		".":                    {"github.com/golang-jwt/", "github.com/lestrrat-go/", "golang.org/x/", mod + "/backends", mod + "/keyset"},
		"./keyset":             {"github.com/golang-jwt/", "github.com/lestrrat-go/", mod + "/backends"},
		"./dpop":               {"github.com/golang-jwt/", "github.com/lestrrat-go/", mod + "/backends", "github.com/redis/"},
		"./middleware":         {"github.com/redis/"},
		"./backends/golangjwt": {"github.com/lestrrat-go/", mod + "/backends/jwx"},
		"./backends/jwx":       {"github.com/golang-jwt/", mod + "/backends/golangjwt"},
		"./backends/native":    {"github.com/golang-jwt/", "github.com/lestrrat-go/", mod + "/backends/golangjwt", mod + "/backends/jwx"},
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

// TestNeutralPackages: the access policies and the JWT-SVID verifier are
// tied neither to HTTP nor to a JOSE library, so that a gRPC interceptor
// or a queue consumer can use them: each depends on the standard library
// (net/http excluded), the root package and the module's internal
// packages only.
func TestNeutralPackages(t *testing.T) {
	const mod = "github.com/jwtverify/jwtverify"
	for _, pkg := range []string{"access", "jwtsvid"} {
		out, err := exec.Command("go", "list", "-deps", "-f", "{{.ImportPath}} {{.Standard}}", "./"+pkg).Output()
		if err != nil {
			t.Fatalf("go list -deps ./%s: %v", pkg, err)
		}
		for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
			dep, std, _ := strings.Cut(line, " ")
			ours := dep == mod || dep == mod+"/"+pkg || strings.HasPrefix(dep, mod+"/internal/")
			if dep == "net/http" || std != "true" && !ours {
				t.Errorf("%s depends on %s", pkg, dep)
			}
		}
	}
}

// TestJWTTestIsTestOnly checks that the test helpers stay out of the
// library: jwttest depends on the standard library and the module's own
// root and internal packages only, and no package of the library (the
// examples are programs, not the library) imports it.
func TestJWTTestIsTestOnly(t *testing.T) {
	const mod = "github.com/jwtverify/jwtverify"
	out, err := exec.Command("go", "list", "-deps", "-f", "{{if not .Standard}}{{.ImportPath}}{{end}}", "./jwttest").Output()
	if err != nil {
		t.Fatalf("go list -deps ./jwttest: %v", err)
	}
	for _, dep := range strings.Fields(string(out)) {
		if dep != mod && dep != mod+"/jwttest" && !strings.HasPrefix(dep, mod+"/internal/") {
			t.Errorf("jwttest depends on %s", dep)
		}
	}
	out, err = exec.Command("go", "list", "-f", "{{.ImportPath}}{{range .Deps}} {{.}}{{end}}", "./...").Output()
	if err != nil {
		t.Fatalf("go list ./...: %v", err)
	}
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		pkg, deps, _ := strings.Cut(line, " ")
		if pkg == mod+"/jwttest" || strings.HasPrefix(pkg, mod+"/examples/") {
			continue
		}
		for _, dep := range strings.Fields(deps) {
			if dep == mod+"/jwttest" {
				t.Errorf("%s imports jwttest", pkg)
			}
		}
	}
}

// TestExamplesImportNoInternal: the examples are for copying, so none of
// them imports an internal package (which code outside this module could
// not import) or a package of its own outside the public API.
func TestExamplesImportNoInternal(t *testing.T) {
	out, err := exec.Command("go", "list", "-f", "{{.ImportPath}}{{range .Imports}} {{.}}{{end}}{{range .TestImports}} {{.}}{{end}}{{range .XTestImports}} {{.}}{{end}}", "./examples/...").Output()
	if err != nil {
		t.Fatalf("go list ./examples/...: %v", err)
	}
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	if len(lines) < 6 {
		t.Fatalf("go list found %d example packages, want at least 6", len(lines))
	}
	for _, line := range lines {
		pkg, imports, _ := strings.Cut(line, " ")
		for _, imp := range strings.Fields(imports) {
			if strings.Contains(imp, "/internal/") || strings.HasSuffix(imp, "/internal") || strings.Contains(imp, "jwtverify/examples/") {
				t.Errorf("%s imports %s", pkg, imp)
			}
		}
	}
}
