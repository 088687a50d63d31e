package middleware_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/jwtverify/jwtverify"
	"github.com/jwtverify/jwtverify/access"
	"github.com/jwtverify/jwtverify/cache"
	"github.com/jwtverify/jwtverify/issuers"
	"github.com/jwtverify/jwtverify/middleware"
)

// The verifiers of this module, and the wrappers of one, are Verifiers.
var (
	_ middleware.Verifier = (*jwtverify.Verifier)(nil)
	_ middleware.Verifier = (*cache.Verified)(nil)
	_ middleware.Verifier = (*issuers.Router)(nil)
	_ middleware.Verifier = (*issuers.Tenants)(nil)
)

// verifierFunc is a Verifier that answers every token with f.
type verifierFunc func() (*jwtverify.Token, error)

func (f verifierFunc) Verify(context.Context, string) (*jwtverify.Token, error) { return f() }

func TestNewChecksOptions(t *testing.T) {
	e := newEnv(t)
	extract := func(*http.Request) (string, error) { return "", nil }
	for _, tt := range []struct {
		name string
		v    middleware.Verifier
		opts middleware.Options
		ok   bool
	}{
		{"zero options", e.v, middleware.Options{}, true},
		{"no verifier", nil, middleware.Options{}, false},
		{"realm with a space and non-ASCII", e.v, middleware.Options{Realm: "Bestellungen API ü"}, true},
		{"realm with a quote", e.v, middleware.Options{Realm: `a"b`}, false},
		{"realm with a backslash", e.v, middleware.Options{Realm: `a\b`}, false},
		{"realm with a line feed", e.v, middleware.Options{Realm: "a\nb"}, false},
		{"realm with a control character", e.v, middleware.Options{Realm: "a\x01b"}, false},
		{"realm with DEL", e.v, middleware.Options{Realm: "a\x7fb"}, false},
		{"negative RetryAfter", e.v, middleware.Options{RetryAfter: -time.Second}, false},
		{"Extract", e.v, middleware.Options{Extract: extract}, true},
		{"Extract and Cookie", e.v, middleware.Options{Extract: extract, Cookie: "session"}, false},
		{"Extract and QueryParam", e.v, middleware.Options{Extract: extract, QueryParam: "access_token"}, false},
	} {
		mw, err := middleware.New(tt.v, tt.opts)
		if tt.ok != (err == nil) || tt.ok != (mw != nil) {
			t.Errorf("%s: made %v, error %v", tt.name, mw != nil, err)
		}
		if !tt.ok && !errors.Is(err, jwtverify.ErrInvalidConfig) {
			t.Errorf("%s: %v, want ErrInvalidConfig", tt.name, err)
		}
	}

	// New keeps its own copy of TrustedProxies.
	proxies := []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")}
	mw, _ := middleware.New(e.v, middleware.Options{RequireTLS: true, TrustedProxies: proxies})
	proxies[0] = netip.MustParsePrefix("192.0.2.0/24")
	r := httptest.NewRequest("GET", "/", nil)
	r.RemoteAddr = "10.1.2.3:1234"
	r.Header.Set("X-Forwarded-Proto", "https")
	r.Header.Set("Authorization", "Bearer "+e.token(nil))
	if w := serve(t, mw.Handler(ok), r); w.Code != 200 {
		t.Errorf("after the caller changed TrustedProxies: %d", w.Code)
	}
}

// Issue 10, item 5: the 503 decision is errors.Is(err, jwtverify.ErrKeysUnavailable),
// not a comparison of Class names (which named an error that is also of an earlier
// class by that class, 401). An error without a class is the verifier's failure, not
// a verdict on the token: 503, and Class "error" rather than "keys_unavailable".
func TestVerifierErrors(t *testing.T) {
	e := newEnv(t)
	tok := e.token(nil)
	for _, tt := range []struct {
		name   string
		v      verifierFunc
		status int
		class  string
		body   string
	}{
		{"keys unavailable", func() (*jwtverify.Token, error) {
			return nil, fmt.Errorf("router: %w", jwtverify.ErrKeysUnavailable)
		}, 503, "keys_unavailable", `{"error":"temporarily_unavailable","error_description":"keys_unavailable"}`},
		{"keys unavailable and an earlier class", func() (*jwtverify.Token, error) {
			return nil, fmt.Errorf("tried two issuers: %w; %w", jwtverify.ErrAlgorithm, jwtverify.ErrKeysUnavailable)
		}, 503, "keys_unavailable", `"error_description":"keys_unavailable"`},
		{"rejection", func() (*jwtverify.Token, error) {
			return nil, fmt.Errorf("router: %w", jwtverify.ErrExpired)
		}, 401, "expired", `{"error":"invalid_token","error_description":"expired"}`},
		{"no class", func() (*jwtverify.Token, error) {
			return nil, errors.New("introspection endpoint said 500 for secret-detail")
		}, 503, "error", `{"error":"temporarily_unavailable","error_description":"verifier error"}`},
		{"cancelled", func() (*jwtverify.Token, error) { return nil, context.Canceled }, 503, "error", `"error_description":"verifier error"`},
		{"no token and no error", func() (*jwtverify.Token, error) { return nil, nil }, 503, "error", `"error_description":"verifier error"`},
	} {
		var rep reports
		mw, _ := middleware.New(tt.v, rep.options(middleware.Options{RetryAfter: 1500 * time.Millisecond}))
		r := httptest.NewRequest("GET", "/", nil)
		r.Header.Set("Authorization", "Bearer "+tok)
		w := serve(t, mw.Handler(ok), r)
		if w.Code != tt.status || !strings.Contains(w.Body.String(), tt.body) || strings.Contains(w.Body.String(), "secret-detail") {
			t.Errorf("%s: %d %s, want %d %s", tt.name, w.Code, w.Body, tt.status, tt.body)
		}
		challenge, retry := w.Header().Get("WWW-Authenticate"), w.Header().Get("Retry-After")
		if tt.status == 503 && (challenge != "" || retry != "2") || tt.status != 503 && (challenge == "" || retry != "") {
			t.Errorf("%s: WWW-Authenticate %q, Retry-After %q", tt.name, challenge, retry)
		}
		if len(rep.outcomes) != 1 || rep.outcomes[0].Class != tt.class || rep.outcomes[0].Status != tt.status {
			t.Errorf("%s: outcomes %+v, want class %s", tt.name, rep.outcomes, tt.class)
		}
		if strings.Contains(rep.logs.String(), "secret-detail") {
			t.Errorf("%s: the verifier's error text is logged", tt.name)
		}
	}
}

// A Middleware not made by New, a nil handler and a nil policy are programmer
// errors: they panic when the chain is built, not on the first request.
func TestUnusableMiddlewarePanics(t *testing.T) {
	e := newEnv(t)
	mw, _ := middleware.New(e.v, middleware.Options{})
	for name, f := range map[string]func(){
		"zero Handler":      func() { new(middleware.Middleware).Handler(ok) },
		"nil Handler":       func() { (*middleware.Middleware)(nil).Handler(ok) },
		"zero Require":      func() { new(middleware.Middleware).Require(access.Scopes("x")) },
		"nil policy":        func() { mw.Require(nil) },
		"nil next":          func() { mw.Handler(nil) },
		"Require, nil next": func() { mw.Require(access.Scopes("x"))(nil) },
	} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("%s: no panic", name)
				}
			}()
			f()
		}()
	}
}
