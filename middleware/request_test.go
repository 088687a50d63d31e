package middleware_test

import (
	"net/http/httptest"
	"net/netip"
	"strings"
	"testing"

	"github.com/jwtverify/jwtverify/middleware"
)

// Issue 9, item 14: from a trusted proxy, the last X-Forwarded-Proto value, across
// all header lines and commas, decides.
func TestForwardedProtoLastValue(t *testing.T) {
	e := newEnv(t)
	tok := e.token(nil)
	mw, _ := middleware.New(e.v, middleware.Options{RequireTLS: true, TrustedProxies: []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")}})
	for _, tt := range []struct {
		name   string
		lines  []string
		status int
	}{
		{"client https, proxy http (two lines)", []string{"https", "http"}, 403},
		{"client https, proxy http (one line)", []string{"https, http"}, 403},
		{"client http, proxy https (two lines)", []string{"http", "https"}, 200},
		{"client http, proxy https (one line)", []string{"http,https"}, 200},
		{"three values over two lines", []string{"http, http", "HTTPS"}, 200},
		{"last value empty", []string{"https,"}, 403},
		{"last line empty", []string{"https", ""}, 403},
		{"optional whitespace", []string{"http ,\thttps "}, 200},
		{"not a list", []string{"https;http"}, 403},
		{"none", nil, 403},
	} {
		r := httptest.NewRequest("GET", "/", nil)
		r.RemoteAddr = "10.1.2.3:1234"
		r.Header.Set("Authorization", "Bearer "+tok)
		for _, l := range tt.lines {
			r.Header.Add("X-Forwarded-Proto", l)
		}
		if w := serve(t, mw.Handler(ok), r); w.Code != tt.status {
			t.Errorf("%s: %d, want %d", tt.name, w.Code, tt.status)
		}
	}
}

// Issue 9, item 15: credentials must be exactly one, in exactly the RFC 6750 syntax.
func TestCredentialSyntax(t *testing.T) {
	e := newEnv(t)
	good := e.token(nil)
	mw, _ := middleware.New(e.v, middleware.Options{Cookie: "session"})
	for _, tt := range []struct {
		name   string
		auth   string // Authorization, "" for none
		cookie string // Cookie header, "" for none
		status int
		code   string // error= in WWW-Authenticate
	}{
		{"one space", "Bearer " + good, "", 200, ""},
		{"tab", "Bearer\t" + good, "", 400, "invalid_request"},
		{"two spaces", "Bearer  " + good, "", 400, "invalid_request"},
		{"space and tab", "Bearer \t" + good, "", 400, "invalid_request"},
		{"trailing space", "Bearer " + good + " ", "", 400, "invalid_request"},
		{"no separator", "Bearer", "", 400, "invalid_request"},
		{"not a b64token", "Bearer " + good + "!", "", 400, "invalid_request"},
		{"padding inside", "Bearer ab=c", "", 400, "invalid_request"},
		{"padding at the end", "Bearer abc==", "", 401, "invalid_token"},
		{"other scheme", "Basic YWxpY2U6c2VjcmV0", "", 401, ""},
		{"other scheme with tab", "Basic\tYWxpY2U6c2VjcmV0", "", 401, ""},
		{"cookie", "", "session=" + good, 200, ""},
		{"two cookies", "", "session=" + good + "; session=" + good, 400, "invalid_request"},
		{"two cookies, one empty", "", "session=; session=" + good, 400, "invalid_request"},
		{"two cookie lines", "", "session=" + good + "\x00session=" + good, 400, "invalid_request"},
		{"other cookie too", "", "other=x; session=" + good, 200, ""},
		{"empty cookie", "", "session=", 401, ""},
		{"cookie not a b64token", "", "session=a*b", 400, "invalid_request"},
		{"cookie and header", "Bearer " + good, "session=" + good, 400, "invalid_request"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			r := httptest.NewRequest("GET", "/", nil)
			if tt.auth != "" {
				r.Header.Set("Authorization", tt.auth)
			}
			for _, c := range strings.Split(tt.cookie, "\x00") {
				if c != "" {
					r.Header.Add("Cookie", c)
				}
			}
			w := serve(t, mw.Handler(ok), r)
			if w.Code != tt.status {
				t.Fatalf("status %d, want %d; body %s", w.Code, tt.status, w.Body)
			}
			challenge := w.Header().Get("WWW-Authenticate")
			if tt.code != "" && !strings.Contains(challenge, `error="`+tt.code+`"`) || tt.code == "" && strings.Contains(challenge, "error=") {
				t.Fatalf("WWW-Authenticate %q, want error %q", challenge, tt.code)
			}
			for _, seg := range strings.Split(good, ".") {
				if strings.Contains(w.Body.String(), seg) || strings.Contains(challenge, seg) {
					t.Fatal("the response echoes the token")
				}
			}
		})
	}
	// The query parameter: one b64token; the body names the fault, never the token.
	withQuery, _ := middleware.New(e.v, middleware.Options{QueryParam: "access_token", Cookie: "session"})
	for i, tt := range []struct {
		query, cookie string
		status        int
		description   string
	}{
		{"access_token=" + good, "", 200, ""},
		{"access_token=" + good + "&access_token=" + good, "", 400, "more than one credential"},
		{"access_token=", "", 400, "malformed bearer token"},
		{"access_token=a*b", "", 400, "malformed bearer token"},
		{"access_token=" + good, "session=" + good, 400, "more than one credential"},
		{"", "session=" + good + "; session=x", 400, "more than one credential"},
		{"", "session=a*b", 400, "malformed bearer token"},
	} {
		if tt.status == 200 {
			tt.description = "hello alice"
		} else {
			tt.description = `"error_description":"` + tt.description + `"`
		}
		r := httptest.NewRequest("GET", "/?"+tt.query, nil)
		if tt.cookie != "" {
			r.Header.Set("Cookie", tt.cookie)
		}
		w := serve(t, withQuery.Handler(ok), r)
		if w.Code != tt.status || !strings.Contains(w.Body.String(), tt.description) {
			t.Errorf("query case %d: %d %s, want %d %s", i, w.Code, w.Body, tt.status, tt.description)
		}
	}
	// The same rules hold with the header on its own, without Cookie set.
	plain, _ := middleware.New(e.v, middleware.Options{})
	r := httptest.NewRequest("GET", "/", nil)
	r.Header.Set("Authorization", "Bearer\t"+good)
	if w := serve(t, plain.Handler(ok), r); w.Code != 400 {
		t.Fatalf("Bearer<TAB>: %d", w.Code)
	}
}
