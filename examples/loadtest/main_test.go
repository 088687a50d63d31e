package main

import (
	"bytes"
	"strings"
	"testing"
	"time"
)

// TestLoadShort runs the load test briefly: no wrong verdict is allowed.
func TestLoadShort(t *testing.T) {
	r, err := run(4*time.Second, 4)
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	r.print(&out)
	t.Log(out.String())
	if r.wrong() != 0 || r.validOK.Load() == 0 || r.invalidRejected.Load() == 0 || r.rotations < 1 || r.outages < 2 {
		t.Fatalf("load test:\n%s", out.String())
	}
	if !strings.Contains(out.String(), "p99") {
		t.Fatal(out.String())
	}
}
