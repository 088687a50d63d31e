package jwtverify_test

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	mrand "math/rand/v2"
	"strings"
	"testing"

	"github.com/jwtverify/jwtverify"
	"github.com/jwtverify/jwtverify/backends/golangjwt"
	"github.com/jwtverify/jwtverify/internal/testkeys"
	"github.com/jwtverify/jwtverify/keyset"
)

// rocaPrimes are the primes below 168, those of the published ROCA test.
func rocaPrimes() []int64 {
	var ps []int64
	for p := int64(2); p < 168; p++ {
		if big.NewInt(p).ProbablyPrime(0) {
			ps = append(ps, p)
		}
	}
	return ps
}

// primorial is the product of the first k primes.
func primorial(k int) *big.Int {
	m := big.NewInt(1)
	for p := int64(2); k > 0; p++ {
		if big.NewInt(p).ProbablyPrime(0) {
			m.Mul(m, big.NewInt(p))
			k--
		}
	}
	return m
}

// randBelow returns a number in [0, max) from r.
func randBelow(r *mrand.ChaCha8, max *big.Int) *big.Int {
	buf := make([]byte, (max.BitLen()+7)/8+8)
	r.Read(buf)
	return new(big.Int).Mod(new(big.Int).SetBytes(buf), max)
}

// rocaPrime returns a 1024-bit prime of the form RSALib generated,
// k*M + (65537^a mod M), and a.
func rocaPrime(t *testing.T, r *mrand.ChaCha8, m *big.Int) (*big.Int, int64) {
	t.Helper()
	lo := new(big.Int).Lsh(big.NewInt(3), 1022) // 1.5 * 2^1023: n = p*q has 2048 bits
	hi := new(big.Int).Lsh(big.NewInt(1), 1024)
	kLo := new(big.Int).Div(lo, m)
	kSpan := new(big.Int).Sub(new(big.Int).Div(hi, m), kLo)
	for range 100000 {
		a := int64(1 + r.Uint64()%(1<<20))
		g := new(big.Int).Exp(big.NewInt(65537), big.NewInt(a), m)
		k := new(big.Int).Add(kLo, randBelow(r, kSpan))
		p := k.Mul(k, m).Add(k, g)
		if p.BitLen() == 1024 && p.ProbablyPrime(20) {
			return p, a
		}
	}
	t.Fatal("no ROCA-form prime found")
	return nil, 0
}

// TestROCAKeyRefused builds an RSA key the way the vulnerable RSALib did:
// two primes k*M + (65537^a mod M), M the product of the first 126 primes.
// Its modulus is refused, as a jwtverify.NewPublicKey, an SPKI PEM and a
// JWK, and the error gives the reason without key material.
func TestROCAKeyRefused(t *testing.T) {
	r := mrand.NewChaCha8([32]byte{'r', 'o', 'c', 'a'})
	m := primorial(126)
	p, a1 := rocaPrime(t, r, m)
	q, a2 := rocaPrime(t, r, m)
	n := new(big.Int).Mul(p, q)
	// The structure the fingerprint sees: n = 65537^(a1+a2) mod M.
	if want := new(big.Int).Exp(big.NewInt(65537), big.NewInt(a1+a2), m); n.BitLen() != 2048 || new(big.Int).Mod(n, m).Cmp(want) != 0 {
		t.Fatalf("constructed modulus has %d bits or is not 65537^a mod M", n.BitLen())
	}
	pub := &rsa.PublicKey{N: n, E: 65537}
	nBytes := n.Bytes()
	hexPrefix := fmt.Sprintf("%x", nBytes[:8])

	_, err := jwtverify.NewPublicKey("k", "", pub)
	if !errors.Is(err, jwtverify.ErrInvalidConfig) || !strings.Contains(err.Error(), "ROCA fingerprint") {
		t.Fatalf("NewPublicKey(ROCA modulus) = %v, want ErrInvalidConfig naming ROCA", err)
	}
	_, errPEM := keyset.ParsePEM(testkeys.PublicPEM(pub))
	jwk, _ := json.Marshal(map[string]string{"kty": "RSA", "kid": "roca", "n": base64.RawURLEncoding.EncodeToString(nBytes), "e": "AQAB"})
	_, errJWK := keyset.ParseJWK(jwk)
	for what, err := range map[string]error{"ParsePEM": errPEM, "ParseJWK": errJWK} {
		if !errors.Is(err, keyset.ErrInvalidKey) || !strings.Contains(err.Error(), "ROCA fingerprint") {
			t.Fatalf("%s(ROCA modulus) = %v, want ErrInvalidKey naming ROCA", what, err)
		}
	}
	for _, err := range []error{err, errPEM, errJWK} {
		for _, leak := range []string{hexPrefix, base64.RawURLEncoding.EncodeToString(nBytes[:12]), n.String()[:16]} {
			if strings.Contains(err.Error(), leak) {
				t.Fatalf("error %q shows the modulus", err)
			}
		}
	}

	// A modulus made of one such prime and one ordinary prime has no
	// fingerprint: it takes both.
	ordinary, err := rand.Prime(rand.Reader, 1024)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := jwtverify.NewPublicKey("", "", &rsa.PublicKey{N: new(big.Int).Mul(p, ordinary), E: 65537}); err != nil {
		t.Fatalf("half-ROCA modulus refused: %v", err)
	}
}

