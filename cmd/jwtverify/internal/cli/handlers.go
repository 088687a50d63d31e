package cli

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"log"
	"log/slog"
	"net/http"
	"net/http/httputil"
	"net/netip"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/jwtverify/jwtverify"
	"github.com/jwtverify/jwtverify/access"
	"github.com/jwtverify/jwtverify/internal/peer"
	"github.com/jwtverify/jwtverify/internal/redact"
	"github.com/jwtverify/jwtverify/internal/spiffeid"
	"github.com/jwtverify/jwtverify/middleware"
)

// policy returns the access policy of --require-scope and
// --require-spiffe-id (all scopes, and any of the IDs), or nil for none.
func (f *proxyFlags) policy() (access.Policy, error) {
	var all []access.Policy
	if len(f.requireScopes) > 0 {
		all = append(all, access.Scopes(f.requireScopes...))
	}
	if len(f.requireSPIFFEIDs) > 0 {
		for _, p := range f.requireSPIFFEIDs {
			if _, err := spiffeid.ParsePattern(p); err != nil {
				return nil, fmt.Errorf("--require-spiffe-id %q: %v", p, err)
			}
		}
		all = append(all, access.SPIFFEID(f.requireSPIFFEIDs...))
	}
	if len(all) == 0 {
		return nil, nil
	}
	return access.AllOf(all...), nil
}

// forwardClaim is one --forward-claim: the claim's path and its header.
type forwardClaim struct {
	path   []string
	header string
}

// parseForwardClaims parses the --forward-claim values.
func parseForwardClaims(args []string, taken ...string) ([]forwardClaim, error) {
	var out []forwardClaim
	for _, a := range args {
		claim, header, ok := strings.Cut(a, "=")
		if !ok || claim == "" || header == "" || strings.Contains(claim, "..") || strings.HasPrefix(claim, ".") || strings.HasSuffix(claim, ".") {
			return nil, fmt.Errorf("--forward-claim %q is not CLAIM=HEADER", a)
		}
		if !validHeaderName(header) {
			return nil, fmt.Errorf("--forward-claim %q: %q is not a header name", a, header)
		}
		if reservedHeader(header) || slices.ContainsFunc(taken, func(h string) bool { return sameHeader(h, header) }) {
			return nil, fmt.Errorf("--forward-claim %q: %s is a header the proxy or HTTP itself sets", a, header)
		}
		for _, c := range out {
			if sameHeader(c.header, header) {
				return nil, fmt.Errorf("--forward-claim: header %s is given twice", header)
			}
		}
		out = append(out, forwardClaim{path: strings.Split(claim, "."), header: http.CanonicalHeaderKey(header)})
	}
	return out, nil
}

// sameHeader reports whether two header names are one to an upstream:
// equal without regard to case, with "_" as "-" (CGI-style servers map
// both to one name).
func sameHeader(a, b string) bool {
	return strings.EqualFold(strings.ReplaceAll(a, "_", "-"), strings.ReplaceAll(b, "_", "-"))
}

// reservedHeader reports whether name is one that a claim must not set:
// one of HTTP's own, the credentials, the forwarding headers the proxy or
// the front proxy set, or a method override.
func reservedHeader(name string) bool {
	n := strings.ToLower(strings.ReplaceAll(name, "_", "-"))
	switch n {
	case "authorization", "proxy-authorization", "cookie", "set-cookie", "host", "content-length", "content-type",
		"transfer-encoding", "connection", "upgrade", "te", "trailer", "keep-alive", "forwarded", "dpop",
		"www-authenticate", "retry-after", "location":
		return true
	}
	if strings.HasPrefix(n, "x-forwarded-") || strings.HasPrefix(n, "x-original-") || strings.HasPrefix(n, "x-real-") {
		return true
	}
	return slices.ContainsFunc(overrideHeaders, func(h string) bool { return strings.EqualFold(h, n) })
}

// validHeaderName reports whether s is an HTTP field name (RFC 9110 token).
func validHeaderName(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0) {
			return false
		}
	}
	return true
}

