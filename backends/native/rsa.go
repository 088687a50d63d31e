package native

import (
	"bytes"
	"crypto/sha256"
	"crypto/sha512"
	"crypto/subtle"
	"hash"
	"unsafe"
)

// hashID names the three JWS hashes.
type hashID int

const (
	sha256ID hashID = iota
	sha384ID
	sha512ID
	numHashes
)

// hashOf returns the hash of a JWS algorithm.
func hashOf(alg string) (hashID, bool) {
	if len(alg) != 5 && alg != "EdDSA" {
		return 0, false
	}
	if alg == "EdDSA" {
		return sha512ID, true // unused: Ed25519 hashes itself
	}
	switch alg[2:] {
	case "256":
		return sha256ID, true
	case "384":
		return sha384ID, true
	case "512":
		return sha512ID, true
	}
	return 0, false
}

func (h hashID) size() int { return [...]int{32, 48, 64}[h] }

func (h hashID) new() hash.Hash {
	switch h {
	case sha256ID:
		return sha256.New()
	case sha384ID:
		return sha512.New384()
	}
	return sha512.New()
}

// sum returns the hash of s.
func (h hashID) sum(s string) []byte {
	b := bytesOf(s)
	switch h {
	case sha256ID:
		d := sha256.Sum256(b)
		return d[:]
	case sha384ID:
		d := sha512.Sum384(b)
		return d[:]
	}
	d := sha512.Sum512(b)
	return d[:]
}

// bytesOf returns the bytes of s without copying them, for the hash
// functions, which only read their input: the signing input is the
// token's first two segments, a string, and copying it would cost an
// allocation per verification. Nothing writes to the result.
func bytesOf(s string) []byte { return unsafe.Slice(unsafe.StringData(s), len(s)) }

// digestInfo is the DER DigestInfo prefix of each hash (RFC 8017 §9.2
// note 1), as crypto/rsa writes it.
var digestInfo = [numHashes][]byte{
	{0x30, 0x31, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x01, 0x05, 0x00, 0x04, 0x20},
	{0x30, 0x41, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x02, 0x05, 0x00, 0x04, 0x30},
	{0x30, 0x51, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x03, 0x05, 0x00, 0x04, 0x40},
}

// verifyPKCS1v15 reports whether sig is an RSASSA-PKCS1-v1_5 signature
// of input (RFC 8017 §8.2.2): s^e mod n must equal, byte for byte and
// compared in constant time, the encoding EMSA-PKCS1-v1_5 builds from the
// input's hash. Nothing of the decrypted block is parsed.
func (k *rsaKey) verifyPKCS1v15(h hashID, input string, sig []byte) bool {
	want := k.pkcs1[h]
	if want == nil || len(sig) != k.size {
		return false
	}
	em, ok := k.exp(sig)
	if !ok {
		return false
	}
	digest := h.sum(input)
	cut := len(want)
	return subtle.ConstantTimeCompare(em[:cut], want)&subtle.ConstantTimeCompare(em[cut:], digest) == 1
}

// verifyPSS reports whether sig is an RSASSA-PSS signature of input with
// MGF1 of the same hash and a salt as long as the hash (RFC 8017 §8.1.2
// and §9.1.2, RFC 7518 §3.5).
func (k *rsaKey) verifyPSS(h hashID, input string, sig []byte) bool {
	if len(sig) != k.size {
		return false
	}
	m, ok := k.exp(sig)
	if !ok {
		return false
	}
	emBits := k.bits - 1
	emLen := (emBits + 7) / 8
	// m is k.size bytes; EM is its last emLen, and what precedes must be
	// zero (RFC 8017 §8.1.2 step 2c: I2OSP(m, emLen)).
	for _, b := range m[:len(m)-emLen] {
		if b != 0 {
			return false
		}
	}
	em := m[len(m)-emLen:]
	hLen, sLen := h.size(), h.size()
	if emLen < hLen+sLen+2 || em[emLen-1] != 0xbc {
		return false
	}
	db, digest := em[:emLen-hLen-1], em[emLen-hLen-1:emLen-1]
	topBits := uint(8*emLen - emBits)
	if db[0]>>(8-topBits) != 0 {
		return false
	}
	mgf1XOR(db, h, digest)
	db[0] &= 0xff >> topBits
	ps := emLen - hLen - sLen - 2
	for _, b := range db[:ps] {
		if b != 0 {
			return false
		}
	}
	if db[ps] != 0x01 {
		return false
	}
	salt := db[len(db)-sLen:]
	mHash := h.sum(input)
	hh := h.new()
	var zeros [8]byte
	hh.Write(zeros[:])
	hh.Write(mHash)
	hh.Write(salt)
	var buf [64]byte
	return bytes.Equal(hh.Sum(buf[:0]), digest)
}

// mgf1XOR XORs out with MGF1(seed) under h (RFC 8017 §B.2.1).
func mgf1XOR(out []byte, h hashID, seed []byte) {
	hh := h.new()
	var counter [4]byte
	var buf [64]byte
	done := 0
	for done < len(out) {
		hh.Reset()
		hh.Write(seed)
		hh.Write(counter[:])
		d := hh.Sum(buf[:0])
		for i := 0; i < len(d) && done < len(out); i++ {
			out[done] ^= d[i]
			done++
		}
		for i := 3; i >= 0; i-- {
			counter[i]++
			if counter[i] != 0 {
				break
			}
		}
	}
}
