package cli

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/pem"
	"io"
	"math/big"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/jwtverify/jwtverify/backends/backendtest"
	"github.com/jwtverify/jwtverify/dpop/redisstore/redistest"
	"github.com/jwtverify/jwtverify/internal/testkeys"
	"github.com/jwtverify/jwtverify/jwttest"
)

// dpopProxy starts a proxy for the fixture's EC key in front of an
// upstream that counts the requests it gets, with extra flags.
func dpopProxy(t *testing.T, reached chan<- string, flags ...string) string {
	t.Helper()
	upstream := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { reached <- r.URL.Path }))
	t.Cleanup(upstream.Close)
	key := writeFile(t, "ec.pem", testkeys.PublicPEM(&testkeys.Load().P256.PublicKey))
	pf := parseProxyFlags(t, append([]string{"--listen", "127.0.0.1:0", "--upstream", upstream.URL, "--key", key,
		"--issuer", backendtest.Issuer, "--audience", backendtest.Audience}, flags...)...)
	addr, _, stop := startProxy(t, pf)
	t.Cleanup(func() { stop() })
	return addr
}

// boundToken is a fixture token with cnf (nil: unbound).
func boundToken(t *testing.T, cnf map[string]any) string {
	f, c := fixture(t)
	if cnf != nil {
		c["cnf"] = cnf
	}
	return f.Sign("ES256", nil, c)
}

type answer struct {
	status              int
	challenge, nonce    string
	retryAfter, reached bool
}

// call sends one request through the proxy and reports what came back.
func call(t *testing.T, reached <-chan string, client *http.Client, method, u, auth string, proofs ...string) answer {
	t.Helper()
	req, _ := http.NewRequest(method, u, nil)
	if auth != "" {
		req.Header.Set("Authorization", auth)
	}
	for _, p := range proofs {
		req.Header.Add("DPoP", p)
	}
	if client == nil {
		client = http.DefaultClient
	}
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	a := answer{status: resp.StatusCode, challenge: strings.Join(resp.Header.Values("WWW-Authenticate"), " | "),
		nonce: resp.Header.Get("DPoP-Nonce"), retryAfter: resp.Header.Get("Retry-After") != ""}
	select {
	case <-reached:
		a.reached = true
	default:
	}
	return a
}

