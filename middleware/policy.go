package middleware

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"math/big"
	"strconv"
	"strings"
	"sync"

	"github.com/jwtverify/jwtverify"
)

// Subject is what an access policy judges: a verified token and its claims,
// which it decodes on first use and keeps. The middleware makes one Subject
// per request and gives the same one to its Policy and to every Require
// after it, so the payload is decoded at most once per request, and only
// the members a policy reads are decoded further: a claim no policy reads
// cannot make a policy fail.
//
// The zero value with Token set is ready to use. A Subject is safe for
// concurrent use; it must not be copied after first use, and policies must
// not modify it or its Token.
type Subject struct {
	Token *jwtverify.Token

	once    sync.Once
	members map[string]json.RawMessage // the payload's top-level members; nil if it is not a JSON object
}

// Lookup returns the claim at path, one member name per element and taken
// literally (dots included): Lookup("org", "plan") is the plan member of
// the org claim, Lookup("https://example.com/roles") the claim of that
// name. The value is what encoding/json decodes into an any (string, bool,
// nil, []any, map[string]any), except that numbers are json.Number, the
// literal as signed. Only the members on the path are decoded. Lookup
// reports false when a member is absent, when an element before the last
// names something other than an object, and for an empty path.
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

// Policy decides whether a verified token may make a request. It returns
// nil to allow, or an error (a *Denied to name the scope required). Policies
// run after verification, never inside it.
type Policy func(s *Subject) error

// Denied is the error of a policy that refuses a verified token; the
// middleware answers 403 with error="insufficient_scope" and, when Scope is
// set, scope="<Scope>". The policies of this package give reasons that name
// the policy's own scopes, roles and claim paths, never a claim's value.
type Denied struct {
	Scope  string // the scope(s) required, space-separated, or ""
	Reason string // for logs; never sent to the client
}

func (d *Denied) Error() string { return "access denied: " + d.Reason }

// Scopes requires every one of scopes among the token's scopes: those of
// the "scope" claim (RFC 8693, RFC 9068) and of the "scp" claim (a string
// like scope, or an array of scope tokens). A scope string is scope tokens
// separated by single spaces (U+0020), each token one or more of the
// characters RFC 6749 §3.3 allows (printable ASCII but space, '"' and '\').
// A token whose scope or scp claim is anything else (another type, an
// empty string, a tab, a no-break space, two spaces in a row, a leading or
// trailing space, an array element that is not one scope token) holds no
// scope at all.
func Scopes(scopes ...string) Policy {
	return func(s *Subject) error {
		have, ok := tokenScopes(s)
		if !ok {
			return &Denied{Scope: strings.Join(scopes, " "), Reason: "malformed scope or scp claim"}
		}
		for _, want := range scopes {
			if !have[want] {
				return &Denied{Scope: strings.Join(scopes, " "), Reason: "missing scope " + want}
			}
		}
		return nil
	}
}

