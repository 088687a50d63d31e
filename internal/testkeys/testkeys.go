// Package testkeys loads the committed test key fixtures (testdata/*.pem,
// testdata/hmac.bin). They are test keys, published with the source: never
// use them for anything else.
package testkeys

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rsa"
	"crypto/x509"
	"embed"
	"encoding/pem"
	"fmt"
)

//go:embed testdata
var files embed.FS

// Set holds the fixtures.
type Set struct {
	RSA1, RSA2 *rsa.PrivateKey // 2048 bits
	RSA1024    *rsa.PrivateKey // too weak: for refusal tests
	P256       *ecdsa.PrivateKey
	P384       *ecdsa.PrivateKey
	P521       *ecdsa.PrivateKey
	Ed25519    ed25519.PrivateKey
	HMAC       []byte // 64 bytes
}

// Load parses the fixtures. It panics if they are missing or corrupt,
// which only a broken checkout can cause.
func Load() *Set {
	return &Set{
		RSA1:    parse("rsa1.pem").(*rsa.PrivateKey),
		RSA2:    parse("rsa2.pem").(*rsa.PrivateKey),
		RSA1024: parse("rsa1024.pem").(*rsa.PrivateKey),
		P256:    parse("p256.pem").(*ecdsa.PrivateKey),
		P384:    parse("p384.pem").(*ecdsa.PrivateKey),
		P521:    parse("p521.pem").(*ecdsa.PrivateKey),
		Ed25519: parse("ed25519.pem").(ed25519.PrivateKey),
		HMAC:    read("hmac.bin"),
	}
}

func read(name string) []byte {
	b, err := files.ReadFile("testdata/" + name)
	if err != nil {
		panic(fmt.Sprintf("testkeys: %v", err))
	}
	return b
}

func parse(name string) crypto.PrivateKey {
	block, _ := pem.Decode(read(name))
	if block == nil {
		panic("testkeys: no PEM in " + name)
	}
	k, err := x509.ParsePKCS8PrivateKey(block.Bytes)
	if err != nil {
		panic(fmt.Sprintf("testkeys: %s: %v", name, err))
	}
	return k
}

// PublicPEM returns the SPKI PEM of pub.
func PublicPEM(pub crypto.PublicKey) []byte {
	der, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		panic(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der})
}
