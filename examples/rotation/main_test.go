package main

import (
	"bytes"
	"strings"
	"testing"
	"time"
)

func TestRotationLosesNoRequest(t *testing.T) {
	var out bytes.Buffer
	if err := run(&out, 300*time.Millisecond); err != nil {
		t.Fatalf("%v\n%s", err, out.String())
	}
	if !strings.Contains(out.String(), ", failed 0 ") || strings.Count(out.String(), "rotated") != 3 ||
		!strings.Contains(out.String(), "token of a retired key: unknown_key") {
		t.Fatalf("output:\n%s", out.String())
	}
}
