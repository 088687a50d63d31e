package jws

import (
	"encoding/base64"
	"errors"
	"strings"
	"testing"
	"unsafe"

	"github.com/jwtverify/jwtverify/internal/jsonx"
	"github.com/jwtverify/jwtverify/internal/reject"
)

var enc = base64.RawURLEncoding.EncodeToString

// TestParseChecks: each check, in the documented order (size, then the
// segment count, then base64url header, payload, signature), with its
// class and text, none of which contains the token.
func TestParseChecks(t *testing.T) {
	good := enc([]byte(`{"alg":"HS256"}`)) + "." + enc([]byte(`{"sub":"x"}`)) + "." + enc([]byte("sig"))
	for _, tt := range []struct {
		name, token string
		max         int
		class       error
		text        string
	}{
		{"too large", good, len(good) - 1, reject.ErrTooLarge, "too_large: token is 41 bytes; the limit is 40"},
		{"too large before shape", "a.b.c.d.e", 3, reject.ErrTooLarge, "too_large: token is 9 bytes; the limit is 3"},
		{"JWE", "a.b.c.d.e", 100, reject.ErrUnsupported, "unsupported: JWE (5 segments) is not supported; only compact JWS"},
		{"one segment", "abc", 100, reject.ErrMalformed, "malformed: token has 1 segments; a compact JWS has 3"},
		{"empty", "", 100, reject.ErrMalformed, "malformed: token has 1 segments; a compact JWS has 3"},
		{"four segments", "a.b.c.d", 100, reject.ErrMalformed, "malformed: token has 4 segments; a compact JWS has 3"},
		{"impossible length", "abcde.e30.", 100, reject.ErrMalformed, "malformed: segment is not strict base64url"},
		{"segment count before base64", "a=.b.c.d", 100, reject.ErrMalformed, "malformed: token has 4 segments; a compact JWS has 3"},
		{"header padding", "e30=.e30.", 100, reject.ErrMalformed, "malformed: header is not strict base64url"},
		{"payload newline", "e30.e3\n0.", 100, reject.ErrMalformed, "malformed: payload is not strict base64url"},
		{"signature standard alphabet", "e30.e30.ab+/", 100, reject.ErrMalformed, "malformed: signature is not strict base64url"},
		{"header first", "e30=.e30=.ab+/", 100, reject.ErrMalformed, "malformed: header is not strict base64url"},
		{"non-canonical trailing bits", "e31.e30.", 100, reject.ErrMalformed, "malformed: header is not strict base64url"},
	} {
		_, err := Parse(tt.token, tt.max)
		if !errors.Is(err, tt.class) || err.Error() != tt.text {
			t.Errorf("%s: Parse = %v, want %q", tt.name, err, tt.text)
		}
	}
	p, err := Parse(good, len(good))
	if err != nil {
		t.Fatalf("good token at exactly the limit: %v", err)
	}
	if string(p.Header) != `{"alg":"HS256"}` || string(p.Payload) != `{"sub":"x"}` || string(p.Signature) != "sig" {
		t.Fatalf("decoded %q %q %q", p.Header, p.Payload, p.Signature)
	}
	if want := good[:strings.LastIndexByte(good, '.')]; p.SigningInput != want {
		t.Fatalf("SigningInput = %q, want %q", p.SigningInput, want)
	}
	if p.PayloadText() != `{"sub":"x"}` {
		t.Fatalf("PayloadText = %q", p.PayloadText())
	}
}

// TestEmptySegments: a token of three empty segments decodes to three
// empty parts (the JSON checks after Parse refuse it), without a panic.
func TestEmptySegments(t *testing.T) {
	p, err := Parse("..", 10)
	if err != nil || len(p.Header)+len(p.Payload)+len(p.Signature) != 0 || p.PayloadText() != "" || p.SigningInput != "." {
		t.Fatalf("Parse(..) = %+v, %v", p, err)
	}
	var zero Parts
	if s, ok := zero.String([]byte(`"abc"`)); !ok || s != "abc" || zero.PayloadText() != "" {
		t.Fatalf("zero Parts: String = %q, %v", s, ok)
	}
}

// TestOneBuffer: the three parts are consecutive in one buffer, and
// Parse allocates that buffer and nothing else.
func TestOneBuffer(t *testing.T) {
	token := enc([]byte(`{"alg":"HS256","kid":"k"}`)) + "." + enc([]byte(`{"sub":"alice","aud":["a","b"]}`)) + "." + enc(make([]byte, 32))
	p, err := Parse(token, 1<<10)
	if err != nil {
		t.Fatal(err)
	}
	h, pl, s := unsafe.SliceData(p.Header), unsafe.SliceData(p.Payload), unsafe.SliceData(p.Signature)
	if unsafe.Add(unsafe.Pointer(h), len(p.Header)) != unsafe.Pointer(pl) || unsafe.Add(unsafe.Pointer(pl), len(p.Payload)) != unsafe.Pointer(s) {
		t.Fatal("header, payload and signature are not consecutive in one buffer")
	}
	if cap(p.Header) != len(p.Header) || cap(p.Payload) != len(p.Payload) {
		t.Fatal("an append to Header or Payload could write into the next part")
	}
	if n := testing.AllocsPerRun(100, func() { Parse(token, 1<<10) }); n != 1 {
		t.Fatalf("Parse allocates %v times, want 1 (the buffer)", n)
	}
	if n := testing.AllocsPerRun(100, func() { Parse("e30=.e30.", 100) }); n != 1 {
		t.Fatalf("a fixed rejection allocates %v times, want 1 (the buffer)", n)
	}
}

