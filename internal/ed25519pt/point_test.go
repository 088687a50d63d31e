package ed25519pt

import (
	"crypto/ed25519"
	"crypto/rand"
	"encoding/hex"
	"testing"
)

// The encodings of the eight small-order points and their non-canonical
// aliases (libsodium's blocklist, plus the sign-bit variants).
var smallOrder = []string{
	"0100000000000000000000000000000000000000000000000000000000000000", // identity
	"ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f", // order 2
	"0000000000000000000000000000000000000000000000000000000000000000", // order 4
	"0000000000000000000000000000000000000000000000000000000000000080", // order 4
	"26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc05", // order 8
	"26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc85", // order 8
	"c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac037a", // order 8
	"c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac03fa", // order 8
	"edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f", // p: non-canonical 0
	"eeffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f", // p+1: non-canonical 1
}

func TestSmallOrderRefused(t *testing.T) {
	for _, h := range smallOrder {
		b, _ := hex.DecodeString(h)
		if Valid(b) {
			t.Errorf("%s accepted", h)
		}
	}
}

func TestRealKeysAccepted(t *testing.T) {
	for i := 0; i < 50; i++ {
		pub, _, err := ed25519.GenerateKey(rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		if !Valid(pub) {
			t.Fatalf("generated key %x refused", []byte(pub))
		}
	}
	// RFC 8037 A.2's public key.
	rfc, _ := hex.DecodeString("d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a")
	if !Valid(rfc) {
		t.Fatal("RFC 8032 test key refused")
	}
}

func TestNotAPoint(t *testing.T) {
	// y = 2 gives x² = 3/(4d+1), which is not a square mod p.
	b := make([]byte, 32)
	b[0] = 2
	if Valid(b) {
		t.Fatal("y=2 accepted")
	}
	notPoints := 0
	for i := 0; i < 200; i++ {
		b := make([]byte, 32)
		rand.Read(b)
		if _, ok := newCurve().decode(b); !ok {
			notPoints++
		}
	}
	if notPoints == 0 {
		t.Fatal("every random string decoded as a point; about half should not")
	}
	if Valid(make([]byte, 31)) {
		t.Fatal("31 bytes accepted")
	}
}

// TestWhyItMatters shows the forgery the check prevents: crypto/ed25519
// accepts, under the identity key, a "signature" made without any secret.
func TestWhyItMatters(t *testing.T) {
	identity, _ := hex.DecodeString(smallOrder[0])
	sig := make([]byte, 64)
	sig[0] = 1 // R = identity, S = 0
	if ed25519.Verify(identity, []byte("any message"), sig) {
		t.Log("crypto/ed25519 accepts a forged signature under the identity key")
	}
	if Valid(identity) {
		t.Fatal("identity key accepted")
	}
}
