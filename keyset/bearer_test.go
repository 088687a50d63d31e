package keyset_test

import (
	"bytes"
	"context"
	"crypto/rsa"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/jwtverify/jwtverify"
	"github.com/jwtverify/jwtverify/keyset"
)

// Tests of RemoteConfig.RootCAs and RemoteConfig.BearerTokenFile: what a
// Kubernetes API server's discovery endpoints need (a cluster CA, the
// pod's own rotating token).

// apiServer is a TLS server whose discovery document and JWKS both
// require "Authorization: Bearer <want>", like a Kubernetes API server's
// /.well-known/openid-configuration and /openid/v1/jwks.
type apiServer struct {
	srv  *httptest.Server
	body []byte

	mu    sync.Mutex
	want  string   // the token it requires; "" requires none
	auths []string // the Authorization header of every request, in order
}

func newAPIServer(t *testing.T, body []byte) *apiServer {
	t.Helper()
	a := &apiServer{body: body}
	a.srv = httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		a.mu.Lock()
		got, want := r.Header.Get("Authorization"), a.want
		a.auths = append(a.auths, got)
		a.mu.Unlock()
		if want != "" && got != "Bearer "+want {
			// A hostile server might echo what it was sent; no error
			// shows a body.
			http.Error(w, "unauthorized: "+got, http.StatusUnauthorized)
			return
		}
		switch r.URL.Path {
		case "/.well-known/openid-configuration":
			json.NewEncoder(w).Encode(map[string]string{"issuer": a.srv.URL, "jwks_uri": a.srv.URL + "/openid/v1/jwks"})
		case "/openid/v1/jwks":
			w.Write(a.body)
		default:
			http.NotFound(w, r)
		}
	}))
	t.Cleanup(a.srv.Close)
	return a
}

func (a *apiServer) require(token string) { a.mu.Lock(); a.want = token; a.mu.Unlock() }

func (a *apiServer) seen() []string {
	a.mu.Lock()
	defer a.mu.Unlock()
	return append([]string(nil), a.auths...)
}

// pool trusts the servers' certificates, and only them.
func pool(srvs ...*httptest.Server) *x509.CertPool {
	p := x509.NewCertPool()
	for _, s := range srvs {
		p.AddCert(s.Certificate())
	}
	return p
}

func writeToken(t *testing.T, path, content string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
}

