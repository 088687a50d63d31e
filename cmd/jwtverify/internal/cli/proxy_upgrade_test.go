package cli

import (
	"bufio"
	"cmp"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"
)

// switchingUpstream answers every request with 101 Switching Protocols,
// whatever it asked for, then echoes what the client sends: an upstream
// that would tunnel anything the proxy let through. The protocol it
// switches to is the request's Upgrade, or "websocket" when there is none,
// or the answer query parameter.
func switchingUpstream(t *testing.T, hits *atomic.Int32, seen chan<- http.Header) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		select {
		case seen <- r.Header.Clone():
		default:
		}
		proto := cmp.Or(r.URL.Query().Get("answer"), r.Header.Get("Upgrade"), "websocket")
		conn, brw, err := http.NewResponseController(w).Hijack()
		if err != nil {
			t.Error(err)
			return
		}
		defer conn.Close()
		brw.WriteString("HTTP/1.1 101 Switching Protocols\r\nUpgrade: " + proto + "\r\nConnection: Upgrade\r\n\r\n")
		brw.Flush()
		io.Copy(conn, brw)
	})
}

// TestProxyUpgrade: by default no request is tunnelled, whatever its
// spelling of Upgrade and Connection, with a valid token too, and the
// refused ones never reach upstream. With --allow-websocket exactly a
// verified WebSocket handshake is tunnelled (claims header included);
// h2c, lists, a second Upgrade line, a missing Connection option, a POST
// or HTTP/1.0 are still refused. "upgrade" in Connection without an
// Upgrade header asks for nothing and goes upstream as a plain request; an
// upstream that switches to another
// protocol than the one asked, or switches unasked, gets a 502: the client
// never sees that 101.
func TestProxyUpgrade(t *testing.T) {
	var hits atomic.Int32
	seen := make(chan http.Header, 1)
	upstream := httptest.NewServer(switchingUpstream(t, &hits, seen))
	defer upstream.Close()
	f, c := fixture(t)
	keyFile := writeFile(t, "ec.pem", pemOf(t, f))
	tok := f.Sign("ES256", nil, c)

	const (
		refused  = http.StatusBadRequest
		tunnel   = http.StatusSwitchingProtocols
		noSwitch = http.StatusBadGateway // upstream answered 101, the proxy did not pass it on
	)
	ws := []string{"Upgrade: websocket", "Connection: Upgrade", "Sec-WebSocket-Version: 13", "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ=="}
	for _, tc := range []struct {
		name        string
		request     string // request line
		headers     []string
		noToken     bool
		off, on     int  // status without and with --allow-websocket
		offUp, onUp bool // whether the request reaches upstream
	}{
		{name: "websocket", request: "GET /ws HTTP/1.1", headers: ws, off: refused, on: tunnel, onUp: true},
		{name: "websocket in other cases", request: "GET /ws HTTP/1.1", headers: []string{"upgrade: WebSocket", "connection: keep-alive, UPGRADE"}, off: refused, on: tunnel, onUp: true},
		{name: "websocket without token", request: "GET /ws HTTP/1.1", headers: ws, noToken: true, off: refused, on: http.StatusUnauthorized},
		{name: "h2c", request: "GET / HTTP/1.1", headers: []string{"Upgrade: h2c", "Connection: Upgrade, HTTP2-Settings", "HTTP2-Settings: AAMAAABkAARAAAAAAAIAAAAA"}, off: refused, on: refused},
		{name: "list", request: "GET /ws HTTP/1.1", headers: []string{"Upgrade: websocket, h2c", "Connection: Upgrade"}, off: refused, on: refused},
		{name: "two lines", request: "GET /ws HTTP/1.1", headers: []string{"Upgrade: websocket", "Upgrade: h2c", "Connection: Upgrade"}, off: refused, on: refused},
		{name: "no connection option", request: "GET /ws HTTP/1.1", headers: []string{"Upgrade: websocket"}, off: refused, on: refused},
		{name: "connection option only", request: "GET /ws HTTP/1.1", headers: []string{"Connection: Upgrade"}, off: noSwitch, on: noSwitch, offUp: true, onUp: true},
		{name: "other protocol", request: "GET /ws HTTP/1.1", headers: []string{"Upgrade: foo/1", "Connection: Upgrade"}, off: refused, on: refused},
		{name: "POST", request: "POST /ws HTTP/1.1", headers: append([]string{"Content-Length: 0"}, ws...), off: refused, on: refused},
		{name: "HTTP/1.0", request: "GET /ws HTTP/1.0", headers: ws, off: refused, on: refused},
		{name: "h2c prior knowledge", request: "PRI * HTTP/2.0", off: refused, on: refused},
		{name: "upstream switches unasked", request: "GET /plain HTTP/1.1", off: noSwitch, on: noSwitch, offUp: true, onUp: true},
		{name: "upstream switches to another protocol", request: "GET /ws?answer=h2c HTTP/1.1", headers: ws, off: refused, on: noSwitch, onUp: true},
	} {
		for _, allow := range []bool{false, true} {
			t.Run(tc.name+map[bool]string{false: "/default", true: "/allow-websocket"}[allow], func(t *testing.T) {
				args := []string{"--listen", "127.0.0.1:0", "--upstream", upstream.URL, "--key", keyFile, "--backend", "golang-jwt"}
				want, wantUp := tc.off, tc.offUp
				if allow {
					args, want, wantUp = append(args, "--allow-websocket"), tc.on, tc.onUp
				}
				addr, _, stop := startProxy(t, parseProxyFlags(t, args...))
				defer stop()
				conn, err := net.Dial("tcp", strings.TrimPrefix(addr, "http://"))
				if err != nil {
					t.Fatal(err)
				}
				defer conn.Close()
				conn.SetDeadline(time.Now().Add(10 * time.Second)) // a safety net, not a measurement
				lines := append([]string{tc.request, "Host: proxy"}, tc.headers...)
				if !tc.noToken {
					lines = append(lines, "Authorization: Bearer "+tok)
				}
				for len(seen) > 0 {
					<-seen
				}
				before := hits.Load()
				io.WriteString(conn, strings.Join(lines, "\r\n")+"\r\n\r\n")
				br := bufio.NewReader(conn)
				resp, err := http.ReadResponse(br, nil)
				if err != nil {
					t.Fatal(err)
				}
				if resp.StatusCode != want {
					t.Fatalf("status %d, want %d", resp.StatusCode, want)
				}
				if reached := hits.Load() != before; reached != wantUp {
					t.Fatalf("reached upstream: %v, want %v", reached, wantUp)
				}
				if want == refused && !resp.Close {
					t.Error("a refused upgrade leaves the connection open")
				}
				if want != tunnel {
					return
				}
				h := <-seen
				if h.Get("Upgrade") != tc.headers[0][len("Upgrade: "):] || h.Get("X-Jwt-Claims") == "" {
					t.Fatalf("upstream saw Upgrade %q, claims %q", h.Get("Upgrade"), h.Get("X-Jwt-Claims"))
				}
				io.WriteString(conn, "ping")
				echo := make([]byte, 4)
				if _, err := io.ReadFull(br, echo); err != nil || string(echo) != "ping" {
					t.Fatalf("tunnel echo %q, %v", echo, err)
				}
			})
		}
	}
	t.Run("h2c preface", func(t *testing.T) {
		addr, _, stop := startProxy(t, parseProxyFlags(t, "--listen", "127.0.0.1:0", "--upstream", upstream.URL, "--key", keyFile, "--allow-websocket"))
		defer stop()
		conn, err := net.Dial("tcp", strings.TrimPrefix(addr, "http://"))
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		conn.SetDeadline(time.Now().Add(10 * time.Second))
		before := hits.Load()
		io.WriteString(conn, "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n")
		resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
		if err != nil || resp.StatusCode != refused || hits.Load() != before {
			t.Fatalf("h2c preface: %v %v, upstream reached: %v", resp, err, hits.Load() != before)
		}
	})
}

