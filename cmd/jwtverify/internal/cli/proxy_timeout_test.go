package cli

import (
	"errors"
	"io"
	"net/http"
	"os"
	"strings"
	"testing"
	"testing/synctest"
	"time"
)

// keyFlags returns proxy flags as parsed from args, with the fixture's EC
// key, and a valid token for it.
func keyFlags(t *testing.T, args ...string) (*proxyFlags, string) {
	t.Helper()
	f, c := fixture(t)
	pf := parseProxyFlags(t, append([]string{"--listen", "mem", "--upstream", "http://upstream.test"}, args...)...)
	pf.key, pf.backend = writeFile(t, "ec.pem", pemOf(t, f)), "golang-jwt"
	return pf, f.Sign("ES256", nil, c)
}

// TestProxyTimeoutDefaults: the defaults are those the README states, for
// the proxy's listener and the metrics' alike (one function builds both
// servers), an idle connection is closed within 60 s, the flags set each
// value, and 0 means no limit rather than net/http's fallback to
// ReadTimeout.
func TestProxyTimeoutDefaults(t *testing.T) {
	build := func(args ...string) *http.Server {
		t.Helper()
		pf, _ := keyFlags(t, args...)
		p, err := newProxy(pf, discardLogger())
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(p.close)
		if p.timeouts.shutdown != pf.timeouts.shutdown {
			t.Fatalf("shutdown timeout %v, flags say %v", p.timeouts.shutdown, pf.timeouts.shutdown)
		}
		return p.server(nil)
	}
	srv := build()
	if srv.ReadHeaderTimeout != 10*time.Second || srv.ReadTimeout != 60*time.Second ||
		srv.WriteTimeout != 60*time.Second || srv.IdleTimeout != 30*time.Second {
		t.Errorf("defaults: read header %v, read %v, write %v, idle %v; the README says 10s, 1m, 1m, 30s",
			srv.ReadHeaderTimeout, srv.ReadTimeout, srv.WriteTimeout, srv.IdleTimeout)
	}
	if srv.IdleTimeout <= 0 || srv.IdleTimeout > 60*time.Second {
		t.Errorf("default idle timeout %v: an idle connection must be closed within 60 s", srv.IdleTimeout)
	}
	if pf := parseProxyFlags(t); pf.timeouts.shutdown != 10*time.Second {
		t.Errorf("default shutdown timeout %v, the README says 10s", pf.timeouts.shutdown)
	}
	srv = build("--read-header-timeout", "1s", "--read-timeout", "2s", "--write-timeout", "3s", "--idle-timeout", "4s", "--shutdown-timeout", "5s")
	if srv.ReadHeaderTimeout != time.Second || srv.ReadTimeout != 2*time.Second || srv.WriteTimeout != 3*time.Second || srv.IdleTimeout != 4*time.Second {
		t.Errorf("flags: %v %v %v %v", srv.ReadHeaderTimeout, srv.ReadTimeout, srv.WriteTimeout, srv.IdleTimeout)
	}
	srv = build("--read-timeout", "2s", "--write-timeout", "0", "--idle-timeout", "0")
	if srv.WriteTimeout != 0 || srv.IdleTimeout >= 0 {
		t.Errorf("0 must mean no limit: write %v, idle %v (http.Server takes idle 0 as ReadTimeout)", srv.WriteTimeout, srv.IdleTimeout)
	}
	f, _ := fixture(t)
	keyFile := writeFile(t, "ec.pem", pemOf(t, f))
	for _, bad := range [][]string{
		{"--read-header-timeout", "0"}, {"--shutdown-timeout", "0"},
		{"--read-timeout", "-1s"}, {"--write-timeout", "-1s"}, {"--idle-timeout", "-1s"},
	} {
		args := append([]string{"proxy", "--listen", "127.0.0.1:0", "--upstream", "http://127.0.0.1:1", "--key", keyFile}, bad...)
		if r := run("", args...); r.code != ExitUsage || !strings.Contains(r.stderr, bad[0]) {
			t.Errorf("%v: %+v", bad, r)
		}
	}
}

// TestProxyIdleTimeout: a keep-alive connection idle after its answer (a
// 401, as in the issue, or a metrics scrape) is closed when the idle
// timeout passes: 30 s by default, the flag's value otherwise, and never
// with 0.
func TestProxyIdleTimeout(t *testing.T) {
	for _, tc := range []struct {
		name string
		args []string
		want time.Duration // 0: still open after 10 minutes
	}{
		{"default", nil, 30 * time.Second},
		{"flag", []string{"--idle-timeout", "5s"}, 5 * time.Second},
		{"no limit", []string{"--idle-timeout", "0"}, 0},
	} {
		for _, metrics := range []bool{false, true} {
			name := tc.name + "/proxy"
			if metrics {
				name = tc.name + "/metrics"
			}
			t.Run(name, func(t *testing.T) {
				synctest.Test(t, func(t *testing.T) {
					pf, _ := keyFlags(t, tc.args...)
					m := startMemProxy(t, pf, http.NotFoundHandler())
					l, path, status := m.proxy, "/orders", http.StatusUnauthorized
					if metrics {
						l, path, status = m.metrics, "/metrics", http.StatusOK
					}
					c := dialMem(t, l)
					c.send("", "GET "+path+" HTTP/1.1", "Host: proxy")
					if resp, _ := c.response(t); resp.StatusCode != status || resp.Close {
						t.Fatalf("status %d (close %v), want %d on a kept-alive connection", resp.StatusCode, resp.Close, status)
					}
					start := time.Now()
					c.SetReadDeadline(start.Add(10 * time.Minute))
					_, err := c.r.ReadByte()
					elapsed := time.Since(start)
					switch {
					case tc.want == 0 && !errors.Is(err, os.ErrDeadlineExceeded):
						t.Fatalf("with no limit the idle connection ended after %v: %v", elapsed, err)
					case tc.want != 0 && err != io.EOF:
						t.Fatalf("idle connection still open after %v (%v), want closed after %v", elapsed, err, tc.want)
					case tc.want != 0 && elapsed != tc.want:
						t.Fatalf("idle connection closed after %v, want %v", elapsed, tc.want)
					}
				})
			})
		}
	}
}

