package cli

import (
	"bufio"
	"bytes"
	"context"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/jwtverify/jwtverify/internal/proctest"
)

// memListener is an in-memory net.Listener: dial hands it one end of a
// net.Pipe. Unlike loopback sockets, pipes let the fake clock of a
// testing/synctest bubble advance, so a test can wait out a 60 s timeout
// in no time.
type memListener struct {
	conns chan net.Conn
	done  chan struct{}
	once  sync.Once
}

func newMemListener() *memListener {
	return &memListener{conns: make(chan net.Conn), done: make(chan struct{})}
}

func (l *memListener) Accept() (net.Conn, error) {
	select {
	case c := <-l.conns:
		return c, nil
	case <-l.done:
		return nil, net.ErrClosed
	}
}

func (l *memListener) Close() error {
	l.once.Do(func() { close(l.done) })
	return nil
}

func (l *memListener) Addr() net.Addr { return memAddr{} }

func (l *memListener) dial(ctx context.Context, _, _ string) (net.Conn, error) {
	server, client := net.Pipe()
	select {
	case l.conns <- server:
		return client, nil
	case <-l.done:
		return nil, net.ErrClosed
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

type memAddr struct{}

func (memAddr) Network() string { return "mem" }
func (memAddr) String() string  { return "mem" }

func discardLogger() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

// memProxy is a proxy served on in-memory listeners, with upstream behind
// it on another, all inside the caller's synctest bubble.
type memProxy struct {
	proxy, metrics *memListener
	log            *proctest.Buffer
	stop           func() error // shuts down as on SIGTERM; the test's end calls it too
}

// startMemProxy serves the proxy that f describes (its upstream replaced by
// upstream) until the test ends.
func startMemProxy(t *testing.T, f *proxyFlags, upstream http.Handler) *memProxy {
	t.Helper()
	up := newMemListener()
	usrv := &http.Server{Handler: upstream}
	go usrv.Serve(up)
	tr := &http.Transport{DialContext: up.dial}
	f.upstream, f.transport = "http://upstream.test", tr
	m := &memProxy{proxy: newMemListener(), metrics: newMemListener(), log: new(proctest.Buffer)}
	p, err := newProxy(f, slog.New(slog.NewTextHandler(m.log, nil)))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- serveProxy(ctx, p, m.proxy, m.metrics) }()
	stop := sync.OnceValue(func() error {
		cancel()
		err := <-done
		p.close()
		usrv.Close()
		tr.CloseIdleConnections()
		return err
	})
	var stoppedByTest bool
	m.stop = func() error { stoppedByTest = true; return stop() }
	t.Cleanup(func() {
		if err := stop(); err != nil && !stoppedByTest {
			t.Errorf("shutdown: %v", err)
		}
	})
	return m
}

// memConn is a client connection to a memListener.
type memConn struct {
	net.Conn
	r *bufio.Reader
}

func dialMem(t *testing.T, l *memListener) *memConn {
	t.Helper()
	c, err := l.dial(context.Background(), "", "")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return &memConn{c, bufio.NewReader(c)}
}

// send writes a raw request: its lines joined with CRLF, then a blank
// line, then body. It writes from a goroutine, since a pipe's writes wait
// for the server to read.
func (c *memConn) send(body string, lines ...string) {
	go c.Write([]byte(strings.Join(lines, "\r\n") + "\r\n\r\n" + body))
}

// response reads one response, its body included.
func (c *memConn) response(t *testing.T) (*http.Response, string) {
	t.Helper()
	resp, err := http.ReadResponse(c.r, nil)
	if err != nil {
		t.Fatalf("reading the response: %v", err)
	}
	var body bytes.Buffer
	_, err = body.ReadFrom(resp.Body)
	resp.Body.Close()
	if err != nil {
		t.Fatalf("reading the response body: %v", err)
	}
	return resp, body.String()
}
