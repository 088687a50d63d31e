// Package ed25519pt validates Ed25519 public keys: the 32 bytes must encode
// a point of the curve (RFC 8032 §5.1.3, canonical y) whose order is not
// small. crypto/ed25519 checks neither; a small-order key (the identity,
// for one) lets anyone forge signatures that ed25519.Verify accepts.
//
// The arithmetic uses math/big: it runs when a key is loaded, never per
// token.
package ed25519pt

import "math/big"

// curve holds the constants; built per call so that nothing runs at import.
type curve struct{ p, d, sqrtM1 *big.Int }

func newCurve() *curve {
	p := new(big.Int).Sub(new(big.Int).Lsh(big.NewInt(1), 255), big.NewInt(19))
	d := new(big.Int).Mul(big.NewInt(-121665), new(big.Int).ModInverse(big.NewInt(121666), p)) // -121665/121666
	d.Mod(d, p)
	sqrtM1 := new(big.Int).Exp(big.NewInt(2), new(big.Int).Rsh(new(big.Int).Sub(p, big.NewInt(1)), 2), p) // 2^((p-1)/4)
	return &curve{p, d, sqrtM1}
}

type point struct{ x, y *big.Int }

// Valid reports whether pub is the canonical encoding of a curve point of
// large order (its order is not a divisor of 8).
func Valid(pub []byte) bool {
	c := newCurve()
	pt, ok := c.decode(pub)
	if !ok {
		return false
	}
	for i := 0; i < 3; i++ { // 8·P
		pt = c.add(pt, pt)
	}
	return !(pt.x.Sign() == 0 && pt.y.Cmp(big.NewInt(1)) == 0)
}

func (c *curve) decode(b []byte) (point, bool) {
	p, d, sqrtM1 := c.p, c.d, c.sqrtM1
	if len(b) != 32 {
		return point{}, false
	}
	le := make([]byte, 32)
	for i := range b {
		le[31-i] = b[i] // to big-endian
	}
	sign := le[0] >> 7
	le[0] &= 0x7f
	y := new(big.Int).SetBytes(le)
	if y.Cmp(p) >= 0 {
		return point{}, false // non-canonical
	}
	// x² = (y² - 1) / (d·y² + 1)
	y2 := new(big.Int).Mul(y, y)
	y2.Mod(y2, p)
	u := new(big.Int).Sub(y2, big.NewInt(1))
	u.Mod(u, p)
	v := new(big.Int).Mul(d, y2)
	v.Add(v, big.NewInt(1)).Mod(v, p)
	vInv := new(big.Int).ModInverse(v, p)
	if vInv == nil {
		return point{}, false
	}
	x2 := new(big.Int).Mul(u, vInv)
	x2.Mod(x2, p)
	// p ≡ 5 (mod 8): candidate root x2^((p+3)/8), times sqrt(-1) if needed.
	x := new(big.Int).Exp(x2, new(big.Int).Rsh(new(big.Int).Add(p, big.NewInt(3)), 3), p)
	if sq := new(big.Int).Mod(new(big.Int).Mul(x, x), p); sq.Cmp(x2) != 0 {
		x.Mul(x, sqrtM1).Mod(x, p)
		if sq := new(big.Int).Mod(new(big.Int).Mul(x, x), p); sq.Cmp(x2) != 0 {
			return point{}, false // not on the curve
		}
	}
	if x.Sign() == 0 && sign == 1 {
		return point{}, false
	}
	if uint8(x.Bit(0)) != sign {
		x.Sub(p, x)
	}
	return point{x, y}, true
}

// add is the complete twisted Edwards addition for a = -1.
func (c *curve) add(a, b point) point {
	p, d := c.p, c.d
	x1x2 := new(big.Int).Mul(a.x, b.x)
	y1y2 := new(big.Int).Mul(a.y, b.y)
	dxy := new(big.Int).Mul(d, x1x2)
	dxy.Mul(dxy, y1y2).Mod(dxy, p)
	xn := new(big.Int).Add(new(big.Int).Mul(a.x, b.y), new(big.Int).Mul(a.y, b.x))
	yn := new(big.Int).Add(y1y2, x1x2)
	xd := new(big.Int).Add(big.NewInt(1), dxy)
	yd := new(big.Int).Sub(big.NewInt(1), dxy)
	x := xn.Mul(xn, new(big.Int).ModInverse(xd.Mod(xd, p), p))
	y := yn.Mul(yn, new(big.Int).ModInverse(yd.Mod(yd, p), p))
	return point{x.Mod(x, p), y.Mod(y, p)}
}