// TestProxyDPoP drives the --dpop contract: the default (allowed), off and
// required, --dpop-public-url and --dpop-nonce.
func TestProxyDPoP(t *testing.T) {
	client, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	bound := boundToken(t, map[string]any{"jkt": jwttest.Thumbprint(client)})
	unbound := boundToken(t, nil)
	reached := make(chan string, 100)
	proof := func(method, u, tok string, extra map[string]any) string {
		return jwttest.DPoPProof("ES256", client, method, u, tok, extra)
	}

	t.Run("allowed (default)", func(t *testing.T) {
		addr := dpopProxy(t, reached)
		u := addr + "/orders"
		good := proof("GET", u, bound, nil)
		for _, tc := range []struct {
			name    string
			a       answer
			status  int
			contain string
		}{
			{"bound, proof", call(t, reached, nil, "GET", u, "DPoP "+bound, good), 200, ""},
			{"same proof again", call(t, reached, nil, "GET", u, "DPoP "+bound, good), 401, `DPoP realm="jwtverify", error="invalid_dpop_proof", algs="`},
			{"bound as Bearer", call(t, reached, nil, "GET", u, "Bearer "+bound), 401, `error="invalid_token"`},
			{"bound, no proof", call(t, reached, nil, "GET", u, "DPoP "+bound), 401, `error="invalid_dpop_proof"`},
			{"proof for POST", call(t, reached, nil, "GET", u, "DPoP "+bound, proof("POST", u, bound, nil)), 401, `error="invalid_dpop_proof"`},
			{"proof for another path", call(t, reached, nil, "GET", u, "DPoP "+bound, proof("GET", addr+"/admin", bound, nil)), 401, `error="invalid_dpop_proof"`},
			{"stale proof", call(t, reached, nil, "GET", u, "DPoP "+bound, proof("GET", u, bound, map[string]any{"iat": time.Now().Add(-2 * time.Minute).Unix()})), 401, `error="invalid_dpop_proof"`},
			{"mismatched key", call(t, reached, nil, "GET", u, "DPoP "+bound, jwttest.DPoPProof("ES256", testkeys.Load().P256, "GET", u, bound, nil)), 401, `error="invalid_dpop_proof"`},
			{"unbound Bearer", call(t, reached, nil, "GET", u, "Bearer "+unbound), 200, ""},
		} {
			if tc.a.status != tc.status || !strings.Contains(tc.a.challenge, tc.contain) || tc.a.reached != (tc.status == 200) {
				t.Errorf("%s: %+v, want %d with %q", tc.name, tc.a, tc.status, tc.contain)
			}
		}
	})
	t.Run("required", func(t *testing.T) {
		addr := dpopProxy(t, reached, "--dpop", "required")
		if a := call(t, reached, nil, "GET", addr+"/x", "Bearer "+unbound); a.status != 401 || !strings.Contains(a.challenge, "DPoP realm") || a.reached {
			t.Errorf("unbound Bearer: %+v", a)
		}
		if a := call(t, reached, nil, "GET", addr+"/x", "DPoP "+bound, proof("GET", addr+"/x", bound, nil)); a.status != 200 {
			t.Errorf("bound DPoP: %+v", a)
		}
	})
	t.Run("off", func(t *testing.T) {
		addr := dpopProxy(t, reached, "--dpop", "off")
		if a := call(t, reached, nil, "GET", addr+"/x", "Bearer "+bound); a.status != 401 || !strings.Contains(a.challenge, `error="invalid_token"`) || a.reached {
			t.Errorf("bound Bearer with --dpop off: %+v", a)
		}
		if a := call(t, reached, nil, "GET", addr+"/x", "Bearer "+unbound); a.status != 200 {
			t.Errorf("unbound Bearer with --dpop off: %+v", a)
		}
	})
	t.Run("public URL", func(t *testing.T) {
		addr := dpopProxy(t, reached, "--dpop-public-url", "https://api.example")
		if a := call(t, reached, nil, "GET", addr+"/orders", "DPoP "+bound, proof("GET", "https://api.example/orders", bound, nil)); a.status != 200 {
			t.Errorf("htu of the public URL: %+v", a)
		}
		if a := call(t, reached, nil, "GET", addr+"/orders", "DPoP "+bound, proof("GET", addr+"/orders", bound, nil)); a.status != 401 {
			t.Errorf("htu of the address the proxy sees: %+v", a)
		}
	})
	t.Run("nonce", func(t *testing.T) {
		addr := dpopProxy(t, reached, "--dpop-nonce")
		a := call(t, reached, nil, "GET", addr+"/x", "DPoP "+bound, proof("GET", addr+"/x", bound, nil))
		if a.status != 401 || a.nonce == "" || !strings.Contains(a.challenge, `error="use_dpop_nonce"`) {
			t.Fatalf("no nonce: %+v", a)
		}
		if b := call(t, reached, nil, "GET", addr+"/x", "DPoP "+bound, proof("GET", addr+"/x", bound, map[string]any{"nonce": a.nonce})); b.status != 200 {
			t.Fatalf("with the nonce: %+v", b)
		}
	})
	for _, bad := range [][]string{{"--dpop", "sometimes"}, {"--dpop", "off", "--dpop-nonce"}, {"--dpop-window", "10m"},
		{"--replay-store", "memcached://127.0.0.1:11211"}, {"--dpop-public-url", "api.example"}, {"--dpop-nonce-secret-file", "x"}} {
		pf := parseProxyFlags(t, append([]string{"--listen", "127.0.0.1:0", "--upstream", "http://127.0.0.1:9", "--key",
			writeFile(t, "ec.pem", testkeys.PublicPEM(&testkeys.Load().P256.PublicKey))}, bad...)...)
		if p, err := newProxy(pf, discardLogger()); err == nil {
			p.close()
			t.Errorf("%q accepted", bad)
		}
	}
}

