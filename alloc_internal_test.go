package jwtverify

import (
	"context"
	"strings"
	"testing"
	"unsafe"

	"github.com/jwtverify/jwtverify/internal/mint"
)

// TestNewTokenClasses: for every size up to past the largest class,
// newToken gives a buffer of exactly n bytes (length and capacity, so an
// append cannot reach past it) that does not overlap the Token, and the
// buffers of two calls are distinct.
func TestNewTokenClasses(t *testing.T) {
	for n := 0; n <= 5000; n++ {
		tok, buf := newToken(n)
		if len(buf) != n || cap(buf) != n {
			t.Fatalf("n=%d: len %d cap %d", n, len(buf), cap(buf))
		}
		if n == 0 {
			continue
		}
		start := uintptr(unsafe.Pointer(tok))
		end := start + unsafe.Sizeof(*tok)
		b0 := uintptr(unsafe.Pointer(&buf[0]))
		if b0 < end && b0+uintptr(n) > start {
			t.Fatalf("n=%d: buffer overlaps the Token", n)
		}
		for i := range buf {
			if buf[i] != 0 {
				t.Fatalf("n=%d: buffer not zeroed", n)
			}
			buf[i] = 0xff
		}
		if _, buf2 := newToken(n); buf2[0] != 0 || &buf2[0] == &buf[0] {
			t.Fatalf("n=%d: a second call shares the buffer", n)
		}
	}
}

// TestVerifyAllocations: an accepted token of typical size costs one
// allocation (the Token with the decoded bytes its strings view); one of
// more than 4 KiB decoded costs two; a rejection before decoding (JWE)
// costs none, one after it (alg none) the one.
func TestVerifyAllocations(t *testing.T) {
	secret := []byte("0123456789abcdef0123456789abcdef")
	k, err := NewSecretKey("k", "HS256", secret)
	if err != nil {
		t.Fatal(err)
	}
	v, err := New(nopBackend{}, Config{Keys: staticKeys{k}, Algorithms: []string{"HS256"}, Issuers: []string{"https://a"}, Audiences: []string{"api"}})
	if err != nil {
		t.Fatal(err)
	}
	sign := func(payload string) string {
		tok, err := mint.Raw("HS256", secret, []byte(`{"alg":"HS256","kid":"k"}`), []byte(payload))
		if err != nil {
			t.Fatal(err)
		}
		return tok
	}
	small := sign(`{"iss":"https://a","aud":"api","exp":9999999999}`)
	large := sign(`{"iss":"https://a","aud":"api","exp":9999999999,"pad":"` + strings.Repeat("p", 6000) + `"}`)
	for _, tc := range []struct {
		name  string
		token string
		want  float64
	}{
		{"small", small, 1},
		{"large", large, 2},
		{"alg none", "eyJhbGciOiJub25lIn0.e30.", 1},
		{"JWE", "a.b.c.d.e", 0},
	} {
		got := testing.AllocsPerRun(100, func() { v.Verify(context.Background(), tc.token) })
		if got != tc.want {
			t.Errorf("%s: %v allocations, want %v", tc.name, got, tc.want)
		}
	}
}

type staticKeys []Key

func (s staticKeys) Key(_ context.Context, l Lookup) (Key, error) {
	for _, k := range s {
		if k.ID() == l.KID {
			return k, nil
		}
	}
	return Key{}, ErrUnknownKey
}
func (s staticKeys) Algorithms() []string { return []string{"HS256"} }
