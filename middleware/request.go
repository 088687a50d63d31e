package middleware

import (
	"errors"
	"net"
	"net/http"
	"net/netip"
	"strings"
)

// extract returns the request's token: Options.Extract's, or by the RFC
// 6750 rules of bearer.
func (m *Middleware) extract(r *http.Request) (string, error) {
	if m.opts.Extract != nil {
		return m.opts.Extract(r)
	}
	return m.bearer(r)
}

// overTLS reports whether r came over TLS, directly or through a trusted proxy.
func (m *Middleware) overTLS(r *http.Request) bool {
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

// bearer returns the request's one bearer token, "" when it has none, or
// an error for a request RFC 6750 calls invalid. The Authorization header
// is "Bearer" (any case), exactly one space and a b64token; a header whose
// scheme (up to the first space or tab) is Bearer but is otherwise
// different is malformed. A header of another scheme is no credential.
func (m *Middleware) bearer(r *http.Request) (string, error) {
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