// TestROCAFingerprintEachPrime checks each prime of the fingerprint on its
// own with moduli built by the Chinese remainder theorem: a power of 65537
// modulo every prime below 168 is refused; the same with its residue moved
// out of that subgroup modulo any one prime whose subgroup is proper is
// accepted; a residue of 0 modulo any of them (a small factor) is refused.
func TestROCAFingerprintEachPrime(t *testing.T) {
	r := mrand.NewChaCha8([32]byte{'c', 'r', 't'})
	primes := rocaPrimes()
	if len(primes) != 39 || primes[38] != 167 {
		t.Fatalf("primes = %v", primes)
	}
	m := primorial(len(primes))
	base := new(big.Int).Exp(big.NewInt(65537), big.NewInt(12345), m)
	// lift returns a 2048-bit number with the residues of x modulo m.
	lift := func(x *big.Int) *big.Int {
		top := new(big.Int).Lsh(big.NewInt(1), 2047)
		k := new(big.Int).Div(top, m)
		k.Add(k, randBelow(r, new(big.Int).Div(top, m)))
		return k.Mul(k, m).Add(k, x)
	}
	check := func(name string, x *big.Int, want string) {
		t.Helper()
		n := lift(x)
		if n.BitLen() != 2048 {
			t.Fatalf("%s: %d bits", name, n.BitLen())
		}
		_, err := jwtverify.NewPublicKey("", "", &rsa.PublicKey{N: n, E: 65537})
		switch {
		case want == "" && err != nil:
			t.Errorf("%s: NewPublicKey = %v, want accepted", name, err)
		case want != "" && (!errors.Is(err, jwtverify.ErrInvalidConfig) || !strings.Contains(err.Error(), want)):
			t.Errorf("%s: NewPublicKey = %v, want %q", name, err, want)
		}
	}
	check("power of 65537 modulo every prime", base, "ROCA fingerprint")

	proper := 0
	for _, p := range primes {
		bp := big.NewInt(p)
		// cofactor is 1 modulo p and 0 modulo the other primes.
		cofactor := new(big.Int).Div(m, bp)
		cofactor.Mul(cofactor, new(big.Int).ModInverse(new(big.Int).Mod(cofactor, bp), bp))
		withResidue := func(res int64) *big.Int {
			cur := new(big.Int).Mod(base, bp)
			delta := new(big.Int).Sub(big.NewInt(res), cur)
			x := new(big.Int).Add(base, delta.Mul(delta, cofactor))
			return x.Mod(x, m)
		}
		check(fmt.Sprintf("factor %d", p), withResidue(0), "prime factor below 168")
		// The subgroup 65537 generates modulo p, computed by powers.
		in := map[int64]bool{}
		g := new(big.Int).Mod(big.NewInt(65537), bp)
		for y := big.NewInt(1); !in[y.Int64()]; y.Mul(y, g).Mod(y, bp) {
			in[y.Int64()] = true
		}
		for res := int64(1); res < p; res++ {
			if !in[res] {
				check(fmt.Sprintf("residue %d modulo %d outside the subgroup", res, p), withResidue(res), "")
				proper++
				break
			}
		}
	}
	// For the other 22 primes 65537 generates every nonzero residue: only
	// 17 conditions (11, 13, 17, 19, 37, 53, …, 157) distinguish the keys.
	if proper != 17 {
		t.Fatalf("%d primes with a proper subgroup tested, want 17", proper)
	}

	// The first prime above the list is no small factor.
	n := oddCoprime(r, m, 2041)
	n.Mul(n, big.NewInt(173))
	if _, err := jwtverify.NewPublicKey("", "", &rsa.PublicKey{N: n, E: 65537}); n.BitLen() < 2048 || err != nil {
		t.Errorf("modulus of %d bits whose smallest factor is 173 refused: %v", n.BitLen(), err)
	}
}

