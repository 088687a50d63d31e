package keyset

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/jwtverify/jwtverify/internal/mint"
	"github.com/jwtverify/jwtverify/internal/testkeys"
)

func TestIntervalClamping(t *testing.T) {
	now := time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC)
	r, err := NewRemote("https://issuer.example/jwks", RemoteConfig{MinRefresh: time.Minute, MaxRefresh: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	date := now.Format(http.TimeFormat)
	for _, tt := range []struct {
		header map[string]string
		want   time.Duration
	}{
		{nil, time.Minute},
		{map[string]string{"Cache-Control": "max-age=600"}, 10 * time.Minute},
		{map[string]string{"Cache-Control": "public, max-age=600, must-revalidate"}, 10 * time.Minute},
		{map[string]string{"Cache-Control": "max-age=1"}, time.Minute},
		{map[string]string{"Cache-Control": "max-age=86400000"}, time.Hour},
		{map[string]string{"Cache-Control": "max-age=-5"}, time.Minute},
		{map[string]string{"Cache-Control": "max-age=abc"}, time.Minute},
		{map[string]string{"Cache-Control": "no-store"}, time.Minute},
		{map[string]string{"Cache-Control": "no-cache, max-age=600"}, time.Minute},
		{map[string]string{"Cache-Control": "max-age=600, no-cache"}, time.Minute},
		{map[string]string{"Expires": now.Add(20 * time.Minute).Format(http.TimeFormat), "Date": date}, 20 * time.Minute},
		{map[string]string{"Expires": now.Add(20 * time.Minute).Format(http.TimeFormat)}, 20 * time.Minute},
		{map[string]string{"Expires": "0", "Date": date}, time.Minute},
		{map[string]string{"Cache-Control": "max-age=120", "Expires": now.Add(50 * time.Minute).Format(http.TimeFormat)}, 2 * time.Minute},
	} {
		h := http.Header{}
		for k, v := range tt.header {
			h.Set(k, v)
		}
		if got := r.interval(h, now); got != tt.want {
			t.Errorf("interval(%v) = %v, want %v", tt.header, got, tt.want)
		}
	}
}

// TestJitterSpread: refreshes are scheduled at 80–90% of the interval, at
// random, so a fleet of verifiers started together does not refresh together.
func TestJitterSpread(t *testing.T) {
	jwk, _ := mint.JWK(&testkeys.Load().P256.PublicKey, "A", "")
	body := []byte(`{"keys":[` + mustMarshal(jwk) + `]}`)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "max-age=1000")
		w.Write(body)
	}))
	defer srv.Close()
	now := time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC)
	const fleet = 200
	var lo, hi time.Duration = time.Hour, 0
	buckets := map[int]int{}
	for i := 0; i < fleet; i++ {
		r, err := NewRemote(srv.URL, RemoteConfig{Now: func() time.Time { return now }})
		if err != nil {
			t.Fatal(err)
		}
		if err := r.Refresh(context.Background()); err != nil {
			t.Fatal(err)
		}
		s := r.snap.Load()
		d := s.refreshAt.Sub(s.fetchedAt)
		lo, hi = min(lo, d), max(hi, d)
		buckets[int((d-800*time.Second)/(10*time.Second))]++
		r.Close()
	}
	if lo < 800*time.Second || hi > 900*time.Second {
		t.Fatalf("refresh offsets span [%v, %v], want within [800s, 900s]", lo, hi)
	}
	if hi-lo < 50*time.Second || len(buckets) < 8 {
		t.Fatalf("refresh offsets bunch up: [%v, %v] over %d of 10 buckets", lo, hi, len(buckets))
	}
}

func mustMarshal(m map[string]any) string {
	b, err := json.Marshal(m)
	if err != nil {
		panic(err)
	}
	return string(b)
}

// TestRedirectPolicy: a redirect's Location is learned from a response: it
// may go to https, or stay on the http origin requested, whatever
// AllowInsecureHTTP says; another host needs AllowCrossHostRedirect.
func TestRedirectPolicy(t *testing.T) {
	req := func(u string) *http.Request { r, _ := http.NewRequest("GET", u, nil); return r }
	called := false
	theirs := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { called = true; return nil }}
	for _, tt := range []struct {
		from, to  string
		crossHost bool
		ok        bool
	}{
		{"https://issuer.example/jwks", "https://issuer.example/keys", false, true},
		{"https://issuer.example/jwks", "http://issuer.example/keys", false, false},
		{"https://issuer.example/jwks", "http://issuer.example/keys", true, false},
		{"https://issuer.example/jwks", "https://other.example/keys", false, false},
		{"https://issuer.example/jwks", "https://other.example/keys", true, true},
		{"https://issuer.example/jwks", "http://127.0.0.1/keys", true, false},
		{"http://127.0.0.1:8080/jwks", "http://127.0.0.1:8080/keys", false, true},
		{"http://127.0.0.1:8080/jwks", "https://127.0.0.1:8080/keys", false, true},
		{"http://127.0.0.1:8080/jwks", "http://127.0.0.1:9090/keys", true, false},
		{"http://127.0.0.1:8080/jwks", "http://169.254.169.254/latest", true, false},
		{"http://127.0.0.1:8080/jwks", "https://issuer.example/keys", true, true},
	} {
		for _, base := range []*http.Client{nil, theirs} {
			err := clientFor(base, time.Second, tt.crossHost).CheckRedirect(req(tt.to), []*http.Request{req(tt.from)})
			if tt.ok != (err == nil) {
				t.Errorf("redirect from %s to %s (crossHost=%v, own client=%v): %v", tt.from, tt.to, tt.crossHost, base != nil, err)
			}
		}
	}
	if !called {
		t.Error("the caller's CheckRedirect was not consulted")
	}
}

func TestCacheControlOverSeveralLines(t *testing.T) {
	r, _ := NewRemote("https://issuer.example/jwks", RemoteConfig{MinRefresh: time.Minute, MaxRefresh: time.Hour})
	h := http.Header{}
	h.Add("Cache-Control", "public")
	h.Add("Cache-Control", "max-age=600")
	if got := r.interval(h, time.Now()); got != 10*time.Minute {
		t.Fatalf("interval = %v, want 10m", got)
	}
}

func TestDigestFieldsDoNotCollide(t *testing.T) {
	a := jwk{kty: "RSA", n: "x", e: "AQAB", kid: "X\x00"}
	b := jwk{kty: "RSA", n: "x", e: "AQAB", kid: "X", use: "\x00"}
	c := jwk{kty: "RSA", n: "x", e: "AQAB", kid: "X", keyOps: []string{"verify"}, hasKeyOps: true}
	d := jwk{kty: "RSA", n: "x", e: "AQAB", kid: "X"}
	if a.digest() == b.digest() || c.digest() == d.digest() {
		t.Fatal("distinct JWKs share a digest")
	}
}
