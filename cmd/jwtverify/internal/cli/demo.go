package cli

import (
	"context"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"flag"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/jwtverify/jwtverify"
	"github.com/jwtverify/jwtverify/internal/mint"
	"github.com/jwtverify/jwtverify/keyset"
)

const (
	demoIssuer   = "https://issuer.demo.example"
	demoAudience = "demo-api"
)

// demoCase is one token of the demo and the class it must get ("" = valid).
type demoCase struct {
	what  string
	token string
	want  string
}

// runDemo makes keys, issues tokens and verifies them on every backend. It
// checks its own results: any verdict other than the expected one, or a
// disagreement between backends, makes it exit 1.
func runDemo(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("demo", flag.ContinueOnError)
	fs.SetOutput(stderr)
	setUsage(fs, "", `Makes keys, issues tokens, verifies them on every backend and shows hostile
tokens rejected with their class; needs no network and no files. Exit 0
when every verdict is the expected one, 1 otherwise.`)
	if err := fs.Parse(args); err != nil {
		return flagExit(err)
	}
	if fs.NArg() > 0 {
		return usageErr(stderr, "demo takes no arguments")
	}
	cases, ks, err := demoTokens()
	if err != nil {
		fmt.Fprintf(stderr, "jwtverify: demo: %v\n", err)
		return ExitRejected
	}
	var verifiers []*jwtverify.Verifier
	for _, b := range backends {
		be, err := b.new()
		if err == nil {
			var v *jwtverify.Verifier
			v, err = jwtverify.New(be, jwtverify.Config{
				Keys:      ks,
				Issuers:   []string{demoIssuer},
				Audiences: []string{demoAudience},
			})
			verifiers = append(verifiers, v)
		}
		if err != nil {
			fmt.Fprintf(stderr, "jwtverify: demo: %v\n", err)
			return ExitRejected
		}
	}

	fmt.Fprintf(stdout, "jwtverify demo: keys RSA-2048, P-256, Ed25519 and an HMAC secret; issuer %s, audience %s\n", demoIssuer, demoAudience)
	fmt.Fprintf(stdout, "allowlist derived from the keys: %s\n\n", strings.Join(verifiers[0].Algorithms(), " "))
	tw := tabwriter.NewWriter(stdout, 0, 0, 2, ' ', 0)
	fmt.Fprint(tw, "TOKEN\tWANT")
	for _, v := range verifiers {
		fmt.Fprintf(tw, "\t%s", v.BackendName())
	}
	fmt.Fprintln(tw)
	failed := 0
	for _, c := range cases {
		want := c.want
		if want == "" {
			want = "valid"
		}
		fmt.Fprintf(tw, "%s\t%s", c.what, want)
		for _, v := range verifiers {
			tok, err := v.Verify(context.Background(), c.token)
			got := "valid"
			if err != nil {
				got = jwtverify.Class(err)
			} else if tok.Claims.Subject != "demo-user" {
				got = "valid (wrong claims)"
			}
			if got != want {
				failed++
				got += " <- UNEXPECTED"
			}
			fmt.Fprintf(tw, "\t%s", got)
		}
		fmt.Fprintln(tw)
	}
	tw.Flush()
	if failed > 0 {
		fmt.Fprintf(stdout, "\n%d unexpected results\n", failed)
		return ExitRejected
	}
	fmt.Fprintf(stdout, "\nall %d tokens got the expected verdict on all %d backends\n", len(cases), len(verifiers))
	return ExitValid
}

