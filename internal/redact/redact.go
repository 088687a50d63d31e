// Package redact makes text from outside (URLs that may carry credentials,
// strings from fetched documents or unverified tokens) safe to log and to
// put in error text.
package redact

import (
	"net/url"
	"unicode/utf8"
)

// Stand-ins for text that does not parse as an absolute URL: it could hold
// anything, a secret included ("user:pass@host" parses as scheme "user").
const (
	unparsable = "(unparsable URL)"
	hostless   = "(URL without host)"
)

// URL returns rawURL with its userinfo (user name and password), query and
// fragment removed, keeping scheme, host and path: the parts that may carry
// credentials (https://user:pass@host/jwks?api_key=...) never reach a log
// line, an event or an error. A URL that does not parse, or has no host, is
// replaced whole.
func URL(rawURL string) string {
	u, err := url.Parse(rawURL)
	switch {
	case err != nil:
		return unparsable
	case u.Host == "":
		return hostless
	}
	u.User = nil
	u.RawQuery, u.ForceQuery = "", false
	u.Fragment, u.RawFragment = "", ""
	return u.String()
}

// Error redacts, with URL, the URL of every *url.Error in err's tree (what
// net/http's Client returns: its text quotes the request URL, query and
// user name included) and returns err itself, so errors.Is and errors.As
// see the same tree. It modifies those *url.Errors in place: pass only
// errors the caller owns, such as a Client's result, and before wrapping
// them (fmt.Errorf copies the text of the error it wraps). A nil err gives
// nil.
func Error(err error) error {
	if ue, ok := err.(*url.Error); ok && ue != nil {
		ue.URL = URL(ue.URL)
	}
	switch e := err.(type) {
	case interface{ Unwrap() error }:
		Error(e.Unwrap())
	case interface{ Unwrap() []error }:
		for _, inner := range e.Unwrap() {
			Error(inner)
		}
	}
	return err
}

// Truncate returns s cut to at most n bytes, at the start of a UTF-8
// sequence so that no character is split, and whether it cut anything:
// the caller marks the cut in its own way.
func Truncate(s string, n int) (string, bool) {
	if len(s) <= n {
		return s, false
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n], true
}
