package keyset

import (
	"net/http"
	"testing"
	"time"
)

// TestLifetime: the freshness lifetime a response states, before the
// schedule clamps it.
func TestLifetime(t *testing.T) {
	now := time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC)
	date := now.Format(http.TimeFormat)
	for _, tt := range []struct {
		header map[string]string
		want   time.Duration
	}{
		{nil, -1},
		{map[string]string{"Cache-Control": "max-age=600"}, 10 * time.Minute},
		{map[string]string{"Cache-Control": "public, max-age=600, must-revalidate"}, 10 * time.Minute},
		{map[string]string{"Cache-Control": `max-age="600"`}, 10 * time.Minute},
		{map[string]string{"Cache-Control": "MAX-AGE=1"}, time.Second},
		{map[string]string{"Cache-Control": "max-age=86400000"}, 86400000 * time.Second},
		{map[string]string{"Cache-Control": "max-age=-5"}, -1},
		{map[string]string{"Cache-Control": "max-age=abc"}, -1},
		{map[string]string{"Cache-Control": "max-age=99999999999"}, -1},
		{map[string]string{"Cache-Control": "no-store"}, 0},
		{map[string]string{"Cache-Control": "no-cache, max-age=600"}, 0},
		{map[string]string{"Cache-Control": "max-age=600, no-cache"}, 0},
		{map[string]string{"Expires": now.Add(20 * time.Minute).Format(http.TimeFormat), "Date": date}, 20 * time.Minute},
		{map[string]string{"Expires": now.Add(-20 * time.Minute).Format(http.TimeFormat), "Date": date}, 0},
		{map[string]string{"Expires": now.Add(20 * time.Minute).Format(http.TimeFormat)}, 20 * time.Minute},
		{map[string]string{"Expires": "0", "Date": date}, -1},
		{map[string]string{"Cache-Control": "max-age=120", "Expires": now.Add(50 * time.Minute).Format(http.TimeFormat)}, 2 * time.Minute},
	} {
		h := http.Header{}
		for k, v := range tt.header {
			h.Set(k, v)
		}
		if got := lifetime(h, now); got != tt.want {
			t.Errorf("lifetime(%v) = %v, want %v", tt.header, got, tt.want)
		}
	}
}

func TestCacheControlOverSeveralLines(t *testing.T) {
	h := http.Header{}
	h.Add("Cache-Control", "public")
	h.Add("Cache-Control", "max-age=600")
	if got := lifetime(h, time.Now()); got != 10*time.Minute {
		t.Fatalf("lifetime = %v, want 10m", got)
	}
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
			c, err := clientFor(base, time.Second, tt.crossHost, nil)
			if err != nil {
				t.Fatal(err)
			}
			err = c.CheckRedirect(req(tt.to), []*http.Request{req(tt.from)})
			if tt.ok != (err == nil) {
				t.Errorf("redirect from %s to %s (crossHost=%v, own client=%v): %v", tt.from, tt.to, tt.crossHost, base != nil, err)
			}
		}
	}
	if !called {
		t.Error("the caller's CheckRedirect was not consulted")
	}
}
