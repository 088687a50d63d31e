// Package middleware protects net/http handlers with a jwtverify.Verifier:
// it takes the bearer token of RFC 6750, verifies it, applies an access
// policy, and puts the verified token in the request's context.
//
//	v, _ := golangjwt.New(jwtverify.Config{...})
//	mw, _ := middleware.New(v, middleware.Options{Realm: "orders"})
//	mux.Handle("GET /orders", mw(middleware.Require(middleware.Scopes("orders:read"))(list)))
//	mux.Handle("POST /orders", mw(middleware.Require(middleware.Scopes("orders:write"))(create)))
//
// Answers: no credentials, 401 with WWW-Authenticate: Bearer realm="…"; a
// rejected token, 401 with error="invalid_token" and the class as
// error_description; a policy refusal, 403 with error="insufficient_scope"
// (and scope="…"); keys that cannot be had (the key set is past its
// staleness bound), 503 with Retry-After, since the token may be fine; a
// malformed request (two credentials, an Authorization header other than
// "Bearer", one space and an RFC 6750 b64token), 400 with
// error="invalid_request". No response or log ever contains the token.
package middleware

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"strconv"
	"strings"
	"time"

	"github.com/jwtverify/jwtverify"
)

// Options configures the middleware. Every zero value is safe.
type Options struct {
	// Realm names the protection space in WWW-Authenticate. Zero: "api".
	Realm string
	// Policy runs after verification; nil allows every verified token.
	Policy Policy
	// QueryParam, when set (RFC 6750 uses "access_token"), also takes the
	// token from that query parameter. Off by default: URLs are logged.
	QueryParam string
	// Cookie, when set, also takes the token from the named cookie. A
	// cookie of that name with an empty value is no credential; two
	// cookies of that name are two credentials (400).
	Cookie string
	// RequireTLS refuses requests that did not arrive over TLS with 403.
	// A request from one of TrustedProxies counts as TLS when the last
	// X-Forwarded-Proto value (across all header lines and comma-separated
	// elements: the one that proxy set or appended, not the client's) is
	// https, in any case.
	RequireTLS     bool
	TrustedProxies []netip.Prefix
	// RetryAfter is sent with 503. Zero: 30s.
	RetryAfter time.Duration
	// ErrorHandler, when set, writes error responses instead of the
	// default (a JSON body {"error", "error_description"}); the headers
	// (WWW-Authenticate, Retry-After) are already set.
	ErrorHandler func(w http.ResponseWriter, r *http.Request, e *Error)
	// Logger, when set, gets one record per request: outcome, class, route,
	// and for verified tokens kid, iss and sub. Never the token.
	Logger *slog.Logger
	// Route labels log records and Observe events. Zero: the request path.
	Route string
	// Observe, when set, is called once per request with its outcome.
	Observe func(Outcome)
}

// Outcome describes one request for metrics.
type Outcome struct {
	Route    string
	Status   int           // the status the middleware answered, or 0 when it passed the request on
	Class    string        // the rejection class, or "" (and "policy", "missing", "invalid_request", "insecure")
	Duration time.Duration // of the verification
}

// Error is a response the middleware is about to write.
type Error struct {
	Status      int    // 400, 401, 403 or 503
	Code        string // invalid_request, invalid_token, insufficient_scope, or "" (no credentials, 503)
	Description string // the class, or a fixed phrase; never token content
	Err         error  // the cause, for logs
}

type ctxKey struct{}

// verified is what the middleware stores in the request context: the
// request's one Subject, shared by its Policy and every Require after it.
type verified struct {
	subj Subject
	opts *Options
}

// FromContext returns the verified token the middleware stored.
func FromContext(ctx context.Context) (*jwtverify.Token, bool) {
	v, ok := ctx.Value(ctxKey{}).(*verified)
	if !ok {
		return nil, false
	}
	return v.subj.Token, true
}

type mw struct {
	v    jwtverify.Verifier
	opts Options
}

// New returns middleware that verifies requests with v. It is safe for
// concurrent use. Errors wrap jwtverify.ErrInvalidConfig.
func New(v jwtverify.Verifier, opts Options) (func(http.Handler) http.Handler, error) {
	if v == nil {
		return nil, fmt.Errorf("%w: no verifier", jwtverify.ErrInvalidConfig)
	}
	if opts.Realm == "" {
		opts.Realm = "api"
	}
	if strings.ContainsAny(opts.Realm, "\"\\\r\n") {
		return nil, fmt.Errorf("%w: realm must not contain quotes, backslashes or line breaks", jwtverify.ErrInvalidConfig)
	}
	opts.RetryAfter = cmp.Or(opts.RetryAfter, 30*time.Second)
	opts.TrustedProxies = append([]netip.Prefix(nil), opts.TrustedProxies...)
	m := &mw{v: v, opts: opts}
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { m.serve(next, w, r) })
	}, nil
}