// TestProxyDPoPSharedRedis: two proxy instances with one --replay-store: a
// proof used on one is refused on the other; with Redis gone, proofs get
// 503 with Retry-After, never acceptance.
func TestProxyDPoPSharedRedis(t *testing.T) {
	srv, err := redistest.Start()
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Stop()
	client, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	bound := boundToken(t, map[string]any{"jkt": jwttest.Thumbprint(client)})
	reached := make(chan string, 100)
	public := "https://api.example"
	a := dpopProxy(t, reached, "--replay-store", srv.URL(), "--dpop-public-url", public)
	b := dpopProxy(t, reached, "--replay-store", srv.URL(), "--dpop-public-url", public)
	p := jwttest.DPoPProof("ES256", client, "GET", public+"/orders", bound, nil)
	if got := call(t, reached, nil, "GET", a+"/orders", "DPoP "+bound, p); got.status != 200 {
		t.Fatalf("instance A: %+v", got)
	}
	if got := call(t, reached, nil, "GET", b+"/orders", "DPoP "+bound, p); got.status != 401 || !strings.Contains(got.challenge, "invalid_dpop_proof") || got.reached {
		t.Fatalf("the same proof on instance B: %+v", got)
	}
	if got := call(t, reached, nil, "GET", b+"/orders", "DPoP "+bound, jwttest.DPoPProof("ES256", client, "GET", public+"/orders", bound, nil)); got.status != 200 {
		t.Fatalf("a new proof on instance B: %+v", got)
	}
	srv.Stop()
	if got := call(t, reached, nil, "GET", a+"/orders", "DPoP "+bound, jwttest.DPoPProof("ES256", client, "GET", public+"/orders", bound, nil)); got.status != 503 || !got.retryAfter || got.reached {
		t.Fatalf("Redis down: %+v", got)
	}
	if got := call(t, reached, nil, "GET", a+"/orders", "DPoP "+boundToken(t, nil)); got.status == 200 {
		t.Fatalf("an unbound token with the DPoP scheme passed: %+v", got)
	}
}

// testPKI makes a CA, a server certificate for 127.0.0.1 and a client
// certificate, all written to files.
type testPKI struct {
	caFile, certFile, keyFile string
	client                    tls.Certificate
	clientX5t                 string
	roots                     *x509.CertPool
}

func newTestPKI(t *testing.T) testPKI {
	t.Helper()
	caKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	caTmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "test CA"}, IsCA: true, BasicConstraintsValid: true,
		KeyUsage: x509.KeyUsageCertSign, NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour)}
	caDER, _ := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	ca, _ := x509.ParseCertificate(caDER)
	leaf := func(serial int64, cn string, usage x509.ExtKeyUsage, ip bool) ([]byte, *ecdsa.PrivateKey) {
		k, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		tmpl := &x509.Certificate{SerialNumber: big.NewInt(serial), Subject: pkix.Name{CommonName: cn}, ExtKeyUsage: []x509.ExtKeyUsage{usage},
			KeyUsage: x509.KeyUsageDigitalSignature, NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour)}
		if ip {
			tmpl.IPAddresses = append(tmpl.IPAddresses, []byte{127, 0, 0, 1})
		}
		der, err := x509.CreateCertificate(rand.Reader, tmpl, ca, &k.PublicKey, caKey)
		if err != nil {
			t.Fatal(err)
		}
		return der, k
	}
	pemOf := func(typ string, b []byte) []byte { return pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: b}) }
	srvDER, srvKey := leaf(2, "proxy", x509.ExtKeyUsageServerAuth, true)
	srvKeyDER, _ := x509.MarshalECPrivateKey(srvKey)
	cliDER, cliKey := leaf(3, "client", x509.ExtKeyUsageClientAuth, false)
	sum := sha256.Sum256(cliDER)
	roots := x509.NewCertPool()
	roots.AddCert(ca)
	return testPKI{
		caFile:    writeFile(t, "ca.pem", pemOf("CERTIFICATE", caDER)),
		certFile:  writeFile(t, "proxy.pem", pemOf("CERTIFICATE", srvDER)),
		keyFile:   writeFile(t, "proxy-key.pem", pemOf("EC PRIVATE KEY", srvKeyDER)),
		client:    tls.Certificate{Certificate: [][]byte{cliDER}, PrivateKey: cliKey},
		clientX5t: base64.RawURLEncoding.EncodeToString(sum[:]),
		roots:     roots,
	}
}

