package middleware

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/jwtverify/jwtverify"
	"github.com/jwtverify/jwtverify/access"
	"github.com/jwtverify/jwtverify/dpop"
)

// Verifier is what a [Middleware] verifies tokens with (New refuses nil): a
// *jwtverify.Verifier, or anything that wraps one, such as a
// *cache.Verified, an *issuers.Router or an *issuers.Tenants.
//
// Verify must be safe for concurrent use by multiple goroutines. It returns
// the verified token, which then belongs to the middleware (see
// [FromContext]), or an error. The middleware answers an error that is
// jwtverify.ErrKeysUnavailable under errors.Is with 503, an error of any
// other rejection class ([jwtverify.Class]) with 401, and an error of no
// class, or a nil token without an error, as a failure of the verifier
// with 503. Verify's error text is never sent to the client; it reaches
// Options.ErrorHandler and Options.Observe as [Outcome].Err.
type Verifier interface {
	Verify(ctx context.Context, token string) (*jwtverify.Token, error)
}

// Options configures a [Middleware]. Every zero value is safe and
// documented; the zero Options verifies the Authorization header only,
// allows every verified token, and logs and reports nothing. [New] copies
// the Options: changing them, or the slices they hold, afterwards has no
// effect.
type Options struct {
	// Realm names the protection space in WWW-Authenticate. Zero: "api".
	// It must not contain control characters, quotes or backslashes.
	Realm string

	// Policy runs after verification, for every request; nil allows every
	// verified token. Per-route policies go in [Middleware.Require].
	Policy access.Policy

	// Extract, when set, takes the token from the request instead of the
	// RFC 6750 rules (Authorization, QueryParam, Cookie), for a token the
	// Authorization header does not carry. It returns the token; "" when the
	// request has none (401); or an error for a request it finds malformed
	// (400, error="invalid_request"). The error's text is neither sent to
	// the client nor logged: it reaches ErrorHandler and Observe as
	// Outcome.Err. Extract is called concurrently and must not modify the
	// request. Setting it together with QueryParam or Cookie is an error.
	Extract func(r *http.Request) (token string, err error)

	// QueryParam, when set (RFC 6750 uses "access_token"), also takes the
	// token from that query parameter. Off by default: URLs are logged.
	QueryParam string

	// Cookie, when set, also takes the token from the named cookie. A
	// cookie of that name with an empty value is no credential; two
	// cookies of that name are two credentials (400).
	Cookie string

	// RequireTLS refuses requests that did not arrive over TLS with 403. A
	// request from one of TrustedProxies counts as TLS when the last
	// X-Forwarded-Proto value (across all header lines and comma-separated
	// elements: the one that proxy set or appended, not the client's) is
	// https, in any case. TrustedProxies are also the only peers whose
	// X-Forwarded-Proto and X-Forwarded-Host decide a DPoP proof's htu
	// (without PublicURL) and whose ClientCertHeader is read. Zero: no
	// peer is trusted.
	RequireTLS     bool
	TrustedProxies []netip.Prefix

	// DPoP, when set, accepts DPoP-bound access tokens (RFC 9449): a token
	// with cnf.jkt sent as "Authorization: DPoP <token>" with one DPoP
	// header, a proof this Checker accepts for the request. Whether or
	// not it is set, a token with cnf.jkt is never accepted as Bearer
	// (401 invalid_token). Zero: the DPoP scheme is not accepted.
	DPoP *dpop.Checker
	// RequireDPoP refuses tokens that are not DPoP-bound (401, with a DPoP
	// challenge). It needs DPoP.
	RequireDPoP bool
	// PublicURL is the scheme and authority clients use
	// ("https://api.example.com"), from which, with the request's path, a
	// DPoP proof's htu is judged; behind a proxy it differs from what the
	// server sees. Zero: https when the request came over TLS (or, from a
	// trusted proxy, its X-Forwarded-Proto says so), and the Host (from a
	// trusted proxy, the last X-Forwarded-Host).
	PublicURL string

	// ClientCertHeader names the header in which a TLS-terminating proxy
	// passes the client certificate, for certificate-bound tokens (RFC
	// 8705 §3, cnf["x5t#S256"]): Envoy's X-Forwarded-Client-Cert (Hash=
	// or Cert=), a URL-encoded PEM (nginx's $ssl_client_escaped_cert) or
	// base64 DER (Traefik). It is read only on requests from
	// TrustedProxies; on others, and when zero, the certificate is the
	// TLS connection's own. A token with cnf["x5t#S256"] whose certificate
	// is absent or another is refused with 401 invalid_token.
	ClientCertHeader string

	// RetryAfter is sent, rounded up to whole seconds, with 503. Zero: 30s.
	// It must not be negative.
	RetryAfter time.Duration

	// ErrorHandler, when set, writes the refusals instead of the default
	// (a JSON body {"error", "error_description"} with Cache-Control:
	// no-store). The WWW-Authenticate and Retry-After headers are already
	// set; it writes the status, o.Status or another. It is called
	// concurrently.
	ErrorHandler func(w http.ResponseWriter, r *http.Request, o Outcome)

	// Logger, when set, gets a record for every request Handler decides
	// ("request authorized" or "request refused": route, method, status,
	// reason, the policy's reason, and for verified tokens kid, iss and
	// sub) and one for every request a Require refuses. Never the token,
	// and no other claim.
	Logger *slog.Logger

	// Route labels log records and outcomes. Zero: the request's path.
	Route string

	// Observe, when set, is called with every outcome that Logger gets a
	// record for: once for every request Handler decides, and once more
	// for a request a Require refuses. ctx is the request's context (for a
	// request passed on, the one the next handler gets, in which
	// FromContext finds the token), so that a tracer can annotate its
	// span. It is called concurrently, before the response is written.
	Observe func(ctx context.Context, o Outcome)
}

