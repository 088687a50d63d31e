package b64url

import (
	"encoding/base64"
	"strings"
	"testing"
)

var benchIn = base64.RawURLEncoding.EncodeToString([]byte(strings.Repeat(`{"iss":"https://login.example.com","aud":["a","b"]}`, 10)))[:620]

func BenchmarkDecode(b *testing.B) {
	dst := make([]byte, 1024)
	b.SetBytes(int64(len(benchIn)))
	for b.Loop() {
		if _, err := Decode(dst, benchIn); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkStdlib(b *testing.B) {
	dst := make([]byte, 1024)
	src := []byte(benchIn)
	enc := base64.RawURLEncoding.Strict()
	b.SetBytes(int64(len(benchIn)))
	for b.Loop() {
		if _, err := enc.Decode(dst, src); err != nil {
			b.Fatal(err)
		}
	}
}
