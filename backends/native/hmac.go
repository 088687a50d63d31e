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
	pools [numHashes]sync.Pool // of hash.Hash
}

func prepareHMAC(secret []byte) *hmacKey {
	k := &hmacKey{}
	for h := range hashID(numHashes) {
		k.pools[h].New = func() any { return hmac.New(h.new, secret) }
	}
	return k
}

// verify reports whether sig is the HMAC of input, compared with
// hmac.Equal (constant time).
func (k *hmacKey) verify(h hashID, input string, sig []byte) bool {
	mac := k.pools[h].Get().(hash.Hash)
	mac.Reset()
	mac.Write(bytesOf(input))
	var buf [64]byte
	good := hmac.Equal(mac.Sum(buf[:0]), sig)
	k.pools[h].Put(mac)
	return good
}