// TestProxyWebSocketTunnelEndsWithToken: a tunnel outlives the write and
// idle timeouts, but the proxy closes it, both ways, when its token would
// no longer verify: exp plus the leeway.
func TestProxyWebSocketTunnelEndsWithToken(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f, c := fixture(t) // exp: an hour from the bubble's clock
		pf := parseProxyFlags(t, "--listen", "mem", "--upstream", "http://upstream.test", "--allow-websocket", "--leeway", "30s")
		pf.key, pf.backend = writeFile(t, "ec.pem", pemOf(t, f)), "golang-jwt"
		upstreamDone := make(chan time.Time, 1)
		var hits atomic.Int32
		echo := switchingUpstream(t, &hits, nil)
		m := startMemProxy(t, pf, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			echo.ServeHTTP(w, r)
			upstreamDone <- time.Now()
		}))
		conn := dialMem(t, m.proxy)
		conn.send("", "GET /ws HTTP/1.1", "Host: proxy", "Upgrade: websocket", "Connection: Upgrade", "Authorization: Bearer "+f.Sign("ES256", nil, c))
		resp, err := http.ReadResponse(conn.r, nil)
		if err != nil || resp.StatusCode != http.StatusSwitchingProtocols {
			t.Fatalf("handshake: %v %v", resp, err)
		}
		expiry := time.Unix(c["exp"].(int64), 0).Add(30 * time.Second)
		time.Sleep(time.Until(expiry) - time.Minute)
		conn.send("", "ping") // "ping\r\n\r\n"
		buf := make([]byte, 8)
		if _, err := io.ReadFull(conn.r, buf); err != nil || string(buf) != "ping\r\n\r\n" {
			t.Fatalf("a minute before expiry: echo %q, %v", buf, err)
		}
		conn.SetReadDeadline(expiry.Add(time.Hour))
		_, err = conn.r.ReadByte()
		if err != io.EOF || !time.Now().Equal(expiry) {
			t.Fatalf("tunnel ended at %v (%v), want closed at exp+leeway %v", time.Now(), err, expiry)
		}
		if at := <-upstreamDone; !at.Equal(expiry) {
			t.Fatalf("upstream side closed at %v, want %v", at, expiry)
		}
	})
}
