package main_test

import (
	"bytes"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
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
	// No --audience: the accepted token comes with that warning, and only it.
	code, out, errOut := run("Bearer "+a2.Token+"\n", "verify", "--key", keyFile, "--now", "1300819000", "--backend", "jwx", "--issuer", "joe")
	if code != 0 || out != `{"iss":"joe","exp":1300819380,"http://example.com/is_root":true}`+"\n" || errOut != "jwtverify: warning: no --audience: tokens for any audience are accepted\n" {
		t.Fatalf("valid: exit %d, stdout %q, stderr %q", code, out, errOut)
	}
	code, out, errOut = run("", "verify", "--key", keyFile, a2.Token)
	if code != 1 || out != "" || !strings.HasPrefix(errOut, "jwtverify: rejected: expired: ") || strings.Contains(errOut, a2.Token[:20]) {
		t.Fatalf("expired: exit %d, stdout %q, stderr %q", code, out, errOut)
	}
	// RFC 7515 A.2 has no typ: --type refuses it, class type.
	code, out, errOut = run("", "verify", "--key", keyFile, "--now", "1300819000", "--type", "at+jwt", a2.Token)
	if code != 1 || out != "" || !strings.HasPrefix(errOut, "jwtverify: rejected: type: ") {
		t.Fatalf("--type at+jwt, no typ: exit %d, stdout %q, stderr %q", code, out, errOut)
	}
	if code, _, _ = run("", "verify", a2.Token); code != 2 {
		t.Fatalf("no keys: exit %d, want 2", code)
	}
	if code, out, _ = run("", "demo"); code != 0 || !strings.Contains(out, "expected verdict") {
		t.Fatalf("demo: exit %d\n%s", code, out)
	}
}

// exitCode returns the exit status that cmd.Run or cmd.Wait reported.
func exitCode(t *testing.T, err error) int {
	t.Helper()
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		return ee.ExitCode()
	}
	if err != nil {
		t.Fatal(err)
	}
	return 0
}

// freeAddr returns a loopback address nothing listens on.
func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// a3 returns a key file for RFC 7515 Appendix A.3 and its token, valid
// with --now 1300819000.
func a3(t *testing.T) (keyFile, token string) {
	t.Helper()
	vectors, err := backendtest.Vectors()
	if err != nil {
		t.Fatal(err)
	}
	keyFile = filepath.Join(t.TempDir(), "a3.jwk")
	if err := os.WriteFile(keyFile, vectors[2].JWK, 0o600); err != nil {
		t.Fatal(err)
	}
	return keyFile, vectors[2].Token
}

