package access

import (
	"fmt"
	"strings"
)

// Match requires the claim at path (one member name per element, taken
// literally, as [Subject.Lookup] takes it) to be a string that one of
// patterns matches or, when it is an array, to contain such a string. It
// is meant for structured string claims such as the sub of GitHub Actions:
//
//	// exact
//	access.Match([]string{"sub"}, "repo:octo-org/octo-repo:ref:refs/heads/main")
//	// any repository of octo-org, branch main
//	access.Match([]string{"sub"}, "repo:octo-org/*:ref:refs/heads/main")
//	// any release branch
//	access.Match([]string{"sub"}, "repo:octo-org/octo-repo:ref:refs/heads/release/*")
//	// any sub of that repository
//	access.Match([]string{"sub"}, "repo:octo-org/octo-repo:**")
//
// A pattern matches a whole string, byte by byte:
//
//   - "*" matches any run of bytes, the empty run included, that contains no
//     ':'; it does cross '/', so refs/heads/* matches refs/heads/feature/x.
//   - "**" (and any longer run of '*') matches any run of bytes, ':' included.
//   - "\*" matches a literal '*' and "\\" a literal '\'.
//   - Every other byte matches itself: there is no '?', no character class,
//     no case folding and no Unicode normalisation.
//
// A pattern without wildcards is exact; "prefix**" matches every string
// that starts with prefix. The empty pattern matches only the empty string.
// A value that is not a string (a number, a bool, an object, null) and an
// array element that is not one match nothing. An empty path, and an empty
// list of patterns, are never satisfied.
//
// Matching takes time proportional to the length of the claim times the
// length of the pattern, whatever the pattern: there is no backtracking.
//
// Match panics if a pattern has a '\' that is not followed by '*' or '\':
// patterns are a program's constants, and a typo in one is a programmer
// error, as for regexp.MustCompile. The policy keeps its own copies of path
// and patterns.
func Match(path []string, patterns ...string) Policy {
	globs := make([]glob, len(patterns))
	for i, p := range patterns {
		g, err := compileGlob(p)
		if err != nil {
			panic(fmt.Sprintf("access.Match: pattern %d: %v", i, err))
		}
		globs[i] = g
	}
	path = append([]string(nil), path...)
	name := fmt.Sprintf("%q", path)
	return func(s *Subject) error {
		v, ok := s.Lookup(path...)
		if !ok {
			return &Denied{Reason: "claim " + name + " absent"}
		}
		vals := []any{v}
		if arr, isArr := v.([]any); isArr {
			vals = arr
		}
		for _, x := range vals {
			str, isStr := x.(string)
			if !isStr {
				continue
			}
			for _, g := range globs {
				if ok, _ := g.match(str); ok {
					return nil
				}
			}
		}
		return &Denied{Reason: "claim " + name + " matches none of the patterns"}
	}
}

// glob is a compiled Match pattern: a sequence of steps, each a literal
// byte or a wildcard.
type glob struct {
	steps []step
	exact bool   // no wildcard: lit is the whole pattern
	lit   string // the pattern's literal bytes, unescaped, when exact
}

type step struct {
	kind byte // stepByte, stepStar or stepAny
	b    byte // the byte of a stepByte
}

const (
	stepByte = iota // one literal byte
	stepStar        // "*": any run without ':'
	stepAny         // "**": any run
)

func compileGlob(p string) (glob, error) {
	var g glob
	var lit strings.Builder
	for i := 0; i < len(p); i++ {
		switch c := p[i]; c {
		case '\\':
			if i+1 == len(p) || p[i+1] != '*' && p[i+1] != '\\' {
				return glob{}, fmt.Errorf(`'\' at byte %d is not followed by '*' or '\'`, i)
			}
			i++
			g.steps = append(g.steps, step{kind: stepByte, b: p[i]})
			lit.WriteByte(p[i])
		case '*':
			kind := byte(stepStar)
			for i+1 < len(p) && p[i+1] == '*' {
				kind = stepAny
				i++
			}
			g.steps = append(g.steps, step{kind: kind})
		default:
			g.steps = append(g.steps, step{kind: stepByte, b: c})
			lit.WriteByte(c)
		}
	}
	g.lit = lit.String()
	g.exact = len(g.lit) == len(g.steps)
	return g, nil
}

// match reports whether g matches all of s, and the number of state
// visits it made (for tests: at most (len(s)+1)*(len(g.steps)+1)). It
// simulates the pattern as a nondeterministic automaton, keeping the set of
// steps reached so far, so that no input makes it backtrack.
func (g glob) match(s string) (ok bool, work int) {
	if g.exact {
		return s == g.lit, len(s)
	}
	n := len(g.steps)
	cur, next := make([]bool, n+1), make([]bool, n+1)
	cur[0] = true
	g.close(cur)
	for i := 0; i < len(s); i++ {
		c := s[i]
		clear(next)
		alive := false
		for j := 0; j < n; j++ {
			work++
			if !cur[j] {
				continue
			}
			switch st := g.steps[j]; st.kind {
			case stepByte:
				if st.b == c {
					next[j+1], alive = true, true
				}
			case stepStar:
				if c != ':' {
					next[j], alive = true, true
				}
			case stepAny:
				next[j], alive = true, true
			}
		}
		if !alive {
			return false, work
		}
		g.close(next)
		cur, next = next, cur
	}
	return cur[n], work
}

// close adds to set the steps reachable from its members by wildcards
// that match the empty run.
func (g glob) close(set []bool) {
	for j, st := range g.steps {
		if set[j] && st.kind != stepByte {
			set[j+1] = true
		}
	}
}
