package middleware

import (
	"errors"
	"net/http"
	"strings"
)

// Authorization schemes of a credential.
const (
	schemeBearer = "Bearer"
	schemeDPoP   = "DPoP"
)

// extract returns the request's token and its scheme: Options.Extract's
// (scheme Bearer), or by the RFC 6750 rules of bearer.
func (m *Middleware) extract(r *http.Request) (token, scheme string, err error) {
	if m.opts.Extract != nil {
		token, err = m.opts.Extract(r)
		return token, schemeBearer, err
	}
	return m.bearer(r)
}

// overTLS reports whether r came over TLS, directly or through a trusted proxy.
func (m *Middleware) overTLS(r *http.Request) bool {
	if r.TLS != nil {
		return true
	}
	return m.fromTrustedProxy(r) && strings.EqualFold(lastValue(r.Header, "X-Forwarded-Proto"), "https")
}

// lastValue returns the last value of the header name, across all header
// lines and their comma-separated elements, without optional whitespace:
// the one the proxy nearest to us set or appended (X-Forwarded-Proto,
// X-Forwarded-Host). The earlier ones are whatever the client sent.
func lastValue(h http.Header, name string) string {
	lines := h.Values(name)
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

// bearer returns the request's one token and its scheme, "" when it has
// none, or an error for a request RFC 6750 calls invalid. The
// Authorization header is "Bearer" (any case), exactly one space and a
// b64token; so is a DPoP one (RFC 9449 §7.1) when Options.DPoP is set. A
// header whose scheme (up to the first space or tab) is one of these but
// is otherwise different is malformed. A header of another scheme is no
// credential. A query parameter or cookie is a Bearer credential.
func (m *Middleware) bearer(r *http.Request) (string, string, error) {
	var found []string
	scheme := schemeBearer
	headers := r.Header.Values("Authorization")
	if len(headers) > 1 {
		return "", "", errTwoCredentials
	}
	if len(headers) == 1 {
		name, rest := headers[0], ""
		if i := strings.IndexAny(name, " \t"); i >= 0 {
			name, rest = name[:i], name[i:]
		}
		dpop := m.opts.DPoP != nil && strings.EqualFold(name, schemeDPoP)
		if strings.EqualFold(name, schemeBearer) || dpop {
			tok, oneSpace := strings.CutPrefix(rest, " ")
			if !oneSpace || !isB64Token(tok) {
				return "", "", errBadHeader
			}
			found = append(found, tok)
			if dpop {
				scheme = schemeDPoP
			}
		}
	}
	if m.opts.QueryParam != "" {
		if vals, ok := r.URL.Query()[m.opts.QueryParam]; ok {
			if len(vals) > 1 {
				return "", "", errTwoCredentials
			}
			if !isB64Token(vals[0]) {
				return "", "", errBadToken
			}
			found = append(found, vals[0])
		}
	}
	if m.opts.Cookie != "" {
		switch cs := r.CookiesNamed(m.opts.Cookie); {
		case len(cs) > 1:
			return "", "", errTwoCredentials
		case len(cs) == 1 && cs[0].Value != "":
			if !isB64Token(cs[0].Value) {
				return "", "", errBadToken
			}
			found = append(found, cs[0].Value)
		}
	}
	switch len(found) {
	case 0:
		return "", "", nil
	case 1:
		return found[0], scheme, nil
	}
	return "", "", errTwoCredentials
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
