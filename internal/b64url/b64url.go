// Package b64url decodes base64url (RFC 4648 §5) without padding, strictly:
// only the 64 alphabet characters, no padding, no whitespace or line breaks,
// and canonical trailing bits. encoding/base64 skips '\r' and '\n' even in
// strict mode, which is why the token path uses this decoder instead.
package b64url

import "errors"

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

// value returns the 6-bit value of c, or 0xff when c is outside the alphabet.
func value(c byte) byte {
	switch {
	case c >= 'A' && c <= 'Z':
		return c - 'A'
	case c >= 'a' && c <= 'z':
		return c - 'a' + 26
	case c >= '0' && c <= '9':
		return c - '0' + 52
	case c == '-':
		return 62
	case c == '_':
		return 63
	}
	return 0xff
}

// Decode decodes s into dst, which must have room for DecodedLen(len(s))
// bytes, and returns the decoded prefix of dst.
func Decode(dst []byte, s string) ([]byte, error) {
	n, ok := DecodedLen(len(s))
	if !ok || len(dst) < n {
		return nil, ErrInvalid
	}
	di := 0
	i := 0
	for ; i+4 <= len(s); i += 4 {
		a, b, c, d := value(s[i]), value(s[i+1]), value(s[i+2]), value(s[i+3])
		if (a|b|c|d)&0xc0 != 0 {
			return nil, ErrInvalid
		}
		v := uint32(a)<<18 | uint32(b)<<12 | uint32(c)<<6 | uint32(d)
		dst[di], dst[di+1], dst[di+2] = byte(v>>16), byte(v>>8), byte(v)
		di += 3
	}
	switch len(s) - i {
	case 2:
		a, b := value(s[i]), value(s[i+1])
		if (a|b)&0xc0 != 0 || b&0x0f != 0 {
			return nil, ErrInvalid
		}
		dst[di] = a<<2 | b>>4
		di++
	case 3:
		a, b, c := value(s[i]), value(s[i+1]), value(s[i+2])
		if (a|b|c)&0xc0 != 0 || c&0x03 != 0 {
			return nil, ErrInvalid
		}
		v := uint32(a)<<12 | uint32(b)<<6 | uint32(c)
		dst[di], dst[di+1] = byte(v>>10), byte(v>>2)
		di += 2
	}
	return dst[:di], nil
}

// DecodeString decodes s into a new slice.
func DecodeString(s string) ([]byte, error) {
	n, ok := DecodedLen(len(s))
	if !ok {
		return nil, ErrInvalid
	}
	return Decode(make([]byte, n), s)
}
