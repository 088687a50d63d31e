package access

import (
	"fmt"
	"strings"
)

// Scopes requires every one of scopes among the token's scopes: those of
// the "scope" claim (RFC 8693, RFC 9068) and of the "scp" claim (a string
// like scope, or an array of scope tokens). A scope string is scope tokens
// separated by single spaces (U+0020), each token one or more of the
// characters RFC 6749 §3.3 allows (printable ASCII but space, '"' and '\').
// A token whose scope or scp claim is anything else (another type, an
// empty string, a tab, a no-break space, two spaces in a row, a leading or
// trailing space, an array element that is not one scope token) holds no
// scope at all. A refusal's Denied names all of scopes as its Scope.
// Scopes() allows every token whose scope claims are well formed. To read
// other claims, such as Auth0's "permissions", use [ScopesIn].
func Scopes(scopes ...string) Policy {
	return scopePolicy(defaultScopeClaims, "malformed scope or scp claim", scopes, allScopes)
}

// AnyScope requires at least one of scopes, read as [Scopes] reads them.
// AnyScope() refuses every token. To read other claims, use [AnyScopeIn].
func AnyScope(scopes ...string) Policy {
	return scopePolicy(defaultScopeClaims, "malformed scope or scp claim", scopes, anyScope)
}

// ScopesIn is [Scopes] reading the top-level claims named in claims (each
// name taken literally, dots included) instead of scope and scp. Each of
// them may be a scope string or an array of scope tokens, as scp may; an
// absent one adds no scope, and a malformed one makes the token hold no
// scope at all. Auth0 puts the permissions of its RBAC in an array named
// "permissions":
//
//	access.ScopesIn([]string{"permissions"}, "orders:write")
//	access.ScopesIn([]string{"scope", "permissions"}, "orders:write") // either claim grants it
//
// With no claims a token holds no scope. The policy keeps its own copies
// of claims and scopes.
func ScopesIn(claims []string, scopes ...string) Policy {
	return scopePolicy(namedScopeClaims(claims), malformedIn(claims), scopes, allScopes)
}

// AnyScopeIn is [AnyScope] reading the claims [ScopesIn] reads.
func AnyScopeIn(claims []string, scopes ...string) Policy {
	return scopePolicy(namedScopeClaims(claims), malformedIn(claims), scopes, anyScope)
}

// scopeClaim is a claim that holds scopes: a scope string, or also an
// array of scope tokens when arrays is set.
type scopeClaim struct {
	name   string
	arrays bool
}

// defaultScopeClaims are the claims Scopes and AnyScope read.
var defaultScopeClaims = []scopeClaim{{name: "scope"}, {name: "scp", arrays: true}}

func namedScopeClaims(names []string) []scopeClaim {
	claims := make([]scopeClaim, len(names))
	for i, n := range names {
		claims[i] = scopeClaim{name: n, arrays: true}
	}
	return claims
}

// malformedIn is the reason of ScopesIn and AnyScopeIn for a malformed
// claim: it names the policy's claims, never a value.
func malformedIn(claims []string) string {
	return fmt.Sprintf("malformed scope claim among %q", claims)
}

// allScopes is the judge of Scopes and ScopesIn.
func allScopes(have map[string]bool, wanted []string) string {
	for _, want := range wanted {
		if !have[want] {
			return "missing scope " + want
		}
	}
	return ""
}

// anyScope is the judge of AnyScope and AnyScopeIn.
func anyScope(have map[string]bool, wanted []string) string {
	for _, want := range wanted {
		if have[want] {
			return ""
		}
	}
	return "none of the scopes"
}

// scopePolicy is the policy of Scopes, AnyScope, ScopesIn and AnyScopeIn:
// it keeps its own copy of scopes and refuses a token whose scope claims
// (claims, which it does not modify) are malformed, or for which judge,
// given the token's scopes and the copy, returns a reason. A refusal's
// Denied names all of scopes as its Scope, and its Reason is malformed for
// a malformed claim.
func scopePolicy(claims []scopeClaim, malformed string, scopes []string, judge func(have map[string]bool, wanted []string) string) Policy {
	scopes = append([]string(nil), scopes...)
	required := strings.Join(scopes, " ")
	return func(s *Subject) error {
		have, ok := tokenScopes(s, claims)
		if !ok {
			return &Denied{Scope: required, Reason: malformed}
		}
		if reason := judge(have, scopes); reason != "" {
			return &Denied{Scope: required, Reason: reason}
		}
		return nil
	}
}

// tokenScopes returns the scopes of s's claims, or false when one is
// malformed.
func tokenScopes(s *Subject, claims []scopeClaim) (map[string]bool, bool) {
	have := map[string]bool{}
	for _, c := range claims {
		v, found := s.Lookup(c.name)
		if !found {
			continue
		}
		switch v := v.(type) {
		case string:
			if !addScopes(have, v) {
				return nil, false
			}
		case []any:
			if !c.arrays {
				return nil, false
			}
			for _, x := range v {
				str, isStr := x.(string)
				if !isStr || !isScopeToken(str) {
					return nil, false
				}
				have[str] = true
			}
		default:
			return nil, false
		}
	}
	return have, true
}

// addScopes adds the scope tokens of the RFC 6749 scope s to have, and
// reports whether s is one: scope-token *( SP scope-token ).
func addScopes(have map[string]bool, s string) bool {
	for tok := range strings.SplitSeq(s, " ") {
		if !isScopeToken(tok) {
			return false
		}
		have[tok] = true
	}
	return true
}

// isScopeToken reports whether s is an RFC 6749 scope-token:
// 1*( %x21 / %x23-5B / %x5D-7E ).
func isScopeToken(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x21 || c > 0x7e || c == '"' || c == '\\' {
			return false
		}
	}
	return s != ""
}
