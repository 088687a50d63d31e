package keyset_test

import (
	"bytes"
	"context"
	"crypto/rsa"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/jwtverify/jwtverify"
	"github.com/jwtverify/jwtverify/internal/mint"
	"github.com/jwtverify/jwtverify/internal/testkeys"
	"github.com/jwtverify/jwtverify/keyset"
)

// Tests of the conditional GET (fetch.go), shared by Remote and Discover:
// validators and 304, status and size limits, redirects, URL rules, and
// URL secrets.

// remoteAt returns a Remote for a real URL, closed by t.Cleanup.
func remoteAt(t *testing.T, url string, mod func(*keyset.RemoteConfig)) *keyset.Remote {
	t.Helper()
	var cfg keyset.RemoteConfig
	if mod != nil {
		mod(&cfg)
	}
	r, err := keyset.NewRemote(url, cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Close() })
	return r
}

// TestNotModified: the validators of the last 200 are sent; a 304 keeps
// the set and resets its age, so it serves MaxStale from the 304.
func TestNotModified(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := newFixture()
		o := newOrigin(t, jwks(t, map[string]*rsa.PrivateKey{"A": f.a}))
		o.set(func(o *origin) {
			o.header.Set("ETag", `"v1"`)
			o.header.Set("Last-Modified", "Mon, 01 Jun 2026 00:00:00 GMT")
			o.header.Set("Cache-Control", "max-age=300")
		})
		var mu sync.Mutex
		var last keyset.RefreshEvent
		r := f.remote(t, o, func(c *keyset.RemoteConfig) {
			c.OnRefresh = func(_ context.Context, ev keyset.RefreshEvent) { mu.Lock(); last = ev; mu.Unlock() }
		})
		ctx := context.Background()
		if _, err := r.Key(ctx, plausible("A")); err != nil {
			t.Fatal(err)
		}
		time.Sleep(time.Hour)
		if err := r.Refresh(ctx); err != nil {
			t.Fatal(err)
		}
		o.mu.Lock()
		inm, ims := o.lastReq.Header.Get("If-None-Match"), o.lastReq.Header.Get("If-Modified-Since")
		o.mu.Unlock()
		if inm != `"v1"` || ims != "Mon, 01 Jun 2026 00:00:00 GMT" {
			t.Fatalf("conditional headers %q %q", inm, ims)
		}
		mu.Lock()
		ev := last
		mu.Unlock()
		if ev.Outcome != "not_modified" || ev.Keys != 1 || ev.Age != 0 {
			t.Fatalf("event %+v", ev)
		}
		// The 304 reset the age: 23h later (past the first fetch + MaxStale),
		// with the endpoint failing, it still serves.
		time.Sleep(23 * time.Hour)
		o.set(func(o *origin) { o.status = 500; o.header.Del("ETag") })
		if _, err := r.Key(ctx, plausible("A")); err != nil {
			t.Fatalf("after 304 the age should have reset: %v", err)
		}
	})
}

// TestStrictResponses: status 200 only; a body the parser refuses is a
// failure; a refused key is skipped and reported.
func TestStrictResponses(t *testing.T) {
	f := newFixture()
	good := jwks(t, map[string]*rsa.PrivateKey{"A": f.a})
	weak, _ := mint.JWK(&testkeys.Load().RSA1024.PublicKey, "W", "")
	withWeak, _ := json.Marshal(map[string]any{"keys": []any{json.RawMessage(good[9 : len(good)-2]), weak}})
	for name, tt := range map[string]struct {
		status int
		body   []byte
		ok     bool
	}{
		"201":              {201, good, false},
		"204":              {204, nil, false},
		"304 unasked":      {304, nil, false},
		"private-key":      {200, []byte(`{"keys":[{"kty":"RSA","n":"AQAB","e":"AQAB","d":"AQAB","kid":"A"}]}`), false},
		"weak-key-skipped": {200, withWeak, true},
		"duplicate-member": {200, []byte(`{"keys":[],"keys":[]}`), false},
	} {
		t.Run(name, func(t *testing.T) {
			o := newOrigin(t, tt.body)
			o.set(func(o *origin) { o.status = tt.status })
			var skipped int
			r := f.remote(t, o, func(c *keyset.RemoteConfig) {
				c.OnRefresh = func(_ context.Context, ev keyset.RefreshEvent) { skipped = len(ev.Skipped) }
			})
			_, err := r.Key(context.Background(), plausible("A"))
			if tt.ok != (err == nil) {
				t.Fatalf("Key = %v, want ok=%v", err, tt.ok)
			}
			if name == "weak-key-skipped" {
				if skipped != 1 {
					t.Fatalf("%d keys reported skipped, want 1", skipped)
				}
				if _, err := r.Key(context.Background(), jwtverify.Lookup{KID: "W", Alg: "RS256"}); !errors.Is(err, jwtverify.ErrUnknownKey) {
					t.Fatalf("weak key usable: %v", err)
				}
			}
		})
	}
}

