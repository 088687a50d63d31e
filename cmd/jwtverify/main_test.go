package main_test

import (
	"bytes"
	"errors"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/jwtverify/jwtverify/backends/backendtest"
)

// build compiles the command into a temporary directory.
func build(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "jwtverify")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// TestBinary builds the command and checks its exit codes and streams from
// outside, as a script would use it.
func TestBinary(t *testing.T) {
	bin := build(t)
	vectors, err := backendtest.Vectors()
	if err != nil {
		t.Fatal(err)
	}
	a2 := vectors[1]
	keyFile := filepath.Join(t.TempDir(), "a2.jwk")
	if err := os.WriteFile(keyFile, a2.JWK, 0o600); err != nil {
		t.Fatal(err)
	}
	run := func(stdin string, args ...string) (int, string, string) {
		cmd := exec.Command(bin, args...)
		cmd.Stdin = strings.NewReader(stdin)
		var out, errb bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &errb
		err := cmd.Run()
		code := 0
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			code = ee.ExitCode()
		} else if err != nil {
			t.Fatal(err)
		}
		return code, out.String(), errb.String()
	}
	code, out, errOut := run("Bearer "+a2.Token+"\n", "verify", "--key", keyFile, "--now", "1300819000", "--backend", "jwx")
	if code != 0 || out != `{"iss":"joe","exp":1300819380,"http://example.com/is_root":true}`+"\n" || errOut != "" {
		t.Fatalf("valid: exit %d, stdout %q, stderr %q", code, out, errOut)
	}
	code, out, errOut = run("", "verify", "--key", keyFile, a2.Token)
	if code != 1 || out != "" || !strings.HasPrefix(errOut, "jwtverify: rejected: expired: ") || strings.Contains(errOut, a2.Token[:20]) {
		t.Fatalf("expired: exit %d, stdout %q, stderr %q", code, out, errOut)
	}
	if code, _, _ = run("", "verify", a2.Token); code != 2 {
		t.Fatalf("no keys: exit %d, want 2", code)
	}
	if code, out, _ = run("", "demo"); code != 0 || !strings.Contains(out, "expected verdict") {
		t.Fatalf("demo: exit %d\n%s", code, out)
	}
}

// TestProxySIGTERM: the proxy serves, then exits 0 on SIGTERM.
func TestProxySIGTERM(t *testing.T) {
	bin := build(t)
	vectors, err := backendtest.Vectors()
	if err != nil {
		t.Fatal(err)
	}
	keyFile := filepath.Join(t.TempDir(), "a3.jwk")
	os.WriteFile(keyFile, vectors[2].JWK, 0o600)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	cmd := exec.Command(bin, "proxy", "--listen", addr, "--upstream", "http://127.0.0.1:9", "--key", keyFile)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		resp, err := http.Get("http://" + addr + "/")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode != 401 {
				t.Fatalf("no token: %d", resp.StatusCode)
			}
			break
		}
		if time.Now().After(deadline) {
			cmd.Process.Kill()
			t.Fatalf("proxy did not start: %v\n%s", err, stderr.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
	cmd.Process.Signal(syscall.SIGTERM)
	if err := cmd.Wait(); err != nil {
		t.Fatalf("exit after SIGTERM: %v\n%s", err, stderr.String())
	}
}
