package middleware_test

import (
	"bytes"
	"crypto/ed25519"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"time"

	"github.com/jwtverify/jwtverify"
	"github.com/jwtverify/jwtverify/access"
	"github.com/jwtverify/jwtverify/backends/golangjwt"
	"github.com/jwtverify/jwtverify/jwttest"
	"github.com/jwtverify/jwtverify/keyset"
	"github.com/jwtverify/jwtverify/middleware"
)

// issuerKey signs the tokens of the examples with jwttest.Sign; a real
// token comes from your issuer.
var issuerKey = ed25519.NewKeyFromSeed(bytes.Repeat([]byte{7}, 32))

// exampleVerifier verifies the tokens of issuerKey; a real one takes its
// keys from keyset.Discover or keyset.NewRemote.
func exampleVerifier() middleware.Verifier {
	key, err := jwtverify.NewPublicKey("k1", "EdDSA", issuerKey.Public())
	if err != nil {
		panic(err)
	}
	keys, err := keyset.NewStatic(key)
	if err != nil {
		panic(err)
	}
	v, err := golangjwt.New(jwtverify.Config{
		Keys:      keys,
		Issuers:   []string{"https://issuer.example"},
		Audiences: []string{"orders-api"},
		Now:       func() time.Time { return time.Unix(1700000000, 0) },
	})
	if err != nil {
		panic(err)
	}
	return v
}

// show sends a request to h and prints the answer.
func show(h http.Handler, r *http.Request) {
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	fmt.Printf("%s %s: %d %s\n", r.Method, r.URL.Path, w.Code, strings.TrimSpace(w.Body.String()))
	if c := w.Header().Get("WWW-Authenticate"); c != "" {
		fmt.Println("  WWW-Authenticate:", c)
	}
}

// One Middleware verifies every request to the mux; each route requires
// its own scope.
func Example() {
	mw, err := middleware.New(exampleVerifier(), middleware.Options{Realm: "orders"})
	if err != nil {
		panic(err)
	}
	orders := func(w http.ResponseWriter, r *http.Request) {
		tok, _ := middleware.FromContext(r.Context())
		fmt.Fprintln(w, r.Method, "orders as", tok.Claims.Subject)
	}
	mux := http.NewServeMux()
	mux.Handle("GET /orders", mw.Require(access.Scopes("orders:read"))(http.HandlerFunc(orders)))
	mux.Handle("POST /orders", mw.Require(access.Scopes("orders:write"))(http.HandlerFunc(orders)))
	h := mw.Handler(mux)

	header := map[string]any{"kid": "k1"}
	claims := map[string]any{"iss": "https://issuer.example", "sub": "alice", "aud": "orders-api", "exp": 1700003600, "scope": "orders:read"}
	reader := jwttest.Sign("EdDSA", issuerKey, header, claims)
	claims["exp"] = 1699999000 // before the verifier's clock
	expired := jwttest.Sign("EdDSA", issuerKey, header, claims)
	for _, c := range []struct{ method, token string }{
		{"GET", reader},
		{"POST", reader},
		{"GET", expired},
		{"GET", ""},
	} {
		r := httptest.NewRequest(c.method, "/orders", nil)
		if c.token != "" {
			r.Header.Set("Authorization", "Bearer "+c.token)
		}
		show(h, r)
	}
	// Output:
	// GET /orders: 200 GET orders as alice
	// POST /orders: 403 {"error":"insufficient_scope","error_description":"the token does not allow this request"}
	//   WWW-Authenticate: Bearer realm="orders", error="insufficient_scope", scope="orders:write"
	// GET /orders: 401 {"error":"invalid_token","error_description":"expired"}
	//   WWW-Authenticate: Bearer realm="orders", error="invalid_token", error_description="expired"
	// GET /orders: 401 {"error":"unauthorized","error_description":"bearer token required"}
	//   WWW-Authenticate: Bearer realm="orders"
}

// Extract takes the token from where a client or a framework puts it: here
// the header X-Api-Token, which must appear at most once. This is all an
// adapter needs when the token is not in the Authorization header.
func ExampleOptions_extract() {
	errTwoTokens := errors.New("more than one X-Api-Token")
	mw, err := middleware.New(exampleVerifier(), middleware.Options{
		Extract: func(r *http.Request) (string, error) {
			switch v := r.Header.Values("X-Api-Token"); len(v) {
			case 0:
				return "", nil // no credentials: 401
			case 1:
				return v[0], nil
			}
			return "", errTwoTokens // 400; the text is neither sent nor logged
		},
	})
	if err != nil {
		panic(err)
	}
	h := mw.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		tok, _ := middleware.FromContext(r.Context())
		fmt.Fprintln(w, "hello", tok.Claims.Subject)
	}))

	token := jwttest.Sign("EdDSA", issuerKey, map[string]any{"kid": "k1"},
		map[string]any{"iss": "https://issuer.example", "sub": "bob", "aud": "orders-api", "exp": 1700003600})
	for _, tokens := range [][]string{{token}, {token, token}, nil} {
		r := httptest.NewRequest("GET", "/", nil)
		for _, t := range tokens {
			r.Header.Add("X-Api-Token", t)
		}
		show(h, r)
	}
	// Output:
	// GET /: 200 hello bob
	// GET /: 400 {"error":"invalid_request","error_description":"malformed credentials"}
	//   WWW-Authenticate: Bearer realm="api", error="invalid_request"
	// GET /: 401 {"error":"unauthorized","error_description":"bearer token required"}
	//   WWW-Authenticate: Bearer realm="api"
}