func TestRedirects(t *testing.T) {
	f := newFixture()
	body := jwks(t, map[string]*rsa.PrivateKey{"A": f.a})
	target := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.Write(body) }))
	defer target.Close()
	same := httptest.NewServer(http.RedirectHandler(target.URL+"/jwks", http.StatusFound))
	defer same.Close()
	// 127.0.0.1 and localhost are different hosts to the redirect check.
	other := httptest.NewServer(http.RedirectHandler(strings.Replace(target.URL, "127.0.0.1", "localhost", 1)+"/jwks", http.StatusFound))
	defer other.Close()
	tlsTarget := httptest.NewTLSServer(target.Config.Handler)
	defer tlsTarget.Close()
	toTLS := httptest.NewServer(http.RedirectHandler(tlsTarget.URL+"/jwks", http.StatusFound))
	defer toTLS.Close()
	ctx := context.Background()
	if _, err := remoteAt(t, other.URL, nil).Key(ctx, plausible("A")); !errors.Is(err, jwtverify.ErrKeysUnavailable) {
		t.Fatalf("cross-host redirect followed: %v", err)
	}
	if _, err := remoteAt(t, toTLS.URL, func(c *keyset.RemoteConfig) {
		c.AllowCrossHostRedirect, c.Client = true, tlsTarget.Client()
	}).Key(ctx, plausible("A")); err != nil {
		t.Fatalf("allowed cross-host redirect to https: %v", err)
	}
	// A redirect's Location is learned from a response: to another host
	// over http it is refused even when cross-host redirects are allowed.
	for _, insecure := range []bool{false, true} {
		if _, err := remoteAt(t, other.URL, func(c *keyset.RemoteConfig) {
			c.AllowCrossHostRedirect, c.AllowInsecureHTTP = true, insecure
		}).Key(ctx, plausible("A")); !errors.Is(err, jwtverify.ErrKeysUnavailable) {
			t.Fatalf("cross-host redirect to http followed (AllowInsecureHTTP=%v): %v", insecure, err)
		}
	}
	// A redirect to another port of the same host name is another host too
	// (Host includes the port); the check compares host:port.
	if _, err := remoteAt(t, same.URL, nil).Key(ctx, plausible("A")); !errors.Is(err, jwtverify.ErrKeysUnavailable) {
		t.Fatalf("redirect to another port followed: %v", err)
	}
}

func TestDiscover(t *testing.T) {
	f := newFixture()
	body := jwks(t, map[string]*rsa.PrivateKey{"A": f.a})
	var issuer string
	var disco *httptest.Server
	disco = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/tenant/.well-known/openid-configuration":
			json.NewEncoder(w).Encode(map[string]string{"issuer": issuer, "jwks_uri": disco.URL + "/tenant/jwks"})
		case "/tenant/jwks":
			w.Write(body)
		case "/big/.well-known/openid-configuration":
			w.Write(bytes.Repeat([]byte(" "), 256<<10+1))
		default:
			http.NotFound(w, r)
		}
	}))
	defer disco.Close()
	iss := disco.URL + "/tenant"

	issuer = iss
	r, err := keyset.Discover(context.Background(), iss, keyset.RemoteConfig{})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	if r.URL() != iss+"/jwks" {
		t.Fatalf("jwks_uri %q", r.URL())
	}
	if _, err := r.Key(context.Background(), plausible("A")); err != nil {
		t.Fatal(err)
	}

	issuer = iss + "/"
	if _, err := keyset.Discover(context.Background(), iss, keyset.RemoteConfig{}); !errors.Is(err, jwtverify.ErrInvalidConfig) {
		t.Fatalf("mismatched issuer: %v", err)
	}
	if _, err := keyset.Discover(context.Background(), disco.URL+"/other", keyset.RemoteConfig{}); !errors.Is(err, jwtverify.ErrKeysUnavailable) {
		t.Fatalf("404: %v", err)
	}
	if _, err := keyset.Discover(context.Background(), disco.URL+"/big", keyset.RemoteConfig{}); !errors.Is(err, jwtverify.ErrKeysUnavailable) || !strings.Contains(err.Error(), "larger than") {
		t.Fatalf("document over 256 KiB: %v", err)
	}
	for _, bad := range []string{"http://issuer.example", iss + "?x=1", iss + "#frag", iss + "?"} {
		if _, err := keyset.Discover(context.Background(), bad, keyset.RemoteConfig{}); !errors.Is(err, jwtverify.ErrInvalidConfig) {
			t.Fatalf("issuer %s: %v", bad, err)
		}
	}
}