// Outcome is what the middleware decided about one request: passed on
// (Status 0) or refused. Options.Observe gets every outcome and
// Options.ErrorHandler every refusal; both may keep it. No field ever holds
// the token. The zero value is a request passed on, unlabelled.
type Outcome struct {
	// Route is Options.Route, or the request's path.
	Route string
	// Status is what the middleware answers: 400, 401, 403 or 503; 0 when
	// it passed the request on.
	Status int
	// Class says why, in one word for metrics: "" when passed on; the
	// rejection class of a refused token ("expired", "keys_unavailable",
	// ...); "policy", "missing" (no credentials), "invalid_request",
	// "insecure" (RequireTLS), "error" (the verifier failed without a
	// rejection class); for sender-constrained tokens "binding" (a bound
	// token without its DPoP proof or client certificate, or an unbound
	// one where DPoP is required), "dpop_proof" (the proof is missing,
	// invalid, replayed, stale or for another request), "dpop_nonce" (a
	// server nonce is needed) or "dpop_replay_store" (the replay store
	// cannot answer: 503).
	Class string
	// Code is the error code sent in WWW-Authenticate: RFC 6750's
	// "invalid_request", "invalid_token", "insufficient_scope", RFC 9449's
	// "invalid_dpop_proof", "use_dpop_nonce", or "" (no credentials, 503,
	// passed on).
	Code string
	// Description is the error_description sent to the client: the
	// rejection class, or a fixed phrase. "" when passed on.
	Description string
	// Err is the cause, for logs and traces: Verify's error, the policy's
	// error (often an *access.Denied), or Extract's error; nil when passed
	// on and for missing credentials. The errors of this module never
	// contain token content; a custom Verifier, policy or Extract must keep
	// to the same rule.
	Err error
	// Duration is the time Verify took; 0 when it was not called.
	Duration time.Duration
}

// Middleware verifies the bearer token of HTTP requests, applies access
// policies, and answers the requests it refuses. Make one with [New]; the
// zero value is not usable, and Handler and Require panic on it. A
// Middleware is safe for concurrent use by multiple goroutines and never
// changes after New.
type Middleware struct {
	v          Verifier
	opts       Options // copied and completed by New; read-only
	retryAfter string  // the Retry-After value
}