// AnyScope requires at least one of scopes, read as Scopes reads them.
func AnyScope(scopes ...string) Policy {
	return func(s *Subject) error {
		have, ok := tokenScopes(s)
		if !ok {
			return &Denied{Scope: strings.Join(scopes, " "), Reason: "malformed scope or scp claim"}
		}
		for _, want := range scopes {
			if have[want] {
				return nil
			}
		}
		return &Denied{Scope: strings.Join(scopes, " "), Reason: "none of the scopes"}
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

// Roles requires every one of roles in the "roles" claim (a string or an
// array of strings).
func Roles(roles ...string) Policy {
	return func(s *Subject) error {
		v, _ := s.Lookup("roles")
		for _, want := range roles {
			if !matches(v, value{str: want, kind: kindString}) {
				return &Denied{Reason: "missing role " + want}
			}
		}
		return nil
	}
}

// Claim is ClaimPath with path split at every dot: Claim("org.plan", "gold")
// requires the plan member of the org claim to be "gold". Use ClaimPath for
// claim names that contain dots.
func Claim(path string, values ...any) Policy {
	return claim(path, strings.Split(path, "."), values)
}

// ClaimPath requires the claim at path (one member name per element, taken
// literally, as Subject.Lookup takes it) to equal one of values or, when it
// is an array, to contain one:
//
//	ClaimPath([]string{"https://example.com/roles"}, "admin")
//	ClaimPath([]string{"kubernetes.io", "namespace"}, "prod")
//
// A string or bool value equals the same JSON string or boolean. A number
// value (any Go integer or float type, or a json.Number) equals a JSON
// number of exactly the same value, compared in decimal, never through
// float64: 9007199254740993 does not equal 9007199254740992, and 5 equals
// 5, 5.0 and 50e-1. A float value stands for its shortest decimal form
// (strconv.FormatFloat with precision -1: 0.1 equals the JSON number 0.1,
// not 0.10000000000000001); NaN, infinities and values of other types
// equal nothing. An empty path is never satisfied.
func ClaimPath(path []string, values ...any) Policy {
	return claim(fmt.Sprintf("%q", path), append([]string(nil), path...), values)
}

// claim is the policy of Claim and ClaimPath; name is the path as the
// caller wrote it, for the reason.
func claim(name string, path []string, values []any) Policy {
	wants := make([]value, len(values))
	for i, v := range values {
		wants[i] = valueOf(v)
	}
	return func(s *Subject) error {
		v, ok := s.Lookup(path...)
		if !ok {
			return &Denied{Reason: "claim " + name + " absent"}
		}
		for _, want := range wants {
			if matches(v, want) {
				return nil
			}
		}
		return &Denied{Reason: "claim " + name + " has none of the required values"}
	}
}

// value is a value a policy requires, in the form it is compared in.
type value struct {
	kind int
	str  string // the string, or a number's canonical decimal form
	b    bool
}

const (
	kindNone = iota // equals nothing
	kindString
	kindBool
	kindNumber
)

func valueOf(v any) value {
	var lit string
	switch v := v.(type) {
	case string:
		return value{kind: kindString, str: v}
	case bool:
		return value{kind: kindBool, b: v}
	case json.Number:
		lit = string(v)
	case int:
		lit = strconv.FormatInt(int64(v), 10)
	case int8:
		lit = strconv.FormatInt(int64(v), 10)
	case int16:
		lit = strconv.FormatInt(int64(v), 10)
	case int32:
		lit = strconv.FormatInt(int64(v), 10)
	case int64:
		lit = strconv.FormatInt(v, 10)
	case uint:
		lit = strconv.FormatUint(uint64(v), 10)
	case uint8:
		lit = strconv.FormatUint(uint64(v), 10)
	case uint16:
		lit = strconv.FormatUint(uint64(v), 10)
	case uint32:
		lit = strconv.FormatUint(uint64(v), 10)
	case uint64:
		lit = strconv.FormatUint(v, 10)
	case float32:
		if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
			return value{}
		}
		lit = strconv.FormatFloat(float64(v), 'g', -1, 32)
	case float64:
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return value{}
		}
		lit = strconv.FormatFloat(v, 'g', -1, 64)
	default:
		return value{}
	}
	if d, ok := canonicalNumber(lit); ok {
		return value{kind: kindNumber, str: d}
	}
	return value{}
}

// canonicalNumber returns a form of the JSON number lit that two literals
// share exactly when their values are equal: "0", or an optional "-",
// digits without leading or trailing zeros, "e" and the exponent. It works
// in time linear in lit whatever the exponent (1e999999999 is not
// expanded). ok is false when lit is not a JSON number.
func canonicalNumber(lit string) (string, bool) {
	s := lit
	neg := strings.HasPrefix(s, "-")
	if neg {
		s = s[1:]
	}
	intPart := s[:digitRun(s)]
	s = s[len(intPart):]
	if intPart == "" || len(intPart) > 1 && intPart[0] == '0' {
		return "", false
	}
	var frac string
	if rest, ok := strings.CutPrefix(s, "."); ok {
		frac = rest[:digitRun(rest)]
		if frac == "" {
			return "", false
		}
		s = rest[len(frac):]
	}
	exp := new(big.Int)
	if s != "" && (s[0] == 'e' || s[0] == 'E') {
		rest, sign := s[1:], ""
		if rest != "" && (rest[0] == '+' || rest[0] == '-') {
			sign, rest = rest[:1], rest[1:]
		}
		if n := digitRun(rest); n == 0 || n != len(rest) {
			return "", false
		}
		exp.SetString(sign+rest, 10)
		s = ""
	}
	if s != "" {
		return "", false
	}
	digits := strings.TrimLeft(intPart+frac, "0")
	trimmed := strings.TrimRight(digits, "0")
	if trimmed == "" {
		return "0", true
	}
	exp.Add(exp, big.NewInt(int64(len(digits)-len(trimmed)-len(frac))))
	sign := ""
	if neg {
		sign = "-"
	}
	return sign + trimmed + "e" + exp.String(), true
}

// digitRun returns the number of leading ASCII digits of s.
func digitRun(s string) int {
	i := 0
	for i < len(s) && '0' <= s[i] && s[i] <= '9' {
		i++
	}
	return i
}

// matches reports whether v, a value Lookup returned, equals want or is an
// array containing it.
func matches(v any, want value) bool {
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

func equal(v any, want value) bool {
	switch want.kind {
	case kindString:
		s, ok := v.(string)
		return ok && s == want.str
	case kindBool:
		b, ok := v.(bool)
		return ok && b == want.b
	case kindNumber:
		n, ok := v.(json.Number)
		if !ok {
			return false
		}
		d, ok := canonicalNumber(string(n))
		return ok && d == want.str
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