// TestProxyMTLS: a certificate-bound token (cnf x5t#S256) passes the
// proxy only with its client certificate: over the proxy's own TLS with
// --client-ca, or in --client-cert-header from a --trusted-proxy; any
// other way it is 401 invalid_token.
func TestProxyMTLS(t *testing.T) {
	pki := newTestPKI(t)
	bound := boundToken(t, map[string]any{"x5t#S256": pki.clientX5t})
	reached := make(chan string, 100)
	addr := dpopProxy(t, reached, "--tls-cert", pki.certFile, "--tls-key", pki.keyFile, "--client-ca", pki.caFile)
	u := strings.Replace(addr, "http://", "https://", 1) + "/orders"
	withCert := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pki.roots, Certificates: []tls.Certificate{pki.client}}}}
	noCert := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pki.roots}}}
	if a := call(t, reached, withCert, "GET", u, "Bearer "+bound); a.status != 200 {
		t.Errorf("with its certificate: %+v", a)
	}
	if a := call(t, reached, noCert, "GET", u, "Bearer "+bound); a.status != 401 || !strings.Contains(a.challenge, `error="invalid_token"`) || a.reached {
		t.Errorf("without a certificate: %+v", a)
	}
	if a := call(t, reached, noCert, "GET", u, "Bearer "+boundToken(t, nil)); a.status != 200 {
		t.Errorf("an unbound token without a certificate: %+v", a)
	}

	certPEM := url.PathEscape(string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: pki.client.Certificate[0]})))
	behind := dpopProxy(t, reached, "--client-cert-header", "X-SSL-Client-Cert", "--trusted-proxy", "127.0.0.1/32")
	req := func(header string) answer {
		r, _ := http.NewRequest("GET", behind+"/orders", nil)
		r.Header.Set("Authorization", "Bearer "+bound)
		if header != "" {
			r.Header.Set("X-SSL-Client-Cert", header)
		}
		resp, err := http.DefaultClient.Do(r)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		a := answer{status: resp.StatusCode}
		select {
		case <-reached:
			a.reached = true
		default:
		}
		return a
	}
	if a := req(certPEM); a.status != 200 || !a.reached {
		t.Errorf("certificate from the trusted proxy: %+v", a)
	}
	if a := req(""); a.status != 401 {
		t.Errorf("no header: %+v", a)
	}
	other := newTestPKI(t)
	if a := req(url.PathEscape(string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: other.client.Certificate[0]})))); a.status != 401 {
		t.Errorf("another certificate in the header: %+v", a)
	}
	untrusted := dpopProxy(t, reached, "--client-cert-header", "X-SSL-Client-Cert", "--trusted-proxy", "10.0.0.0/8")
	r, _ := http.NewRequest("GET", untrusted+"/orders", nil)
	r.Header.Set("Authorization", "Bearer "+bound)
	r.Header.Set("X-SSL-Client-Cert", certPEM)
	if resp, err := http.DefaultClient.Do(r); err != nil || resp.StatusCode != 401 {
		t.Errorf("the header from a peer that is not a trusted proxy: %v %v", resp.StatusCode, err)
	}
	for _, bad := range [][]string{{"--tls-cert", pki.certFile}, {"--client-ca", pki.caFile}, {"--client-cert-header", "X-C"},
		{"--trusted-proxy", "not-a-cidr"}, {"--tls-cert", pki.certFile, "--tls-key", pki.caFile}} {
		pf := parseProxyFlags(t, append([]string{"--listen", "127.0.0.1:0", "--upstream", "http://127.0.0.1:9", "--key",
			writeFile(t, "ec.pem", testkeys.PublicPEM(&testkeys.Load().P256.PublicKey))}, bad...)...)
		if p, err := newProxy(pf, discardLogger()); err == nil {
			p.close()
			t.Errorf("%q accepted", bad)
		}
	}
}