// headerValue is a claim's value as one header value: a string as it is,
// a number or boolean as JSON writes it, an array's elements joined by
// commas; anything else (an object, null) gives none. A value is passed
// only when it is plain visible ASCII (spaces inside allowed, none at
// either end; for an array, no element empty or holding a comma): such a
// value is what an upstream reads back. Anything else (CR, LF, controls,
// non-ASCII, a comma inside an element) gives no header at all, never a
// cleaned value: dropping characters would let two different claims (or a
// crafted one and another account's) arrive as the same header.
func headerValue(v any) (string, bool) {
	switch v := v.(type) {
	case string:
		return v, plainHeaderValue(v)
	case json.Number:
		return string(v), true
	case bool:
		return strconv.FormatBool(v), true
	case []any:
		parts := make([]string, 0, len(v))
		for _, e := range v {
			p, ok := headerValue(e)
			if !ok || strings.Contains(p, ",") {
				return "", false
			}
			parts = append(parts, p)
		}
		return strings.Join(parts, ","), len(parts) > 0
	}
	return "", false
}

// plainHeaderValue reports whether s is visible ASCII, spaces allowed
// inside only.
func plainHeaderValue(s string) bool {
	if s == "" || s[0] == ' ' || s[len(s)-1] == ' ' {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < 0x20 || s[i] > 0x7e {
			return false
		}
	}
	return true
}

// setClaimHeaders sets on h the claims header (the verified payload,
// compact, base64url) and each --forward-claim header the token has.
func setClaimHeaders(h http.Header, claimsHeader string, claims []forwardClaim, tok *jwtverify.Token) {
	s := access.Subject{Token: tok}
	for _, c := range claims {
		if v, ok := s.Lookup(c.path...); ok {
			if hv, ok := headerValue(v); ok {
				h.Set(c.header, hv)
			}
		}
	}
	// Last, so that nothing above could stand in for it (parseForwardClaims
	// refuses its name for a claim anyway).
	h.Set(claimsHeader, base64.RawURLEncoding.EncodeToString(compactJSON(tok.Claims.Raw)))
}

// strippedHeaders are the request headers no client may send through the
// proxy: the claims header, the --forward-claim headers and the method
// override headers (overrideHeaders) always, in every spelling an upstream
// might read as the same name (CGI-style servers map "_" and "-" alike,
// so both sides are compared with "_" as "-"), and the client-certificate
// headers unless a trusted proxy set them.
type strippedHeaders struct {
	claims      string
	forwarded   []forwardClaim
	certHeaders []string
	trusted     []netip.Prefix
}

// strip removes them from r.
func (s *strippedHeaders) strip(r *http.Request) {
	trusted := peer.In(r.RemoteAddr, s.trusted)
	same := sameHeader
	for name := range r.Header {
		drop := same(name, s.claims) || slices.ContainsFunc(overrideHeaders, func(h string) bool { return same(name, h) })
		for _, c := range s.forwarded {
			drop = drop || same(name, c.header)
		}
		for _, c := range s.certHeaders {
			drop = drop || (!trusted && same(name, c))
		}
		if drop {
			delete(r.Header, name) // as spelled: Del would canonicalise it first
		}
	}
}

// overrideHeaders are the method-override headers frameworks obey (a
// POST with "X-HTTP-Method-Override: DELETE" runs the DELETE handler):
// removed from every request, so that the method a rule judged is the one
// that runs.
var overrideHeaders = []string{"X-HTTP-Method-Override", "X-HTTP-Method", "X-Method-Override"}

// canonicalPath reports whether p is a path the rules can judge: it
// starts with "/", has no empty, "." or ".." segment, no segment ending
// in "." or a space (which Windows servers drop), no ";" (path parameters,
// which Java servers strip before routing), no "%" (an encoding a second
// decoding would reveal), no "\", control character or NUL, and raw (the path as sent, when it differs) encodes no "/", "\",
// ".", ";" or "%" that decoding (once, or twice) would reveal. A server
// behind the proxy that normalised such a path could otherwise see another
// path than the rule judged.
func canonicalPath(p, raw string) bool {
	if p == "" || p[0] != '/' || cleanPath(p) != p || strings.ContainsAny(p, ";%\\\x7f") {
		return false
	}
	if !utf8.ValidString(p) {
		return false // overlong and invalid forms, which lenient decoders read as ASCII
	}
	for _, r := range p {
		if r < 0x20 || r >= utf8.RuneSelf && foldsToASCII(r) {
			return false
		}
	}
	for seg := range strings.SplitSeq(p[1:], "/") {
		if strings.HasSuffix(seg, ".") || strings.HasSuffix(seg, " ") {
			return false
		}
	}
	lower := strings.ToLower(raw)
	for _, enc := range []string{"%2f", "%5c", "%2e", "%3b", "%25"} {
		if strings.Contains(lower, enc) {
			return false
		}
	}
	return true
}

