package native_test

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/hmac"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/sha512"
	"hash"
	"math/big"
	"testing"

	"github.com/jwtverify/jwtverify/backends/native"
	"github.com/jwtverify/jwtverify/internal/testkeys"
)

// TestDirectUseRefusesBadKeys: the Backend used directly (not through
// jwtverify.Verifier, whose keys NewPublicKey has checked) refuses the keys
// crypto/rsa and crypto/ecdsa refuse, with an error, never a panic, and
// never accepts the trivial forgeries exponents 0 and 1 allow.
func TestDirectUseRefusesBadKeys(t *testing.T) {
	ks := testkeys.Load()
	input := "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJhbGljZSJ9"
	n := ks.RSA1.N
	even := new(big.Int).Add(n, big.NewInt(1))
	small, _ := rsa.GenerateKey(rand.Reader, 1024)
	// The PKCS #1 v1.5 encoding itself: a valid "signature" when e is 0 or 1.
	digest := sha256.Sum256([]byte(input))
	real, _ := rsa.SignPKCS1v15(rand.Reader, ks.RSA1, crypto.SHA256, digest[:])
	em := new(big.Int).Exp(new(big.Int).SetBytes(real), big.NewInt(65537), n).FillBytes(make([]byte, 256))
	for name, key := range map[string]any{
		"e = 0":         &rsa.PublicKey{N: n, E: 0},
		"e = 1":         &rsa.PublicKey{N: n, E: 1},
		"even e":        &rsa.PublicKey{N: n, E: 65536},
		"even modulus":  &rsa.PublicKey{N: even, E: 65537},
		"1024-bit key":  &small.PublicKey,
		"nil modulus":   &rsa.PublicKey{E: 65537},
		"nil RSA key":   (*rsa.PublicKey)(nil),
		"nil EC key":    (*ecdsa.PublicKey)(nil),
		"unsupported":   "a string",
		"empty EC key":  &ecdsa.PublicKey{},
		"short Ed25519": []int{1},
	} {
		t.Run(name, func(t *testing.T) {
			defer func() {
				if r := recover(); r != nil {
					t.Fatalf("panic: %v", r)
				}
			}()
			for _, alg := range []string{"RS256", "PS256", "ES256"} {
				if err := (native.Backend{}).VerifySignature(alg, key, input, em); err == nil {
					t.Fatalf("%s accepted", alg)
				}
			}
		})
	}
}

// TestDirectUseECDSA: an ES algorithm must match the key's curve, and r || s
// must be exactly twice the curve's size: ES512 on a P-256 key and a
// zero-padded signature are refused, as crypto/ecdsa through golang-jwt
// refuses them.
func TestDirectUseECDSA(t *testing.T) {
	k := testkeys.Load().P256
	input := "eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiJhbGljZSJ9"
	sign := func(digest []byte) []byte {
		r, s, err := ecdsa.Sign(rand.Reader, k, digest)
		if err != nil {
			t.Fatal(err)
		}
		return append(r.FillBytes(make([]byte, 32)), s.FillBytes(make([]byte, 32))...)
	}
	d256 := sha256.Sum256([]byte(input))
	d512 := sha512.Sum512([]byte(input))
	good, es512 := sign(d256[:]), sign(d512[:])
	var b native.Backend
	if err := b.VerifySignature("ES256", &k.PublicKey, input, good); err != nil {
		t.Fatalf("valid ES256: %v", err)
	}
	if err := b.VerifySignature("ES512", &k.PublicKey, input, es512); err == nil {
		t.Error("ES512 on a P-256 key accepted")
	}
	padded := append(append(append([]byte{0}, good[:32]...), 0), good[32:]...)
	if err := b.VerifySignature("ES256", &k.PublicKey, input, padded); err == nil {
		t.Error("zero-padded r || s accepted")
	}
}

// TestPreparedHMACAllocatesNothing: a verification with a prepared secret
// reuses a pooled, keyed instance and its sum buffer, for each hash.
func TestPreparedHMACAllocatesNothing(t *testing.T) {
	secret := testkeys.Load().HMAC
	var b native.Backend
	state, err := b.Prepare(secret)
	if err != nil {
		t.Fatal(err)
	}
	input := "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJhbGljZSJ9"
	for alg, sum := range map[string]func([]byte) []byte{
		"HS256": func(b []byte) []byte { m := hmacOf(crypto.SHA256, secret); m.Write(b); return m.Sum(nil) },
		"HS512": func(b []byte) []byte { m := hmacOf(crypto.SHA512, secret); m.Write(b); return m.Sum(nil) },
	} {
		sig := sum([]byte(input))
		if err := b.VerifyPrepared(alg, state, input, sig); err != nil {
			t.Fatalf("%s: %v", alg, err)
		}
		if raceDetector {
			continue
		}
		if n := testing.AllocsPerRun(100, func() { b.VerifyPrepared(alg, state, input, sig) }); n != 0 {
			t.Errorf("%s: %v allocations per verification, want 0", alg, n)
		}
	}
}

func hmacOf(h crypto.Hash, secret []byte) hash.Hash { return hmac.New(h.New, secret) }