// TestProxyStripsCertHeaders: a client certificate header (Envoy's
// X-Forwarded-Client-Cert, and --client-cert-header) reaches the upstream
// only from a --trusted-proxy, in every spelling.
func TestProxyStripsCertHeaders(t *testing.T) {
	got := make(chan http.Header, 10)
	upstream := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { got <- r.Header.Clone() }))
	defer upstream.Close()
	key := writeFile(t, "ec.pem", testkeys.PublicPEM(&testkeys.Load().P256.PublicKey))
	tok := boundToken(t, nil)
	for _, tc := range []struct {
		trusted string
		kept    bool
	}{{"10.0.0.0/8", false}, {"127.0.0.1/32", true}} {
		pf := parseProxyFlags(t, "--listen", "127.0.0.1:0", "--upstream", upstream.URL, "--key", key,
			"--issuer", backendtest.Issuer, "--audience", backendtest.Audience,
			"--client-cert-header", "X-SSL-Client-Cert", "--trusted-proxy", tc.trusted)
		addr, _, stop := startProxy(t, pf)
		req, _ := http.NewRequest("GET", addr+"/x", nil)
		req.Header.Set("Authorization", "Bearer "+tok)
		req.Header.Set("X-Forwarded-Client-Cert", "Hash=forged")
		req.Header["X_Forwarded_Client_Cert"] = []string{"forged"}
		req.Header.Set("X-SSL-Client-Cert", "forged")
		resp, err := http.DefaultClient.Do(req)
		if err != nil || resp.StatusCode != 200 {
			t.Fatalf("trusted %s: %v %v", tc.trusted, resp, err)
		}
		resp.Body.Close()
		h := <-got
		for _, want := range []string{"x-forwarded-client-cert", "x_forwarded_client_cert", "x-ssl-client-cert"} {
			present := false
			for name := range h {
				present = present || strings.EqualFold(name, want)
			}
			if present != tc.kept {
				t.Errorf("trusted %s: upstream has %s: %v, want %v", tc.trusted, want, present, tc.kept)
			}
		}
		stop()
	}
}

// TestProxyDPoPWindowAndSharedNonce: --dpop-window widens the iat window
// (a 90 s old proof passes with 2m, not with the default); two instances
// with one --dpop-nonce-secret-file accept each other's nonces; and a
// client certificate from another CA than --client-ca is refused at the
// TLS handshake.
func TestProxyDPoPWindowAndSharedNonce(t *testing.T) {
	client, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	bound := boundToken(t, map[string]any{"jkt": jwttest.Thumbprint(client)})
	reached := make(chan string, 100)
	old := func(u string) string {
		return jwttest.DPoPProof("ES256", client, "GET", u, bound, map[string]any{"iat": time.Now().Add(-90 * time.Second).Unix()})
	}
	wide := dpopProxy(t, reached, "--dpop-window", "2m")
	if a := call(t, reached, nil, "GET", wide+"/x", "DPoP "+bound, old(wide+"/x")); a.status != 200 {
		t.Errorf("90 s old proof with --dpop-window 2m: %+v", a)
	}
	narrow := dpopProxy(t, reached)
	if a := call(t, reached, nil, "GET", narrow+"/x", "DPoP "+bound, old(narrow+"/x")); a.status != 401 {
		t.Errorf("90 s old proof with the default window: %+v", a)
	}

	secret := writeFile(t, "nonce-secret", []byte("0123456789abcdef0123456789abcdef"))
	public := "https://api.example"
	a := dpopProxy(t, reached, "--dpop-nonce", "--dpop-nonce-secret-file", secret, "--dpop-public-url", public)
	b := dpopProxy(t, reached, "--dpop-nonce", "--dpop-nonce-secret-file", secret, "--dpop-public-url", public)
	first := call(t, reached, nil, "GET", a+"/x", "DPoP "+bound, jwttest.DPoPProof("ES256", client, "GET", public+"/x", bound, nil))
	if first.status != 401 || first.nonce == "" {
		t.Fatalf("no nonce: %+v", first)
	}
	withNonce := jwttest.DPoPProof("ES256", client, "GET", public+"/x", bound, map[string]any{"nonce": first.nonce})
	if got := call(t, reached, nil, "GET", b+"/x", "DPoP "+bound, withNonce); got.status != 200 {
		t.Errorf("instance B with instance A's nonce: %+v", got)
	}

	pki, other := newTestPKI(t), newTestPKI(t)
	addr := dpopProxy(t, reached, "--tls-cert", pki.certFile, "--tls-key", pki.keyFile, "--client-ca", pki.caFile)
	foreign := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pki.roots, Certificates: []tls.Certificate{other.client}}}}
	req, _ := http.NewRequest("GET", strings.Replace(addr, "http://", "https://", 1)+"/x", nil)
	if resp, err := foreign.Do(req); err == nil {
		resp.Body.Close()
		t.Errorf("a client certificate of another CA: %d, want a refused handshake", resp.StatusCode)
	}
}
