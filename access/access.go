// Package access decides whether a verified token may make a request: the
// access policies that run after jwtverify has verified a token, never
// inside verification.
//
// A [Policy] judges a [Subject], which is a verified token and its claims,
// decoded on first use and kept. The policies of this package read scopes
// ([Scopes], [AnyScope], and [ScopesIn], [AnyScopeIn] for other claims such
// as Auth0's permissions), roles ([Roles]), any claim ([Claim],
// [ClaimPath], and [Match] for string patterns such as GitHub Actions'
// sub) and SPIFFE IDs ([SPIFFEID]), and combine ([AllOf], [AnyOf]); any
// func(*Subject) error is a policy too. A policy refuses with a [*Denied], whose reason names
// the policy's own scopes, roles and claim paths, never a claim's value.
//
// The package depends on neither net/http nor a JOSE library: the
// middleware package applies policies to HTTP requests, and a gRPC
// interceptor or a message consumer applies them to what it verified:
//
//	tok, err := v.Verify(ctx, raw)
//	if err != nil {
//		return err // unauthenticated
//	}
//	if err := access.Scopes("orders:read")(&access.Subject{Token: tok}); err != nil {
//		return err // permission denied
//	}
package access

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"

	"github.com/jwtverify/jwtverify"
)

// Policy decides whether a verified token may make a request. It returns
// nil to allow, or an error to refuse: a [*Denied] to name the scope it
// requires, any other error otherwise. A nil Policy is not a policy:
// calling it panics; the middleware's Options.Policy treats nil as "allow
// every verified token".
//
// The policies of this package are safe for concurrent use and keep no
// state between calls; they keep their own copies of the arguments they
// were made with. A custom Policy must not modify the Subject or its Token.
type Policy func(s *Subject) error

// Subject is what a [Policy] judges: a verified token and its claims,
// which it decodes on first use and keeps. Make one Subject per request
// and give the same one to every policy that judges the request: the
// payload is then decoded at most once per request, and only the members
// a policy reads are decoded further, so a claim no policy reads cannot
// make a policy fail. The middleware does this for its Policy and every
// Require after it.
//
// The zero value has no claims: every Lookup on it reports false. A
// Subject with Token set is ready to use. A Subject is safe for concurrent
// use by multiple goroutines; it must not be copied after first use. It
// does not own its Token: neither it nor a policy modifies the Token, and
// the Token must not be modified while the Subject is in use.
type Subject struct {
	// Token is the verified token; Lookup reads its Claims.Raw. A Token
	// that did not come from a Verify that succeeded must never be
	// judged: a policy trusts every claim it reads.
	Token *jwtverify.Token

	once    sync.Once
	members map[string]json.RawMessage // the payload's top-level members, set by once; nil if it is not a JSON object
}

// Lookup returns the claim at path, one member name per element and taken
// literally (dots included): Lookup("org", "plan") is the plan member of
// the org claim, Lookup("https://example.com/roles") the claim of that
// name. The value is what encoding/json decodes into an any (string, bool,
// nil, []any, map[string]any), except that numbers are json.Number, the
// literal as signed. The first Lookup decodes the payload into its
// top-level members and keeps them; each Lookup decodes only the members
// on its path. Lookup reports false when a member is absent, when an
// element before the last names something other than an object, and for
// an empty path. The returned value belongs to the caller.
func (s *Subject) Lookup(path ...string) (any, bool) {
	if len(path) == 0 {
		return nil, false
	}
	s.once.Do(func() {
		if s.Token != nil && json.Unmarshal([]byte(s.Token.Claims.Raw), &s.members) != nil {
			s.members = nil
		}
	})
	raw, found := s.members[path[0]]
	for _, name := range path[1:] {
		var obj map[string]json.RawMessage
		if !found || json.Unmarshal(raw, &obj) != nil {
			return nil, false
		}
		raw, found = obj[name]
	}
	if !found {
		return nil, false
	}
	d := json.NewDecoder(bytes.NewReader(raw))
	d.UseNumber()
	var v any
	if d.Decode(&v) != nil {
		return nil, false
	}
	return v, true
}

// Denied is the error of a policy that refuses a verified token. The
// middleware answers it with 403, error="insufficient_scope" and, when
// Scope is set, scope="<Scope>"; it logs Reason. The policies of this
// package give reasons that name the policy's own scopes, roles and claim
// paths, never a claim's value, so that a Reason is safe to log; a custom
// policy that returns a Denied must keep to the same rule.
//
// The zero value is a refusal that names no scope and no reason. A Denied
// a policy returned belongs to the caller.
type Denied struct {
	Scope  string // the scope(s) required, space-separated, or ""; sent to the client
	Reason string // for logs; never sent to the client
}

// Error returns "access denied: " and the reason.
func (d *Denied) Error() string { return "access denied: " + d.Reason }

// AllOf allows a token that every one of ps allows, and refuses with the
// error of the first that refuses, without running the rest. AllOf() allows
// every token.
func AllOf(ps ...Policy) Policy {
	ps = append([]Policy(nil), ps...)
	return func(s *Subject) error {
		for _, p := range ps {
			if err := p(s); err != nil {
				return err
			}
		}
		return nil
	}
}

// AnyOf allows a token that at least one of ps allows, trying them in
// order. It refuses with a Denied whose Scope joins the scopes the refusals
// named. AnyOf() refuses every token.
func AnyOf(ps ...Policy) Policy {
	ps = append([]Policy(nil), ps...)
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
