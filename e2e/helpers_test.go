package e2e

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"errors"
	"io/fs"
	"math/big"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// spireModule and spireVersion name the SPIRE release the test runs.
const (
	spireModule  = "github.com/spiffe/spire"
	spireVersion = "v1.13.3"
)

// spireServerBinary returns the spire-server to run: $SPIRE_SERVER when
// set, else the cached build (see doc.go), building it first if absent.
// Either way it must report version 1.13.3.
func spireServerBinary(t *testing.T) string {
	t.Helper()
	bin := os.Getenv("SPIRE_SERVER")
	if bin == "" {
		cache, err := os.UserCacheDir()
		if err != nil {
			t.Fatalf("no user cache directory for the spire-server build (set SPIRE_SERVER): %v", err)
		}
		bin = filepath.Join(cache, "jwtverify", "spire-server-"+spireVersion)
		switch fi, err := os.Stat(bin); {
		case err == nil && fi.Mode().IsRegular():
			t.Logf("using cached %s", bin)
		case err == nil:
			t.Fatalf("%s is not a regular file", bin)
		case errors.Is(err, fs.ErrNotExist):
			buildSPIRE(t, bin)
		default:
			t.Fatal(err)
		}
	}
	out, err := exec.Command(bin, "--version").CombinedOutput()
	if err != nil {
		t.Fatalf("%s --version: %v\n%s", bin, err, out)
	}
	if v := strings.TrimSpace(string(out)); !strings.HasPrefix(v, strings.TrimPrefix(spireVersion, "v")) {
		t.Fatalf("%s --version = %q, want %s", bin, v, spireVersion)
	}
	return bin
}

// buildSPIRE builds spire-server from the module source into dst: it
// downloads the module (go mod download, run outside any module so no
// go.mod or go.sum changes), builds ./cmd/spire-server in its directory,
// and renames the result to dst, so that dst is only ever a whole binary.
// The build is bounded by the test deadline, less a margin for the test
// itself.
func buildSPIRE(t *testing.T, dst string) {
	t.Helper()
	ctx := t.Context()
	if deadline, ok := t.Deadline(); ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithDeadline(ctx, deadline.Add(-2*time.Minute))
		defer cancel()
	}
	goTool := goCommand(t)
	env := append(os.Environ(), "GOWORK=off")

	dl := exec.CommandContext(ctx, goTool, "mod", "download", "-json", spireModule+"@"+spireVersion)
	dl.Dir = t.TempDir()
	dl.Env = env
	var dlErr bytes.Buffer
	dl.Stderr = &dlErr
	out, err := dl.Output()
	var mod struct{ Dir, Error string }
	if jerr := json.Unmarshal(out, &mod); err != nil || jerr != nil || mod.Error != "" || mod.Dir == "" {
		t.Fatalf("go mod download -json %s@%s: %v %s\n%s%s", spireModule, spireVersion, err, mod.Error, out, dlErr.Bytes())
	}

	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		t.Fatal(err)
	}
	tmp, err := os.MkdirTemp(filepath.Dir(dst), ".build-spire-server-")
	if err != nil {
		t.Fatal(err)
	}
	defer os.RemoveAll(tmp)
	t.Logf("building spire-server %s from %s into %s (five to ten minutes the first time)", spireVersion, mod.Dir, dst)
	start := time.Now()
	build := exec.CommandContext(ctx, goTool, "build", "-o", filepath.Join(tmp, "spire-server"), "./cmd/spire-server")
	build.Dir = mod.Dir
	build.Env = env
	if out, err := build.CombinedOutput(); err != nil {
		if ctx.Err() != nil {
			t.Fatalf("building spire-server did not finish before the test deadline (after %v); run with -timeout 30m, or set SPIRE_SERVER: %v\n%s", time.Since(start).Round(time.Second), err, out)
		}
		t.Fatalf("building spire-server: %v\n%s", err, out)
	}
	if err := os.Rename(filepath.Join(tmp, "spire-server"), dst); err != nil {
		t.Fatal(err)
	}
	t.Logf("built spire-server in %v", time.Since(start).Round(time.Second))
}

// buildJWTVerify builds the jwtverify command, the nested module
// ../cmd/jwtverify with the library beside it, into a temporary directory.
func buildJWTVerify(t *testing.T) string {
	t.Helper()
	dir, err := filepath.Abs("../cmd/jwtverify")
	if err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(t.TempDir(), "jwtverify")
	cmd := exec.Command(goCommand(t), "build", "-o", bin, ".")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "GOWORK=off") // the command module's own go.mod and replaces
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("building jwtverify in %s: %v\n%s", dir, err, out)
	}
	return bin
}

