package jsonx

import (
	"encoding/json"
	"testing"
)

var benchPayload = []byte(`{"aud":["api://orders","api://inventory"],"exp":1780318800,"iat":1780315140,"iss":"https://login.example.com/tenant-1/v2.0","jti":"a1b2c3d4-e5f6-4789-9abc-def012345678","nbf":1780315140,"org":{"id":"org-42","plan":"enterprise","region":"eu-west-1"},"roles":["order-manager","viewer"],"scope":"orders:read orders:write inventory:read profile email","sub":"user-7f3c2a91-4b6e-4f0a-9d2c-8e1b5a7c3d40"}`)

func BenchmarkObject(b *testing.B) {
	b.SetBytes(int64(len(benchPayload)))
	b.ReportAllocs()
	for b.Loop() {
		if err := Object(benchPayload, func(name, value []byte) error { return nil }); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkStdlibValid(b *testing.B) {
	b.SetBytes(int64(len(benchPayload)))
	for b.Loop() {
		json.Valid(benchPayload)
	}
}

// BenchmarkObjectNames measures the member-name check on its slower
// paths: more than 16 members (a map of folded names) and non-ASCII names
// (folded rune by rune for the prefilter).
func BenchmarkObjectNames(b *testing.B) {
	for name, in := range map[string][]byte{
		"40-members": []byte(`{` + manyMembers(40) + `}`),
		"non-ascii":  []byte(`{"rôle":"admin","ſcope":"read","Kid":"k","日本":{"σ":1,"é":2},"größe":3,"ñame":"x"}`),
	} {
		b.Run(name, func(b *testing.B) {
			b.SetBytes(int64(len(in)))
			b.ReportAllocs()
			for b.Loop() {
				if err := Object(in, nil); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