// Require returns middleware that applies p to the token a previous
// middleware verified (for per-route policies under one verifying
// middleware), answering 403 as that middleware would. Without a verified
// token in the context it answers 401.
func Require(p Policy) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			v, ok := r.Context().Value(ctxKey{}).(*verified)
			if !ok {
				writeError(w, r, "api", nil, &Error{Status: http.StatusUnauthorized, Description: "bearer token required"})
				return
			}
			if err := p(&v.subj); err != nil {
				writeError(w, r, v.opts.Realm, v.opts.ErrorHandler, denied(err))
				return
			}
			next.ServeHTTP(w, r)
		})
	}
}

func denied(err error) *Error {
	e := &Error{Status: http.StatusForbidden, Code: "insufficient_scope", Description: "the token does not allow this request", Err: err}
	return e
}

func (m *mw) serve(next http.Handler, w http.ResponseWriter, r *http.Request) {
	route := m.opts.Route
	if route == "" {
		route = r.URL.Path
	}
	out := Outcome{Route: route}
	fail := func(e *Error, class string) {
		out.Status, out.Class = e.Status, class
		m.log(r, route, e, nil)
		m.observe(out)
		writeError(w, r, m.opts.Realm, m.opts.ErrorHandler, e)
	}
	if m.opts.RequireTLS && !m.overTLS(r) {
		fail(&Error{Status: http.StatusForbidden, Code: "invalid_request", Description: "https is required"}, "insecure")
		return
	}
	token, err := m.extract(r)
	switch {
	case err != nil:
		fail(&Error{Status: http.StatusBadRequest, Code: "invalid_request", Description: err.Error()}, "invalid_request")
		return
	case token == "":
		fail(&Error{Status: http.StatusUnauthorized, Description: "bearer token required"}, "missing")
		return
	}
	start := time.Now()
	tok, err := m.v.Verify(r.Context(), token)
	out.Duration = time.Since(start)
	if err != nil {
		class := jwtverify.Class(err)
		if class == "" {
			class = "keys_unavailable" // not a rejection: the verifier failed
		}
		if class == "keys_unavailable" {
			w.Header().Set("Retry-After", strconv.Itoa(int((m.opts.RetryAfter+time.Second-1)/time.Second)))
			fail(&Error{Status: http.StatusServiceUnavailable, Description: "keys_unavailable", Err: err}, class)
			return
		}
		fail(&Error{Status: http.StatusUnauthorized, Code: "invalid_token", Description: class, Err: err}, class)
		return
	}
	v := &verified{subj: Subject{Token: tok}, opts: &m.opts}
	if m.opts.Policy != nil {
		if err := m.opts.Policy(&v.subj); err != nil {
			e := denied(err)
			out.Status, out.Class = e.Status, "policy"
			m.log(r, route, e, tok)
			m.observe(out)
			writeError(w, r, m.opts.Realm, m.opts.ErrorHandler, e)
			return
		}
	}
	m.log(r, route, nil, tok)
	m.observe(out)
	next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), ctxKey{}, v)))
}

func (m *mw) observe(o Outcome) {
	if m.opts.Observe != nil {
		m.opts.Observe(o)
	}
}

func (m *mw) log(r *http.Request, route string, e *Error, tok *jwtverify.Token) {
	if m.opts.Logger == nil {
		return
	}
	attrs := []any{"route", route, "method", r.Method}
	if tok != nil {
		attrs = append(attrs, "kid", tok.Header.KeyID, "iss", tok.Claims.Issuer, "sub", tok.Claims.Subject)
	}
	if e == nil {
		m.opts.Logger.Info("request authorized", attrs...)
		return
	}
	attrs = append(attrs, "status", e.Status, "reason", e.Description)
	var d *Denied
	if errors.As(e.Err, &d) {
		attrs = append(attrs, "policy", d.Reason)
	}
	m.opts.Logger.Warn("request refused", attrs...)
}

