package b64url

import (
	"bytes"
	"encoding/base64"
	"strings"
	"testing"
)

func TestDecode(t *testing.T) {
	tests := []struct {
		in   string
		want string
		ok   bool
	}{
		{"", "", true},
		{"Zg", "f", true},
		{"Zm8", "fo", true},
		{"Zm9v", "foo", true},
		{"Zm9vYg", "foob", true},
		{"_-8", "\xff\xef", true},
		{"Z", "", false},           // impossible length
		{"Zh", "", false},          // non-zero trailing bits
		{"Zm9=", "", false},        // padding
		{"Zm9vYg==", "", false},    // padding
		{"Zm9v\nYg", "", false},    // line break (encoding/base64 skips it)
		{"Zm9v\rYg", "", false},    // carriage return
		{"Zm 9v", "", false},       // space
		{"Zm+v", "", false},        // standard alphabet
		{"Zm/v", "", false},        // standard alphabet
		{"Zm9v\x00", "", false},    // NUL
		{"Zm9\xc3\xa9", "", false}, // non-ASCII
	}
	for _, tt := range tests {
		got, err := DecodeString(tt.in)
		if tt.ok != (err == nil) {
			t.Errorf("DecodeString(%q) error = %v, want ok=%v", tt.in, err, tt.ok)
			continue
		}
		if tt.ok && string(got) != tt.want {
			t.Errorf("DecodeString(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

// TestMatchesStdlib checks every short input against encoding/base64's
// strict raw URL decoder, which differs from ours only by skipping CR/LF.
func TestMatchesStdlib(t *testing.T) {
	alphabet := "AZaz09-_+/=.\n"
	std := base64.RawURLEncoding.Strict()
	var gen func(prefix string, n int)
	count := 0
	gen = func(prefix string, n int) {
		if n == 0 {
			count++
			got, err := DecodeString(prefix)
			want, werr := std.DecodeString(prefix)
			if strings.ContainsAny(prefix, "\r\n") {
				werr = base64.CorruptInputError(0)
			}
			if (err == nil) != (werr == nil) || (err == nil && !bytes.Equal(got, want)) {
				t.Fatalf("%q: got %x, %v; stdlib %x, %v", prefix, got, err, want, werr)
			}
			return
		}
		for i := 0; i < len(alphabet); i++ {
			gen(prefix+alphabet[i:i+1], n-1)
		}
	}
	for n := 0; n <= 5; n++ {
		gen("", n)
	}
	if count == 0 {
		t.Fatal("no inputs generated")
	}
}

func TestDecodeRandomRoundTrip(t *testing.T) {
	for n := 0; n < 300; n++ {
		src := bytes.Repeat([]byte{byte(n), byte(n * 7), 0xff}, n)[:n]
		enc := base64.RawURLEncoding.EncodeToString(src)
		got, err := DecodeString(enc)
		if err != nil || !bytes.Equal(got, src) {
			t.Fatalf("round trip of %d bytes: %v", n, err)
		}
	}
}
