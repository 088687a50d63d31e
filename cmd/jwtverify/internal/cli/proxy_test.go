package cli

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/jwtverify/jwtverify/backends/backendtest"
	"github.com/jwtverify/jwtverify/internal/mint"
)

// parseProxyFlags returns the proxy's flags as runProxy parses args.
func parseProxyFlags(t *testing.T, args ...string) *proxyFlags {
	t.Helper()
	f := new(proxyFlags)
	fs := flag.NewFlagSet("proxy", flag.ContinueOnError)
	f.register(fs)
	if err := fs.Parse(args); err != nil {
		t.Fatal(err)
	}
	return f
}

// startProxy runs a proxy on loopback until the test ends.
func startProxy(t *testing.T, f *proxyFlags) (addr, metricsAddr string, stop func() error) {
	t.Helper()
	return startProxyLogger(t, f, slog.New(slog.NewTextHandler(io.Discard, nil)))
}

// startProxyLogger is startProxy with the proxy's logger.
func startProxyLogger(t *testing.T, f *proxyFlags, logger *slog.Logger) (addr, metricsAddr string, stop func() error) {
	t.Helper()
	p, err := newProxy(f, logger)
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	mln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- serveProxy(ctx, p, ln, mln) }()
	// The key sets are fetched in the background from the start; the
	// tests begin once they are there (TestBootWithoutIdP tests the wait).
	rctx, rcancel := context.WithTimeout(ctx, 10*time.Second)
	defer rcancel()
	if err := p.waitReady(rctx); err != nil {
		t.Fatalf("the proxy's key sets did not arrive: %v", err)
	}
	stop = func() error {
		cancel()
		err := <-done
		p.close()
		return err
	}
	t.Cleanup(func() { cancel() })
	return "http://" + ln.Addr().String(), "http://" + mln.Addr().String(), stop
}

func TestProxy(t *testing.T) {
	f, c := fixture(t)
	jwk, _ := mint.JWK(&f.Keys.P256.PublicKey, "ec-256", "ES256")
	jwks, _ := json.Marshal(map[string]any{"keys": []any{jwk}})
	keys := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.Write(jwks) }))
	defer keys.Close()
	type seen struct {
		claims, auth, path string
	}
	got := make(chan seen, 10)
	upstream := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		for name := range r.Header {
			if n := strings.ToLower(strings.ReplaceAll(name, "_", "-")); n == "x-jwt-claims" && name != "X-Jwt-Claims" {
				t.Errorf("a client spelling of the claims header reached upstream: %q", name)
			}
		}
		got <- seen{r.Header.Get("X-Jwt-Claims"), r.Header.Get("Authorization"), r.URL.Path}
		io.WriteString(w, "upstream ok")
	}))
	defer upstream.Close()

	for _, strip := range []bool{false, true} {
		pf := parseProxyFlags(t, "--listen", "127.0.0.1:0", "--upstream", upstream.URL)
		pf.stripAuthorization = strip
		pf.jwks, pf.backend = keys.URL, "jwx"
		pf.issuers, pf.audiences = list{backendtest.Issuer}, list{backendtest.Audience}
		pf.requireScopes = list{"read"}
		addr, maddr, stop := startProxy(t, pf)

		good := f.Sign("ES256", nil, c)
		c2 := map[string]any{}
		for k, v := range c {
			c2[k] = v
		}
		c2["scope"] = "write"
		noScope := f.Sign("ES256", nil, c2)
		do := func(auth, forged string) *http.Response {
			req, _ := http.NewRequest("GET", addr+"/orders/7", nil)
			if auth != "" {
				req.Header.Set("Authorization", auth)
			}
			if forged != "" {
				req.Header.Set("X-Jwt-Claims", forged)
				req.Header["X_Jwt_Claims"] = []string{forged}
				req.Header["x-jwt-claims"] = []string{forged}
				req.Header.Set("Connection", "X-Jwt-Claims")
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			return resp
		}
		resp := do("Bearer "+good, base64.RawURLEncoding.EncodeToString([]byte(`{"sub":"admin"}`)))
		if resp.StatusCode != 200 {
			t.Fatalf("valid: %d", resp.StatusCode)
		}
		s := <-got
		claims, err := base64.RawURLEncoding.DecodeString(s.claims)
		var m map[string]any
		if err != nil || json.Unmarshal(claims, &m) != nil || m["sub"] != "user-1" || s.path != "/orders/7" {
			t.Fatalf("upstream saw claims %q (%v), path %q", claims, err, s.path)
		}
		if strip != (s.auth == "") {
			t.Fatalf("strip=%v, upstream Authorization %q", strip, s.auth)
		}
		if resp := do("", ""); resp.StatusCode != 401 || !strings.HasPrefix(resp.Header.Get("WWW-Authenticate"), `Bearer realm="jwtverify"`) {
			t.Fatalf("no token: %d %q", resp.StatusCode, resp.Header.Get("WWW-Authenticate"))
		}
		if resp := do("Bearer "+good[:len(good)-4]+"AAAA", ""); resp.StatusCode != 401 || !strings.Contains(resp.Header.Get("WWW-Authenticate"), `error="invalid_token"`) {
			t.Fatalf("bad token: %d", resp.StatusCode)
		}
		if resp := do("Bearer "+noScope, ""); resp.StatusCode != 403 || !strings.Contains(resp.Header.Get("WWW-Authenticate"), `scope="read"`) {
			t.Fatalf("missing scope: %d %q", resp.StatusCode, resp.Header.Get("WWW-Authenticate"))
		}
		select {
		case s := <-got:
			t.Fatalf("a rejected request reached upstream: %+v", s)
		default:
		}
		mresp, err := http.Get(maddr + "/metrics")
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(mresp.Body)
		mresp.Body.Close()
		for _, want := range []string{
			`jwtverify_verifications_total{backend="jwx",result="valid"} 1`,
			`jwtverify_verifications_total{backend="jwx",result="missing"} 1`,
			`jwtverify_verifications_total{backend="jwx",result="signature"} 1`,
			`jwtverify_verifications_total{backend="jwx",result="policy"} 1`,
			`jwtverify_verify_duration_seconds_count{backend="jwx"} 3`,
			`jwtverify_jwks_refresh_total{outcome="updated",trigger="manual"} 1`,
			`jwtverify_jwks_age_seconds `,
			"\ngo_goroutines ", // the Go and process collectors
			"\nprocess_cpu_seconds_total ",
		} {
			if !strings.Contains(string(body), want) {
				t.Errorf("metrics lack %q:\n%s", want, body)
			}
		}
		if err := stop(); err != nil {
			t.Fatalf("graceful shutdown: %v", err)
		}
	}
}