type lockedWriter struct {
	b  *bytes.Buffer
	mu *sync.Mutex
}

func (w lockedWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.b.Write(p)
}

// withSecrets returns srvURL+path with a user name, a password and an API
// key in its query, as an operator might configure a protected endpoint.
func withSecrets(srvURL, path string) string {
	return strings.Replace(srvURL, "://", "://user:pass@", 1) + path + "?api_key=s3cret"
}

// checkNoSecrets fails if any text holds a part of withSecrets' URL that is
// a secret.
func checkNoSecrets(t *testing.T, texts []string) {
	t.Helper()
	for _, s := range texts {
		for _, secret := range []string{"pass", "s3cret", "api_key", "user"} {
			if strings.Contains(s, secret) {
				t.Errorf("%q shows %q", s, secret)
				break
			}
		}
	}
}

// TestURLSecretsNeverShown: the userinfo and query of a JWKS URL reach the
// endpoint but no log line, event, error or accessor, whatever fails.
func TestURLSecretsNeverShown(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := newFixture()
		o := newOrigin(t, jwks(t, map[string]*rsa.PrivateKey{"A": f.a}))
		var mu sync.Mutex
		var texts []string
		keep := func(s string) { mu.Lock(); texts = append(texts, s); mu.Unlock() }
		var logBuf bytes.Buffer
		var refreshes, misses int
		cfg := keyset.RemoteConfig{
			Client: o.client(),
			Logger: slog.New(slog.NewTextHandler(lockedWriter{&logBuf, &mu}, &slog.HandlerOptions{Level: slog.LevelDebug})),
			OnRefresh: func(_ context.Context, ev keyset.RefreshEvent) {
				keep(fmt.Sprintf("%+v", ev))
				if ev.Err != nil {
					keep(ev.Err.Error())
				}
				mu.Lock()
				refreshes++
				mu.Unlock()
			},
			OnMiss: func(ev keyset.MissEvent) { keep(fmt.Sprintf("%+v", ev)); mu.Lock(); misses++; mu.Unlock() },
		}
		r, err := keyset.NewRemote(withSecrets("https://issuer.example", "/jwks"), cfg)
		if err != nil {
			t.Fatal(err)
		}
		defer r.Close()
		v := f.verifier(t, r)
		ctx := context.Background()
		good := f.token(t, "A", f.a, nil)
		verify := func(tok string) error {
			_, err := v.Verify(ctx, tok)
			if err != nil {
				keep(err.Error())
			}
			return err
		}
		refresh := func() error {
			err := r.Refresh(ctx)
			if err != nil {
				keep(err.Error())
			}
			return err
		}

		o.set(func(o *origin) { o.status = 500 })
		if err := verify(good); !errors.Is(err, jwtverify.ErrKeysUnavailable) {
			t.Fatalf("first fetch answered 500: %v", err)
		}
		o.set(func(o *origin) { o.status = 200 })
		if err := refresh(); err != nil {
			t.Fatal(err)
		}
		if err := verify(good); err != nil {
			t.Fatal(err)
		}
		o.mu.Lock()
		gotUser, gotPass, _ := o.lastReq.BasicAuth()
		if q := o.lastReq.URL.RawQuery; q != "api_key=s3cret" || gotUser != "user" || gotPass != "pass" {
			t.Errorf("the endpoint got query %q and user %q:%q; the configured URL must be used as given", q, gotUser, gotPass)
		}
		o.mu.Unlock()
		unknown := f.token(t, "B", f.b, nil)
		verify(unknown) // refreshes: B is absent
		verify(unknown) // negative cache
		o.set(func(o *origin) { o.body = []byte("<html>oops</html>") })
		if err := refresh(); err == nil {
			t.Fatal("bad body accepted")
		}
		o.set(func(o *origin) { o.down = true }) // unreachable from now on
		if err := refresh(); err == nil {
			t.Fatal("unreachable endpoint: no error")
		}
		time.Sleep(defaultMaxStale + time.Hour)
		if err := verify(good); !errors.Is(err, jwtverify.ErrKeysUnavailable) {
			t.Fatalf("past MaxStale: %v", err)
		}
		keep(r.URL())
		if want := "https://issuer.example/jwks"; r.URL() != want {
			t.Errorf("URL() = %q, want %q", r.URL(), want)
		}

		// Configuration errors quote the URL without its secrets too.
		for _, bad := range []string{
			withSecrets("http://issuer.example", "/jwks"), // plain http, not loopback
			withSecrets("ftp://issuer.example", "/jwks"),
			withSecrets("https://issuer.example", "/%zz"),
			"user:pass@issuer.example/jwks?api_key=s3cret", // no scheme
		} {
			_, err := keyset.NewRemote(bad, keyset.RemoteConfig{})
			if !errors.Is(err, jwtverify.ErrInvalidConfig) {
				t.Errorf("NewRemote(%q) = %v", bad, err)
				continue
			}
			keep(err.Error())
		}

		mu.Lock()
		defer mu.Unlock()
		texts = append(texts, logBuf.String())
		if refreshes < 5 || misses < 2 || !strings.Contains(logBuf.String(), "jwks refresh failed") {
			t.Fatalf("%d refresh events, %d miss events; log:\n%s", refreshes, misses, logBuf.String())
		}
		if !strings.Contains(logBuf.String(), "url="+r.URL()) {
			t.Errorf("log lines do not name the redacted URL %s:\n%s", r.URL(), logBuf.String())
		}
		checkNoSecrets(t, texts)
	})
}

