package main_test

import (
	"bytes"
	"encoding/json"
	"encoding/pem"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/jwtverify/jwtverify/internal/mint"
	"github.com/jwtverify/jwtverify/internal/testkeys"
)

// TestBinaryKubernetes: the built command verifies a projected
// service-account token with exactly
// `verify --oidc-issuer URL --ca-file ca.pem --fetch-bearer-file token --audience AUD TOKEN`,
// against a TLS server whose discovery document and JWKS require the
// pod's token; without --ca-file it exits 2.
func TestBinaryKubernetes(t *testing.T) {
	bin := build(t)
	const podToken = "pod-SECRET-token"
	key := testkeys.Load().RSA1
	jwk, _ := mint.JWK(&key.PublicKey, "sa-1", "RS256")
	jwks, _ := json.Marshal(map[string]any{"keys": []any{jwk}})
	var srv *httptest.Server
	srv = httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "Bearer "+podToken {
			http.Error(w, "Unauthorized", http.StatusUnauthorized)
			return
		}
		switch r.URL.Path {
		case "/.well-known/openid-configuration":
			json.NewEncoder(w).Encode(map[string]string{"issuer": srv.URL, "jwks_uri": srv.URL + "/openid/v1/jwks"})
		case "/openid/v1/jwks":
			w.Write(jwks)
		default:
			http.NotFound(w, r)
		}
	}))
	defer srv.Close()
	dir := t.TempDir()
	ca, tokFile := filepath.Join(dir, "ca.pem"), filepath.Join(dir, "token")
	if err := os.WriteFile(ca, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw}), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(tokFile, []byte(podToken+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	token, err := mint.Token("RS256", key, map[string]any{"kid": "sa-1"}, map[string]any{
		"iss": srv.URL, "aud": []string{"orders"}, "sub": "system:serviceaccount:prod:billing",
		"exp": time.Now().Add(time.Hour).Unix(), "iat": time.Now().Unix(),
		"kubernetes.io": map[string]any{"namespace": "prod", "serviceaccount": map[string]any{"name": "billing", "uid": "u-1"}, "pod": map[string]any{"name": "billing-1", "uid": "u-2"}},
	})
	if err != nil {
		t.Fatal(err)
	}
	run := func(args ...string) (int, string, string) {
		cmd := exec.Command(bin, args...)
		var out, errb bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &errb
		err := cmd.Run()
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			return ee.ExitCode(), out.String(), errb.String()
		} else if err != nil {
			t.Fatal(err)
		}
		return 0, out.String(), errb.String()
	}
	code, out, errOut := run("verify", "--oidc-issuer", srv.URL, "--ca-file", ca, "--fetch-bearer-file", tokFile, "--audience", "orders", token)
	if code != 0 || !strings.Contains(out, `"kubernetes.io":{"namespace":"prod"`) || errOut != "" {
		t.Fatalf("valid: exit %d, stdout %q, stderr %q", code, out, errOut)
	}
	code, out, errOut = run("verify", "--oidc-issuer", srv.URL, "--fetch-bearer-file", tokFile, "--audience", "orders", token)
	if code != 2 || out != "" || !strings.Contains(errOut, "unknown authority") || strings.Contains(errOut, "SECRET") {
		t.Fatalf("no --ca-file: exit %d, stdout %q, stderr %q", code, out, errOut)
	}
	code, _, errOut = run("verify", "--oidc-issuer", srv.URL, "--ca-file", ca, "--audience", "orders", token)
	if code != 2 || !strings.Contains(errOut, "401") {
		t.Fatalf("no --fetch-bearer-file: exit %d, stderr %q", code, errOut)
	}
}
