package cli

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"io"
	"log/slog"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jwtverify/jwtverify/internal/mint"
)

// clusterCA makes a CA of its own and a server certificate it signs for
// 127.0.0.1 and kubernetes.default.svc, as a cluster's API server has.
func clusterCA(t *testing.T) (caPEM []byte, leaf tls.Certificate) {
	t.Helper()
	caKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	ca := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "test cluster CA"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign,
	}
	caDER, err := x509.CreateCertificate(rand.Reader, ca, ca, &caKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	ca, _ = x509.ParseCertificate(caDER)
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: "kube-apiserver"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		DNSNames: []string{"kubernetes.default.svc"}, IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)},
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca, &key.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: caDER}), tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}
}

// kubeAPIServer serves a discovery document and a JWKS over TLS with a
// certificate of its own CA, both requiring "Authorization: Bearer
// <want>", as a Kubernetes API server does.
type kubeAPIServer struct {
	srv   *httptest.Server
	mu    sync.Mutex
	want  string
	jwks  []byte
	auths []string // Authorization of every request
}

func newKubeAPIServer(t *testing.T, leaf tls.Certificate, jwks []byte, want string) *kubeAPIServer {
	t.Helper()
	k := &kubeAPIServer{want: want, jwks: jwks}
	k.srv = httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		k.mu.Lock()
		got, want, jwks := r.Header.Get("Authorization"), k.want, k.jwks
		k.auths = append(k.auths, got)
		k.mu.Unlock()
		if got != "Bearer "+want {
			http.Error(w, "Unauthorized "+got, http.StatusUnauthorized) // echoes what it got: never shown
			return
		}
		switch r.URL.Path {
		case "/.well-known/openid-configuration":
			json.NewEncoder(w).Encode(map[string]any{"issuer": k.srv.URL, "jwks_uri": k.srv.URL + "/openid/v1/jwks",
				"id_token_signing_alg_values_supported": []string{"RS256"}})
		case "/openid/v1/jwks":
			w.Write(jwks)
		default:
			http.NotFound(w, r)
		}
	}))
	k.srv.TLS = &tls.Config{Certificates: []tls.Certificate{leaf}}
	k.srv.StartTLS()
	t.Cleanup(k.srv.Close)
	return k
}

func (k *kubeAPIServer) set(want string, jwks []byte) {
	k.mu.Lock()
	k.want, k.jwks = want, jwks
	k.mu.Unlock()
}

func (k *kubeAPIServer) seen() []string {
	k.mu.Lock()
	defer k.mu.Unlock()
	return append([]string(nil), k.auths...)
}

// saClaims are the claims of a projected service-account token.
func saClaims(iss, aud, ns, sa string) map[string]any {
	now := time.Now()
	return map[string]any{
		"iss": iss, "aud": []string{aud}, "sub": "system:serviceaccount:" + ns + ":" + sa,
		"exp": now.Add(time.Hour).Unix(), "iat": now.Add(-time.Minute).Unix(), "nbf": now.Add(-time.Minute).Unix(),
		"kubernetes.io": map[string]any{
			"namespace":      ns,
			"serviceaccount": map[string]any{"name": sa, "uid": "5a1c0c2e-6f0b-4d8e-9d6e-2a1f2b3c4d5e"},
			"pod":            map[string]any{"name": sa + "-7d4b9c-x2v9q", "uid": "0f7c1d2e-3b4a-4c5d-8e9f-a0b1c2d3e4f5"},
		},
	}
}

const (
	saSecret1 = "pod-token-SECRET-one"
	saSecret2 = "pod-token-SECRET-two"
)

