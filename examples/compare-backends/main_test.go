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
	if strings.Contains(out.String(), "DISAGREE") || strings.Count(out.String(), "agree") != 5 {
		t.Fatalf("output:\n%s", out.String())
	}
	for _, want := range []string{"golang-jwt=valid", "golang-jwt=expired", "jwx=audience", "jwx=signature", "jwx=algorithm", "native=valid", "native=signature"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("output lacks %q:\n%s", want, out.String())
		}
	}
}
