package backendtest

import (
	"math/big"
	"testing"
)

func TestAddL(t *testing.T) {
	l, _ := new(big.Int).SetString("7237005577332262213973186563042994240857116359379907606001950938285454250989", 10)
	le := func(b []byte) *big.Int {
		r := make([]byte, len(b))
		for i := range b {
			r[len(b)-1-i] = b[i]
		}
		return new(big.Int).SetBytes(r)
	}
	s := make([]byte, 32)
	s[0], s[31] = 5, 0x0f // some S below L
	if got := new(big.Int).Sub(le(addL(s)), l); got.Cmp(le(s)) != 0 {
		t.Fatalf("addL(s) - L = %v, want %v", got, le(s))
	}
}
