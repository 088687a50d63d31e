package middleware

import (
	"errors"
	"fmt"
	"strings"

	"github.com/jwtverify/jwtverify"
)

// Subject is what an access policy judges: a verified token and its claims,
// decoded once per request. Policies must not modify it.
type Subject struct {
	Token  *jwtverify.Token
	Claims map[string]any
}

// Policy decides whether a verified token may make a request. It returns
// nil to allow, or an error (a *Denied to name the scope required). Policies
// run after verification, never inside it.
type Policy func(s *Subject) error

// Denied is the error of a policy that refuses a verified token; the
// middleware answers 403 with error="insufficient_scope" and, when Scope is
// set, scope="<Scope>".
type Denied struct {
	Scope  string // the scope(s) required, space-separated, or ""
	Reason string // for logs; never sent to the client
}

func (d *Denied) Error() string { return "access denied: " + d.Reason }

// Scopes requires every one of scopes among the token's scopes: the
// space-separated "scope" claim (RFC 8693, RFC 9068) or the "scp" claim (a
// string or an array of strings).
func Scopes(scopes ...string) Policy {
	return func(s *Subject) error {
		have := tokenScopes(s.Claims)
		for _, want := range scopes {
			if !have[want] {
				return &Denied{Scope: strings.Join(scopes, " "), Reason: "missing scope " + want}
			}
		}
		return nil
	}
}

// AnyScope requires at least one of scopes.
func AnyScope(scopes ...string) Policy {
	return func(s *Subject) error {
		have := tokenScopes(s.Claims)
		for _, want := range scopes {
			if have[want] {
				return nil
			}
		}
		return &Denied{Scope: strings.Join(scopes, " "), Reason: "none of the scopes"}
	}
}

func tokenScopes(c map[string]any) map[string]bool {
	have := map[string]bool{}
	if s, ok := c["scope"].(string); ok {
		for _, f := range strings.Fields(s) {
			have[f] = true
		}
	}
	switch v := c["scp"].(type) {
	case string:
		for _, f := range strings.Fields(v) {
			have[f] = true
		}
	case []any:
		for _, x := range v {
			if s, ok := x.(string); ok {
				have[s] = true
			}
		}
	}
	return have
}

// Roles requires every one of roles in the "roles" claim (a string or an
// array of strings).
func Roles(roles ...string) Policy {
	return func(s *Subject) error {
		for _, want := range roles {
			if !matches(s.Claims["roles"], want) {
				return &Denied{Reason: "missing role " + want}
			}
		}
		return nil
	}
}

// Claim requires the claim at path (dot-separated, for nested objects:
// "org.plan") to equal one of values, or, when it is an array, to contain
// one. Values compare as JSON strings, numbers or booleans.
func Claim(path string, values ...any) Policy {
	return func(s *Subject) error {
		v, ok := lookup(s.Claims, path)
		if !ok {
			return &Denied{Reason: "claim " + path + " absent"}
		}
		for _, want := range values {
			if matches(v, want) {
				return nil
			}
		}
		return &Denied{Reason: "claim " + path + " has none of the required values"}
	}
}

func lookup(c map[string]any, path string) (any, bool) {
	var cur any = c
	for _, part := range strings.Split(path, ".") {
		m, ok := cur.(map[string]any)
		if !ok {
			return nil, false
		}
		if cur, ok = m[part]; !ok {
			return nil, false
		}
	}
	return cur, true
}

// matches reports whether v equals want, or is an array containing it.
func matches(v, want any) bool {
	if arr, ok := v.([]any); ok {
		for _, x := range arr {
			if equal(x, want) {
				return true
			}
		}
		return false
	}
	return equal(v, want)
}

func equal(v, want any) bool {
	switch w := want.(type) {
	case string:
		s, ok := v.(string)
		return ok && s == w
	case bool:
		b, ok := v.(bool)
		return ok && b == w
	case int:
		f, ok := v.(float64)
		return ok && f == float64(w)
	case float64:
		f, ok := v.(float64)
		return ok && f == w
	}
	return false
}

// AllOf allows a token that every policy allows.
func AllOf(ps ...Policy) Policy {
	return func(s *Subject) error {
		for _, p := range ps {
			if err := p(s); err != nil {
				return err
			}
		}
		return nil
	}
}

// AnyOf allows a token that at least one policy allows (none: refuse).
func AnyOf(ps ...Policy) Policy {
	return func(s *Subject) error {
		var scopes []string
		for _, p := range ps {
			err := p(s)
			if err == nil {
				return nil
			}
			var d *Denied
			if errors.As(err, &d) && d.Scope != "" {
				scopes = append(scopes, d.Scope)
			}
		}
		return &Denied{Scope: strings.Join(scopes, " "), Reason: fmt.Sprintf("none of %d policies allows it", len(ps))}
	}
}
