package cli

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/jwtverify/jwtverify/internal/mint"
	"github.com/jwtverify/jwtverify/internal/testkeys"
)

// TestOIDCIssuerTemplate: --oidc-issuer of a multi-tenant endpoint whose
// document names the issuer template is a usage error without --issuer,
// saying so, rather than a verifier that refuses every token; with
// --issuer naming a tenant's issuer, that tenant's tokens verify.
func TestOIDCIssuerTemplate(t *testing.T) {
	ks := testkeys.Load()
	var srv *httptest.Server
	srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/organizations/v2.0/.well-known/openid-configuration":
			json.NewEncoder(w).Encode(map[string]string{"issuer": srv.URL + "/{tenantid}/v2.0", "jwks_uri": srv.URL + "/keys"})
		case "/keys":
			jwk, _ := mint.JWK(&ks.P256.PublicKey, "k1", "")
			json.NewEncoder(w).Encode(map[string]any{"keys": []any{jwk}})
		}
	}))
	defer srv.Close()
	tenantA := srv.URL + "/tenant-a/v2.0"
	tok, err := mint.Token("ES256", ks.P256, map[string]any{"kid": "k1"}, map[string]any{
		"iss": tenantA, "tid": "tenant-a", "aud": "api", "exp": time.Now().Add(time.Hour).Unix()})
	if err != nil {
		t.Fatal(err)
	}
	r := run("", "verify", "--oidc-issuer", srv.URL+"/organizations/v2.0", "--audience", "api", tok)
	if r.code != ExitUsage || !strings.Contains(r.stderr, "multi-tenant issuer template") {
		t.Fatalf("without --issuer: %+v", r)
	}
	if r := run("", "verify", "--oidc-issuer", srv.URL+"/organizations/v2.0", "--issuer", tenantA, "--audience", "api", tok); r.code != ExitValid {
		t.Fatalf("with --issuer: %+v", r)
	}
}
