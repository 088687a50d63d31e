package spiffeid

import (
	"errors"
	"strings"
	"testing"
)

// Issue 11: Parse accepts exactly the SPIFFE IDs of the SPIFFE ID
// specification, with no normalisation.
func TestParse(t *testing.T) {
	maxPath := "/" + strings.Repeat("a", MaxLen-len("spiffe://example.org/"))
	for _, tt := range []struct {
		in   string
		want error // nil: valid
		td   string
		path string
	}{
		{"spiffe://example.org", nil, "example.org", ""},
		{"spiffe://example.org/ns/prod/sa/api", nil, "example.org", "/ns/prod/sa/api"},
		{"spiffe://a-b_c.0/A-Z_a.z-09", nil, "a-b_c.0", "/A-Z_a.z-09"},
		{"spiffe://example.org/...", nil, "example.org", "/..."},
		{"spiffe://example.org/.a/a.", nil, "example.org", "/.a/a."},
		{"spiffe://example.org.", nil, "example.org.", ""}, // a trust domain of its own, not example.org
		{"spiffe://example.org" + maxPath, nil, "example.org", maxPath},
		{"spiffe://example.org" + maxPath + "a", ErrTooLong, "", ""},
		{"spiffe://example.org/" + strings.Repeat("a/", 5000) + "a", ErrTooLong, "", ""},

		{"", ErrScheme, "", ""},
		{"example.org/a", ErrScheme, "", ""},
		{"SPIFFE://example.org/a", ErrScheme, "", ""},
		{"Spiffe://example.org/a", ErrScheme, "", ""},
		{"spiffe:/example.org/a", ErrScheme, "", ""},
		{"spiffe:example.org/a", ErrScheme, "", ""},
		{" spiffe://example.org/a", ErrScheme, "", ""},
		{"https://example.org/a", ErrScheme, "", ""},

		{"spiffe://", ErrTrustDomain, "", ""},
		{"spiffe:///a", ErrTrustDomain, "", ""},
		{"spiffe://Example.org/a", ErrTrustDomain, "", ""},
		{"spiffe://EXAMPLE.ORG", ErrTrustDomain, "", ""},
		{"spiffe://example.org:8443/a", ErrTrustDomain, "", ""},
		{"spiffe://user@example.org/a", ErrTrustDomain, "", ""},
		{"spiffe://user:pw@example.org/a", ErrTrustDomain, "", ""},
		{"spiffe://example%2Eorg/a", ErrTrustDomain, "", ""},
		{"spiffe://exаmple.org/a", ErrTrustDomain, "", ""}, // Cyrillic а
		{"spiffe://ｅxample.org/a", ErrTrustDomain, "", ""}, // fullwidth e
		{"spiffe://example.org?x=1", ErrTrustDomain, "", ""},
		{"spiffe://example.org#f", ErrTrustDomain, "", ""},
		{"spiffe://[::1]/a", ErrTrustDomain, "", ""},
		{"spiffe://example.org\x00/a", ErrTrustDomain, "", ""},
		{"spiffe://example org/a", ErrTrustDomain, "", ""},

		{"spiffe://example.org/", ErrPath, "", ""},
		{"spiffe://example.org/a/", ErrPath, "", ""},
		{"spiffe://example.org//a", ErrPath, "", ""},
		{"spiffe://example.org/a//b", ErrPath, "", ""},
		{"spiffe://example.org/./a", ErrPath, "", ""},
		{"spiffe://example.org/a/.", ErrPath, "", ""},
		{"spiffe://example.org/a/../b", ErrPath, "", ""},
		{"spiffe://example.org/..", ErrPath, "", ""},
		{"spiffe://example.org/a%2Fb", ErrPath, "", ""},
		{"spiffe://example.org/a%2e%2e/b", ErrPath, "", ""},
		{"spiffe://example.org/a?x=1", ErrPath, "", ""},
		{"spiffe://example.org/a#frag", ErrPath, "", ""},
		{"spiffe://example.org/a:b", ErrPath, "", ""},
		{"spiffe://example.org/a@b", ErrPath, "", ""},
		{"spiffe://example.org/a~b", ErrPath, "", ""},
		{"spiffe://example.org/a b", ErrPath, "", ""},
		{"spiffe://example.org/a\\b", ErrPath, "", ""},
		{"spiffe://example.org/a*", ErrPath, "", ""},
		{"spiffe://example.org/nѕ/prod", ErrPath, "", ""}, // Cyrillic ѕ
		{"spiffe://example.org/a\u200b", ErrPath, "", ""}, // zero-width space
		{"spiffe://example.org/a\n", ErrPath, "", ""},
	} {
		id, err := Parse(tt.in)
		if !errors.Is(err, tt.want) || tt.want == nil && err != nil {
			t.Errorf("Parse(%.60q): %v, want %v", tt.in, err, tt.want)
			continue
		}
		if err == nil && (id.TrustDomain != tt.td || id.Path != tt.path || id.String() != tt.in) {
			t.Errorf("Parse(%.60q) = %+v", tt.in, id)
		}
		if err != nil && strings.Contains(err.Error(), "example") {
			t.Errorf("Parse(%.60q): error %q echoes the input", tt.in, err)
		}
	}
}