// demoTokens makes fresh keys and the demo's tokens.
func demoTokens() ([]demoCase, *keyset.Static, error) {
	rsaKey, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return nil, nil, err
	}
	attacker, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return nil, nil, err
	}
	ecKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, nil, err
	}
	_, edKey, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return nil, nil, err
	}
	secret := make([]byte, 32)
	if _, err := rand.Read(secret); err != nil {
		return nil, nil, err
	}
	var keys []jwtverify.Key
	for _, k := range []struct {
		id  string
		pub any
	}{{"rsa", &rsaKey.PublicKey}, {"ec", &ecKey.PublicKey}, {"ed", edKey.Public()}} {
		key, err := jwtverify.NewPublicKey(k.id, "", k.pub)
		if err != nil {
			return nil, nil, err
		}
		keys = append(keys, key)
	}
	hk, err := jwtverify.NewSecretKey("hs", "HS256", secret)
	if err != nil {
		return nil, nil, err
	}
	ks, err := keyset.NewStatic(append(keys, hk)...)
	if err != nil {
		return nil, nil, err
	}

	now := time.Now()
	claims := func(kv ...any) map[string]any {
		c := map[string]any{
			"iss": demoIssuer, "sub": "demo-user", "aud": []string{demoAudience},
			"exp": now.Add(time.Hour).Unix(), "iat": now.Unix(), "scope": "read",
		}
		for i := 0; i < len(kv); i += 2 {
			if kv[i+1] == nil {
				delete(c, kv[i].(string))
			} else {
				c[kv[i].(string)] = kv[i+1]
			}
		}
		return c
	}
	var firstErr error
	sign := func(alg string, key any, header map[string]any, c map[string]any) string {
		t, err := mint.Token(alg, key, header, c)
		if err != nil && firstErr == nil {
			firstErr = err
		}
		return t
	}
	raw := func(alg string, key any, header, payload string) string {
		t, err := mint.Raw(alg, key, []byte(header), []byte(payload))
		if err != nil && firstErr == nil {
			firstErr = err
		}
		return t
	}
	b64 := base64.RawURLEncoding.EncodeToString
	good := sign("RS256", rsaKey, map[string]any{"kid": "rsa"}, claims())
	parts := strings.Split(good, ".")
	pubDER, _ := x509.MarshalPKIXPublicKey(&rsaKey.PublicKey)
	pubPEM := pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: pubDER})
	attackerJWK, _ := mint.JWK(&attacker.PublicKey, "", "")
	payload := `{"iss":"` + demoIssuer + `","sub":"demo-user","aud":"` + demoAudience + `","exp":` + fmt.Sprint(now.Add(time.Hour).Unix())

	cases := []demoCase{
		{"RS256, valid", good, ""},
		{"ES256, valid", sign("ES256", ecKey, map[string]any{"kid": "ec"}, claims()), ""},
		{"EdDSA, valid", sign("EdDSA", edKey, map[string]any{"kid": "ed"}, claims()), ""},
		{"HS256, valid", sign("HS256", secret, map[string]any{"kid": "hs"}, claims()), ""},
		{"alg none, no signature", b64([]byte(`{"alg":"none"}`)) + "." + parts[1] + ".", "algorithm"},
		{"alg NONE, signature kept", b64([]byte(`{"alg":"NONE","kid":"rsa"}`)) + "." + parts[1] + "." + parts[2], "algorithm"},
		{"key confusion: HS256 keyed with the RSA public key PEM", sign("HS256", pubPEM, map[string]any{"kid": "rsa"}, claims()), "algorithm"},
		{"attacker's own key embedded as jwk header (ignored)", sign("RS256", attacker, map[string]any{"kid": "rsa", "jwk": attackerJWK}, claims()), "signature"},
		{"jku pointing at the attacker's key set (ignored)", sign("RS256", attacker, map[string]any{"jku": "https://attacker.example/jwks.json"}, claims()), "signature"},
		{"tampered payload (sub changed)", parts[0] + "." + b64([]byte(payload+`,"sub":"admin"}`)) + "." + parts[2], "signature"},
		{"unknown kid", sign("RS256", rsaKey, map[string]any{"kid": "rotated-away"}, claims()), "unknown_key"},
		{"expired an hour ago", sign("ES256", ecKey, map[string]any{"kid": "ec"}, claims("exp", now.Add(-time.Hour).Unix())), "expired"},
		{"not valid for another hour", sign("ES256", ecKey, map[string]any{"kid": "ec"}, claims("nbf", now.Add(time.Hour).Unix())), "not_yet_valid"},
		{"issued in the future", sign("ES256", ecKey, map[string]any{"kid": "ec"}, claims("iat", now.Add(time.Hour).Unix())), "issued_in_future"},
		{"wrong audience", sign("ES256", ecKey, map[string]any{"kid": "ec"}, claims("aud", "other-api")), "audience"},
		{"wrong issuer (trailing slash)", sign("ES256", ecKey, map[string]any{"kid": "ec"}, claims("iss", demoIssuer+"/")), "issuer"},
		{"no exp", sign("ES256", ecKey, map[string]any{"kid": "ec"}, claims("exp", nil)), "missing_claim"},
		{"exp as a string", raw("ES256", ecKey, `{"alg":"ES256","kid":"ec"}`, `{"iss":"`+demoIssuer+`","sub":"demo-user","aud":"`+demoAudience+`","exp":"9999999999"}`), "malformed"},
		{"duplicate sub claim", raw("ES256", ecKey, `{"alg":"ES256","kid":"ec"}`, payload+`,"sub":"admin"}`), "malformed"},
		{"padded base64", parts[0] + "=." + parts[1] + "." + parts[2], "malformed"},
		{"crit header", sign("ES256", ecKey, map[string]any{"kid": "ec", "crit": []string{"x-custom"}, "x-custom": 1}, claims()), "unsupported"},
		{"JWE (5 segments)", b64([]byte(`{"alg":"RSA-OAEP","enc":"A256GCM"}`)) + ".a.b.c.d", "unsupported"},
		{"32 KiB token", sign("ES256", ecKey, map[string]any{"kid": "ec"}, claims("pad", strings.Repeat("x", 32<<10))), "too_large"},
	}
	return cases, ks, firstErr
}
