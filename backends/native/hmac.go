package native

import (
	"crypto/hmac"
	"hash"
	"sync"
)

// hmacKey is the prepared state of an HMAC secret: per hash, a pool of
// HMAC instances keyed with the secret. hmac.New copies nothing out but
// the keyed inner and outer states; Reset restores them without the
// secret.
type hmacKey struct {
	pools [numHashes]sync.Pool // of *keyedMAC
}

// keyedMAC is one pooled HMAC instance with the buffer its sum is written
// to: a buffer on the stack would escape through the hash.Hash interface
// and cost an allocation per verification.
type keyedMAC struct {
	mac hash.Hash
	sum [64]byte
}

func prepareHMAC(secret []byte) *hmacKey {
	k := &hmacKey{}
	for h := range hashID(numHashes) {
		k.pools[h].New = func() any { return &keyedMAC{mac: hmac.New(h.new, secret)} }
	}
	return k
}

// verify reports whether sig is the HMAC of input, compared with
// hmac.Equal (constant time).
func (k *hmacKey) verify(h hashID, input string, sig []byte) bool {
	m := k.pools[h].Get().(*keyedMAC)
	m.mac.Reset()
	m.mac.Write(bytesOf(input))
	good := hmac.Equal(m.mac.Sum(m.sum[:0]), sig)
	k.pools[h].Put(m)
	return good
}
