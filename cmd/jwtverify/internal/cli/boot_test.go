package cli

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/jwtverify/jwtverify/internal/mint"
	"github.com/jwtverify/jwtverify/internal/testkeys"
)

// idp is an identity provider in memory: an OpenID discovery document
// and a JWKS, unreachable until up is set.
type idp struct {
	up       atomic.Bool
	requests atomic.Int32
	jwks     []byte
}

const idpIssuer = "https://idp.test"

func (p *idp) RoundTrip(r *http.Request) (*http.Response, error) {
	p.requests.Add(1)
	if !p.up.Load() {
		return nil, errors.New("dial tcp: connection refused")
	}
	rec := httptest.NewRecorder()
	rec.Header().Set("Content-Type", "application/json")
	switch r.URL.Path {
	case "/.well-known/openid-configuration":
		json.NewEncoder(rec).Encode(map[string]string{"issuer": idpIssuer, "jwks_uri": idpIssuer + "/jwks"})
	case "/jwks":
		rec.Write(p.jwks)
	default:
		rec.WriteHeader(404)
	}
	return rec.Result(), nil
}

// TestBootWithoutIdP: with the identity provider down at boot, the proxy
// starts and listens; readiness is 503 and tokens get 503 with
// Retry-After; once the provider is back, the keys arrive in the
// background, without any request, readiness turns 200 and tokens
// verify. Both for a JWKS URL and for OpenID discovery.
func TestBootWithoutIdP(t *testing.T) {
	ks := testkeys.Load()
	jwk, _ := mint.JWK(&ks.RSA1.PublicKey, "k1", "RS256")
	jwks, _ := json.Marshal(map[string]any{"keys": []any{jwk}})
	token, _ := mint.Token("RS256", ks.RSA1, map[string]any{"kid": "k1"}, map[string]any{
		"iss": idpIssuer, "aud": "orders", "exp": time.Now().Add(48 * time.Hour).Unix(),
	})
	for name, args := range map[string][]string{
		"jwks":      {"--jwks", idpIssuer + "/jwks", "--issuer", idpIssuer},
		"discovery": {"--oidc-issuer", idpIssuer},
	} {
		t.Run(name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				p := &idp{jwks: jwks}
				f := parseProxyFlags(t, append([]string{"--listen", "mem", "--upstream", "http://upstream.test", "--audience", "orders"}, args...)...)
				f.remoteCfg.Client = &http.Client{Transport: p}
				m := startMemProxy(t, f, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "ok") }))
				get := func(l *memListener, path, auth string) (*http.Response, string) {
					c := dialMem(t, l)
					lines := []string{"GET " + path + " HTTP/1.1", "Host: proxy.test", "Connection: close"}
					if auth != "" {
						lines = append(lines, "Authorization: Bearer "+auth)
					}
					c.send("", lines...)
					return c.response(t)
				}
				if resp, body := get(m.metrics, "/readyz", ""); resp.StatusCode != 503 || !strings.Contains(body, "waiting for keys") {
					t.Fatalf("readyz with the IdP down: %d %q", resp.StatusCode, body)
				}
				if resp, _ := get(m.metrics, "/healthz", ""); resp.StatusCode != 200 {
					t.Fatalf("healthz with the IdP down: %d", resp.StatusCode)
				}
				if resp, _ := get(m.proxy, "/orders", token); resp.StatusCode != 503 || resp.Header.Get("Retry-After") == "" {
					t.Fatalf("token with the IdP down: %d, Retry-After %q", resp.StatusCode, resp.Header.Get("Retry-After"))
				}
				time.Sleep(5 * time.Minute) // the warmer retries with backoff, in the bubble's time
				if p.requests.Load() < 5 {
					t.Fatalf("%d attempts in 5 minutes: the warmer does not retry", p.requests.Load())
				}
				p.up.Store(true)
				before := p.requests.Load()
				time.Sleep(warmMaxRetry + time.Second) // no request to the proxy meanwhile
				synctest.Wait()
				if p.requests.Load() == before {
					t.Fatal("no fetch after the IdP came back")
				}
				if resp, body := get(m.metrics, "/readyz", ""); resp.StatusCode != 200 {
					t.Fatalf("readyz after the keys arrived: %d %q", resp.StatusCode, body)
				}
				if resp, body := get(m.proxy, "/orders", token); resp.StatusCode != 200 || body != "ok" {
					t.Fatalf("token after the keys arrived: %d %q", resp.StatusCode, body)
				}
				if strings.Count(m.log.String(), "key set not available yet") != 1 || !strings.Contains(m.log.String(), "key set available") {
					t.Fatalf("the warmer logs each retry, or not the recovery:\n%s", m.log.String())
				}
				// Idle: the set is refreshed in the background, so readiness
				// does not lapse past MaxStale without traffic.
				time.Sleep(25 * time.Hour)
				synctest.Wait()
				if resp, _ := get(m.metrics, "/readyz", ""); resp.StatusCode != 200 {
					t.Fatalf("readyz after 25 idle hours: %d", resp.StatusCode)
				}
			})
		})
	}
}