// New returns a Middleware that verifies tokens with v. It checks and
// copies opts; its errors wrap jwtverify.ErrInvalidConfig.
func New(v Verifier, opts Options) (*Middleware, error) {
	if v == nil {
		return nil, fmt.Errorf("%w: no verifier", jwtverify.ErrInvalidConfig)
	}
	opts.Realm = cmp.Or(opts.Realm, "api")
	if strings.IndexFunc(opts.Realm, func(c rune) bool { return c < 0x20 || c == 0x7f || c == '"' || c == '\\' }) >= 0 {
		return nil, fmt.Errorf("%w: realm must not contain control characters, quotes or backslashes", jwtverify.ErrInvalidConfig)
	}
	if opts.Extract != nil && (opts.QueryParam != "" || opts.Cookie != "") {
		return nil, fmt.Errorf("%w: Extract replaces QueryParam and Cookie: set either", jwtverify.ErrInvalidConfig)
	}
	if opts.RetryAfter < 0 {
		return nil, fmt.Errorf("%w: RetryAfter is negative", jwtverify.ErrInvalidConfig)
	}
	opts.RetryAfter = cmp.Or(opts.RetryAfter, 30*time.Second)
	opts.TrustedProxies = append([]netip.Prefix(nil), opts.TrustedProxies...)
	if opts.RequireDPoP && opts.DPoP == nil {
		return nil, fmt.Errorf("%w: RequireDPoP needs DPoP", jwtverify.ErrInvalidConfig)
	}
	if opts.PublicURL != "" {
		u, err := url.Parse(opts.PublicURL)
		if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.User != nil || (u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.Fragment != "" {
			return nil, fmt.Errorf("%w: PublicURL must be scheme://host[:port], nothing else", jwtverify.ErrInvalidConfig)
		}
		opts.PublicURL = u.Scheme + "://" + u.Host
	}
	if opts.ClientCertHeader != "" && strings.ContainsAny(opts.ClientCertHeader, " :\r\n\t") {
		return nil, fmt.Errorf("%w: ClientCertHeader must be a header name", jwtverify.ErrInvalidConfig)
	}
	return &Middleware{v: v, opts: opts, retryAfter: strconv.FormatInt(int64((opts.RetryAfter+time.Second-1)/time.Second), 10)}, nil
}

type ctxKey struct{}

// FromContext returns the verified token that a Middleware's Handler put
// in ctx, and false when there is none. Every handler of the request, and
// every policy that judged it, shares this Token: it is safe to read from
// several goroutines, and must not be modified (Clone it to change a copy).
func FromContext(ctx context.Context) (*jwtverify.Token, bool) {
	s, ok := ctx.Value(ctxKey{}).(*access.Subject)
	if !ok {
		return nil, false
	}
	return s.Token, true
}

// Handler returns a handler that verifies the request's token and applies
// Options.Policy. It passes a request it allows on to next, with the token
// in the request's context; it answers any other itself. It panics if m was
// not made by New or next is nil.
func (m *Middleware) Handler(next http.Handler) http.Handler {
	m.mustBeMade()
	mustHave(next)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { m.serve(next, w, r) })
}

// Require returns middleware that applies p, for one route, to the token a
// Handler (of m or of another Middleware) verified earlier in the chain,
// judging the same [access.Subject] as that Handler's policy, so that the
// claims are decoded once per request. A request p refuses gets 403 as
// Handler answers it, with m's Realm and ErrorHandler, and is logged and
// observed by m's Logger and Observe. A request no Handler verified gets
// 401 (no credentials). The returned function panics if m was not made by
// New or its handler is nil; Require panics if p is nil.
func (m *Middleware) Require(p access.Policy) func(http.Handler) http.Handler {
	m.mustBeMade()
	if p == nil {
		panic("middleware: Require with a nil policy")
	}
	return m.RequireRequest(func(_ *http.Request, s *access.Subject) error { return p(s) })
}

// RequestPolicy is a policy that sees the request as well as its verified
// token: its method, path, TLS state and headers, for per-route rules and
// checks a claim-only [access.Policy] cannot make. It returns nil to
// allow, or an error to refuse, as access.Policy does. It must not modify
// the request or the Subject, and is called concurrently.
type RequestPolicy func(r *http.Request, s *access.Subject) error

// RequireRequest is [Middleware.Require] for a RequestPolicy: p judges
// the request and the Subject a Handler verified earlier in the chain,
// and a refusal is 403 as Require answers it. RequireRequest panics if p
// is nil.
func (m *Middleware) RequireRequest(p RequestPolicy) func(http.Handler) http.Handler {
	m.mustBeMade()
	if p == nil {
		panic("middleware: RequireRequest with a nil policy")
	}
	return func(next http.Handler) http.Handler {
		mustHave(next)
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			o := Outcome{Route: m.route(r)}
			s, ok := r.Context().Value(ctxKey{}).(*access.Subject)
			if !ok {
				m.refuse(w, r, missing(o), nil)
				return
			}
			if err := p(r, s); err != nil {
				m.refuse(w, r, denied(o, err), s.Token)
				return
			}
			next.ServeHTTP(w, r)
		})
	}
}

