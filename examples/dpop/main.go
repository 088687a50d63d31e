// Command dpop runs a DPoP (RFC 9449) client and resource server end to
// end. The authorization server (a fake OpenID Provider here) issues an
// access token bound to the client's key (cnf.jkt, its RFC 7638
// thumbprint); the API, behind middleware with DPoP required, accepts it
// only as "Authorization: DPoP <token>" with a fresh proof, signed by
// that key, for the very request. The same token stolen and replayed, as
// Bearer, with a used proof or with another key's proof, is refused.
package main

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"time"

	"github.com/jwtverify/jwtverify"
	"github.com/jwtverify/jwtverify/backends/golangjwt"
	"github.com/jwtverify/jwtverify/dpop"
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
	ctx := context.Background()
	idp := jwttest.NewIssuer("ES256")
	defer idp.Close()

	// The resource server.
	keys, err := keyset.Discover(ctx, idp.URL, keyset.RemoteConfig{})
	if err != nil {
		return err
	}
	defer keys.Close()
	v, err := golangjwt.New(jwtverify.Config{Keys: keys, Issuers: []string{idp.URL}, Audiences: []string{"orders"}})
	if err != nil {
		return err
	}
	proofs, err := dpop.New(golangjwt.Backend{}, dpop.Config{}) // replays remembered in memory
	if err != nil {
		return err
	}
	mw, err := middleware.New(v, middleware.Options{Realm: "orders", DPoP: proofs, RequireDPoP: true})
	if err != nil {
		return err
	}
	api := httptest.NewServer(mw.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		tok, _ := middleware.FromContext(r.Context())
		fmt.Fprintf(w, "orders for %s", tok.Claims.Subject)
	})))
	defer api.Close()

	// The client: its key pair, and a token the authorization server
	// bound to it.
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return err
	}
	token := idp.Sign(nil, map[string]any{
		"iss": idp.URL, "aud": "orders", "sub": "client-42", "exp": time.Now().Add(time.Hour).Unix(),
		"cnf": map[string]any{"jkt": jwttest.Thumbprint(key)},
	})
	send := func(label, scheme, method, path string, proof string) {
		req, _ := http.NewRequest(method, api.URL+path, nil)
		req.Header.Set("Authorization", scheme+" "+token)
		if proof != "" {
			req.Header.Set("DPoP", proof)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			fmt.Fprintf(out, "%-34s -> %v\n", label, err)
			return
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		line := fmt.Sprintf("%-34s -> %d", label, resp.StatusCode)
		if resp.StatusCode == http.StatusOK {
			line += " " + string(body)
		} else {
			line += " " + strings.Join(resp.Header.Values("WWW-Authenticate"), " | ")
		}
		fmt.Fprintln(out, line)
	}
	proof := func(k *ecdsa.PrivateKey, method, path string) string {
		return jwttest.DPoPProof("ES256", k, method, api.URL+path, token, nil)
	}

	good := proof(key, "GET", "/orders")
	send("GET /orders, DPoP with a proof", "DPoP", "GET", "/orders", good)
	send("the same proof again (replay)", "DPoP", "GET", "/orders", good)
	send("stolen token as Bearer", "Bearer", "GET", "/orders", "")
	send("a proof for POST", "DPoP", "GET", "/orders", proof(key, "POST", "/orders"))
	thief, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return err
	}
	send("a proof by the thief's key", "DPoP", "GET", "/orders", proof(thief, "GET", "/orders"))
	send("a new proof for the next request", "DPoP", "GET", "/orders", proof(key, "GET", "/orders"))
	return nil
}
