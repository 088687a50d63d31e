package backendtest

import (
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"fmt"
	"math/big"
	"strings"

	"github.com/jwtverify/jwtverify"
)

// edgeCases are the signature edge cases that the Wycheproof vectors
// exercise, rebuilt from the committed test keys so that they run in every
// go test, with or without the vectors: PSS salt lengths, the wrong RSA
// padding for the algorithm, out-of-range RSA, ECDSA and Ed25519 signature
// values, and PKCS #1 v1.5 encodings other than the one RFC 8017 §9.2
// defines.
func (f *Fixture) edgeCases(c map[string]any) []Case {
	var cases []Case
	add := func(name, tok string, want error) {
		cases = append(cases, Case{Name: name, Token: tok, Want: want})
	}
	payload, err := json.Marshal(c)
	if err != nil {
		panic(err)
	}

	// RFC 7518 §3.5: the PSS salt is as long as the hash, and MGF1 uses
	// the same hash. Salts of other lengths verify under
	// rsa.PSSSaltLengthAuto, which is what both libraries use by default.
	for _, alg := range []string{"PS256", "PS384", "PS512"} {
		h := hashOf(alg)
		add(fmt.Sprintf("valid/%s-salt-%d-hash-length", alg, h.Size()), f.signPSS(alg, h.Size(), h, payload), nil)
		maxSalt := f.signer[algKid[alg]].(*rsa.PrivateKey).Size() - h.Size() - 2
		for _, salt := range []int{0, 1, 20, h.Size() - 1, h.Size() + 1, maxSalt} {
			add(fmt.Sprintf("signature/%s-salt-%d", alg, salt), f.signPSS(alg, salt, h, payload), jwtverify.ErrSignature)
		}
	}
	add("signature/PS256-mgf1-sha384", f.signPSS("PS256", 32, crypto.SHA384, payload), jwtverify.ErrSignature)

	// The other RSA padding under the same hash and key.
	add("signature/PS256-header-pkcs1-signature", f.SignRaw("RS256", "rsa-2", `{"alg":"PS256","kid":"rsa-2"}`, string(payload)), jwtverify.ErrSignature)
	add("signature/RS256-header-pss-signature", f.SignRaw("PS256", "rsa-1", `{"alg":"RS256","kid":"rsa-1"}`, string(payload)), jwtverify.ErrSignature)

	// RSA signatures that are not below the modulus, or are trivial.
	rsa1 := &f.Keys.RSA1.PublicKey
	rsHeader := b64(`{"alg":"RS256","kid":"rsa-1"}`)
	size := rsa1.Size()
	add("signature/rs256-zero", join(rsHeader, b64(string(payload)), b64(string(make([]byte, size)))), jwtverify.ErrSignature)
	add("signature/rs256-one", join(rsHeader, b64(string(payload)), b64(string(big.NewInt(1).FillBytes(make([]byte, size))))), jwtverify.ErrSignature)
	add("signature/rs256-modulus", join(rsHeader, b64(string(payload)), b64(string(rsa1.N.FillBytes(make([]byte, size))))), jwtverify.ErrSignature)

	// PKCS #1 v1.5 encodings a lenient parser accepts: a DigestInfo without
	// the NULL parameters (Wycheproof "MissingNull", result "acceptable";
	// refused here), and one with trailing garbage after the digest. The
	// first case, the encoding RFC 8017 §9.2 defines made the same way,
	// shows that only the encoding differs.
	input := rsHeader + "." + b64(string(payload))
	sum := digest(crypto.SHA256, []byte(input))
	sha256Prefix := []byte{0x30, 0x31, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x01, 0x05, 0x00, 0x04, 0x20}
	sha256NoNull := []byte{0x30, 0x2f, 0x30, 0x0b, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x01, 0x04, 0x20}
	for name, t := range map[string][]byte{
		"valid/rs256-digestinfo-made-by-hand":         append(append([]byte(nil), sha256Prefix...), sum...),
		"signature/rs256-digestinfo-without-null":     append(append([]byte(nil), sha256NoNull...), sum...),
		"signature/rs256-digestinfo-trailing-garbage": append(append(append([]byte(nil), sha256Prefix...), sum...), 0),
	} {
		var want error = jwtverify.ErrSignature
		if strings.HasPrefix(name, "valid/") {
			want = nil
		}
		add(name, join(rsHeader, b64(string(payload)), b64(string(rawPKCS1(f.Keys.RSA1, t)))), want)
	}

	// ECDSA: r or s out of [1, n-1], and the range check on P-521, where
	// s + n still fits in the 66-byte field of the JWS encoding.
	es := segs(f.Sign("ES256", nil, c))
	rs := decode(es[2])
	n256 := p256N()
	one := big.NewInt(1).FillBytes(make([]byte, 32))
	for name, sig := range map[string][]byte{
		"r-zero":      append(make([]byte, 32), rs[32:]...),
		"s-zero":      append(append([]byte(nil), rs[:32]...), make([]byte, 32)...),
		"r-n":         append(append([]byte(nil), n256...), rs[32:]...),
		"s-n":         append(append([]byte(nil), rs[:32]...), n256...),
		"r-one-s-one": append(append([]byte(nil), one...), one...),
		"all-ff":      repeat(0xff, 64),
	} {
		add("signature/ecdsa-"+name, join(es[0], es[1], b64(string(sig))), jwtverify.ErrSignature)
	}
	// The malleable twin (r, n-s) is a valid ECDSA signature; JWS does not
	// require low s, and both backends accept it alike.
	s := new(big.Int).SetBytes(rs[32:])
	twin := append(append([]byte(nil), rs[:32]...), new(big.Int).Sub(new(big.Int).SetBytes(n256), s).FillBytes(make([]byte, 32))...)
	add("valid/ecdsa-high-s-twin", join(es[0], es[1], b64(string(twin))), nil)

	e5 := segs(f.Sign("ES512", nil, c))
	rs5 := decode(e5[2])
	n521 := f.Keys.P521.Curve.Params().N
	sPlusN := new(big.Int).Add(new(big.Int).SetBytes(rs5[66:]), n521).FillBytes(make([]byte, 66))
	add("signature/ecdsa-p521-s-plus-n", join(e5[0], e5[1], b64(string(append(append([]byte(nil), rs5[:66]...), sPlusN...)))), jwtverify.ErrSignature)
	rPlusN := new(big.Int).Add(new(big.Int).SetBytes(rs5[:66]), n521).FillBytes(make([]byte, 66))
	add("signature/ecdsa-p521-r-plus-n", join(e5[0], e5[1], b64(string(append(rPlusN, rs5[66:]...)))), jwtverify.ErrSignature)

	// Ed25519: S must be below the group order L (RFC 8032 §5.1.7); S + L
	// is the non-canonical, malleable form of the same signature.
	ed := segs(f.Sign("EdDSA", nil, c))
	sig := decode(ed[2])
	add("signature/eddsa-s-plus-l", join(ed[0], ed[1], b64(string(append(append([]byte(nil), sig[:32]...), addL(sig[32:])...)))), jwtverify.ErrSignature)
	add("signature/eddsa-zero", join(ed[0], ed[1], b64(string(make([]byte, 64)))), jwtverify.ErrSignature)
	return cases
}

