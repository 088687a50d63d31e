package cli

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/jwtverify/jwtverify/backends/backendtest"
	"github.com/jwtverify/jwtverify/internal/testkeys"
)

// TestVerifyType: --type (repeatable) requires the typ header to be one of
// its values, compared case-insensitively with "application/" optional; a
// missing or other typ is exit 1, class type. Without --type typ is not
// checked.
func TestVerifyType(t *testing.T) {
	f, c := fixture(t)
	key := writeFile(t, "ec.pem", testkeys.PublicPEM(&f.Keys.P256.PublicKey))
	sign := func(typ any) string { return f.Sign("ES256", map[string]any{"typ": typ}, c) }
	at, appAt, upper, jwt, none := sign("at+jwt"), sign("application/at+jwt"), sign("AT+JWT"), sign("JWT"), sign(nil)
	for _, backend := range backendNames {
		base := []string{"verify", "--backend", backend, "--key", key}
		for name, tc := range map[string]struct {
			token string
			types []string
			ok    bool
		}{
			"at+jwt":             {at, []string{"at+jwt"}, true},
			"application/ token": {appAt, []string{"at+jwt"}, true},
			"application/ flag":  {at, []string{"application/at+jwt"}, true},
			"case":               {upper, []string{"at+jwt"}, true},
			"second of two":      {jwt, []string{"at+jwt", "jwt"}, true},
			"other typ":          {jwt, []string{"at+jwt"}, false},
			"typ missing":        {none, []string{"at+jwt"}, false},
			"no --type, no typ":  {none, nil, true},
			"no --type, any typ": {jwt, nil, true},
		} {
			t.Run(backend+"/"+name, func(t *testing.T) {
				args := append([]string{}, base...)
				for _, ty := range tc.types {
					args = append(args, "--type", ty)
				}
				r := run("", append(args, tc.token)...)
				if tc.ok {
					if r.code != ExitValid {
						t.Fatalf("got %+v, want valid", r)
					}
					return
				}
				checkRejected(t, r, "type", tc.token)
			})
		}
	}
	if r := run("", "verify", "--key", key, "--type", "application/", at); r.code != ExitUsage {
		t.Fatalf("--type application/: %+v, want exit 2", r)
	}
}

// TestProxyType: the proxy's --type refuses a token whose typ is missing
// or not listed with 401 invalid_token, and never passes it upstream.
func TestProxyType(t *testing.T) {
	f, c := fixture(t)
	key := writeFile(t, "ec.pem", testkeys.PublicPEM(&f.Keys.P256.PublicKey))
	reached := make(chan string, 10)
	upstream := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		reached <- r.URL.Path
	}))
	defer upstream.Close()
	pf := parseProxyFlags(t, "--listen", "127.0.0.1:0", "--upstream", upstream.URL, "--key", key,
		"--issuer", backendtest.Issuer, "--audience", backendtest.Audience, "--type", "at+jwt")
	addr, _, stop := startProxy(t, pf)
	defer stop()
	do := func(token string) *http.Response {
		req, _ := http.NewRequest("GET", addr+"/x", nil)
		req.Header.Set("Authorization", "Bearer "+token)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		return resp
	}
	for name, typ := range map[string]any{"missing": nil, "JWT": "JWT", "jwt+at": "jwt+at"} {
		resp := do(f.Sign("ES256", map[string]any{"typ": typ}, c))
		if resp.StatusCode != 401 || !strings.Contains(resp.Header.Get("WWW-Authenticate"), `error="invalid_token"`) {
			t.Errorf("typ %s: %d %q, want 401 invalid_token", name, resp.StatusCode, resp.Header.Get("WWW-Authenticate"))
		}
	}
	select {
	case p := <-reached:
		t.Fatalf("a token of the wrong typ reached upstream (%s)", p)
	default:
	}
	if resp := do(f.Sign("ES256", map[string]any{"typ": "application/AT+JWT"}, c)); resp.StatusCode != 200 {
		t.Fatalf("typ application/AT+JWT: %d, want 200", resp.StatusCode)
	}
	if p := <-reached; p != "/x" {
		t.Fatalf("upstream saw %q", p)
	}
}
