package cli

import (
	"context"
	"io"
	"log"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/jwtverify/jwtverify/internal/proctest"
)

// captureStdLog sends the standard log package's output to a buffer until
// the test ends. No test of this package runs in parallel.
func captureStdLog(t *testing.T) *proctest.Buffer {
	t.Helper()
	b := new(proctest.Buffer)
	prev := log.Writer()
	log.SetOutput(b)
	t.Cleanup(func() { log.SetOutput(prev) })
	return b
}

// closedAddr returns a loopback address nothing listens on.
func closedAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return addr
}

// TestProxyUpstreamDown: an upstream that cannot be reached gives a 502
// and one slog record at ERROR naming the upstream without its userinfo
// and query, and the cause; nothing goes to the standard log package, and
// no line holds the token.
func TestProxyUpstreamDown(t *testing.T) {
	std := captureStdLog(t)
	f, c := fixture(t)
	addr := closedAddr(t)
	pf := parseProxyFlags(t, "--listen", "127.0.0.1:0", "--upstream", "http://user:s3cretpw@"+addr+"/base?api_key=s3cretq")
	pf.key, pf.backend = writeFile(t, "ec.pem", pemOf(t, f)), "golang-jwt"
	logs := new(proctest.Buffer)
	p, err := newProxy(pf, slog.New(slog.NewTextHandler(logs, nil)))
	if err != nil {
		t.Fatal(err)
	}
	defer p.close()
	tok := f.Sign("ES256", nil, c)
	req := httptest.NewRequest("GET", "/orders/7?page=2", nil)
	req.Header.Set("Authorization", "Bearer "+tok)
	rec := httptest.NewRecorder()
	p.handler.ServeHTTP(rec, req)
	if rec.Code != http.StatusBadGateway {
		t.Fatalf("upstream down: %d, want 502", rec.Code)
	}
	var found bool
	for line := range strings.Lines(logs.String()) {
		if strings.Contains(line, `msg="upstream request failed"`) {
			found = strings.Contains(line, "level=ERROR") && strings.Contains(line, "upstream=http://"+addr+"/base ") &&
				strings.Contains(line, "connection refused")
		}
	}
	if !found {
		t.Errorf("no ERROR record of the upstream failure naming the upstream and the cause:\n%s", logs)
	}
	for _, secret := range append(strings.Split(tok, "."), "s3cret") {
		if strings.Contains(logs.String(), secret) {
			t.Errorf("the log holds %q:\n%s", secret, logs)
		}
	}
	if std.String() != "" {
		t.Errorf("the standard log package got: %q", std)
	}
}

// TestProxyUpstreamRedacted: the upstream URL in a configuration error
// has no userinfo or query either.
func TestProxyUpstreamRedacted(t *testing.T) {
	r := run("", "proxy", "--listen", "127.0.0.1:0", "--upstream", "ftp://user:s3cretpw@host/base?api_key=s3cretq", "--key", "x.pem")
	if r.code != ExitUsage || !strings.Contains(r.stderr, "ftp://host/base") || strings.Contains(r.stderr, "s3cret") {
		t.Fatalf("%+v", r)
	}
}

// flakyListener fails its first Accept with a temporary error, which
// http.Server reports to its ErrorLog and retries.
type flakyListener struct {
	net.Listener
	failed atomic.Bool
}

func (l *flakyListener) Accept() (net.Conn, error) {
	if l.failed.CompareAndSwap(false, true) {
		return nil, tempErr{}
	}
	return l.Listener.Accept()
}

type tempErr struct{}

func (tempErr) Error() string   { return "too many open files (test)" }
func (tempErr) Timeout() bool   { return false }
func (tempErr) Temporary() bool { return true }

// TestProxyServerErrorsToSlog: what the servers of both listeners report
// about themselves (here an Accept error) is a slog record too, not a line
// of the standard log package.
func TestProxyServerErrorsToSlog(t *testing.T) {
	std := captureStdLog(t)
	f, _ := fixture(t)
	pf := parseProxyFlags(t, "--listen", "127.0.0.1:0", "--upstream", "http://"+closedAddr(t))
	pf.key, pf.backend = writeFile(t, "ec.pem", pemOf(t, f)), "golang-jwt"
	logs := new(proctest.Buffer)
	p, err := newProxy(pf, slog.New(slog.NewTextHandler(logs, nil)))
	if err != nil {
		t.Fatal(err)
	}
	defer p.close()
	var lns [2]net.Listener
	for i := range lns {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		lns[i] = &flakyListener{Listener: ln}
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- serveProxy(ctx, p, lns[0], lns[1]) }()
	for _, url := range []string{"http://" + lns[0].Addr().String() + "/", "http://" + lns[1].Addr().String() + "/metrics"} {
		resp, err := http.Get(url) // served once the server is past its Accept error
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(logs.String(), `level=ERROR msg="http: Accept error: too many open files (test)`); n != 2 {
		t.Errorf("%d ERROR records of the Accept error, want one per listener:\n%s", n, logs)
	}
	if std.String() != "" {
		t.Errorf("the standard log package got: %q", std)
	}
}