// signPSS returns a compact JWS of payload for alg (PS256, PS384, PS512)
// with the fixture key of alg, a salt of saltLen bytes and MGF1 over mgf.
func (f *Fixture) signPSS(alg string, saltLen int, mgf crypto.Hash, payload []byte) string {
	kid := algKid[alg]
	input := b64(`{"alg":"`+alg+`","kid":"`+kid+`"}`) + "." + b64(string(payload))
	sig := pssSign(f.signer[kid].(*rsa.PrivateKey), hashOf(alg), mgf, saltLen, []byte(input))
	return input + "." + b64(string(sig))
}

// pssSign signs msg with key by EMSA-PSS (RFC 8017 §9.1.1) with hash, a
// random salt of saltLen bytes and MGF1 over mgf. crypto/rsa cannot make
// every such signature: its SignPSS reads a salt length of 0 as "the
// longest", and its MGF1 always uses the message hash.
func pssSign(key *rsa.PrivateKey, hash, mgf crypto.Hash, saltLen int, msg []byte) []byte {
	salt := make([]byte, saltLen)
	if _, err := rand.Read(salt); err != nil {
		panic(err)
	}
	emBits := key.N.BitLen() - 1
	emLen := (emBits + 7) / 8
	h := digest(hash, append(append(make([]byte, 8), digest(hash, msg)...), salt...))
	db := make([]byte, emLen-hash.Size()-1)
	db[len(db)-saltLen-1] = 1
	copy(db[len(db)-saltLen:], salt)
	// MGF1 (RFC 8017 §B.2.1): db ^= mgf(h || counter) for counter 0, 1, ...
	for counter, i := uint32(0), 0; i < len(db); counter++ {
		block := digest(mgf, append(append([]byte(nil), h...), byte(counter>>24), byte(counter>>16), byte(counter>>8), byte(counter)))
		for j := 0; j < len(block) && i < len(db); j, i = j+1, i+1 {
			db[i] ^= block[j]
		}
	}
	db[0] &= 0xff >> (8*emLen - emBits)
	return rawRSA(key, append(append(db, h...), 0xbc))
}

func digest(h crypto.Hash, data []byte) []byte {
	d := h.New()
	d.Write(data)
	return d.Sum(nil)
}

// hashOf returns the hash of an RS, PS, ES or HS algorithm.
func hashOf(alg string) crypto.Hash {
	switch alg[2:] {
	case "384":
		return crypto.SHA384
	case "512":
		return crypto.SHA512
	}
	return crypto.SHA256
}

// rawPKCS1 signs the EMSA-PKCS1-v1_5 padding of t (RFC 8017 §9.2 step 5)
// for any t, well-formed or not.
func rawPKCS1(k *rsa.PrivateKey, t []byte) []byte {
	size := k.Size()
	em := repeat(0xff, size)
	em[0], em[1] = 0, 1
	em[size-len(t)-1] = 0
	copy(em[size-len(t):], t)
	return rawRSA(k, em)
}

// rawRSA is the RSA private operation on the encoded message em, as a
// signature of the key's size.
func rawRSA(k *rsa.PrivateKey, em []byte) []byte {
	return new(big.Int).Exp(new(big.Int).SetBytes(em), k.D, k.N).FillBytes(make([]byte, k.Size()))
}

func repeat(b byte, n int) []byte {
	out := make([]byte, n)
	for i := range out {
		out[i] = b
	}
	return out
}

// addL returns the 32-byte little-endian s + L, L the order of the
// Ed25519 base point.
func addL(s []byte) []byte {
	l, _ := new(big.Int).SetString("7237005577332262213973186563042994240857116359379907606001950938285454250989", 10)
	le := func(b []byte) []byte {
		out := make([]byte, len(b))
		for i := range b {
			out[len(b)-1-i] = b[i]
		}
		return out
	}
	sum := new(big.Int).Add(new(big.Int).SetBytes(le(s)), l)
	return le(sum.FillBytes(make([]byte, 32)))
}
