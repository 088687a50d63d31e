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
		"GET /orders as prod/billing                 -> 200 orders for system:serviceaccount:prod:billing",
		"GET /orders as staging/billing              -> 403",
		"GET /orders as prod/frontend                -> 403",
		`error="insufficient_scope"`,
		"GET /orders as prod/billing, other audience -> 401",
		`error_description="audience"`,
		"GET /orders as nobody                       -> 401",
		"refresh with the rotated pod token: ok (3 fetches",
	} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("output lacks %q:\n%s", want, out.String())
		}
	}
}
