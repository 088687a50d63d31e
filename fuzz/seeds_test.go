package fuzz

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"testing"
)

var writeSeeds = flag.Bool("write-seeds", false, "rewrite testdata/fuzz from the conformance cases")

// tokenTargets take one token string; they share the conformance cases as seeds.
var tokenTargets = []string{"FuzzVerifyGolangJWT", "FuzzVerifyJWX", "FuzzBackendsAgree"}

// TestSeedCorpora checks that every token target has the conformance
// cases (every attack, and a valid token of every algorithm) as committed
// seeds; with -write-seeds it writes them:
//
//	go test ./fuzz -run TestSeedCorpora -write-seeds
func TestSeedCorpora(t *testing.T) {
	e, err := loadEnv()
	if err != nil {
		t.Fatal(err)
	}
	unsafe := regexp.MustCompile(`[^a-zA-Z0-9_.+-]+`)
	cases := e.fix.Cases()
	for _, target := range tokenTargets {
		dir := filepath.Join("testdata", "fuzz", target)
		if *writeSeeds {
			if err := os.MkdirAll(dir, 0o755); err != nil {
				t.Fatal(err)
			}
			for _, c := range cases {
				if len(c.Token) > maxInput {
					continue
				}
				body := fmt.Sprintf("go test fuzz v1\nstring(%s)\n", strconv.Quote(c.Token))
				name := unsafe.ReplaceAllString(c.Name, "_")
				if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
					t.Fatal(err)
				}
			}
		}
		entries, err := os.ReadDir(dir)
		if err != nil {
			t.Fatalf("%s: %v (run with -write-seeds)", target, err)
		}
		want := 0
		for _, c := range cases {
			if len(c.Token) <= maxInput {
				want++
			}
		}
		if len(entries) < want {
			t.Fatalf("%s has %d seeds, want at least %d (run with -write-seeds)", target, len(entries), want)
		}
		for _, alg := range []string{"RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA", "HS256", "HS384", "HS512"} {
			if _, err := os.Stat(filepath.Join(dir, "valid_"+alg)); err != nil {
				t.Fatalf("%s lacks a valid %s token: %v", target, alg, err)
			}
		}
	}
}