// oddCoprime returns a number of the given bit length with no prime factor
// that divides m (2 included).
func oddCoprime(r *mrand.ChaCha8, m *big.Int, bits int) *big.Int {
	top := new(big.Int).Lsh(big.NewInt(1), uint(bits-1))
	x := randBelow(r, top)
	x.Add(x, top).SetBit(x, 0, 1)
	for new(big.Int).GCD(nil, nil, x, m).Cmp(big.NewInt(1)) != 0 {
		x.Add(x, big.NewInt(2))
	}
	return x
}

// TestOrdinaryRSAKeysAccepted: the fixture keys and freshly generated ones
// have no small factor and no ROCA fingerprint.
func TestOrdinaryRSAKeysAccepted(t *testing.T) {
	ks := testkeys.Load()
	pubs := []*rsa.PublicKey{&ks.RSA1.PublicKey, &ks.RSA2.PublicKey}
	for range 2 {
		k, err := rsa.GenerateKey(rand.Reader, 2048)
		if err != nil {
			t.Fatal(err)
		}
		pubs = append(pubs, &k.PublicKey)
	}
	k3072, err := rsa.GenerateKey(rand.Reader, 3072)
	if err != nil {
		t.Fatal(err)
	}
	pubs = append(pubs, &k3072.PublicKey)
	for i, pub := range pubs {
		if _, err := jwtverify.NewPublicKey("", "", pub); err != nil {
			t.Errorf("key %d refused: %v", i, err)
		}
	}
}

// TestClaimNamesEqualUnderFolding: a signed token whose header or payload
// has two names that encoding/json matches to one struct field is
// malformed, so Claims.Decode (encoding/json) and the core never read
// different members; the error shows neither the names nor the values.
func TestClaimNamesEqualUnderFolding(t *testing.T) {
	f := fixture(t)
	v, err := golangjwt.New(f.Config())
	if err != nil {
		t.Fatal(err)
	}
	claims := `"iss":"https://issuer.example","aud":"api","exp":1893456000`
	for name, tt := range map[string]struct{ header, payload string }{
		"sub and Sub":          {`{"alg":"ES256","kid":"ec-256"}`, `{` + claims + `,"sub":"alice","Sub":"admin"}`},
		"sub and escaped Sub":  {`{"alg":"ES256","kid":"ec-256"}`, `{` + claims + `,"sub":"alice","\u0053ub":"admin"}`},
		"sub and long-s sub":   {`{"alg":"ES256","kid":"ec-256"}`, `{` + claims + `,"sub":"alice","` + "\u017f" + `ub":"admin"}`},
		"nested role and Role": {`{"alg":"ES256","kid":"ec-256"}`, `{` + claims + `,"org":{"role":"user","Role":"admin"}}`},
		"iss and ISS":          {`{"alg":"ES256","kid":"ec-256"}`, `{` + claims + `,"ISS":"https://evil.example"}`},
		"kid and Kelvin kid":   {`{"alg":"ES256","kid":"ec-256","` + "\u212a" + `id":"admin"}`, `{` + claims + `}`},
	} {
		tok := f.SignRaw("ES256", "ec-256", tt.header, tt.payload)
		_, err := v.Verify(context.Background(), tok)
		if !errors.Is(err, jwtverify.ErrMalformed) {
			t.Errorf("%s: Verify = %v, want malformed", name, err)
			continue
		}
		for _, leak := range []string{"alice", "admin", "Sub", "Role", "ISS", "evil", "\u017f", "\u212a"} {
			if strings.Contains(err.Error(), leak) {
				t.Errorf("%s: error %q echoes token content %q", name, err, leak)
			}
		}
	}
	// The same names one level apart are two claims, not one.
	tok := f.SignRaw("ES256", "ec-256", `{"alg":"ES256","kid":"ec-256"}`, `{`+claims+`,"sub":"alice","org":{"Sub":"x"}}`)
	got, err := v.Verify(context.Background(), tok)
	if err != nil {
		t.Fatalf("names at different depths: %v", err)
	}
	var custom struct{ Sub string }
	if err := got.Claims.Decode(&custom); err != nil || custom.Sub != got.Claims.Subject {
		t.Fatalf("Decode sub = %q, %v; core %q", custom.Sub, err, got.Claims.Subject)
	}
}

// BenchmarkNewPublicKey measures key admission, which runs the RSA
// modulus checks (size, exponent, small factors, ROCA fingerprint).
func BenchmarkNewPublicKey(b *testing.B) {
	ks := testkeys.Load()
	// NewPublicKey does not test primality: a 4096-bit modulus without
	// small factors stands in for a real key.
	n4096 := oddCoprime(mrand.NewChaCha8([32]byte{}), primorial(39), 4096)
	for name, pub := range map[string]*rsa.PublicKey{"RSA2048": &ks.RSA1.PublicKey, "RSA4096": {N: n4096, E: 65537}} {
		b.Run(name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := jwtverify.NewPublicKey("", "", pub); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
