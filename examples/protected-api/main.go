// Command protected-api is an API behind the jwtverify middleware: keys
// from the issuer's discovery document (a remote JWKS), one verifier, and a
// different scope per route. It starts a fake issuer (package jwttest) and
// the API on loopback, calls the API with a few tokens and prints the
// answers.
package main

import (
	"context"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"os"
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
	is := jwttest.NewIssuer("ES256")
	defer is.Close()

	// The API's side: discovery, one verifier, per-route policies.
	keys, err := keyset.Discover(context.Background(), is.URL, keyset.RemoteConfig{})
	if err != nil {
		return err
	}
	defer keys.Close()
	v, err := golangjwt.New(jwtverify.Config{
		Keys:       keys,
		Algorithms: []string{"ES256"},
		Issuers:    []string{is.URL},
		Audiences:  []string{"orders-api"},
		Types:      []string{"at+jwt"},
	})
	if err != nil {
		return err
	}
	mw, err := middleware.New(v, middleware.Options{Realm: "orders"})
	if err != nil {
		return err
	}
	mux := http.NewServeMux()
	mux.Handle("GET /orders", mw.Require(access.Scopes("orders:read"))(http.HandlerFunc(list)))
	mux.Handle("POST /orders", mw.Require(access.Scopes("orders:write"))(http.HandlerFunc(create)))
	api := httptest.NewServer(mw.Handler(mux))
	defer api.Close()

	// Callers, with RFC 9068 access tokens.
	token := func(sub, scope, aud string) string {
		now := time.Now()
		return is.Sign(map[string]any{"typ": "at+jwt"}, map[string]any{
			"iss": is.URL, "sub": sub, "aud": aud, "scope": scope,
			"iat": now.Unix(), "exp": now.Add(time.Hour).Unix(),
		})
	}
	reader := token("alice", "orders:read", "orders-api")
	writer := token("bob", "orders:read orders:write", "orders-api")
	other := token("carol", "orders:read", "billing-api")
	for _, c := range []struct{ method, who, token string }{
		{"GET", "alice (read)", reader},
		{"POST", "alice (read)", reader},
		{"POST", "bob (read+write)", writer},
		{"GET", "carol (other audience)", other},
		{"GET", "nobody", ""},
	} {
		req, _ := http.NewRequest(c.method, api.URL+"/orders", nil)
		if c.token != "" {
			req.Header.Set("Authorization", "Bearer "+c.token)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return err
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		fmt.Fprintf(out, "%-4s /orders as %-22s -> %d %s", c.method, c.who, resp.StatusCode, body)
		if h := resp.Header.Get("WWW-Authenticate"); h != "" {
			fmt.Fprintf(out, "     WWW-Authenticate: %s\n", h)
		}
	}
	return nil
}

func list(w http.ResponseWriter, r *http.Request) {
	tok, _ := middleware.FromContext(r.Context())
	fmt.Fprintf(w, "orders of %s\n", tok.Claims.Subject)
}

func create(w http.ResponseWriter, r *http.Request) {
	tok, _ := middleware.FromContext(r.Context())
	w.WriteHeader(http.StatusCreated)
	fmt.Fprintf(w, "order created by %s\n", tok.Claims.Subject)
}
