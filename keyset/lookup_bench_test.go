package keyset_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/jwtverify/jwtverify"
	"github.com/jwtverify/jwtverify/internal/mint"
	"github.com/jwtverify/jwtverify/internal/testkeys"
	"github.com/jwtverify/jwtverify/keyset"
)

// BenchmarkKeyLookup compares the per-token cost of a warm remote key set
// with a static one: the hot path of every verification.
func BenchmarkKeyLookup(b *testing.B) {
	ks := testkeys.Load()
	k, _ := jwtverify.NewPublicKey("A", "RS256", &ks.RSA1.PublicKey)
	static, _ := keyset.NewStatic(k)
	jwk, _ := mint.JWK(&ks.RSA1.PublicKey, "A", "RS256")
	body := []byte(`{"keys":[` + mustJSON(jwk) + `]}`)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "max-age=86400")
		w.Write(body)
	}))
	defer srv.Close()
	remote, err := keyset.NewRemote(srv.URL, keyset.RemoteConfig{})
	if err != nil {
		b.Fatal(err)
	}
	defer remote.Close()
	ctx := context.Background()
	if _, err := remote.Key(ctx, jwtverify.Lookup{KID: "A", Alg: "RS256"}); err != nil {
		b.Fatal(err)
	}
	l := jwtverify.Lookup{KID: "A", Alg: "RS256"}
	for _, src := range []struct {
		name string
		ks   jwtverify.KeySource
	}{{"static", static}, {"remote", remote}} {
		b.Run(src.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := src.ks.Key(ctx, l); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func mustJSON(m map[string]any) string {
	b, err := json.Marshal(m)
	if err != nil {
		panic(err)
	}
	return string(b)
}