// startProxy runs the command as a proxy on a free loopback port and
// waits until it answers (401, without a token). Its stderr may be read
// once cmd.Wait has returned.
func startProxy(t *testing.T, bin string, args ...string) (addr string, cmd *exec.Cmd, stderr *bytes.Buffer) {
	t.Helper()
	addr = freeAddr(t)
	cmd = exec.Command(bin, append([]string{"proxy", "--listen", addr}, args...)...)
	stderr = new(bytes.Buffer)
	cmd.Stderr = stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill() })
	deadline := time.Now().Add(10 * time.Second)
	for {
		resp, err := http.Get("http://" + addr + "/")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode != 401 {
				t.Fatalf("no token: %d", resp.StatusCode)
			}
			return addr, cmd, stderr
		}
		if time.Now().After(deadline) {
			cmd.Process.Kill()
			cmd.Wait()
			t.Fatalf("proxy did not start: %v\n%s", err, stderr.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// checkSlogLines asserts that every line of stderr is a slog record.
func checkSlogLines(t *testing.T, stderr string) {
	t.Helper()
	for line := range strings.Lines(stderr) {
		if !strings.HasPrefix(line, "time=") || !strings.Contains(line, " level=") {
			t.Errorf("a stderr line that is not a slog record: %q", line)
		}
	}
}

// TestProxySIGTERM: the proxy serves, answers 502 when its upstream is
// down, and exits 0 on SIGTERM. Every stderr line is a slog record (none
// from the standard log package); the upstream appears without its
// userinfo and query, and no line holds the token.
func TestProxySIGTERM(t *testing.T) {
	bin := build(t)
	keyFile, token := a3(t)
	down := freeAddr(t)
	addr, cmd, stderr := startProxy(t, bin, "--upstream", "http://user:s3cretpw@"+down+"/base?api_key=s3cretq", "--key", keyFile, "--now", "1300819000")
	req, _ := http.NewRequest("GET", "http://"+addr+"/orders", nil)
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusBadGateway {
		t.Fatalf("upstream down: %d, want 502", resp.StatusCode)
	}
	cmd.Process.Signal(syscall.SIGTERM)
	if code := exitCode(t, cmd.Wait()); code != 0 {
		t.Fatalf("exit %d after SIGTERM, want 0\n%s", code, stderr)
	}
	out := stderr.String()
	checkSlogLines(t, out)
	for _, want := range []string{
		`msg="proxy listening" addr=` + addr + ` upstream=http://` + down + "/base\n",
		`level=ERROR msg="upstream request failed" upstream=http://` + down + "/base ",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("stderr lacks %q:\n%s", want, out)
		}
	}
	for _, secret := range append(strings.Split(token, "."), "s3cret") {
		if strings.Contains(out, secret) {
			t.Errorf("stderr holds %q:\n%s", secret, out)
		}
	}
}

// TestProxyListenFailure: an address already in use, for the proxy or for
// the metrics, exits 2 (not 1, "rejected") with a slog ERROR record.
func TestProxyListenFailure(t *testing.T) {
	bin := build(t)
	keyFile, _ := a3(t)
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	for _, tc := range []struct{ flags []string }{
		{[]string{"--listen", busy.Addr().String()}},
		{[]string{"--listen", freeAddr(t), "--metrics-listen", busy.Addr().String()}},
	} {
		cmd := exec.Command(bin, append([]string{"proxy", "--upstream", "http://127.0.0.1:9", "--key", keyFile}, tc.flags...)...)
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		timer := time.AfterFunc(30*time.Second, func() { cmd.Process.Kill() }) // it must not serve
		code := exitCode(t, cmd.Run())
		timer.Stop()
		if code != 2 || !strings.Contains(stderr.String(), "level=ERROR") || !strings.Contains(stderr.String(), "address already in use") {
			t.Errorf("%v: exit %d, want 2 and an ERROR record\n%s", tc.flags, code, stderr.String())
		}
		checkSlogLines(t, stderr.String())
	}
}

// TestProxyShutdownTimeout: a request still in flight when the shutdown
// timeout passes is a failure of the proxy's own server: exit 2, with a
// slog ERROR record.
func TestProxyShutdownTimeout(t *testing.T) {
	bin := build(t)
	keyFile, token := a3(t)
	entered, release := make(chan struct{}, 1), make(chan struct{})
	upstream := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		entered <- struct{}{}
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}))
	defer upstream.Close()
	defer close(release)
	addr, cmd, stderr := startProxy(t, bin, "--upstream", upstream.URL, "--key", keyFile, "--now", "1300819000", "--shutdown-timeout", "200ms")
	go func() {
		req, _ := http.NewRequest("GET", "http://"+addr+"/slow", nil)
		req.Header.Set("Authorization", "Bearer "+token)
		if resp, err := http.DefaultClient.Do(req); err == nil {
			resp.Body.Close()
		}
	}()
	<-entered
	cmd.Process.Signal(syscall.SIGTERM)
	code := exitCode(t, cmd.Wait())
	if code != 2 || !strings.Contains(stderr.String(), `level=ERROR msg="proxy server failed"`) {
		t.Fatalf("exit %d, want 2 and an ERROR record\n%s", code, stderr.String())
	}
	checkSlogLines(t, stderr.String())
}

// TestProxySIGTERMDrain: on SIGTERM /readyz turns 503 at once while a
// request in flight finishes with its answer, then the proxy logs one
// line and exits 0. Before that, /healthz and /readyz answer 200.
func TestProxySIGTERMDrain(t *testing.T) {
	bin := build(t)
	keyFile, token := a3(t)
	entered, release := make(chan struct{}, 1), make(chan struct{})
	upstream := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		entered <- struct{}{}
		<-release
		io.WriteString(w, "done")
	}))
	defer upstream.Close()
	metrics := freeAddr(t)
	addr, cmd, stderr := startProxy(t, bin, "--upstream", upstream.URL, "--key", keyFile, "--now", "1300819000", "--metrics-listen", metrics)
	probe := func(path string) int {
		resp, err := http.Get("http://" + metrics + path)
		if err != nil {
			return 0
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if h, r := probe("/healthz"), probe("/readyz"); h != 200 || r != 200 {
		t.Fatalf("serving: healthz %d, readyz %d", h, r)
	}
	answered := make(chan int, 1)
	go func() {
		req, _ := http.NewRequest("GET", "http://"+addr+"/slow", nil)
		req.Header.Set("Authorization", "Bearer "+token)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			answered <- 0
			return
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		answered <- resp.StatusCode
	}()
	<-entered
	cmd.Process.Signal(syscall.SIGTERM)
	deadline := time.Now().Add(10 * time.Second)
	for probe("/readyz") != http.StatusServiceUnavailable {
		if time.Now().After(deadline) {
			t.Fatal("readyz did not turn 503 after SIGTERM")
		}
		time.Sleep(10 * time.Millisecond) // another process: no synctest across it
	}
	if h := probe("/healthz"); h != 200 {
		t.Fatalf("draining: healthz %d, want 200 while the process serves", h)
	}
	close(release)
	if code := <-answered; code != 200 {
		t.Fatalf("the request in flight got %d, want 200", code)
	}
	if code := exitCode(t, cmd.Wait()); code != 0 {
		t.Fatalf("exit %d after SIGTERM, want 0\n%s", code, stderr)
	}
	if n := strings.Count(stderr.String(), `msg="proxy stopped`); n != 1 {
		t.Fatalf("%d stop lines, want 1:\n%s", n, stderr)
	}
	checkSlogLines(t, stderr.String())
}
