package access

import (
	"encoding/json"
	"fmt"
	"math"
	"math/big"
	"strconv"
	"strings"
)

// Roles requires every one of roles in the "roles" claim (a string or an
// array of strings). Roles() allows every token.
func Roles(roles ...string) Policy {
	roles = append([]string(nil), roles...)
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

// Claim is [ClaimPath] with path split at every dot: Claim("org.plan",
// "gold") requires the plan member of the org claim to be "gold". Use
// ClaimPath for claim names that contain dots.
func Claim(path string, values ...any) Policy {
	return claim(path, strings.Split(path, "."), values)
}

// ClaimPath requires the claim at path (one member name per element, taken
// literally, as [Subject.Lookup] takes it) to equal one of values or, when it
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
// not 0.10000000000000001); NaN, infinities, a json.Number that is not a
// JSON number and values of other types equal nothing. An empty path, and
// an empty list of values, are never satisfied. The policy keeps its own
// copies of path and values.
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
	case int, int8, int16, int32, int64, uint, uint8, uint16, uint32, uint64:
		lit = fmt.Sprint(v) // decimal, as strconv.FormatInt and FormatUint write it
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
