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
	for _, want := range []string{
		"GET  /orders as alice (read)           -> 200 orders of alice",
		"POST /orders as alice (read)           -> 403",
		`error="insufficient_scope", scope="orders:write"`,
		"POST /orders as bob (read+write)       -> 201 order created by bob",
		"GET  /orders as carol (other audience) -> 401",
		`error_description="audience"`,
		"GET  /orders as nobody                 -> 401",
	} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("output lacks %q:\n%s", want, out.String())
		}
	}
}
