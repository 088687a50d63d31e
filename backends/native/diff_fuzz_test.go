package native

import (
	"crypto"
	"crypto/ed25519"
	"crypto/hmac"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/sha512"
	"hash"
	"math/big"
	"testing"

	"github.com/jwtverify/jwtverify/internal/testkeys"
)

// The differential fuzz targets compare the native RSA, PSS and HMAC
// checks with the standard library's on mutated signatures, keys and
// messages: any input on which they disagree is a bug in one of them.

var cryptoHash = [numHashes]crypto.Hash{crypto.SHA256, crypto.SHA384, crypto.SHA512}

// rawRSA returns m^d mod n: a "signature" whose public operation gives
// exactly em, for seeds whose encoding is deliberately wrong.
func rawRSA(k *rsa.PrivateKey, em []byte) []byte {
	s := new(big.Int).Exp(new(big.Int).SetBytes(em), k.D, k.N)
	return s.FillBytes(make([]byte, (k.N.BitLen()+7)/8))
}

// FuzzRSADifferential: for a key (byte 0 of keySel: the fixture's RSA1 or
// RSA2), a hash (byte 1) and a scheme (byte 2: PKCS #1 v1.5 or PSS), the
// native check of sig over msg agrees with rsa.VerifyPKCS1v15 or
// rsa.VerifyPSS (salt length = hash length).
func FuzzRSADifferential(f *testing.F) {
	ks := testkeys.Load()
	keys := []*rsa.PrivateKey{ks.RSA1, ks.RSA2}
	prepared := make([]*rsaKey, len(keys))
	for i, k := range keys {
		var err error
		if prepared[i], err = prepareRSA(&k.PublicKey); err != nil {
			f.Fatal(err)
		}
	}
	msg := []byte("eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJhbGljZSJ9")
	for ki, k := range keys {
		size := (k.N.BitLen() + 7) / 8
		for h := range hashID(numHashes) {
			digest := h.sum(string(msg))
			pk, _ := rsa.SignPKCS1v15(rand.Reader, k, cryptoHash[h], digest)
			ps, _ := rsa.SignPSS(rand.Reader, k, cryptoHash[h], digest, &rsa.PSSOptions{SaltLength: rsa.PSSSaltLengthEqualsHash})
			sel := []byte{byte(ki), byte(h)}
			f.Add(append(sel, 0), msg, pk)
			f.Add(append(sel, 1), msg, ps)
			// Every byte of the PKCS #1 v1.5 encoding flipped, one at a
			// time: padding, separator, DigestInfo and hash.
			em := append(append([]byte(nil), prepared[ki].pkcs1[h]...), digest...)
			for i := range em {
				bad := append([]byte(nil), em...)
				bad[i] ^= 0x01
				f.Add(append(sel, 0), msg, rawRSA(k, bad))
			}
			// And every byte of the PSS encoding of ps (the public
			// operation undone with the private key): trailer, hash,
			// masked DB with its zeros and 0x01 separator, salt.
			if pem, ok := prepared[ki].exp(ps); ok {
				for i := range pem {
					bad := append([]byte(nil), pem...)
					bad[i] ^= 0x80 >> (i % 8)
					f.Add(append(sel, 1), msg, rawRSA(k, bad))
				}
			}
			n := k.N.FillBytes(make([]byte, size))
			nPlus := new(big.Int).Add(k.N, big.NewInt(1)).FillBytes(make([]byte, size))
			for _, s := range [][]byte{make([]byte, size), n, nPlus, pk[:size-1], append(pk, 0), append([]byte{0}, pk...)} {
				f.Add(append(sel, 0), msg, s)
				f.Add(append(sel, 1), msg, s)
			}
		}
	}
	f.Fuzz(func(t *testing.T, sel, msg, sig []byte) {
		if len(sel) < 3 {
			return
		}
		ki, h, pss := int(sel[0])%len(keys), hashID(int(sel[1])%int(numHashes)), sel[2]%2 == 1
		pub := &keys[ki].PublicKey
		digest := h.sum(string(msg))
		var got, want bool
		if pss {
			got = prepared[ki].verifyPSS(h, string(msg), append([]byte(nil), sig...))
			want = rsa.VerifyPSS(pub, cryptoHash[h], digest, sig, &rsa.PSSOptions{SaltLength: rsa.PSSSaltLengthEqualsHash}) == nil
		} else {
			got = prepared[ki].verifyPKCS1v15(h, string(msg), sig)
			want = rsa.VerifyPKCS1v15(pub, cryptoHash[h], digest, sig) == nil
		}
		if got != want {
			t.Fatalf("key %d, hash %d, pss %v: native %v, standard library %v", ki, h, pss, got, want)
		}
	})
}

