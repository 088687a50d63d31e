package keyset_test

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"time"

	"github.com/jwtverify/jwtverify"
	"github.com/jwtverify/jwtverify/backends/golangjwt"
	"github.com/jwtverify/jwtverify/keyset"
)

// issuerKey is the example issuer's signing key.
var issuerKey = ed25519.NewKeyFromSeed(bytes.Repeat([]byte{1}, 32))

// exampleIssuer serves a discovery document and a JWKS, as an OpenID
// Provider does.
func exampleIssuer() *httptest.Server {
	var srv *httptest.Server
	srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/.well-known/openid-configuration":
			json.NewEncoder(w).Encode(map[string]string{"issuer": srv.URL, "jwks_uri": srv.URL + "/jwks"})
		case "/jwks":
			w.Header().Set("Cache-Control", "max-age=3600")
			fmt.Fprintf(w, `{"keys":[{"kty":"OKP","crv":"Ed25519","kid":"2026-06","alg":"EdDSA","use":"sig","x":"%s"}]}`,
				base64.RawURLEncoding.EncodeToString(issuerKey.Public().(ed25519.PublicKey)))
		default:
			http.NotFound(w, r)
		}
	}))
	return srv
}

func exampleToken(iss string) string {
	enc := base64.RawURLEncoding.EncodeToString
	input := enc([]byte(`{"alg":"EdDSA","kid":"2026-06"}`)) + "." +
		enc([]byte(`{"iss":"`+iss+`","sub":"alice","aud":"api","exp":4102444800}`))
	return input + "." + enc(ed25519.Sign(issuerKey, []byte(input)))
}

func ExampleNewRemote() {
	srv := exampleIssuer()
	defer srv.Close()

	keys, err := keyset.NewRemote(srv.URL+"/jwks", keyset.RemoteConfig{
		OnRefresh: func(_ context.Context, ev keyset.RefreshEvent) {
			fmt.Println("refresh:", ev.Trigger, ev.Outcome, ev.Keys, "key")
		},
	})
	if err != nil {
		panic(err)
	}
	defer keys.Close()
	v, err := golangjwt.New(jwtverify.Config{
		Keys:       keys,
		Algorithms: []string{"EdDSA"},
		Issuers:    []string{srv.URL},
		Audiences:  []string{"api"},
		Now:        func() time.Time { return time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC) },
	})
	if err != nil {
		panic(err)
	}
	tok, err := v.Verify(context.Background(), exampleToken(srv.URL))
	fmt.Println(tok.Claims.Subject, tok.Header.KeyID, err)
	// Output:
	// refresh: initial updated 1 key
	// alice 2026-06 <nil>
}

func ExampleDiscover() {
	srv := exampleIssuer()
	defer srv.Close()

	// The issuer URL must be https, or http to loopback as here. The
	// jwks_uri its document names must be https, or on the issuer's own
	// origin as here.
	keys, err := keyset.Discover(context.Background(), srv.URL, keyset.RemoteConfig{})
	if err != nil {
		panic(err)
	}
	defer keys.Close()
	fmt.Println(keys.URL() == srv.URL+"/jwks")

	v, err := golangjwt.New(jwtverify.Config{Keys: keys, Issuers: []string{srv.URL}, Audiences: []string{"api"}})
	if err != nil {
		panic(err)
	}
	_, err = v.Verify(context.Background(), exampleToken(srv.URL))
	fmt.Println(err)
	_, err = v.Verify(context.Background(), exampleToken("https://someone-else.example"))
	fmt.Println(jwtverify.Class(err))
	// Output:
	// true
	// <nil>
	// issuer
}