// overTLS reports whether r came over TLS, directly or through a trusted proxy.
func (m *mw) overTLS(r *http.Request) bool {
	if r.TLS != nil {
		return true
	}
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return false
	}
	addr, err := netip.ParseAddr(host)
	if err != nil {
		return false
	}
	for _, p := range m.opts.TrustedProxies {
		if p.Contains(addr.Unmap()) {
			return strings.EqualFold(lastForwardedProto(r.Header), "https")
		}
	}
	return false
}

// lastForwardedProto returns the last X-Forwarded-Proto value, across all
// header lines and their comma-separated elements, without optional
// whitespace: the one the proxy nearest to us appended. The earlier ones
// are whatever the client sent.
func lastForwardedProto(h http.Header) string {
	lines := h.Values("X-Forwarded-Proto")
	if len(lines) == 0 {
		return ""
	}
	last := lines[len(lines)-1]
	if i := strings.LastIndexByte(last, ','); i >= 0 {
		last = last[i+1:]
	}
	return strings.Trim(last, " \t")
}

var (
	errTwoCredentials = errors.New("more than one credential")
	errBadHeader      = errors.New("malformed Authorization header")
	errBadToken       = errors.New("malformed bearer token")
)

// extract returns the request's one bearer token, "" when it has none, or
// an error for a request RFC 6750 calls invalid. The Authorization header
// is "Bearer" (any case), exactly one space and a b64token; a header whose
// scheme (up to the first space or tab) is Bearer but is otherwise
// different is malformed. A header of another scheme is no credential.
func (m *mw) extract(r *http.Request) (string, error) {
	var found []string
	headers := r.Header.Values("Authorization")
	if len(headers) > 1 {
		return "", errTwoCredentials
	}
	if len(headers) == 1 {
		scheme, rest := headers[0], ""
		if i := strings.IndexAny(scheme, " \t"); i >= 0 {
			scheme, rest = scheme[:i], scheme[i:]
		}
		if strings.EqualFold(scheme, "Bearer") {
			tok, oneSpace := strings.CutPrefix(rest, " ")
			if !oneSpace || !isB64Token(tok) {
				return "", errBadHeader
			}
			found = append(found, tok)
		}
	}
	if m.opts.QueryParam != "" {
		if vals, ok := r.URL.Query()[m.opts.QueryParam]; ok {
			if len(vals) > 1 {
				return "", errTwoCredentials
			}
			if !isB64Token(vals[0]) {
				return "", errBadToken
			}
			found = append(found, vals[0])
		}
	}
	if m.opts.Cookie != "" {
		switch cs := r.CookiesNamed(m.opts.Cookie); {
		case len(cs) > 1:
			return "", errTwoCredentials
		case len(cs) == 1 && cs[0].Value != "":
			if !isB64Token(cs[0].Value) {
				return "", errBadToken
			}
			found = append(found, cs[0].Value)
		}
	}
	switch len(found) {
	case 0:
		return "", nil
	case 1:
		return found[0], nil
	}
	return "", errTwoCredentials
}

// isB64Token reports whether s is an RFC 6750 b64token.
func isB64Token(s string) bool {
	if s == "" {
		return false
	}
	i := 0
	for ; i < len(s); i++ {
		c := s[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || strings.IndexByte("-._~+/", c) >= 0) {
			break
		}
	}
	for ; i < len(s); i++ {
		if s[i] != '=' {
			return false
		}
	}
	return true
}

// writeError sets WWW-Authenticate and writes e.
func writeError(w http.ResponseWriter, r *http.Request, realm string, custom func(http.ResponseWriter, *http.Request, *Error), e *Error) {
	if e.Status != http.StatusServiceUnavailable {
		challenge := `Bearer realm="` + realm + `"`
		if e.Code != "" {
			challenge += `, error="` + e.Code + `"`
			if e.Code == "invalid_token" {
				challenge += `, error_description="` + e.Description + `"`
			}
		}
		var d *Denied
		if errors.As(e.Err, &d) && d.Scope != "" && strings.IndexFunc(d.Scope, func(c rune) bool { return c == '"' || c == '\\' || c < 0x20 }) < 0 {
			challenge += `, scope="` + d.Scope + `"`
		}
		w.Header().Set("WWW-Authenticate", challenge)
	}
	if custom != nil {
		custom(w, r, e)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(e.Status)
	code := e.Code
	if code == "" {
		code = map[int]string{http.StatusUnauthorized: "unauthorized", http.StatusServiceUnavailable: "temporarily_unavailable"}[e.Status]
	}
	json.NewEncoder(w).Encode(map[string]string{"error": code, "error_description": e.Description})
}
