// Command kubernetes protects a route by Kubernetes namespace and service
// account. Projected service-account tokens are verified with the keys of
// the API server's discovery document (/.well-known/openid-configuration,
// /openid/v1/jwks), fetched over TLS trusting the cluster CA, with the
// pod's own token, read again on each fetch because the kubelet rotates
// it. In a pod both files are under
// /var/run/secrets/kubernetes.io/serviceaccount; here a fake API server,
// with a certificate of its own, stands in for the cluster.
package main

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"log"
	"math/big"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/jwtverify/jwtverify"
	"github.com/jwtverify/jwtverify/access"
	"github.com/jwtverify/jwtverify/backends/golangjwt"
	"github.com/jwtverify/jwtverify/jwttest"
	"github.com/jwtverify/jwtverify/keyset"
	"github.com/jwtverify/jwtverify/middleware"
)

func main() {
	if err := run(os.Stdout); err != nil {
		log.Fatal(err)
	}
}

func run(out io.Writer) error {
	cluster, err := newAPIServer()
	if err != nil {
		return err
	}
	defer cluster.Close()
	// What the kubelet mounts in the pod: the cluster CA and the pod's own
	// token, which the API server requires on its discovery endpoints.
	dir, err := os.MkdirTemp("", "serviceaccount")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	caFile, tokenFile := filepath.Join(dir, "ca.crt"), filepath.Join(dir, "token")
	if err := os.WriteFile(caFile, cluster.caPEM(), 0o600); err != nil {
		return err
	}
	if err := os.WriteFile(tokenFile, []byte(cluster.podToken("orders", "orders-api")+"\n"), 0o600); err != nil {
		return err
	}

	// The API's side.
	caPEM, err := os.ReadFile(caFile)
	if err != nil {
		return err
	}
	roots := x509.NewCertPool()
	if !roots.AppendCertsFromPEM(caPEM) {
		return errors.New("no certificate in " + caFile)
	}
	// In a cluster the issuer is the API server's --service-account-issuer,
	// e.g. https://kubernetes.default.svc.cluster.local.
	keys, err := keyset.Discover(context.Background(), cluster.URL, keyset.RemoteConfig{
		RootCAs:         roots,
		BearerTokenFile: tokenFile,
	})
	if err != nil {
		return err
	}
	defer keys.Close()
	v, err := golangjwt.New(jwtverify.Config{
		Keys:       keys,
		Algorithms: []string{"RS256"},
		Issuers:    []string{cluster.URL},
		Audiences:  []string{"orders"},
	})
	if err != nil {
		return err
	}
	mw, err := middleware.New(v, middleware.Options{Realm: "orders"})
	if err != nil {
		return err
	}
	// Only the billing service account of the prod namespace may list orders.
	billingInProd := access.AllOf(
		access.ClaimPath([]string{"kubernetes.io", "namespace"}, "prod"),
		access.ClaimPath([]string{"kubernetes.io", "serviceaccount", "name"}, "billing"),
	)
	mux := http.NewServeMux()
	mux.Handle("GET /orders", mw.Require(billingInProd)(http.HandlerFunc(list)))
	api := httptest.NewServer(mw.Handler(mux))
	defer api.Close()

	call := func(who, token string) error {
		req, _ := http.NewRequest("GET", api.URL+"/orders", nil)
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return err
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		fmt.Fprintf(out, "GET /orders as %-28s -> %d %s", who, resp.StatusCode, body)
		if h := resp.Header.Get("WWW-Authenticate"); h != "" {
			fmt.Fprintf(out, "    WWW-Authenticate: %s\n", h)
		}
		return nil
	}
	for _, c := range []struct{ who, token string }{
		{"prod/billing", cluster.serviceAccountToken("prod", "billing", "orders")},
		{"staging/billing", cluster.serviceAccountToken("staging", "billing", "orders")},
		{"prod/frontend", cluster.serviceAccountToken("prod", "frontend", "orders")},
		{"prod/billing, other audience", cluster.serviceAccountToken("prod", "billing", "payments")},
		{"nobody", ""},
	} {
		if err := call(c.who, c.token); err != nil {
			return err
		}
	}

	// The kubelet rotates the pod's token: the next fetch reads the new one.
	if err := os.WriteFile(tokenFile, []byte(cluster.podToken("orders", "orders-api")), 0o600); err != nil {
		return err
	}
	if err := keys.Refresh(context.Background()); err != nil {
		return err
	}
	fmt.Fprintf(out, "refresh with the rotated pod token: ok (%d fetches, each with the pod's token then current)\n", cluster.fetches())
	return nil
}