// TestDiscoverSecretsNeverShown: errors of Discover do not show the
// userinfo or query of the issuer URL, nor of a URL a document names.
func TestDiscoverSecretsNeverShown(t *testing.T) {
	var docIssuer string
	disco := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/tenant/.well-known/openid-configuration" {
			http.Error(w, "nope", http.StatusInternalServerError)
			return
		}
		json.NewEncoder(w).Encode(map[string]string{"issuer": docIssuer, "jwks_uri": withSecrets("http://issuer.example", "/jwks")})
	}))
	defer disco.Close()
	down := httptest.NewServer(http.NotFoundHandler())
	down.Close()
	var texts []string
	for name, issuer := range map[string]string{
		"500":              strings.Replace(disco.URL, "://", "://user:pass@", 1) + "/other",
		"unreachable":      strings.Replace(down.URL, "://", "://user:pass@", 1) + "/tenant",
		"issuer has query": withSecrets(disco.URL, "/tenant"),
		"not a URL":        withSecrets("https://issuer.example", "/%zz"),
		"another issuer":   disco.URL + "/tenant",
		"http jwks_uri":    "http://" + strings.TrimPrefix(disco.URL, "http://") + "/tenant",
	} {
		docIssuer = withSecrets("https://issuer.example", "/tenant")
		if name == "http jwks_uri" {
			docIssuer = issuer
		}
		_, err := keyset.Discover(context.Background(), issuer, keyset.RemoteConfig{})
		if err == nil {
			t.Errorf("%s: no error", name)
			continue
		}
		t.Logf("%s: %v", name, err)
		texts = append(texts, err.Error())
	}
	checkNoSecrets(t, texts)
}

