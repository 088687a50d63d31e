package main

import (
	"bytes"
	"strings"
	"testing"
)

func TestRun(t *testing.T) {
	var out bytes.Buffer
	if err := run(&out); err != nil {
		t.Fatal(err)
	}
	got := out.String()
	for _, want := range []string{
		"GET /orders, DPoP with a proof     -> 200 orders for client-42",
		`the same proof again (replay)      -> 401 DPoP realm="orders", error="invalid_dpop_proof", algs="`,
		`stolen token as Bearer             -> 401 Bearer realm="orders", error="invalid_token", error_description="binding"`,
		`a proof for POST                   -> 401 DPoP realm="orders", error="invalid_dpop_proof"`,
		`a proof by the thief's key         -> 401 DPoP realm="orders", error="invalid_dpop_proof"`,
		"a new proof for the next request   -> 200 orders for client-42",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("output lacks %q:\n%s", want, got)
		}
	}
}