func list(w http.ResponseWriter, r *http.Request) {
	tok, _ := middleware.FromContext(r.Context())
	fmt.Fprintf(w, "orders for %s\n", tok.Claims.Subject)
}

// apiServer is a fake Kubernetes API server: it signs service-account
// tokens and serves its discovery document and JWKS over TLS, only to a
// caller presenting the token it issued last to the verifying pod.
type apiServer struct {
	*httptest.Server
	key *rsa.PrivateKey

	mu       sync.Mutex
	podTok   string // the verifying pod's current token
	nFetches int
}

func newAPIServer() (*apiServer, error) {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return nil, err
	}
	a := &apiServer{key: key}
	a.Server = httptest.NewTLSServer(http.HandlerFunc(a.serve))
	return a, nil
}

// caPEM is the certificate a pod trusts: here the server's own.
func (a *apiServer) caPEM() []byte {
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: a.Certificate().Raw})
}

func (a *apiServer) serve(w http.ResponseWriter, r *http.Request) {
	a.mu.Lock()
	ok := a.podTok != "" && r.Header.Get("Authorization") == "Bearer "+a.podTok
	if ok {
		a.nFetches++
	}
	a.mu.Unlock()
	if !ok {
		http.Error(w, "Unauthorized", http.StatusUnauthorized)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	switch r.URL.Path {
	case "/.well-known/openid-configuration":
		json.NewEncoder(w).Encode(map[string]any{
			"issuer": a.URL, "jwks_uri": a.URL + "/openid/v1/jwks",
			"response_types_supported": []string{"id_token"}, "subject_types_supported": []string{"public"},
			"id_token_signing_alg_values_supported": []string{"RS256"},
		})
	case "/openid/v1/jwks":
		pub := a.key.PublicKey
		json.NewEncoder(w).Encode(map[string]any{"keys": []any{map[string]any{
			"kty": "RSA", "use": "sig", "alg": "RS256", "kid": "sa-key-1",
			"n": base64.RawURLEncoding.EncodeToString(pub.N.Bytes()),
			"e": base64.RawURLEncoding.EncodeToString(big.NewInt(int64(pub.E)).Bytes()),
		}}})
	default:
		http.NotFound(w, r)
	}
}

func (a *apiServer) fetches() int { a.mu.Lock(); defer a.mu.Unlock(); return a.nFetches }

// serviceAccountToken is a projected service-account token of the
// service account ns/sa for audience aud, with the claims the API server
// puts in one.
func (a *apiServer) serviceAccountToken(ns, sa, aud string) string {
	now := time.Now()
	return jwttest.Sign("RS256", a.key, map[string]any{"kid": "sa-key-1"}, map[string]any{
		"iss": a.URL, "aud": []string{aud}, "sub": "system:serviceaccount:" + ns + ":" + sa,
		"iat": now.Unix(), "nbf": now.Unix(), "exp": now.Add(time.Hour).Unix(),
		"kubernetes.io": map[string]any{
			"namespace":      ns,
			"serviceaccount": map[string]any{"name": sa, "uid": "d3b2c1a0-0000-4000-8000-000000000002"},
			"pod":            map[string]any{"name": sa + "-6d5f7c9b8-x2v9q", "uid": "a1b2c3d4-0000-4000-8000-000000000001"},
		},
	})
}

// podToken issues a new token to the verifying pod and, from now on,
// requires it on the discovery endpoints.
func (a *apiServer) podToken(ns, sa string) string {
	tok := a.serviceAccountToken(ns, sa, "https://kubernetes.default.svc")
	a.mu.Lock()
	a.podTok = tok
	a.mu.Unlock()
	return tok
}