// TestBearerTokenFileAndRootCAs: Discover and the JWKS requests trust
// RootCAs and send the bearer token file's content, trimmed, re-read on
// each request, so a rotated token is used at once; without RootCAs the
// server's certificate is refused, without the file the server's 401.
func TestBearerTokenFileAndRootCAs(t *testing.T) {
	f := newFixture()
	a := newAPIServer(t, jwks(t, map[string]*rsa.PrivateKey{"A": f.a}))
	a.require("tok-1")
	tokFile := filepath.Join(t.TempDir(), "token")
	writeToken(t, tokFile, "  tok-1\n")
	ctx := context.Background()
	cfg := keyset.RemoteConfig{RootCAs: pool(a.srv), BearerTokenFile: tokFile}

	r, err := keyset.Discover(ctx, a.srv.URL, cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	f.issuer = a.srv.URL
	if _, err := f.verifier(t, r).Verify(ctx, f.token(t, "A", f.a, nil)); err != nil {
		t.Fatalf("verify through the discovered JWKS: %v", err)
	}
	if got := a.seen(); len(got) != 2 || got[0] != "Bearer tok-1" || got[1] != "Bearer tok-1" {
		t.Fatalf("discovery and JWKS requests sent Authorization %q, want the file's trimmed content twice", got)
	}

	// The token rotates: the server wants the new one before the file has it.
	a.require("tok-2")
	if err := r.Refresh(ctx); err == nil || !strings.Contains(err.Error(), "401") {
		t.Fatalf("refresh with the old token: %v, want the 401", err)
	}
	writeToken(t, tokFile, "tok-2")
	if err := r.Refresh(ctx); err != nil {
		t.Fatalf("refresh after the file rotated: %v", err)
	}
	if got := a.seen(); got[len(got)-1] != "Bearer tok-2" {
		t.Fatalf("after rotation the request sent %q, want the new token", got[len(got)-1])
	}

	// Without RootCAs the cluster CA is unknown; without the file, 401.
	noCA := cfg
	noCA.RootCAs = nil
	if _, err := keyset.Discover(ctx, a.srv.URL, noCA); !errors.Is(err, jwtverify.ErrKeysUnavailable) || !strings.Contains(err.Error(), "unknown authority") {
		t.Fatalf("Discover without RootCAs: %v, want keys_unavailable, unknown authority", err)
	}
	rr, err := keyset.NewRemote(a.srv.URL+"/openid/v1/jwks", noCA)
	if err != nil {
		t.Fatal(err)
	}
	defer rr.Close()
	if _, err := rr.Key(ctx, plausible("A")); !errors.Is(err, jwtverify.ErrKeysUnavailable) || !strings.Contains(err.Error(), "unknown authority") {
		t.Fatalf("JWKS without RootCAs: %v, want keys_unavailable, unknown authority", err)
	}
	noFile := cfg
	noFile.BearerTokenFile = ""
	if _, err := keyset.Discover(ctx, a.srv.URL, noFile); !errors.Is(err, jwtverify.ErrKeysUnavailable) || !strings.Contains(err.Error(), "401") {
		t.Fatalf("Discover without the token: %v, want keys_unavailable with the 401", err)
	}
	if got := a.seen(); got[len(got)-1] != "" {
		t.Fatalf("no BearerTokenFile, yet Authorization %q was sent", got[len(got)-1])
	}
}

// TestBearerTokenFileRefused: a file that cannot be read, is empty, too
// large, or holds a space or a control character fails the fetch before
// any request, with keys_unavailable naming the file and never showing
// its content.
func TestBearerTokenFileRefused(t *testing.T) {
	f := newFixture()
	a := newAPIServer(t, jwks(t, map[string]*rsa.PrivateKey{"A": f.a}))
	dir := t.TempDir()
	ctx := context.Background()
	for name, content := range map[string]*string{
		"missing":       nil,
		"empty":         ptr(""),
		"white space":   ptr(" \n\t\r\n"),
		"inner space":   ptr("secret-part one"),
		"header inject": ptr("secret-part\r\nX-Injected: 1"),
		"control":       ptr("secret-part\x00"),
		"non-ASCII":     ptr("secret-part\u00e9"),
		"too large":     ptr("secret-part" + strings.Repeat("a", 64<<10)),
	} {
		t.Run(name, func(t *testing.T) {
			path := filepath.Join(dir, strings.ReplaceAll(name, " ", "-"))
			if content != nil {
				writeToken(t, path, *content)
			}
			before := len(a.seen())
			cfg := keyset.RemoteConfig{RootCAs: pool(a.srv), BearerTokenFile: path}
			r, err := keyset.NewRemote(a.srv.URL+"/openid/v1/jwks", cfg)
			if err != nil {
				t.Fatal(err)
			}
			defer r.Close()
			_, derr := keyset.Discover(ctx, a.srv.URL, cfg)
			_, kerr := r.Key(ctx, plausible("A"))
			for _, err := range []error{kerr, derr} {
				if !errors.Is(err, jwtverify.ErrKeysUnavailable) || !strings.Contains(err.Error(), path) {
					t.Fatalf("got %v, want keys_unavailable naming %s", err, path)
				}
				if strings.Contains(err.Error(), "secret-part") {
					t.Fatalf("the error shows the file's content: %v", err)
				}
			}
			if n := len(a.seen()); n != before {
				t.Fatalf("%d requests sent with a refused token file", n-before)
			}
		})
	}
}

func ptr(s string) *string { return &s }

// TestBearerTokenNeverShown: through failures of every kind (the server's
// 401 whose body echoes the header, a 500, a body that is not a JWKS, the
// server gone), the token is in no error, no log record and no event.
func TestBearerTokenNeverShown(t *testing.T) {
	const secret = "s3cr3t-bearer-value"
	f := newFixture()
	a := newAPIServer(t, []byte("not a JWKS"))
	a.require("another-token")
	tokFile := filepath.Join(t.TempDir(), "token")
	writeToken(t, tokFile, secret)
	var mu sync.Mutex
	var texts []string
	keep := func(s string) { mu.Lock(); texts = append(texts, s); mu.Unlock() }
	var logBuf bytes.Buffer
	cfg := keyset.RemoteConfig{
		RootCAs:         pool(a.srv),
		BearerTokenFile: tokFile,
		Logger:          slog.New(slog.NewTextHandler(lockedWriter{&logBuf, &mu}, &slog.HandlerOptions{Level: slog.LevelDebug})),
		OnRefresh:       func(_ context.Context, ev keyset.RefreshEvent) { keep(fmt.Sprintf("%+v %v", ev, ev.Err)) },
		OnMiss:          func(ev keyset.MissEvent) { keep(fmt.Sprintf("%+v", ev)) },
	}
	ctx := context.Background()
	_, err := keyset.Discover(ctx, a.srv.URL, cfg)
	if err == nil {
		t.Fatal("Discover with a refused token succeeded")
	}
	keep(err.Error())
	r, err := keyset.NewRemote(a.srv.URL+"/openid/v1/jwks", cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	v := f.verifier(t, r)
	for _, want := range []string{"another-token", secret, ""} {
		a.require(want) // 401 echoing the header, then a body that is no JWKS
		if err := r.Refresh(ctx); err != nil {
			keep(err.Error())
		}
		if _, err := v.Verify(ctx, f.token(t, "A", f.a, nil)); err != nil {
			keep(err.Error())
		}
	}
	if got := a.seen(); !strings.Contains(strings.Join(got, ","), "Bearer "+secret) {
		t.Fatalf("the token was never sent (%q): the test proves nothing", got)
	}
	a.srv.Close()
	if err := r.Refresh(ctx); err != nil {
		keep(err.Error())
	}
	mu.Lock()
	defer mu.Unlock()
	texts = append(texts, logBuf.String())
	if len(texts) < 6 || logBuf.Len() == 0 {
		t.Fatalf("too little was captured to judge: %q", texts)
	}
	for _, s := range texts {
		if strings.Contains(s, secret) {
			t.Fatalf("the bearer token is shown: %q", s)
		}
	}
}

// TestBearerTokenNotSentOffOrigin: a redirect on the origin requested
// keeps the Authorization header; one to another origin, which
// AllowCrossHostRedirect allows, drops it, even to another port of the
// same host name, to which net/http alone would send it.
func TestBearerTokenNotSentOffOrigin(t *testing.T) {
	f := newFixture()
	body := jwks(t, map[string]*rsa.PrivateKey{"A": f.a})
	var mu sync.Mutex
	var otherAuth []string
	other := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		otherAuth = append(otherAuth, r.Header.Get("Authorization"))
		mu.Unlock()
		w.Write(body)
	}))
	defer other.Close()
	a := newAPIServer(t, body)
	a.require("tok")
	mux := http.NewServeMux()
	mux.Handle("/same", http.RedirectHandler("/openid/v1/jwks", http.StatusFound))
	mux.Handle("/other", http.RedirectHandler(other.URL+"/jwks", http.StatusFound))
	mux.Handle("/", a.srv.Config.Handler)
	a.srv.Config.Handler = mux
	tokFile := filepath.Join(t.TempDir(), "token")
	writeToken(t, tokFile, "tok")
	cfg := keyset.RemoteConfig{RootCAs: pool(a.srv, other), BearerTokenFile: tokFile, AllowCrossHostRedirect: true}
	ctx := context.Background()
	for _, path := range []string{"/same", "/other"} {
		r, err := keyset.NewRemote(a.srv.URL+path, cfg)
		if err != nil {
			t.Fatal(err)
		}
		defer r.Close()
		if err := r.Refresh(ctx); err != nil {
			t.Fatalf("%s: %v", path, err)
		}
	}
	if h, _, _ := net.SplitHostPort(strings.TrimPrefix(other.URL, "https://")); h != "127.0.0.1" {
		t.Fatalf("the other server is on %s: the test needs the same host name on another port", h)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(otherAuth) != 1 || otherAuth[0] != "" {
		t.Fatalf("the other origin got Authorization %q, want none", otherAuth)
	}
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

// TestRootCAsAndClient: RootCAs apply to a clone of the Client's
// *http.Transport (or of http.DefaultTransport), which is not modified;
// a Transport they cannot apply to is a configuration error.
func TestRootCAsAndClient(t *testing.T) {
	f := newFixture()
	a := newAPIServer(t, jwks(t, map[string]*rsa.PrivateKey{"A": f.a}))
	roots := pool(a.srv)
	ctx := context.Background()
	theirs := &http.Transport{}
	for name, c := range map[string]*http.Client{
		"no client":               nil,
		"client, nil transport":   {},
		"client, *http.Transport": {Transport: theirs},
	} {
		cfg := keyset.RemoteConfig{Client: c, RootCAs: roots}
		r, err := keyset.Discover(ctx, a.srv.URL, cfg)
		if err != nil {
			t.Fatalf("%s: Discover: %v", name, err)
		}
		defer r.Close()
		if err := r.Refresh(ctx); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
	}
	if theirs.TLSClientConfig != nil && theirs.TLSClientConfig.RootCAs != nil {
		t.Fatal("the caller's Transport was given the roots")
	}
	ownRoots := &tls.Config{RootCAs: roots}
	for name, rt := range map[string]http.RoundTripper{
		"not an *http.Transport": roundTripFunc(func(*http.Request) (*http.Response, error) { return nil, errors.New("unused") }),
		"DialTLSContext":         &http.Transport{DialTLSContext: func(context.Context, string, string) (net.Conn, error) { return nil, errors.New("unused") }},
		"RootCAs of its own":     &http.Transport{TLSClientConfig: ownRoots},
	} {
		cfg := keyset.RemoteConfig{Client: &http.Client{Transport: rt}, RootCAs: roots}
		if _, err := keyset.NewRemote(a.srv.URL+"/openid/v1/jwks", cfg); !errors.Is(err, jwtverify.ErrInvalidConfig) {
			t.Errorf("%s: NewRemote: %v, want invalid_config", name, err)
		}
		if _, err := keyset.Discover(ctx, a.srv.URL, cfg); !errors.Is(err, jwtverify.ErrInvalidConfig) {
			t.Errorf("%s: Discover: %v, want invalid_config", name, err)
		}
		cfg.RootCAs = nil // without RootCAs any Transport is the caller's business
		r, err := keyset.NewRemote(a.srv.URL+"/openid/v1/jwks", cfg)
		if err != nil {
			t.Errorf("%s without RootCAs: %v", name, err)
			continue
		}
		r.Close()
	}
	// A Transport with RootCAs of its own works without RootCAs.
	r, err := keyset.NewRemote(a.srv.URL+"/openid/v1/jwks", keyset.RemoteConfig{Client: &http.Client{Transport: &http.Transport{TLSClientConfig: ownRoots}}})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	if err := r.Refresh(ctx); err != nil {
		t.Fatal(err)
	}
}

// TestBearerTokenGoesToDiscoveredJWKS: the discovery document, fetched
// with the token over TLS, may name a jwks_uri on another https origin
// (a Kubernetes API server names its advertised address): the JWKS
// requests send the token there too, and verify it with RootCAs.
func TestBearerTokenGoesToDiscoveredJWKS(t *testing.T) {
	f := newFixture()
	keys := newAPIServer(t, jwks(t, map[string]*rsa.PrivateKey{"A": f.a}))
	keys.require("tok")
	disc := newAPIServer(t, nil)
	disc.require("tok")
	disc.srv.Config.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "Bearer tok" {
			http.Error(w, "unauthorized", http.StatusUnauthorized)
			return
		}
		json.NewEncoder(w).Encode(map[string]string{"issuer": disc.srv.URL, "jwks_uri": keys.srv.URL + "/openid/v1/jwks"})
	})
	tokFile := filepath.Join(t.TempDir(), "token")
	writeToken(t, tokFile, "tok")
	ctx := context.Background()
	r, err := keyset.Discover(ctx, disc.srv.URL, keyset.RemoteConfig{RootCAs: pool(disc.srv, keys.srv), BearerTokenFile: tokFile})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	if err := r.Refresh(ctx); err != nil {
		t.Fatalf("JWKS on the discovered origin: %v", err)
	}
	if got := keys.seen(); len(got) != 1 || got[0] != "Bearer tok" {
		t.Fatalf("the discovered JWKS origin got %q", got)
	}
}