// FuzzHMACDifferential: the pooled, pre-keyed HMAC check agrees with
// hmac.New per call, for any secret, message and tag, and a tag it
// computes itself always verifies.
func FuzzHMACDifferential(f *testing.F) {
	f.Add([]byte("0123456789abcdef0123456789abcdef"), []byte("header.payload"), []byte{}, uint8(0))
	f.Add([]byte{}, []byte{}, make([]byte, 32), uint8(1))
	f.Add(make([]byte, 200), []byte("x"), make([]byte, 64), uint8(2))
	f.Fuzz(func(t *testing.T, secret, msg, tag []byte, hsel uint8) {
		h := hashID(int(hsel) % int(numHashes))
		k := prepareHMAC(secret)
		m := hmac.New([numHashes]func() hash.Hash{sha256.New, sha512.New384, sha512.New}[h], secret)
		m.Write(msg)
		mac := m.Sum(nil)
		for range 2 { // a pooled instance is reused correctly
			if got, want := k.verify(h, string(msg), tag), hmac.Equal(mac, tag); got != want {
				t.Fatalf("hash %d: native %v, hmac.New %v", h, got, want)
			}
			if !k.verify(h, string(msg), mac) {
				t.Fatalf("hash %d: its own tag does not verify", h)
			}
		}
	})
}

// FuzzEd25519Differential: the native Ed25519 check, with its point
// decoded once, agrees with ed25519.Verify for any key, message and
// signature (seeds: valid signatures, S = l, S ≥ l, R and S bit flips,
// small-order and non-canonical keys).
func FuzzEd25519Differential(f *testing.F) {
	priv := testkeys.Load().Ed25519
	pub := priv.Public().(ed25519.PublicKey)
	msg := []byte("eyJhbGciOiJFZERTQSJ9.eyJzdWIiOiJhbGljZSJ9")
	sig := ed25519.Sign(priv, msg)
	f.Add([]byte(pub), msg, sig)
	for i := 0; i < 64; i += 7 {
		bad := append([]byte(nil), sig...)
		bad[i] ^= 1
		f.Add([]byte(pub), msg, bad)
	}
	l := []byte{0xed, 0xd3, 0xf5, 0x5c, 0x1a, 0x63, 0x12, 0x58, 0xd6, 0x9c, 0xf7, 0xa2, 0xde, 0xf9, 0xde, 0x14,
		0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x10} // the group order, little-endian
	f.Add([]byte(pub), msg, append(append([]byte(nil), sig[:32]...), l...))
	f.Add(make([]byte, 32), msg, sig)                       // the identity's encoding? (y = 0)
	f.Add(append([]byte{1}, make([]byte, 31)...), msg, sig) // the identity (y = 1)
	f.Add(append(make([]byte, 31), 0x80), msg, sig)         // x sign bit on zero
	f.Add([]byte{0xed, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
		0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f}, msg, sig) // y = p: non-canonical
	f.Fuzz(func(t *testing.T, pubKey, msg, sig []byte) {
		if len(pubKey) != ed25519.PublicKeySize || len(sig) != ed25519.SignatureSize {
			return
		}
		want := ed25519.Verify(pubKey, msg, sig)
		got := false
		if k, err := prepareEd25519(pubKey); err == nil {
			got = k.verify(string(msg), sig)
		}
		if got != want {
			t.Fatalf("native %v, crypto/ed25519 %v", got, want)
		}
	})
}
