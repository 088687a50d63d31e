package cli

import (
	"encoding/json"
	"errors"
	"testing"

	"github.com/jwtverify/jwtverify/internal/mint"
	"github.com/jwtverify/jwtverify/internal/testkeys"
	"github.com/jwtverify/jwtverify/keyset"
)

// TestLoadKey: --key tells PEM, a JWK and a JWKS apart by their first
// bytes (surrounding whitespace allowed), and refuses anything else with
// keyset.ErrInvalidKey.
func TestLoadKey(t *testing.T) {
	ks := testkeys.Load()
	m, err := mint.JWK(&ks.P256.PublicKey, "b", "")
	if err != nil {
		t.Fatal(err)
	}
	jwk, _ := json.Marshal(m)
	other, _ := mint.JWK(&ks.P384.PublicKey, "c", "")
	otherJSON, _ := json.Marshal(other)
	for name, tt := range map[string]struct {
		data []byte
		ids  []string
	}{
		"pem":            {append([]byte("\n  "), testkeys.PublicPEM(&ks.P256.PublicKey)...), []string{""}},
		"jwk":            {jwk, []string{"b"}},
		"jwk with space": {append(append([]byte(" \n"), jwk...), '\n'), []string{"b"}},
		"jwks":           {[]byte(`{"keys":[` + string(jwk) + `,` + string(otherJSON) + `]}`), []string{"b", "c"}},
	} {
		keys, err := loadKey(tt.data)
		if err != nil || len(keys) != len(tt.ids) {
			t.Errorf("%s: loadKey = %d keys, %v; want %d", name, len(keys), err, len(tt.ids))
			continue
		}
		for i, k := range keys {
			if k.ID() != tt.ids[i] {
				t.Errorf("%s: key %d has id %q, want %q", name, i, k.ID(), tt.ids[i])
			}
		}
	}
	for name, data := range map[string][]byte{
		"ssh key":        []byte("ssh-ed25519 AAAA"),
		"empty":          nil,
		"bad pem":        []byte("-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n"),
		"jwks no usable": []byte(`{"keys":[{"kty":"oct","k":"AAAA"}]}`),
	} {
		if _, err := loadKey(data); !errors.Is(err, keyset.ErrInvalidKey) {
			t.Errorf("%s: loadKey = %v, want keyset.ErrInvalidKey", name, err)
		}
	}
}
