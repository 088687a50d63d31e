package b64url

import (
	"bytes"
	"encoding/base64"
	"math/rand/v2"
	"strings"
	"testing"
)

// stdDecode is the oracle: encoding/base64's strict raw URL decoder, which
// differs from Decode only by skipping '\r' and '\n'.
func stdDecode(s string) ([]byte, bool) {
	if strings.ContainsAny(s, "\r\n") {
		return nil, false
	}
	b, err := base64.RawURLEncoding.Strict().DecodeString(s)
	return b, err == nil
}

const sentinel = 0xAA

// checkDecode compares Decode(dst, s) with stdDecode for a dst of exactly
// DecodedLen(len(s)) bytes, capped with a full slice expression, and for a
// longer dst, and checks that nothing is written past the decoded length.
func checkDecode(t *testing.T, s string) {
	t.Helper()
	want, wantOK := stdDecode(s)
	n, lenOK := DecodedLen(len(s))
	if !lenOK {
		n = len(s) * 3 / 4 // any size: Decode must reject and not write
	}
	for _, slack := range []int{0, 16} {
		buf := bytes.Repeat([]byte{sentinel}, n+32)
		dst := buf[: n+slack : n+slack]
		got, err := Decode(dst, s)
		if (err == nil) != wantOK {
			t.Fatalf("Decode(%q) with %d spare bytes: error %v, stdlib ok=%v", s, slack, err, wantOK)
		}
		if err != nil {
			if err != ErrInvalid || got != nil {
				t.Fatalf("Decode(%q) = %x, %v; want nil, ErrInvalid", s, got, err)
			}
		} else {
			if !bytes.Equal(got, want) {
				t.Fatalf("Decode(%q) = %x, want %x", s, got, want)
			}
			if len(got) > 0 && &got[0] != &dst[0] {
				t.Fatalf("Decode(%q) did not return a prefix of dst", s)
			}
		}
		written := n
		if err != nil && !lenOK {
			written = 0
		}
		for i := written; i < len(buf); i++ {
			if buf[i] != sentinel {
				t.Fatalf("Decode(%q) with %d spare bytes (ok=%v) wrote byte %d of a %d-byte result", s, slack, err == nil, i, n)
			}
		}
	}
	if lenOK && n > 0 {
		// A dst one byte short is rejected without writing into it at all.
		buf := bytes.Repeat([]byte{sentinel}, n+32)
		if got, err := Decode(buf[:n-1:n-1], s); err != ErrInvalid || got != nil {
			t.Fatalf("Decode(%q) into %d bytes = %x, %v; want ErrInvalid", s, n-1, got, err)
		}
		for i := range buf {
			if buf[i] != sentinel {
				t.Fatalf("Decode(%q) into a short dst wrote byte %d", s, i)
			}
		}
	}
}

// validInput returns a canonical encoding of l characters (l%4 != 1).
func validInput(r *rand.Rand, l int) string {
	n, _ := DecodedLen(l)
	src := make([]byte, n)
	for i := range src {
		src[i] = byte(r.Uint32())
	}
	s := base64.RawURLEncoding.EncodeToString(src)
	if len(s) != l {
		panic("bad length")
	}
	return s
}

func TestDecodeInvalidByteEveryPosition(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for l := 0; l <= 40; l++ {
		if l%4 == 1 {
			continue
		}
		base := validInput(r, l)
		checkDecode(t, base)
		b := []byte(base)
		for p := 0; p < l; p++ {
			for c := 0; c < 256; c++ {
				if strings.IndexByte(alphabet, byte(c)) >= 0 {
					continue
				}
				b[p] = byte(c)
				s := string(b)
				if _, err := DecodeString(s); err != ErrInvalid {
					t.Fatalf("DecodeString(%q) (byte %#02x at %d) error = %v, want ErrInvalid", s, c, p, err)
				}
				if p%16 == l%16 || c%17 == 0 {
					checkDecode(t, s) // the full check on a subset, to stay fast
				}
			}
			b[p] = base[p]
		}
	}
}

func TestDecodeSpecialCases(t *testing.T) {
	cases := []string{
		"=", "==", "Zg==", "Zg=", "Zm8=", "Zm9v=", "Zm9vYg==", "Zm9vYmE=",
		"Zm9vYmFyYmF6cXV4Zm9vYmFyYmF6cXV4=",
		"AAAAAAAAAAAAAAAA=AAAAAAAAAAAAAAA",
		"\r", "\n", "\r\n", "Zm9v\r\n", "Zm9v\nYmFy", "Zm9vYmFyYmF6cXV4\rAAA",
		"AAAAAAAAAAAAAAA\n", "\nAAAAAAAAAAAAAAA",
		" ", "Zm9v ", "Zm9v\t", "Zm9v+/", "Zm9v\x00\x00", "\x80\x80\x80\x80", "\xff\xff",
	}
	for _, s := range cases {
		checkDecode(t, s)
		if _, err := DecodeString(s); err != ErrInvalid {
			t.Errorf("DecodeString(%q) error = %v, want ErrInvalid", s, err)
		}
	}
}

// TestDecodeTrailingBits tries every last character after prefixes that end
// the block loops in different places.
func TestDecodeTrailingBits(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	for l := 2; l <= 70; l++ {
		if l%4 != 2 && l%4 != 3 {
			continue
		}
		b := []byte(validInput(r, l))
		for i := 0; i < len(alphabet); i++ {
			b[l-1] = alphabet[i]
			unused := i & 0x0f // len%4 == 2: the low 4 bits are unused
			if l%4 == 3 {
				unused = i & 0x03
			}
			_, err := DecodeString(string(b))
			if (err == nil) != (unused == 0) {
				t.Fatalf("DecodeString(%q) error = %v, want ok=%v", b, err, unused == 0)
			}
			checkDecode(t, string(b))
		}
	}
}

func TestDecodeImpossibleLength(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	for l := 1; l <= 101; l += 4 {
		s := validInput(r, l-1) + "A"
		checkDecode(t, s)
		if _, err := DecodeString(s); err != ErrInvalid {
			t.Fatalf("DecodeString of %d chars error = %v, want ErrInvalid", l, err)
		}
	}
}

func TestDecodeDifferential(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 8))
	for range 50000 {
		l := r.IntN(300)
		if r.IntN(2) == 0 {
			l = r.IntN(40)
		}
		b := make([]byte, l)
		for i := range b {
			b[i] = alphabet[r.IntN(64)]
		}
		for k := r.IntN(3); k > 0 && l > 0; k-- {
			b[r.IntN(l)] = byte(r.Uint32())
		}
		checkDecode(t, string(b))
	}
}

func FuzzDecode(f *testing.F) {
	for _, s := range []string{
		"", "Zg", "Zh", "Zm8", "Zm9", "Zm9v", "Zm9vYg", "Z", "Zm9v\nYg", "Zm9vYg==",
		"_-8", "Zm+v", benchIn, benchIn[:617], benchIn[:31] + "\r",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		checkDecode(t, s)
	})
}
