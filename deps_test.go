package jwtverify_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestDependencyDirection checks the import graph: the root package uses
// the standard library only, keyset and dpop no JOSE library, each
// backend links only its own, and the module graph itself (what a service
// importing the verifier, keyset and middleware gets in its go.mod) has
// none of the heavy dependencies the nested modules keep to themselves:
// the Redis client (dpop/redisstore), the Prometheus client (metrics),
// OpenTelemetry (tracing) and YAML (the command).
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
	// (gopkg.in/yaml.v3 is in the full graph as a test dependency of jwx's
	// dependencies; TestServiceGoMod checks what a service's go.mod gets.)
	heavy := []string{"github.com/redis/", "github.com/prometheus/", "go.opentelemetry.io/", "go.yaml.in/", "sigs.k8s.io/yaml"}
	for _, m := range strings.Split(string(out), "\n") {
		for _, h := range heavy {
			if strings.HasPrefix(m, h) {
				t.Errorf("the module graph has %s", m)
			}
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

// TestServiceGoMod: a service that imports only the verifier, keyset and
// middleware gets none of the nested modules' heavy dependencies in its
// go.mod, nor in its build: go mod tidy of such a module (requiring this
// one through a replace) is checked line by line, and so is go list -deps
// of its package.
func TestServiceGoMod(t *testing.T) {
	repo, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	write := func(name, content string) {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	write("go.mod", "module example.com/svc\n\ngo 1.25.0\n\nrequire github.com/jwtverify/jwtverify v0.0.0\n\nreplace github.com/jwtverify/jwtverify => "+repo+"\n")
	write("main.go", `package main

import (
	"net/http"

	"github.com/jwtverify/jwtverify"
	"github.com/jwtverify/jwtverify/backends/native"
	"github.com/jwtverify/jwtverify/keyset"
	"github.com/jwtverify/jwtverify/middleware"
)

func main() {
	keys, _ := keyset.NewRemote("https://idp.example/jwks", keyset.RemoteConfig{})
	v, _ := jwtverify.New(native.Backend{}, jwtverify.Config{Keys: keys, Issuers: []string{"https://idp.example"}, Audiences: []string{"api"}})
	mw, _ := middleware.New(v, middleware.Options{})
	http.ListenAndServe(":8080", mw.Handler(http.NotFoundHandler()))
}
`)
	run := func(args ...string) string {
		cmd := exec.Command("go", args...)
		cmd.Dir = dir
		cmd.Env = append(os.Environ(), "GOWORK=off", "GOFLAGS=-mod=mod")
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("go %v: %v\n%s", args, err, out)
		}
		return string(out)
	}
	run("mod", "tidy")
	gomod, err := os.ReadFile(filepath.Join(dir, "go.mod"))
	if err != nil {
		t.Fatal(err)
	}
	deps := run("list", "-deps", ".")
	for _, h := range []string{"github.com/redis/", "github.com/prometheus/", "go.opentelemetry.io/", "go.yaml.in/", "gopkg.in/yaml", "sigs.k8s.io/yaml", "github.com/lestrrat-go/", "github.com/golang-jwt/"} {
		if strings.Contains(string(gomod), h) {
			t.Errorf("the service's go.mod has %s:\n%s", h, gomod)
		}
		if strings.Contains(deps, h) {
			t.Errorf("the service's build has %s", h)
		}
	}
}