// Issue 11: a pattern is an ID or an ID and "/*"; "/*" matches whole
// segments under the ID, in the same trust domain only.
func TestPattern(t *testing.T) {
	for _, tt := range []struct {
		pattern string
		id      string
		want    bool
	}{
		{"spiffe://example.org/ns/prod/sa/api", "spiffe://example.org/ns/prod/sa/api", true},
		{"spiffe://example.org/ns/prod/sa/api", "spiffe://example.org/ns/prod/sa/api2", false},
		{"spiffe://example.org/ns/prod/sa/api", "spiffe://example.org/ns/prod/sa", false},
		{"spiffe://example.org/ns/prod/sa/api", "spiffe://example.org/ns/prod/sa/api/x", false},
		{"spiffe://example.org/ns/prod/sa/api", "spiffe://example.org/ns/prod/sa/API", false},
		{"spiffe://example.org/ns/prod/sa/api", "spiffe://other.org/ns/prod/sa/api", false},
		{"spiffe://example.org", "spiffe://example.org", true},
		{"spiffe://example.org", "spiffe://example.org/a", false},
		{"spiffe://example.org/*", "spiffe://example.org/a", true},
		{"spiffe://example.org/*", "spiffe://example.org/a/b/c", true},
		{"spiffe://example.org/*", "spiffe://example.org", false},
		{"spiffe://example.org/*", "spiffe://example.org./a", false},
		{"spiffe://example.org/*", "spiffe://example.org.evil/a", false},
		{"spiffe://example.org/*", "spiffe://evil-example.org/a", false},
		{"spiffe://example.org/*", "spiffe://sub.example.org/a", false},
		{"spiffe://example.org/ns/prod/*", "spiffe://example.org/ns/prod/sa/api", true},
		{"spiffe://example.org/ns/prod/*", "spiffe://example.org/ns/prod/x", true},
		{"spiffe://example.org/ns/prod/*", "spiffe://example.org/ns/prod", false},
		{"spiffe://example.org/ns/prod/*", "spiffe://example.org/ns/production", false},
		{"spiffe://example.org/ns/prod/*", "spiffe://example.org/ns/production/sa/api", false},
		{"spiffe://example.org/ns/prod/*", "spiffe://example.org/ns/pro/d", false},
		{"spiffe://example.org/ns/prod/*", "spiffe://example.org/ns/Prod/x", false},
		{"spiffe://example.org/ns/prod/*", "spiffe://other.org/ns/prod/x", false},
	} {
		p, err := ParsePattern(tt.pattern)
		if err != nil {
			t.Fatalf("ParsePattern(%q): %v", tt.pattern, err)
		}
		if p.String() != tt.pattern {
			t.Errorf("ParsePattern(%q).String() = %q", tt.pattern, p.String())
		}
		id, err := Parse(tt.id)
		if err != nil {
			t.Fatalf("Parse(%q): %v", tt.id, err)
		}
		if got := p.Match(id); got != tt.want {
			t.Errorf("%q matches %q: %v, want %v", tt.pattern, tt.id, got, tt.want)
		}
	}
	if (Pattern{}).Match(ID{}) || (Pattern{}).Match(ID{TrustDomain: "example.org"}) {
		t.Error("the zero Pattern matches")
	}
}

func TestParsePatternRefuses(t *testing.T) {
	for _, tt := range []struct {
		in   string
		want error
	}{
		{"spiffe://example.org/ns/*/sa/api", ErrPattern},
		{"spiffe://example.org/ns/prod*", ErrPattern},
		{"spiffe://example.org/**", ErrPattern},
		{"spiffe://example.org/*/*", ErrPattern},
		{"spiffe://*", ErrScheme}, // "spiffe:/" and "/*"
		{"spiffe://*.example.org/a", ErrPattern},
		{"*", ErrPattern},
		{"spiffe://example.org/", ErrPath},
		{"spiffe://example.org//*", ErrPath},
		{"spiffe://example.org/a/../*", ErrPath},
		{"spiffe://Example.org/*", ErrTrustDomain},
		{"spiffe:///*", ErrTrustDomain},
		{"example.org/*", ErrScheme},
		{"", ErrScheme},
	} {
		if _, err := ParsePattern(tt.in); !errors.Is(err, tt.want) {
			t.Errorf("ParsePattern(%q): %v, want %v", tt.in, err, tt.want)
		}
	}
}
