// Package b64url decodes base64url (RFC 4648 §5) without padding, strictly:
// only the 64 alphabet characters, no padding, no whitespace or line breaks,
// and canonical trailing bits. encoding/base64 skips '\r' and '\n' even in
// strict mode, which is why the token path uses this decoder instead.
//
// The decoder uses pre-shifted lookup tables, as in Chromium's modp_b64:
// decodeTable[k][c] (tables.go) holds the 6-bit value of c already shifted
// to its place as the k-th character of a 24-bit group, and 0xffffffff for
// a character outside the alphabet. Four characters a, b, c, d then decode
// to decodeTable[0][a] | decodeTable[1][b] | decodeTable[2][c] |
// decodeTable[3][d], and a result above 0xffffff means one of them is
// invalid. The main loop decodes 16 characters (four groups) per iteration
// with one validity test and stores the 12 bytes with an 8-byte and a 4-byte
// big-endian store.
package b64url

import (
	"encoding/binary"
	"errors"
)

// ErrInvalid reports input that is not strict unpadded base64url.
var ErrInvalid = errors.New("invalid base64url")

// DecodedLen returns the number of bytes n characters decode to, and false
// when no valid encoding has that length (n%4 == 1).
func DecodedLen(n int) (int, bool) {
	if n%4 == 1 {
		return 0, false
	}
	return n/4*3 + (n%4*6)/8, true
}

// Decode decodes s into dst, which must have room for DecodedLen(len(s))
// bytes, and returns the decoded prefix of dst. It writes nothing past that
// prefix; on error the prefix's contents are unspecified.
func Decode(dst []byte, s string) ([]byte, error) {
	n, ok := DecodedLen(len(s))
	if !ok || len(dst) < n || !decode(&decodeTable, dst[:n], s) {
		return nil, ErrInvalid
	}
	return dst[:n], nil
}

// decode decodes s into dst, which is exactly DecodedLen(len(s)) bytes
// long, and reports whether s is valid. It takes the table as an argument
// so that the compiler keeps its address in a register instead of
// recomputing the address of each row in the loop.
func decode(t *[4][256]uint32, dst []byte, s string) bool {
	i, j := 0, 0
	// The test on j always holds; it lets the compiler drop bounds checks.
	for ; i <= len(s)-16 && j <= len(dst)-12; i, j = i+16, j+12 {
		a := t[0][s[i]] | t[1][s[i+1]] | t[2][s[i+2]] | t[3][s[i+3]]
		b := t[0][s[i+4]] | t[1][s[i+5]] | t[2][s[i+6]] | t[3][s[i+7]]
		c := t[0][s[i+8]] | t[1][s[i+9]] | t[2][s[i+10]] | t[3][s[i+11]]
		d := t[0][s[i+12]] | t[1][s[i+13]] | t[2][s[i+14]] | t[3][s[i+15]]
		if a|b|c|d > 0xffffff {
			return false
		}
		binary.BigEndian.PutUint64(dst[j:], uint64(a)<<40|uint64(b)<<16|uint64(c)>>8)
		binary.BigEndian.PutUint32(dst[j+8:], c<<24|d)
	}
	for ; i <= len(s)-4; i, j = i+4, j+3 {
		a := t[0][s[i]] | t[1][s[i+1]] | t[2][s[i+2]] | t[3][s[i+3]]
		if a > 0xffffff {
			return false
		}
		dst[j], dst[j+1], dst[j+2] = byte(a>>16), byte(a>>8), byte(a)
	}
	// The unused low bits of the last character must be zero: bits 15..12
	// of the group after two characters, bits 7..6 after three.
	switch len(s) - i {
	case 2:
		a := t[0][s[i]] | t[1][s[i+1]]
		if a&0xff00ffff != 0 {
			return false
		}
		dst[j] = byte(a >> 16)
	case 3:
		a := t[0][s[i]] | t[1][s[i+1]] | t[2][s[i+2]]
		if a&0xff0000ff != 0 {
			return false
		}
		dst[j], dst[j+1] = byte(a>>16), byte(a>>8)
	}
	return true
}

// DecodeString decodes s into a new slice.
func DecodeString(s string) ([]byte, error) {
	n, ok := DecodedLen(len(s))
	if !ok {
		return nil, ErrInvalid
	}
	return Decode(make([]byte, n), s)
}