// TestStringView: a string value without escapes that lies in the header
// or payload comes back as a view of the decoded text (no copy, no
// allocation); one with escapes, and any value outside the decoded text,
// comes back as a copy with the right content.
func TestStringView(t *testing.T) {
	token := enc([]byte(`{"alg":"HS256","kid":"k\u00e9y"}`)) + "." + enc([]byte(`{"sub":"alice","aud":["a",""],"n":1}`)) + "."
	p, err := Parse(token, 1<<10)
	if err != nil {
		t.Fatal(err)
	}
	inText := func(s string) bool {
		base := uintptr(unsafe.Pointer(unsafe.StringData(p.text)))
		at := uintptr(unsafe.Pointer(unsafe.StringData(s)))
		return at >= base && at+uintptr(len(s)) <= base+uintptr(len(p.text))
	}
	got := map[string]string{}
	viewed := map[string]bool{}
	collect := func(data []byte) {
		err := jsonx.Object(data, func(name, value []byte) error {
			if string(name) == "aud" {
				i := 0
				_, err := jsonx.Array(value, func(e []byte) error {
					s, _ := p.String(e)
					key := "aud" + string(rune('0'+i))
					got[key], viewed[key] = s, s != "" && inText(s)
					i++
					return nil
				})
				return err
			}
			s, ok := p.String(value)
			if !ok {
				got[string(name)] = "<not a string>"
				return nil
			}
			got[string(name)], viewed[string(name)] = s, inText(s)
			if n := testing.AllocsPerRun(10, func() { p.String(value) }); viewed[string(name)] && n != 0 {
				t.Errorf("%s: viewed string allocates %v times", name, n)
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	collect(p.Header)
	collect(p.Payload)
	for name, want := range map[string]struct {
		s      string
		viewed bool
	}{
		"alg":  {"HS256", true},
		"kid":  {"kéy", false}, // an escape: unescaped into a copy
		"sub":  {"alice", true},
		"aud0": {"a", true},
		"aud1": {"", false},
		"n":    {"<not a string>", false},
	} {
		if got[name] != want.s || viewed[name] != want.viewed {
			t.Errorf("%s = %q (view %v), want %q (view %v)", name, got[name], viewed[name], want.s, want.viewed)
		}
	}

	// Values that do not lie in the decoded text are copied, whatever
	// their neighbourhood in memory.
	outside := []byte(`"alice"`)
	if s, ok := p.String(outside); !ok || s != "alice" || inText(s) {
		t.Fatalf("outside value: %q, %v", s, ok)
	}
}

// TestOffsetBounds: offset accepts exactly the slices inside the text.
func TestOffsetBounds(t *testing.T) {
	p, err := Parse(enc([]byte(`{"a":"bc"}`))+"."+enc([]byte(`{}`))+"."+enc([]byte("xyz")), 100)
	if err != nil {
		t.Fatal(err)
	}
	// The buffer holds the text (header and payload) and then the
	// signature: slices of it can reach past the text.
	buf := unsafe.Slice(unsafe.SliceData(p.Header), len(p.Header)+len(p.Payload)+len(p.Signature))
	n := len(p.text)
	for _, tt := range []struct {
		from, to int
		ok       bool
	}{
		{0, 1, true},
		{0, n, true},
		{n - 1, n, true},
		{n - 1, n + 1, false}, // straddles into the signature
		{n, n + 1, false},     // in the signature
		{n, len(buf), false},
	} {
		off, ok := p.offset(buf[tt.from:tt.to])
		if ok != tt.ok || (ok && off != tt.from) {
			t.Errorf("offset(buf[%d:%d]) = %d, %v; want %v", tt.from, tt.to, off, ok, tt.ok)
		}
	}
	if _, ok := p.offset([]byte("x")); ok {
		t.Error("offset of an unrelated slice")
	}
}

// TestStrings: the named members of the payload are read when they are
// strings; one that is not, and a payload that is not one strict object,
// are malformed; absent ones are reported absent.
func TestStrings(t *testing.T) {
	seg := func(s string) string { return base64.RawURLEncoding.EncodeToString([]byte(s)) }
	for _, tc := range []struct {
		payload string
		vals    [2]string
		has     [2]bool
		err     bool
	}{
		{`{"iss":"a","tid":"b","x":1}`, [2]string{"a", "b"}, [2]bool{true, true}, false},
		{`{"tid":"b"}`, [2]string{"", "b"}, [2]bool{false, true}, false},
		{`{}`, [2]string{}, [2]bool{}, false},
		{`{"iss":7}`, [2]string{}, [2]bool{}, true},
		{`{"iss":"a","iss":"b"}`, [2]string{}, [2]bool{}, true},
		{`{"iss":"a","Iss":"b"}`, [2]string{}, [2]bool{}, true},
		{`["iss"]`, [2]string{}, [2]bool{}, true},
	} {
		p, err := Parse(seg(`{"alg":"none"}`)+"."+seg(tc.payload)+".", DefaultMaxBytes)
		if err != nil {
			t.Fatal(err)
		}
		var vals [2]string
		var has [2]bool
		err = p.Strings([]string{"iss", "tid"}, vals[:], has[:])
		if tc.err {
			if !errors.Is(err, reject.ErrMalformed) {
				t.Errorf("%s: %v, want malformed", tc.payload, err)
			}
			continue
		}
		if err != nil || vals != tc.vals || has != tc.has {
			t.Errorf("%s: %q %v %v, want %q %v", tc.payload, vals, has, err, tc.vals, tc.has)
		}
	}
}
