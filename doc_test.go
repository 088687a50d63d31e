package jwtverify_test

import (
	"os"
	"regexp"
	"strings"
	"testing"
)

// TestCheckOrderStatedOnce: the check-order table of
// docs/security-model.md lists the same checks, in the same order, with
// the same classes and sentinels, as the package documentation, which is
// the one statement of the order; so the copy cannot drift unnoticed.
func TestCheckOrderStatedOnce(t *testing.T) {
	read := func(path string) string {
		t.Helper()
		data, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		return string(data)
	}
	section := func(text, from, to string) string {
		t.Helper()
		i := strings.Index(text, from)
		j := strings.Index(text[i+1:], to)
		if i < 0 || j < 0 {
			t.Fatalf("section %q not found", from)
		}
		return text[i : i+1+j]
	}
	rows := func(text string, re *regexp.Regexp) []string {
		var out []string
		for _, m := range re.FindAllStringSubmatch(text, -1) {
			out = append(out, strings.TrimSpace(m[1]+" "+m[2]))
		}
		return out
	}
	pkg := rows(section(read("doc.go"), "# Check order and error classes", "\n//\n// The payload"),
		regexp.MustCompile(`(?m)^//\t(\([a-z ]+\)|[a-z_]+)\s+(Err[A-Za-z]+)?`))
	doc := rows(section(read("docs/security-model.md"), "## Check order and error classes", "\n## "),
		regexp.MustCompile("(?m)^\\| `?(\\([a-z ]+\\)|[a-z_]+)`? \\|\\s*`?(Err[A-Za-z]+)?`?\\s*\\|"))
	if len(pkg) < 20 {
		t.Fatalf("read %d checks from doc.go: %q", len(pkg), pkg)
	}
	if strings.Join(pkg, "\n") != strings.Join(doc, "\n") {
		t.Fatalf("the check order of docs/security-model.md differs from doc.go's:\ndoc.go:\n  %s\ndocs:\n  %s",
			strings.Join(pkg, "\n  "), strings.Join(doc, "\n  "))
	}
}