// goCommand returns the go command: go test puts its own GOROOT/bin first
// in the test's PATH.
func goCommand(t *testing.T) string {
	t.Helper()
	p, err := exec.LookPath("go")
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// tlsFiles are the PEM files of the bundle endpoint's TLS: a CA and a
// server certificate it signed for 127.0.0.1, with its key.
type tlsFiles struct {
	caFile, certFile, keyFile string
	roots                     *x509.CertPool // the CA, for the test's own client
}

// writeTLS makes a CA and a server certificate for 127.0.0.1 and writes
// them, and the server's PKCS #8 key, to dir.
func writeTLS(t *testing.T, dir string) tlsFiles {
	t.Helper()
	now := time.Now()
	caKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	caTmpl := &x509.Certificate{
		SerialNumber:          serial(t),
		Subject:               pkix.Name{CommonName: "jwtverify e2e CA"},
		NotBefore:             now.Add(-time.Hour),
		NotAfter:              now.Add(24 * time.Hour),
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	ca, err := x509.ParseCertificate(caDER)
	if err != nil {
		t.Fatal(err)
	}

	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: serial(t),
		Subject:      pkix.Name{CommonName: "127.0.0.1"},
		NotBefore:    now.Add(-time.Hour),
		NotAfter:     now.Add(24 * time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		IPAddresses:  []net.IP{net.IPv4(127, 0, 0, 1)},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca, &key.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	pkcs8, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}

	f := tlsFiles{
		caFile:   filepath.Join(dir, "ca.pem"),
		certFile: filepath.Join(dir, "bundle-endpoint.pem"),
		keyFile:  filepath.Join(dir, "bundle-endpoint.key"),
		roots:    x509.NewCertPool(),
	}
	f.roots.AddCert(ca)
	writeFile(t, f.caFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: caDER}))
	writeFile(t, f.certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}))
	writeFile(t, f.keyFile, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: pkcs8}))
	return f
}

func serial(t *testing.T) *big.Int {
	t.Helper()
	n, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// writeFile writes data to name, readable by its owner only.
func writeFile(t *testing.T, name string, data []byte) {
	t.Helper()
	if err := os.WriteFile(name, data, 0o600); err != nil {
		t.Fatal(err)
	}
}

// freePorts returns n distinct loopback TCP ports that were free just now:
// all are held open together, then released for the caller to bind.
func freePorts(t *testing.T, n int) []int {
	t.Helper()
	ports := make([]int, n)
	for i := range ports {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		defer ln.Close()
		ports[i] = ln.Addr().(*net.TCPAddr).Port
	}
	return ports
}

// result is how a command ended: its exit code and its output.
type result struct {
	code           int
	stdout, stderr string
}

// run runs bin with args to completion (within timeout) and returns its
// exit code and output; a command that cannot be run, or is killed,
// fails the test.
func run(t *testing.T, timeout time.Duration, bin string, args ...string) result {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), timeout)
	defer cancel()
	var stdout, stderr bytes.Buffer
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	var exit *exec.ExitError
	switch {
	case err == nil:
	case errors.As(err, &exit) && exit.Exited():
	default:
		t.Fatalf("%s %s: %v\nstdout: %s\nstderr: %s", filepath.Base(bin), strings.Join(args, " "), err, stdout.Bytes(), stderr.Bytes())
	}
	return result{code: cmd.ProcessState.ExitCode(), stdout: stdout.String(), stderr: stderr.String()}
}

// eventually calls check until it reports done, every 200ms, and fails
// the test if it has not within timeout; check returns what it saw, for
// the failure message.
func eventually(t *testing.T, what string, timeout time.Duration, check func() (done bool, saw string)) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		done, saw := check()
		if done {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within %v; last: %s", what, timeout, saw)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// process is a command running in the background; its combined output
// is kept and shown if the test fails.
type process struct {
	name string
	cmd  *exec.Cmd
	out  syncBuffer
	done chan struct{} // closed once the command has exited
	err  error         // cmd.Wait's result, set before done is closed
}

// start starts cmd and registers its stop (SIGTERM) in t.Cleanup, after
// which its output is logged if t failed.
func start(t *testing.T, name string, cmd *exec.Cmd) *process {
	t.Helper()
	p := &process{name: name, cmd: cmd, done: make(chan struct{})}
	cmd.Stdout, cmd.Stderr = &p.out, &p.out
	cmd.WaitDelay = 5 * time.Second
	if err := cmd.Start(); err != nil {
		t.Fatalf("starting %s: %v", name, err)
	}
	go func() {
		p.err = cmd.Wait()
		close(p.done)
	}()
	t.Cleanup(func() {
		p.stop(t)
		if t.Failed() {
			t.Logf("%s output:\n%s", name, p.out.String())
		}
	})
	return p
}

// exited reports whether the process has exited.
func (p *process) exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// stop sends SIGTERM and waits for the exit, killing the process (and
// failing the test) if it has not exited within 15s. It does nothing
// once the process has exited.
func (p *process) stop(t *testing.T) {
	t.Helper()
	if p.exited() {
		return
	}
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil && !errors.Is(err, os.ErrProcessDone) {
		t.Errorf("SIGTERM to %s: %v", p.name, err)
	}
	select {
	case <-p.done:
	case <-time.After(15 * time.Second):
		t.Errorf("%s had not exited 15s after SIGTERM; killing it", p.name)
		_ = p.cmd.Process.Kill()
		<-p.done
	}
}

// syncBuffer is a bytes.Buffer safe for a writing process and a reading
// test.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// waitListening waits until addr accepts TCP connections, failing the
// test if p exits first or 30s pass.
func waitListening(t *testing.T, p *process, addr string) {
	t.Helper()
	eventually(t, p.name+" listening on "+addr, 30*time.Second, func() (bool, string) {
		if p.exited() {
			t.Fatalf("%s exited (%v) before listening on %s", p.name, p.err, addr)
		}
		c, err := net.DialTimeout("tcp", addr, time.Second)
		if err != nil {
			return false, err.Error()
		}
		c.Close()
		return true, ""
	})
}

// loopback returns the address 127.0.0.1:port.
func loopback(port int) string {
	return net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
}

// tlsConfig is the test's own TLS client configuration: it trusts roots.
func tlsConfig(roots *x509.CertPool) *tls.Config {
	return &tls.Config{RootCAs: roots, MinVersion: tls.VersionTLS12}
}
