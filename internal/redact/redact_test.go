package redact

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/url"
	"strings"
	"testing"
)

func TestURL(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"https://user:pass@idp.example/jwks?api_key=s3cret#frag", "https://idp.example/jwks"},
		{"https://token@idp.example/a/b", "https://idp.example/a/b"},
		{"https://idp.example/jwks?", "https://idp.example/jwks"},
		{"http://127.0.0.1:8080/keys", "http://127.0.0.1:8080/keys"},
		{"https://idp.example/%zz?k=s3cret", unparsable},
		{"::s3cret", unparsable},
		{"user:pass@idp.example/jwks?api_key=s3cret", hostless}, // scheme "user", opaque "pass@…"
		{"pass@idp.example/jwks", hostless},                     // a relative path
		{"file:///etc/pass", hostless},
	} {
		got := URL(tc.in)
		if got != tc.want {
			t.Errorf("URL(%q) = %q, want %q", tc.in, got, tc.want)
		}
		for _, secret := range []string{"pass", "s3cret", "token@", "frag"} {
			if strings.Contains(got, secret) {
				t.Errorf("URL(%q) = %q keeps %q", tc.in, got, secret)
			}
		}
	}
}

func ExampleURL() {
	fmt.Println(URL("https://user:pass@idp.example/jwks?api_key=s3cret"))
	// Output: https://idp.example/jwks
}

func TestError(t *testing.T) {
	direct := &url.Error{Op: "Get", URL: "https://user:***@idp.example/jwks?api_key=s3cret", Err: context.DeadlineExceeded}
	joined := errors.Join(errors.New("first"), &url.Error{Op: "Get", URL: "https://idp.example/b?k=s3cret", Err: io.EOF})
	deep := &url.Error{Op: "Get", URL: "https://token@idp.example/c?k=s3cret", Err: io.EOF}
	wrapped := &url.Error{Op: "Get", URL: "https://idp.example/d?k=s3cret", Err: deep}
	for _, err := range []error{direct, joined, wrapped} {
		if got := Error(err); got != err {
			t.Fatalf("Error returned another error: %v", got)
		}
		if s := err.Error(); strings.Contains(s, "s3cret") || strings.Contains(s, "user") || strings.Contains(s, "token") || !strings.Contains(s, "idp.example/") {
			t.Errorf("after Error: %q", s)
		}
	}
	if !errors.Is(direct, context.DeadlineExceeded) || !errors.Is(joined, io.EOF) || !errors.Is(wrapped, io.EOF) {
		t.Error("the error tree was changed")
	}
	if direct.URL != "https://idp.example/jwks" || deep.URL != "https://idp.example/c" {
		t.Errorf("URLs %q, %q", direct.URL, deep.URL)
	}
	if Error(nil) != nil {
		t.Error("Error(nil) is not nil")
	}
	plain := errors.New("no URL here")
	if Error(plain) != plain || plain.Error() != "no URL here" {
		t.Error("an error without a *url.Error changed")
	}
}

func TestTruncate(t *testing.T) {
	for _, tc := range []struct {
		in   string
		n    int
		want string
		cut  bool
	}{
		{"short", 8, "short", false},
		{"exactly8", 8, "exactly8", false},
		{"longer than eight", 8, "longer t", true},
		{"abcdefg\u00e9", 8, "abcdefg", true},     // é is 2 bytes: not split
		{"\u212a\u212a\u212a", 4, "\u212a", true}, // 3-byte runes
		{"", 0, "", false},
		{"x", 0, "", true},
	} {
		got, cut := Truncate(tc.in, tc.n)
		if got != tc.want || cut != tc.cut {
			t.Errorf("Truncate(%q, %d) = %q, %v; want %q, %v", tc.in, tc.n, got, cut, tc.want, tc.cut)
		}
	}
}
