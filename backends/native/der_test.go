package native

import (
	"bytes"
	"encoding/asn1"
	"math/big"
	"math/rand/v2"
	"testing"
)

// TestAppendDER: appendDER writes what encoding/asn1 writes for the two
// integers, for the edge cases (zero, leading zero bytes, a high bit,
// P-521's 66 bytes with and without the long-form length) and random
// values of every curve's size, within maxDER.
func TestAppendDER(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	fill := func(n int, first byte) []byte {
		b := make([]byte, n)
		for i := range b {
			b[i] = byte(rng.Uint32())
		}
		if n > 0 {
			b[0] = first
		}
		return b
	}
	var cases [][2][]byte
	for _, n := range []int{32, 48, 66} {
		for _, first := range []byte{0x00, 0x01, 0x7f, 0x80, 0xff} {
			cases = append(cases, [2][]byte{fill(n, first), fill(n, 0xff)}, [2][]byte{fill(n, 0x80), fill(n, first)})
		}
		cases = append(cases, [2][]byte{make([]byte, n), make([]byte, n)}, [2][]byte{fill(n, 0), make([]byte, n)})
		for range 200 {
			cases = append(cases, [2][]byte{fill(n, byte(rng.Uint32())), fill(n, byte(rng.Uint32()))})
		}
	}
	for _, c := range cases {
		want, err := asn1.Marshal(struct{ R, S *big.Int }{new(big.Int).SetBytes(c[0]), new(big.Int).SetBytes(c[1])})
		if err != nil {
			t.Fatal(err)
		}
		var buf [maxDER]byte
		got := appendDER(buf[:0], c[0], c[1])
		if !bytes.Equal(got, want) {
			t.Fatalf("r %x s %x:\n got %x\nwant %x", c[0], c[1], got, want)
		}
		if len(got) > maxDER {
			t.Fatalf("%d bytes, above maxDER", len(got))
		}
	}
}