// TestKubernetesServiceAccountToken: a projected service-account token
// verifies through the API server's discovery document, over TLS with the
// cluster CA (--ca-file), with the pod's own token (--fetch-bearer-file)
// on the discovery and JWKS requests. Without the CA, without the token or
// with an unusable file: exit 2, as for any endpoint that cannot be
// fetched. The bearer token is never printed.
func TestKubernetesServiceAccountToken(t *testing.T) {
	f, _ := fixture(t)
	jwk, _ := mint.JWK(&f.Keys.RSA1.PublicKey, "rsa-1", "RS256")
	jwks, _ := json.Marshal(map[string]any{"keys": []any{jwk}})
	caPEM, leaf := clusterCA(t)
	k := newKubeAPIServer(t, leaf, jwks, saSecret1)
	dir := t.TempDir()
	ca := writeFile(t, "ca.crt", caPEM)
	tokFile := filepath.Join(dir, "token")
	if err := os.WriteFile(tokFile, []byte(saSecret1+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	const aud = "orders"
	token := f.Sign("RS256", nil, saClaims(k.srv.URL, aud, "prod", "orders-api"))
	var outputs []string
	do := func(args ...string) result {
		r := run("", append([]string{"verify"}, args...)...)
		outputs = append(outputs, r.stdout, r.stderr)
		return r
	}
	for _, backend := range backendNames {
		r := do("--backend", backend, "--oidc-issuer", k.srv.URL, "--ca-file", ca, "--fetch-bearer-file", tokFile, "--audience", aud, token)
		if r.code != ExitValid {
			t.Fatalf("%s: %+v", backend, r)
		}
		var got struct {
			Sub  string
			Kube struct {
				Namespace      string
				Serviceaccount struct{ Name string }
				Pod            struct{ Name string }
			} `json:"kubernetes.io"`
		}
		if err := json.Unmarshal([]byte(r.stdout), &got); err != nil || got.Sub != "system:serviceaccount:prod:orders-api" ||
			got.Kube.Namespace != "prod" || got.Kube.Serviceaccount.Name != "orders-api" || got.Kube.Pod.Name == "" {
			t.Fatalf("%s: claims %q (%v)", backend, r.stdout, err)
		}
	}
	seen := k.seen()
	if len(seen) != 2*len(backendNames) {
		t.Fatalf("%d requests, want discovery and JWKS for each backend", len(seen))
	}
	for _, a := range seen {
		if a != "Bearer "+saSecret1 {
			t.Fatalf("a request sent Authorization %q", a)
		}
	}

	// The pod's token rotates: the next fetch reads the file again.
	k.set(saSecret2, jwks)
	if r := do("--oidc-issuer", k.srv.URL, "--ca-file", ca, "--fetch-bearer-file", tokFile, "--audience", aud, token); r.code != ExitUsage || !strings.Contains(r.stderr, "401") {
		t.Fatalf("old token, server wants the new one: %+v, want exit 2 with the 401", r)
	}
	if err := os.WriteFile(tokFile, []byte(saSecret2), 0o600); err != nil {
		t.Fatal(err)
	}
	if r := do("--oidc-issuer", k.srv.URL, "--ca-file", ca, "--fetch-bearer-file", tokFile, "--audience", aud, token); r.code != ExitValid {
		t.Fatalf("after rotation: %+v", r)
	}
	if s := k.seen(); s[len(s)-1] != "Bearer "+saSecret2 {
		t.Fatalf("after rotation Authorization %q", s[len(s)-1])
	}

	// The JWKS URL directly, with the cluster's own issuer name.
	const clusterIssuer = "https://kubernetes.default.svc.cluster.local"
	inCluster := f.Sign("RS256", nil, saClaims(clusterIssuer, aud, "prod", "orders-api"))
	if r := do("--jwks", k.srv.URL+"/openid/v1/jwks", "--issuer", clusterIssuer, "--ca-file", ca, "--fetch-bearer-file", tokFile, "--audience", aud, inCluster); r.code != ExitValid {
		t.Fatalf("--jwks URL with --ca-file: %+v", r)
	}

	checkRejected(t, do("--oidc-issuer", k.srv.URL, "--ca-file", ca, "--fetch-bearer-file", tokFile, "--audience", "other", token), "audience", token)
	checkRejected(t, do("--jwks", k.srv.URL+"/openid/v1/jwks", "--ca-file", ca, "--fetch-bearer-file", tokFile, "--issuer", clusterIssuer, "--audience", aud, token), "issuer", token)

	notPEM := writeFile(t, "not.pem", []byte("not a certificate"))
	empty := writeFile(t, "empty", []byte(" \n"))
	for name, tc := range map[string]struct {
		args []string
		want string
	}{
		"no --ca-file":            {[]string{"--oidc-issuer", k.srv.URL, "--fetch-bearer-file", tokFile}, "unknown authority"},
		"no --ca-file, --jwks":    {[]string{"--jwks", k.srv.URL + "/openid/v1/jwks", "--fetch-bearer-file", tokFile}, "unknown authority"},
		"no --fetch-bearer-file":  {[]string{"--oidc-issuer", k.srv.URL, "--ca-file", ca}, "401"},
		"bearer file missing":     {[]string{"--oidc-issuer", k.srv.URL, "--ca-file", ca, "--fetch-bearer-file", filepath.Join(dir, "absent")}, filepath.Join(dir, "absent")},
		"bearer file empty":       {[]string{"--jwks", k.srv.URL + "/openid/v1/jwks", "--ca-file", ca, "--fetch-bearer-file", empty}, empty},
		"--ca-file not PEM":       {[]string{"--oidc-issuer", k.srv.URL, "--ca-file", notPEM, "--fetch-bearer-file", tokFile}, "no PEM certificate"},
		"--ca-file missing":       {[]string{"--oidc-issuer", k.srv.URL, "--ca-file", filepath.Join(dir, "absent.pem")}, "absent.pem"},
		"--ca-file with --key":    {[]string{"--key", ca, "--ca-file", ca}, "apply to --jwks URL, --oidc-issuer and --spiffe-bundle URL fetches only"},
		"--fetch-bearer with key": {[]string{"--key", ca, "--fetch-bearer-file", tokFile}, "apply to --jwks URL, --oidc-issuer and --spiffe-bundle URL fetches only"},
	} {
		r := do(append(append(tc.args, "--audience", aud), token)...)
		if r.code != ExitUsage || !strings.Contains(r.stderr, tc.want) || strings.Count(r.stderr, "\n") != 1 {
			t.Errorf("%s: %+v, want exit 2, one line with %q", name, r, tc.want)
		}
	}
	for _, out := range outputs {
		if strings.Contains(out, "SECRET") {
			t.Fatalf("the bearer token is printed: %q", out)
		}
	}
}

// TestProxyKubernetes: the proxy fetches the API server's keys with
// --ca-file and --fetch-bearer-file, re-reads the file on each fetch (a
// new key, published with a rotated token, verifies), and never logs the
// token.
func TestProxyKubernetes(t *testing.T) {
	f, _ := fixture(t)
	jwk1, _ := mint.JWK(&f.Keys.RSA1.PublicKey, "rsa-1", "RS256")
	jwks1, _ := json.Marshal(map[string]any{"keys": []any{jwk1}})
	caPEM, leaf := clusterCA(t)
	k := newKubeAPIServer(t, leaf, jwks1, saSecret1)
	tokFile := writeFile(t, "token", []byte(saSecret1))
	upstream := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	defer upstream.Close()
	pf := parseProxyFlags(t, "--listen", "127.0.0.1:0", "--upstream", upstream.URL, "--oidc-issuer", k.srv.URL,
		"--ca-file", writeFile(t, "ca.crt", caPEM), "--fetch-bearer-file", tokFile, "--audience", "orders")
	var mu sync.Mutex
	var logs strings.Builder
	addr, _, stop := startProxyLogger(t, pf, slog.New(slog.NewTextHandler(lockedW{&logs, &mu}, &slog.HandlerOptions{Level: slog.LevelDebug})))
	status := func(token string) int {
		req, _ := http.NewRequest("GET", addr+"/", nil)
		req.Header.Set("Authorization", "Bearer "+token)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		return resp.StatusCode
	}
	if s := status(f.Sign("RS256", nil, saClaims(k.srv.URL, "orders", "prod", "orders-api"))); s != 200 {
		t.Fatalf("service-account token: %d", s)
	}
	if s := status(f.Sign("RS256", nil, saClaims(k.srv.URL, "billing", "prod", "orders-api"))); s != 401 {
		t.Fatalf("other audience: %d", s)
	}
	// The token and the keys rotate: a token of the new key makes the
	// proxy fetch, with the file's new content.
	jwk2, _ := mint.JWK(&f.Keys.RSA2.PublicKey, "rsa-2", "RS512")
	jwks2, _ := json.Marshal(map[string]any{"keys": []any{jwk1, jwk2}})
	k.set(saSecret2, jwks2)
	if err := os.WriteFile(tokFile, []byte(saSecret2+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if s := status(f.Sign("RS512", nil, saClaims(k.srv.URL, "orders", "prod", "orders-api"))); s != 200 {
		t.Fatalf("token of the new key after rotation: %d", s)
	}
	if s := k.seen(); s[len(s)-1] != "Bearer "+saSecret2 {
		t.Fatalf("the refresh sent Authorization %q", s[len(s)-1])
	}
	// A fetch the server refuses (the file holds the old token again) is
	// logged without the token, which the server's 401 body echoes.
	if err := os.WriteFile(tokFile, []byte(saSecret1), 0o600); err != nil {
		t.Fatal(err)
	}
	pf.discovered[0].remote.Load().Refresh(context.Background()) // --oidc-issuer: discovered by the proxy in the background
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	defer mu.Unlock()
	if !strings.Contains(logs.String(), "401") {
		t.Fatalf("the refused fetch was not logged: %s", logs.String())
	}
	if strings.Contains(logs.String(), "SECRET") {
		t.Fatalf("the bearer token is logged: %s", logs.String())
	}
}

type lockedW struct {
	b  *strings.Builder
	mu *sync.Mutex
}

func (w lockedW) Write(p []byte) (int, error) { w.mu.Lock(); defer w.mu.Unlock(); return w.b.Write(p) }
