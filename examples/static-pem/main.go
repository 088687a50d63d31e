// Command static-pem verifies tokens with a public key read from a PEM
// file (SPKI, PKCS #1 or a certificate), the simplest setup: no network,
// the key configured once. It writes a fresh key pair's public half to a
// temporary file, as a deployment would ship it, and verifies two tokens.
package main

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"io"
	"log"
	"os"
	"path/filepath"
	"time"

	"github.com/jwtverify/jwtverify"
	"github.com/jwtverify/jwtverify/backends/golangjwt"
	"github.com/jwtverify/jwtverify/jwttest"
	"github.com/jwtverify/jwtverify/keyset"
)

func main() {
	if err := run(os.Stdout); err != nil {
		log.Fatal(err)
	}
}

func run(out io.Writer) error {
	// The issuer's key pair; the verifier only ever sees the public PEM.
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return err
	}
	der, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		return err
	}
	dir, err := os.MkdirTemp("", "static-pem")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "issuer.pem")
	if err := os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}), 0o644); err != nil {
		return err
	}

	// The verifier: read the PEM, build a static key set and a verifier.
	data, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	key, err := keyset.ParsePEM(data)
	if err != nil {
		return err
	}
	keys, err := keyset.NewStatic(key)
	if err != nil {
		return err
	}
	v, err := golangjwt.New(jwtverify.Config{Keys: keys, Issuers: []string{"https://issuer.example"}, Audiences: []string{"reports"}})
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "allowlist derived from the PEM key: %v\n", v.Algorithms())

	// Tokens, signed by jwttest standing in for the issuer.
	claims := map[string]any{"iss": "https://issuer.example", "aud": "reports", "sub": "job-17", "exp": time.Now().Add(time.Hour).Unix()}
	tok, err := v.Verify(context.Background(), jwttest.Sign("EdDSA", priv, nil, claims))
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "valid token for %s\n", tok.Claims.Subject)

	_, otherPriv, _ := ed25519.GenerateKey(rand.Reader)
	_, err = v.Verify(context.Background(), jwttest.Sign("EdDSA", otherPriv, nil, claims))
	fmt.Fprintf(out, "token signed by another key: %v\n", err)
	return nil
}
