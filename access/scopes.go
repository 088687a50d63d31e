package access

import "strings"

// Scopes requires every one of scopes among the token's scopes: those of
// the "scope" claim (RFC 8693, RFC 9068) and of the "scp" claim (a string
// like scope, or an array of scope tokens). A scope string is scope tokens
// separated by single spaces (U+0020), each token one or more of the
// characters RFC 6749 §3.3 allows (printable ASCII but space, '"' and '\').
// A token whose scope or scp claim is anything else (another type, an
// empty string, a tab, a no-break space, two spaces in a row, a leading or
// trailing space, an array element that is not one scope token) holds no
// scope at all. A refusal's Denied names all of scopes as its Scope.
// Scopes() allows every token whose scope claims are well formed.
func Scopes(scopes ...string) Policy {
	return scopePolicy(scopes, func(have map[string]bool, wanted []string) string {
		for _, want := range wanted {
			if !have[want] {
				return "missing scope " + want
			}
		}
		return ""
	})
}

// AnyScope requires at least one of scopes, read as [Scopes] reads them.
// AnyScope() refuses every token.
func AnyScope(scopes ...string) Policy {
	return scopePolicy(scopes, func(have map[string]bool, wanted []string) string {
		for _, want := range wanted {
			if have[want] {
				return ""
			}
		}
		return "none of the scopes"
	})
}

// scopePolicy is the policy of Scopes and AnyScope: it keeps its own copy
// of scopes and refuses a token whose scope claims are malformed, or for
// which judge, given the token's scopes and the copy, returns a reason. A
// refusal's Denied names all of scopes as its Scope.
func scopePolicy(scopes []string, judge func(have map[string]bool, wanted []string) string) Policy {
	scopes = append([]string(nil), scopes...)
	required := strings.Join(scopes, " ")
	return func(s *Subject) error {
		have, ok := tokenScopes(s)
		if !ok {
			return &Denied{Scope: required, Reason: "malformed scope or scp claim"}
		}
		if reason := judge(have, scopes); reason != "" {
			return &Denied{Scope: required, Reason: reason}
		}
		return nil
	}
}

// tokenScopes returns the scopes of s's scope and scp claims, or false when
// either is malformed.
func tokenScopes(s *Subject) (map[string]bool, bool) {
	have := map[string]bool{}
	if v, found := s.Lookup("scope"); found {
		str, isStr := v.(string)
		if !isStr || !addScopes(have, str) {
			return nil, false
		}
	}
	if v, found := s.Lookup("scp"); found {
		switch v := v.(type) {
		case string:
			if !addScopes(have, v) {
				return nil, false
			}
		case []any:
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