// TestProxyReadTimeout: a client that never finishes its body is cut when
// the read timeout passes (60 s by default), whether the proxy refuses the
// request (its 401 waits for the body) or passes it upstream (which sees
// the body end short).
func TestProxyReadTimeout(t *testing.T) {
	for _, withToken := range []bool{false, true} {
		t.Run(map[bool]string{false: "unauthenticated", true: "verified"}[withToken], func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				pf, tok := keyFlags(t, "--write-timeout", "0")
				upstreamErr := make(chan error, 1)
				m := startMemProxy(t, pf, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
					_, err := io.ReadAll(r.Body)
					upstreamErr <- err
				}))
				c := dialMem(t, m.proxy)
				lines := []string{"POST /orders HTTP/1.1", "Host: proxy", "Content-Length: 100"}
				if withToken {
					lines = append(lines, "Authorization: Bearer "+tok)
				}
				start := time.Now()
				c.send("only ten b", lines...)
				c.SetReadDeadline(start.Add(10 * time.Minute))
				got, err := io.ReadAll(c.r) // the answer, if any, then the close
				if elapsed := time.Since(start); err != nil || elapsed != 60*time.Second {
					t.Fatalf("connection with a stalled body ended after %v (%v), want closed after 1m", elapsed, err)
				}
				if !withToken && !strings.HasPrefix(string(got), "HTTP/1.1 401 ") {
					t.Fatalf("unauthenticated: got %q, want the 401", got)
				}
				if withToken {
					if err := <-upstreamErr; err == nil {
						t.Fatal("upstream read the whole body of a request whose client stalled")
					}
				}
			})
		})
	}
}

// TestProxyWriteTimeout: the write timeout (60 s by default) bounds the
// whole exchange. An upstream that does not answer has its request
// cancelled then; a response that streams for longer is cut then, unless
// --write-timeout 0.
func TestProxyWriteTimeout(t *testing.T) {
	t.Run("upstream does not answer", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			pf, tok := keyFlags(t)
			cancelled := make(chan bool, 1)
			m := startMemProxy(t, pf, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				select {
				case <-r.Context().Done():
					cancelled <- true
				case <-time.After(time.Hour):
					cancelled <- false
				}
			}))
			c := dialMem(t, m.proxy)
			start := time.Now()
			c.send("", "GET /slow HTTP/1.1", "Host: proxy", "Authorization: Bearer "+tok)
			if ok, d := <-cancelled, time.Since(start); !ok || d != 60*time.Second {
				t.Fatalf("upstream request cancelled: %v, after %v; want cancelled after 1m", ok, d)
			}
			c.SetReadDeadline(time.Now().Add(time.Minute))
			if resp, err := http.ReadResponse(c.r, nil); err == nil && resp.StatusCode == http.StatusOK {
				t.Fatal("a 200 after the write timeout")
			}
		})
	})
	stream := func(t *testing.T, args ...string) (chunks int, log string, err error) {
		pf, tok := keyFlags(t, args...)
		m := startMemProxy(t, pf, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			for range 26 { // one chunk every 7 s for 3 minutes
				if _, err := io.WriteString(w, "chunk\n"); err != nil {
					return
				}
				http.NewResponseController(w).Flush()
				select {
				case <-time.After(7 * time.Second):
				case <-r.Context().Done():
					return
				}
			}
		}))
		c := dialMem(t, m.proxy)
		c.send("", "GET /events HTTP/1.1", "Host: proxy", "Authorization: Bearer "+tok)
		c.SetReadDeadline(time.Now().Add(10 * time.Minute))
		resp, err := http.ReadResponse(c.r, nil)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		body, err := io.ReadAll(resp.Body)
		return strings.Count(string(body), "chunk\n"), m.log.String(), err
	}
	t.Run("stream cut by default", func(t *testing.T) {
		std := captureStdLog(t)
		synctest.Test(t, func(t *testing.T) {
			n, logs, err := stream(t)
			if err == nil || n != 9 {
				t.Fatalf("a 3-minute stream gave %d chunks (err %v), want it cut after the 9 of its first minute", n, err)
			}
			// ReverseProxy's own report of the cut is a slog record.
			if !strings.Contains(logs, `level=ERROR msg="httputil: ReverseProxy read error during body copy: context deadline exceeded"`) {
				t.Errorf("no record of the cut:\n%s", logs)
			}
		})
		if std.String() != "" {
			t.Errorf("the standard log package got: %q", std)
		}
	})
	t.Run("stream with no limit", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			if n, _, err := stream(t, "--write-timeout", "0"); err != nil || n != 26 {
				t.Fatalf("with --write-timeout 0: %d chunks, %v; want all 26", n, err)
			}
		})
	})
}
