package access

import (
	"math/rand/v2"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// The matcher simulates the pattern without backtracking: on patterns that
// make a backtracking matcher take exponential or quadratic-per-star time,
// its work stays within (len(s)+1)*(steps+1) state visits.
func TestGlobWorkBounded(t *testing.T) {
	long := strings.Repeat("a", 1<<16)
	for _, tt := range []struct {
		pattern string
		s       string
		want    bool
	}{
		{"*a*a*a*a*a*b", long, false},
		{"*a*a*a*a*a*b", long + "b", true},
		{"**a**a**a**a**a**b", long, false},
		{"*a*a*a*a*a*b", strings.Repeat("a:", 1<<15), false},
		{strings.Repeat("*a", 200) + "b", long, false},
		{strings.Repeat("a*", 200) + "b", long + "b", true},
	} {
		g, err := compileGlob(tt.pattern)
		if err != nil {
			t.Fatal(err)
		}
		got, work := g.match(tt.s)
		if got != tt.want {
			t.Errorf("%.20q on %d bytes: %v, want %v", tt.pattern, len(tt.s), got, tt.want)
		}
		if limit := (len(tt.s) + 1) * (len(g.steps) + 1); work > limit {
			t.Errorf("%.20q on %d bytes: %d state visits, more than %d", tt.pattern, len(tt.s), work, limit)
		}
	}
}

// The matcher agrees with a regular expression written from the documented
// syntax, on random patterns and strings over an alphabet with every
// special byte.
func TestGlobAgreesWithRegexp(t *testing.T) {
	r := rand.New(rand.NewPCG(11, 11))
	const alphabet = `ab:*\/`
	word := func(n int) string {
		b := make([]byte, r.IntN(n))
		for i := range b {
			b[i] = alphabet[r.IntN(len(alphabet))]
		}
		return string(b)
	}
	checked := 0
	for range 20000 {
		p := word(8)
		g, err := compileGlob(p)
		re, ok := reference(p)
		if (err == nil) != ok {
			t.Fatalf("%q: compile error %v, reference valid %v", p, err, ok)
		}
		if err != nil {
			continue
		}
		for range 5 {
			s := word(10)
			got, _ := g.match(s)
			if want := re.MatchString(s); got != want {
				t.Fatalf("%q on %q: %v, want %v", p, s, got, want)
			}
			checked++
		}
	}
	if checked < 10000 {
		t.Fatalf("only %d cases checked", checked)
	}
}

// reference translates a Match pattern to a regular expression as the
// documentation of Match states the syntax.
func reference(p string) (*regexp.Regexp, bool) {
	var b strings.Builder
	b.WriteString(`(?s)\A`)
	for i := 0; i < len(p); i++ {
		switch p[i] {
		case '\\':
			if i+1 == len(p) || p[i+1] != '*' && p[i+1] != '\\' {
				return nil, false
			}
			i++
			b.WriteString(regexp.QuoteMeta(p[i : i+1]))
		case '*':
			if i+1 < len(p) && p[i+1] == '*' {
				for i+1 < len(p) && p[i+1] == '*' {
					i++
				}
				b.WriteString(`.*`)
			} else {
				b.WriteString(`[^:]*`)
			}
		default:
			b.WriteString(regexp.QuoteMeta(p[i : i+1]))
		}
	}
	b.WriteString(`\z`)
	return regexp.MustCompile(b.String()), true
}

// BenchmarkMatchPathological measures the matcher on a pattern that makes
// backtracking matchers slow; its time grows linearly with the input.
func BenchmarkMatchPathological(b *testing.B) {
	g, _ := compileGlob("*a*a*a*a*a*b")
	for _, n := range []int{1 << 10, 1 << 14} {
		s := strings.Repeat("a", n)
		b.Run(strconv.Itoa(n), func(b *testing.B) {
			for b.Loop() {
				g.match(s)
			}
		})
	}
}