// TestProxyGracefulShutdown: on SIGTERM a request in flight upstream
// still completes, within the shutdown timeout (10 s by default); one
// still in flight then is cut, and the shutdown reports it.
func TestProxyGracefulShutdown(t *testing.T) {
	for _, tc := range []struct {
		name     string
		args     []string
		finishIn time.Duration // the upstream answers after
		cut      time.Duration // 0: the request completes; else the shutdown gives up after
	}{
		{"completes", nil, 9 * time.Second, 0},
		{"cut at default", nil, time.Hour, 10 * time.Second},
		{"flag", []string{"--shutdown-timeout", "30s"}, 20 * time.Second, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				pf, tok := keyFlags(t, tc.args...)
				entered := make(chan struct{})
				m := startMemProxy(t, pf, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
					close(entered)
					select {
					case <-time.After(tc.finishIn):
						io.WriteString(w, "late")
					case <-r.Context().Done():
					}
				}))
				c := dialMem(t, m.proxy)
				c.send("", "GET / HTTP/1.1", "Host: proxy", "Authorization: Bearer "+tok)
				answer := make(chan string, 1)
				go func() {
					resp, err := http.ReadResponse(c.r, nil)
					if err != nil {
						answer <- err.Error()
						return
					}
					body, _ := io.ReadAll(resp.Body)
					answer <- fmt.Sprint(resp.StatusCode, " ", string(body))
				}()
				<-entered // the request is in flight upstream
				start := time.Now()
				err := m.stop()
				if tc.cut == 0 {
					if err != nil {
						t.Fatalf("shutdown with a request that finishes in time: %v", err)
					}
					if got := <-answer; got != "200 late" {
						t.Fatalf("request in flight during shutdown: %s", got)
					}
					return
				}
				if d := time.Since(start); err == nil || d != tc.cut || !strings.Contains(err.Error(), "in flight") {
					t.Fatalf("shutdown after %v: %v; want an error after %v", d, err, tc.cut)
				}
			})
		})
	}
}

func TestProxyUsage(t *testing.T) {
	for name, args := range map[string][]string{
		"no upstream":  {"proxy", "--listen", "127.0.0.1:0", "--key", "x.pem"},
		"no keys":      {"proxy", "--listen", "127.0.0.1:0", "--upstream", "http://127.0.0.1:1"},
		"bad upstream": {"proxy", "--listen", "127.0.0.1:0", "--upstream", "ftp://x", "--key", "x.pem"},
		"extra arg":    {"proxy", "--listen", "127.0.0.1:0", "oops"},
		"bad flag":     {"proxy", "--nope"},
	} {
		if r := run("", args...); r.code != ExitUsage || r.stderr == "" {
			t.Errorf("%s: %+v", name, r)
		}
	}
}