// TestBadRedirectLocationNotShown: net/http quotes a Location header that
// does not parse in its error; neither Remote nor Discover may pass that
// server-chosen text (secrets, or megabytes) on.
func TestBadRedirectLocationNotShown(t *testing.T) {
	filler := strings.Repeat("x", 64<<10)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Location", "http://user:pass@"+r.Host+"/%zz?api_key=s3cret&"+filler)
		w.WriteHeader(http.StatusFound)
	}))
	defer srv.Close()
	var texts []string
	r, err := keyset.NewRemote(srv.URL+"/jwks", keyset.RemoteConfig{
		OnRefresh: func(_ context.Context, ev keyset.RefreshEvent) {
			if ev.Err != nil {
				texts = append(texts, ev.Err.Error())
			}
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	if err := r.Refresh(context.Background()); err == nil {
		t.Fatal("Refresh followed a redirect to a Location that does not parse")
	} else {
		texts = append(texts, err.Error())
	}
	if _, err := keyset.Discover(context.Background(), srv.URL, keyset.RemoteConfig{}); err == nil {
		t.Fatal("Discover followed a redirect to a Location that does not parse")
	} else {
		texts = append(texts, err.Error())
	}
	if len(texts) != 3 {
		t.Fatalf("got %d error texts, want 3 (Refresh, its event, Discover): %q", len(texts), texts)
	}
	for _, text := range texts {
		if len(text) > 512 || strings.Contains(text, "xxxx") {
			t.Errorf("error text carries the server's Location (%d bytes)", len(text))
		}
	}
	checkNoSecrets(t, texts)
}

// TestLearnedURLsMustBeHTTPS: a jwks_uri taken from a discovery document
// must be https, whatever AllowInsecureHTTP says; http is accepted only on
// the very origin (scheme, host, port) of the issuer URL the operator gave.
// A refused URL is never requested.
func TestLearnedURLsMustBeHTTPS(t *testing.T) {
	f := newFixture()
	body := jwks(t, map[string]*rsa.PrivateKey{"A": f.a})
	var loopbackHits atomic.Int32
	loopback := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		loopbackHits.Add(1)
		w.Write(body)
	}))
	defer loopback.Close()
	var jwksURI atomic.Value
	var srv *httptest.Server
	handler := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/.well-known/openid-configuration":
			json.NewEncoder(w).Encode(map[string]string{"issuer": srv.URL, "jwks_uri": jwksURI.Load().(string)})
		case "/jwks":
			w.Write(body)
		default:
			http.NotFound(w, r)
		}
	})
	tlsSrv := httptest.NewTLSServer(handler)
	defer tlsSrv.Close()
	plainSrv := httptest.NewServer(handler)
	defer plainSrv.Close()

	for _, tt := range []struct {
		name     string
		issuer   *httptest.Server
		jwksURI  string
		insecure bool
		ok       bool
	}{
		{"https issuer, https jwks_uri", tlsSrv, tlsSrv.URL + "/jwks", false, true},
		{"https issuer, http loopback jwks_uri", tlsSrv, loopback.URL + "/jwks", false, false},
		{"https issuer, http loopback jwks_uri, AllowInsecureHTTP", tlsSrv, loopback.URL + "/jwks", true, false},
		{"https issuer, http jwks_uri on its own host and port", tlsSrv, strings.Replace(tlsSrv.URL, "https:", "http:", 1) + "/jwks", true, false},
		{"https issuer, http metadata address, AllowInsecureHTTP", tlsSrv, "http://169.254.169.254/latest/meta-data", true, false},
		{"http loopback issuer, same-origin http jwks_uri", plainSrv, plainSrv.URL + "/jwks", false, true},
		{"http loopback issuer, http jwks_uri on another port", plainSrv, loopback.URL + "/jwks", false, false},
		{"http loopback issuer, http jwks_uri on another port, AllowInsecureHTTP", plainSrv, loopback.URL + "/jwks", true, false},
		{"http loopback issuer, https jwks_uri", plainSrv, tlsSrv.URL + "/jwks", false, true},
		{"relative jwks_uri", tlsSrv, "/jwks", false, false},
		{"jwks_uri of another scheme", tlsSrv, "file:///etc/passwd", false, false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			srv = tt.issuer
			jwksURI.Store(tt.jwksURI)
			before := loopbackHits.Load()
			cfg := keyset.RemoteConfig{Client: tlsSrv.Client(), AllowInsecureHTTP: tt.insecure}
			r, err := keyset.Discover(context.Background(), tt.issuer.URL, cfg)
			if !tt.ok {
				if !errors.Is(err, jwtverify.ErrInvalidConfig) {
					t.Fatalf("Discover = %v, want invalid configuration", err)
				}
				if loopbackHits.Load() != before {
					t.Fatal("the refused jwks_uri was requested")
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			defer r.Close()
			if _, err := r.Key(context.Background(), plausible("A")); err != nil {
				t.Fatal(err)
			}
		})
	}
}

// TestDiscoverRefusesConfigBeforeAnyRequest: Discover checks its
// RemoteConfig as NewRemote does, before the discovery request, so a bad
// config costs the issuer nothing.
func TestDiscoverRefusesConfigBeforeAnyRequest(t *testing.T) {
	var requests atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		requests.Add(1)
		http.NotFound(w, r)
	}))
	defer srv.Close()
	for name, cfg := range map[string]keyset.RemoteConfig{
		"negative FetchTimeout":     {FetchTimeout: -time.Second},
		"MinRefresh above Max":      {MinRefresh: 2 * time.Hour, MaxRefresh: time.Hour},
		"MaxStale below MaxRefresh": {MaxRefresh: time.Hour, MaxStale: time.Minute},
		"MaxKeys beyond the limit":  {MaxKeys: 1 << 20},
	} {
		if _, err := keyset.Discover(context.Background(), srv.URL, cfg); !errors.Is(err, jwtverify.ErrInvalidConfig) {
			t.Errorf("%s: %v, want invalid configuration", name, err)
		}
		if _, err := keyset.NewRemote(srv.URL, cfg); !errors.Is(err, jwtverify.ErrInvalidConfig) {
			t.Errorf("%s: NewRemote: %v, want invalid configuration", name, err)
		}
	}
	if n := requests.Load(); n != 0 {
		t.Fatalf("refused configs made %d requests", n)
	}
}
