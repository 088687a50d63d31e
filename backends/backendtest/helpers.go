package backendtest

import (
	"crypto/elliptic"
	"crypto/rsa"
	"encoding/json"
	"encoding/pem"

	"github.com/jwtverify/jwtverify/internal/b64url"
	"github.com/jwtverify/jwtverify/internal/mint"
)

func decode(s string) []byte {
	b, err := b64url.DecodeString(s)
	if err != nil {
		panic(err)
	}
	return b
}

// flip returns b with its first bit flipped, as a string.
func flip(b []byte) string {
	out := append([]byte(nil), b...)
	out[0] ^= 1
	return string(out)
}

// flipChar changes the first character of a base64url suffix to another
// letter.
func flipChar(s string) string {
	if s[0] == 'A' {
		return "B" + s[1:]
	}
	return "A" + s[1:]
}

// nonCanonical re-encodes a base64url segment whose last character carries
// unused bits, setting one of them: it decodes to the same bytes under a
// lenient decoder (signature malleability).
func nonCanonical(s string) string {
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
	if len(s)%4 == 0 {
		panic("segment has no spare bits")
	}
	last := s[len(s)-1]
	i := 0
	for alphabet[i] != last {
		i++
	}
	return s[:len(s)-1] + string(alphabet[i|1])
}

func pemBody(p []byte) []byte {
	block, _ := pem.Decode(p)
	return block.Bytes
}

func jwkJSON(pub *rsa.PublicKey) []byte {
	m, err := mint.JWK(pub, "rsa-1", "")
	if err != nil {
		panic(err)
	}
	b, _ := json.Marshal(m)
	return b
}

func jwkK(raw []byte) string {
	var v struct{ K string }
	_ = json.Unmarshal(raw, &v)
	return v.K
}

func p256N() []byte { return elliptic.P256().Params().N.Bytes() }

// toDER converts a 64-byte r‖s signature to ASN.1 DER, the form JWS forbids.
func toDER(sig []byte) []byte {
	intDER := func(b []byte) []byte {
		for len(b) > 1 && b[0] == 0 {
			b = b[1:]
		}
		if b[0]&0x80 != 0 {
			b = append([]byte{0}, b...)
		}
		return append([]byte{2, byte(len(b))}, b...)
	}
	body := append(intDER(sig[:32]), intDER(sig[32:])...)
	return append([]byte{0x30, byte(len(body))}, body...)
}