// mustBeMade panics if m was not made by New: wiring a zero Middleware
// is a programmer error, found when the chain is built.
func (m *Middleware) mustBeMade() {
	if m == nil || m.v == nil {
		panic("middleware: Middleware not made by New")
	}
}

func mustHave(next http.Handler) {
	if next == nil {
		panic("middleware: nil handler")
	}
}

func (m *Middleware) route(r *http.Request) string {
	return cmp.Or(m.opts.Route, r.URL.Path)
}

func (m *Middleware) serve(next http.Handler, w http.ResponseWriter, r *http.Request) {
	o := Outcome{Route: m.route(r)}
	if m.opts.RequireTLS && !m.overTLS(r) {
		o.Status, o.Class, o.Code, o.Description = http.StatusForbidden, "insecure", "invalid_request", "https is required"
		m.refuse(w, r, o, nil)
		return
	}
	token, scheme, err := m.extract(r)
	switch {
	case err != nil:
		o.Status, o.Class, o.Code, o.Err = http.StatusBadRequest, "invalid_request", "invalid_request", err
		o.Description = "malformed credentials" // a custom Extract's error text may hold the token
		if m.opts.Extract == nil {
			o.Description = err.Error() // one of the fixed phrases of extract
		}
		m.refuse(w, r, o, nil)
		return
	case token == "":
		m.refuse(w, r, missing(o), nil)
		return
	}
	start := time.Now()
	tok, err := m.v.Verify(r.Context(), token)
	o.Duration = time.Since(start)
	if err != nil || tok == nil {
		o.Err = err
		switch class := jwtverify.Class(err); {
		case errors.Is(err, jwtverify.ErrKeysUnavailable):
			o.Status, o.Class, o.Description = http.StatusServiceUnavailable, "keys_unavailable", "keys_unavailable"
		case class == "":
			// Not a verdict on the token: the verifier failed.
			o.Status, o.Class, o.Description = http.StatusServiceUnavailable, "error", "verifier error"
		default:
			o.Status, o.Class, o.Code, o.Description = http.StatusUnauthorized, class, "invalid_token", class
		}
		m.refuse(w, r, o, nil)
		return
	}
	s := &access.Subject{Token: tok}
	if b, refused := m.checkBinding(r, scheme, token, s); refused {
		b.Route, b.Duration = o.Route, o.Duration
		m.refuse(w, r, b, nil)
		return
	}
	if m.opts.Policy != nil {
		if err := m.opts.Policy(s); err != nil {
			m.refuse(w, r, denied(o, err), tok)
			return
		}
	}
	r = r.WithContext(context.WithValue(r.Context(), ctxKey{}, s))
	m.report(r, o, tok)
	next.ServeHTTP(w, r)
}

// missing is o for a request without credentials.
func missing(o Outcome) Outcome {
	o.Status, o.Class, o.Description = http.StatusUnauthorized, "missing", "bearer token required"
	return o
}

// denied is o for a request a policy refused with err.
func denied(o Outcome, err error) Outcome {
	o.Status, o.Class, o.Code, o.Description, o.Err = http.StatusForbidden, "policy", "insufficient_scope", "the token does not allow this request", err
	return o
}

// refuse reports o and answers the request with it. tok is the verified
// token a policy refused, or nil.
func (m *Middleware) refuse(w http.ResponseWriter, r *http.Request, o Outcome, tok *jwtverify.Token) {
	m.report(r, o, tok)
	if o.Status == http.StatusServiceUnavailable {
		w.Header().Set("Retry-After", m.retryAfter)
	}
	m.writeError(w, r, o)
}

// report logs o and gives it to Observe.
func (m *Middleware) report(r *http.Request, o Outcome, tok *jwtverify.Token) {
	if l := m.opts.Logger; l != nil {
		attrs := []any{"route", o.Route, "method", r.Method}
		if tok != nil {
			attrs = append(attrs, "kid", tok.Header.KeyID, "iss", tok.Claims.Issuer, "sub", tok.Claims.Subject)
		}
		if o.Status == 0 {
			l.Info("request authorized", attrs...)
		} else {
			attrs = append(attrs, "status", o.Status, "reason", o.Description)
			var d *access.Denied
			if errors.As(o.Err, &d) {
				attrs = append(attrs, "policy", d.Reason)
			}
			l.Warn("request refused", attrs...)
		}
	}
	if m.opts.Observe != nil {
		m.opts.Observe(r.Context(), o)
	}
}