// foldsToASCII reports whether a non-ASCII rune has an ASCII letter among
// its case mappings or case-folding orbit (U+017F LONG S upper-cases to S,
// U+0131 DOTLESS I to I, U+212A KELVIN SIGN folds with k): an upstream
// comparing paths without regard to case could read it as that letter,
// which the rules' ASCII case-insensitive match does not.
func foldsToASCII(r rune) bool {
	for _, m := range []rune{unicode.ToUpper(r), unicode.ToLower(r), unicode.ToTitle(r)} {
		if m < utf8.RuneSelf {
			return true
		}
	}
	for f := unicode.SimpleFold(r); f != r; f = unicode.SimpleFold(f) {
		if f < utf8.RuneSelf {
			return true
		}
	}
	return false
}

// canonicalMethod reports whether m is a method the rules can judge: a
// token in upper case. Methods are case-sensitive, but some frameworks
// upper-case them before routing ("post" runs the POST handler), so any
// other spelling is refused rather than judged as a method no rule lists.
func canonicalMethod(m string) bool {
	return validHeaderName(m) && strings.ToUpper(m) == m
}

// ruleHandlers returns, for each rule, next behind the rule's middleware
// (an anonymous rule's: next itself).
func ruleHandlers(rules []proxyRule, next http.Handler) []http.Handler {
	out := make([]http.Handler, len(rules))
	for i, rule := range rules {
		out[i] = next
		if rule.mw != nil {
			out[i] = rule.mw.Handler(next)
		}
	}
	return out
}

// refuse answers a request no rule lets through, and logs it.
func refuse(w http.ResponseWriter, r *http.Request, logger *slog.Logger, status int, reason string) {
	logger.Warn("request refused", "route", r.URL.Path, "method", r.Method, "status", status, "reason", reason)
	http.Error(w, http.StatusText(status), status)
}

// reverseProxy is the handler of proxy mode: headers stripped, upgrades
// refused (but WebSocket with --allow-websocket), the path checked, then
// the first matching rule: anonymous requests go upstream as they are,
// the others through the rule's middleware, which passes verified ones
// upstream with the claims headers. No rule: 403.
func (f *proxyFlags) reverseProxy(up *url.URL, rules []proxyRule, headers strippedHeaders, claims []forwardClaim, logger *slog.Logger, errorLog *log.Logger) http.Handler {
	redactedUpstream := redact.URL(f.upstream)
	rp := &httputil.ReverseProxy{
		Rewrite: func(pr *httputil.ProxyRequest) {
			pr.SetURL(up)
			pr.SetXForwarded()
			if tok, ok := middleware.FromContext(pr.In.Context()); ok {
				setClaimHeaders(pr.Out.Header, f.claimsHeader, claims, tok)
			}
			if f.stripAuthorization {
				pr.Out.Header.Del("Authorization")
			}
		},
		Transport: f.transport,
		ErrorLog:  errorLog,
		ErrorHandler: func(w http.ResponseWriter, r *http.Request, err error) {
			logger.Error("upstream request failed", "upstream", redactedUpstream, "method", r.Method, "path", r.URL.Path, "err", err)
			w.WriteHeader(http.StatusBadGateway)
		},
	}
	// A verified request runs under a deadline. A WebSocket tunnel's is
	// the instant its token stops verifying (Token.ValidUntil: exp plus
	// the leeway, or any earlier bound the verifier enforces);
	// ReverseProxy closes the tunnel when the request's context ends. (The
	// verifier requires exp; were there no bound, the zero time would
	// close the tunnel at once.) Any other request's deadline is the write
	// timeout, so that an upstream that does not answer is abandoned once
	// the client can no longer be answered.
	upstream := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var deadline time.Time
		if _, ws := upgradeOf(r); ws {
			tok, ok := middleware.FromContext(r.Context())
			if !ok {
				refuse(w, r, logger, http.StatusBadRequest, "protocol upgrade on an anonymous route")
				return
			}
			deadline = tok.ValidUntil()
		} else if f.timeouts.write > 0 {
			deadline = time.Now().Add(f.timeouts.write)
		}
		if !deadline.IsZero() {
			ctx, cancel := context.WithDeadline(r.Context(), deadline)
			defer cancel()
			r = r.WithContext(ctx)
		}
		rp.ServeHTTP(w, r)
	})
	verified := ruleHandlers(rules, upstream)
	// A protocol upgrade is refused before the token is looked at, unless
	// it is a WebSocket one and --allow-websocket is set: nothing inside a
	// tunnel is verified.
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		headers.strip(r)
		if asked, ws := upgradeOf(r); asked && !(ws && f.allowWebSocket) {
			w.Header().Set("Connection", "close")
			refuse(w, r, logger, http.StatusBadRequest, "protocol upgrade")
			return
		}
		if !canonicalPath(r.URL.Path, r.URL.RawPath) || !canonicalMethod(r.Method) {
			refuse(w, r, logger, http.StatusBadRequest, "path or method is not canonical")
			return
		}
		for i := range rules {
			if rules[i].matches(r.Method, r.URL.Path) {
				verified[i].ServeHTTP(w, r)
				return
			}
		}
		refuse(w, r, logger, http.StatusForbidden, "no rule matches")
	})
}

