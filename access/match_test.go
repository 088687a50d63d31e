package access_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/jwtverify/jwtverify/access"
)

const ghSub = "repo:octo-org/octo-repo:ref:refs/heads/main"

// Issue 11: Match's patterns are exact, prefix or glob, with the syntax
// its documentation gives.
func TestMatch(t *testing.T) {
	e := newEnv(t)
	for _, tt := range []struct {
		name    string
		claim   any // the job_workflow_ref claim (sub must be a string to verify)
		pattern string
		grant   bool
	}{
		{"exact", ghSub, ghSub, true},
		{"exact, other branch", "repo:octo-org/octo-repo:ref:refs/heads/mainx", ghSub, false},
		{"exact, prefix of the claim", ghSub, "repo:octo-org/octo-repo", false},
		{"exact is case-sensitive", "repo:Octo-org/octo-repo:ref:refs/heads/main", ghSub, false},
		{"star in a part", ghSub, "repo:octo-org/*:ref:refs/heads/main", true},
		{"star does not cross ':'", "repo:octo-org/x:ref:refs/heads/dev:ref:refs/heads/main", "repo:octo-org/*:ref:refs/heads/main", false},
		{"star does not cross ':' (environment)", "repo:octo-org/a:environment:prod", "repo:octo-org/*", false},
		{"star crosses '/'", "repo:octo-org/octo-repo:ref:refs/heads/feature/x", "repo:octo-org/octo-repo:ref:refs/heads/*", true},
		{"star matches the empty run", "repo:octo-org/octo-repo:ref:refs/heads/", "repo:octo-org/octo-repo:ref:refs/heads/*", true},
		{"prefix with **", ghSub, "repo:octo-org/octo-repo:**", true},
		{"prefix with ** crosses ':'", "repo:octo-org/octo-repo:environment:prod", "repo:octo-org/octo-repo:**", true},
		{"prefix with **, other repo", "repo:octo-org/octo-repo2:ref:refs/heads/main", "repo:octo-org/octo-repo:**", false},
		{"prefix with * within a part", "repo:octo-org/octo-repo-api", "repo:octo-org/octo-repo*", true},
		{"*** is **", ghSub, "repo:***main", true},
		{"suffix", ghSub, "**:ref:refs/heads/main", true},
		{"glob in the middle", ghSub, "repo:octo-*/octo-*:ref:refs/heads/m*n", true},
		{"glob must match the whole string", ghSub + "x", "repo:octo-*/octo-*:ref:refs/heads/m*n", false},
		{"escaped star is literal", "a*b", `a\*b`, true},
		{"escaped star is not a wildcard", "axb", `a\*b`, false},
		{"escaped backslash", `a\b`, `a\\b`, true},
		{"escaped backslash then star", `a\xyz`, `a\\*`, true},
		{"empty pattern matches the empty string", "", "", true},
		{"empty pattern matches nothing else", "a", "", false},
		{"star matches the empty string", "", "*", true},
		{"star matches a string without ':'", "abc", "*", true},
		{"star does not match ':'", "a:b", "*", false},
		{"double star matches anything", "a:b", "**", true},
		{"number claim", 5, "*", false},
		{"number claim, exact pattern", 5, "5", false},
		{"bool claim", true, "true", false},
		{"null claim", nil, "**", false},
		{"object claim", map[string]any{"a": "b"}, "**", false},
		{"array, one element matches", []any{"x", ghSub}, "repo:octo-org/*:ref:refs/heads/main", true},
		{"array, no element matches", []any{"x", "y"}, "repo:**", false},
		{"array, non-strings skipped", []any{1, true, "repo:x"}, "repo:**", true},
		{"array, nested arrays are not searched", []any{[]any{"repo:x"}}, "repo:**", false},
		{"unicode is matched byte by byte", "repo:octo-org/ｏcto:x", "repo:octo-org/o*:x", false},
		{"unicode in a star", "repo:octo-org/ｏcto:x", "repo:octo-org/*:x", true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			tok := e.token(map[string]any{"job_workflow_ref": tt.claim})
			if got := grant(t, e, access.Match([]string{"job_workflow_ref"}, tt.pattern), tok); got != tt.grant {
				t.Errorf("Match(%q) on %#v allows: %v, want %v", tt.pattern, tt.claim, got, tt.grant)
			}
		})
	}
}

// Match is satisfied by any of its patterns, reads nested claims by
// literal names, and is never satisfied without patterns, without a path
// or without the claim.
func TestMatchPathsAndLists(t *testing.T) {
	e := newEnv(t)
	tok := e.token(map[string]any{"sub": ghSub, "kubernetes.io": map[string]any{"namespace": "prod-eu"}})
	for _, tt := range []struct {
		name   string
		policy access.Policy
		grant  bool
	}{
		{"second pattern matches", access.Match([]string{"sub"}, "nope", "repo:octo-org/**"), true},
		{"no pattern", access.Match([]string{"sub"}), false},
		{"empty path", access.Match(nil, "**"), false},
		{"absent claim", access.Match([]string{"repository"}, "**"), false},
		{"sub read", access.Match([]string{"sub"}, "repo:octo-org/*:ref:refs/heads/main"), true},
		{"nested literal names", access.Match([]string{"kubernetes.io", "namespace"}, "prod-*"), true},
		{"nested, dotted name not split", access.Match([]string{"kubernetes", "io"}, "**"), false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if got := grant(t, e, tt.policy, tok); got != tt.grant {
				t.Errorf("allows: %v, want %v", got, tt.grant)
			}
		})
	}

	path, patterns := []string{"sub"}, []string{ghSub}
	p := access.Match(path, patterns...)
	path[0], patterns[0] = "iss", "nothing"
	if !grant(t, e, p, tok) {
		t.Error("Match did not keep its own copies of path and patterns")
	}

	verified, err := e.v.Verify(t.Context(), tok)
	if err != nil {
		t.Fatal(err)
	}
	var d *access.Denied
	if err := access.Match([]string{"sub"}, "other")(&access.Subject{Token: verified}); !errors.As(err, &d) || strings.Contains(d.Reason, "octo") {
		t.Errorf("refusal %v: want a *Denied that does not echo the claim", err)
	}
}

// A '\' before anything but '*' or '\' is a programmer error: Match panics
// when the policy is built, never on a request.
func TestMatchBadPatternPanics(t *testing.T) {
	for _, p := range []string{`a\`, `a\b`, `\?`, `repo:\:`} {
		t.Run(p, func(t *testing.T) {
			defer func() {
				if recover() == nil {
					t.Errorf("Match(%q) did not panic", p)
				}
			}()
			access.Match([]string{"sub"}, "ok", p)
		})
	}
}