// errOriginal is why a forward-auth check cannot be judged: the original
// request it names is not usable.
var errOriginal = errors.New("original request not usable")

// original returns the method and URL of the request a forward-auth check
// is about. From a trusted proxy (--trusted-proxy) they come from
// X-Forwarded-Method and X-Forwarded-Uri (Traefik) or X-Original-Method
// and X-Original-URI (nginx auth_request); otherwise, and for Envoy's
// ext_authz, which sends the original method and path as its own, they
// are the check's own. The headers of an untrusted peer are ignored, so a
// client cannot choose the path its request is judged as.
func original(r *http.Request, trusted []netip.Prefix) (string, *url.URL, error) {
	method, uri := r.Method, r.URL.RequestURI()
	if peer.In(r.RemoteAddr, trusted) {
		// A proxy sets one pair and may pass the client's copy of the
		// other on (nginx copies the client's headers into the auth
		// subrequest): a check carrying both, or either header twice, is
		// refused, never judged by the one read first.
		found := 0
		for _, pair := range [][2]string{{"X-Forwarded-Method", "X-Forwarded-Uri"}, {"X-Original-Method", "X-Original-URI"}} {
			ms, us := r.Header.Values(pair[0]), r.Header.Values(pair[1])
			if len(ms) == 0 && len(us) == 0 {
				continue
			}
			found++
			// Both of a pair, once each: a URI without its method would be
			// judged with the check's own method (GET), not the request's.
			if len(ms) != 1 || len(us) != 1 {
				return "", nil, errOriginal
			}
			method, uri = ms[0], us[0]
		}
		if found > 1 {
			return "", nil, errOriginal
		}
	}
	if !canonicalMethod(method) {
		return "", nil, errOriginal
	}
	u, err := url.ParseRequestURI(uri)
	if err != nil || u.IsAbs() || !strings.HasPrefix(uri, "/") {
		return "", nil, errOriginal
	}
	return method, u, nil
}

// forwardAuthHandler is the handler of --forward-auth: each request is an
// authorization check of the original request (see original). It answers
// 200 with the claims headers (anonymous rules: 200 without them), or the
// rule middleware's 401 (with WWW-Authenticate), 403 or 503 (with
// Retry-After); 403 when no rule matches; 400 when the original request
// is not usable.
func forwardAuthHandler(rules []proxyRule, headers strippedHeaders, claimsHeader string, claims []forwardClaim, logger *slog.Logger) http.Handler {
	allow := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if tok, ok := middleware.FromContext(r.Context()); ok {
			setClaimHeaders(w.Header(), claimsHeader, claims, tok)
		}
		w.WriteHeader(http.StatusOK)
	})
	verified := ruleHandlers(rules, allow)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		headers.strip(r)
		method, u, err := original(r, headers.trusted)
		if err != nil {
			refuse(w, r, logger, http.StatusBadRequest, err.Error())
			return
		}
		if !canonicalPath(u.Path, u.RawPath) {
			refuse(w, r, logger, http.StatusForbidden, "original path is not canonical")
			return
		}
		// The middleware judges the original request: its method, path and
		// query (DPoP's htm and htu), with the check's headers.
		orig := r.Clone(r.Context())
		orig.Method, orig.URL, orig.RequestURI = method, u, u.RequestURI()
		orig.Body, orig.ContentLength = http.NoBody, 0
		for i := range rules {
			if rules[i].matches(method, u.Path) {
				verified[i].ServeHTTP(w, orig)
				return
			}
		}
		refuse(w, orig, logger, http.StatusForbidden, "no rule matches")
	})
}
