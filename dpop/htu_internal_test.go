package dpop

import "testing"

// TestNormalizeHTU: RFC 3986 §6.2.2 and §6.2.3 normalization, and the
// URLs that cannot be an htu.
func TestNormalizeHTU(t *testing.T) {
	for in, want := range map[string]string{
		"https://api.example/orders":          "https://api.example/orders",
		"HTTPS://API.Example/orders":          "https://api.example/orders",
		"https://api.example:443/orders":      "https://api.example/orders",
		"http://api.example:80/orders":        "http://api.example/orders",
		"https://api.example:8443/orders":     "https://api.example:8443/orders",
		"http://api.example:443/orders":       "http://api.example:443/orders",
		"https://api.example":                 "https://api.example/",
		"https://api.example/orders?x=1#frag": "https://api.example/orders",
		"https://api.example/a/./b/../c":      "https://api.example/a/c",
		"https://api.example/../a":            "https://api.example/a",
		"https://api.example/a/..":            "https://api.example/",
		"https://api.example/%7euser":         "https://api.example/~user",
		"https://api.example/a%2fb":           "https://api.example/a%2Fb",
		"https://api.example/a%2Fb":           "https://api.example/a%2Fb",
		"https://[::1]:443/x":                 "https://[::1]/x",
		"https://[2001:DB8::1]:8443/x":        "https://[2001:db8::1]:8443/x",
		"https://api.example/Orders":          "https://api.example/Orders",
		"https://api.example/orders/":         "https://api.example/orders/",
		"https://api.example/%E2%82%AC":       "https://api.example/%E2%82%AC",
		"https://api.example/%e2%82%ac":       "https://api.example/%E2%82%AC",
		"https://api.example/orders;param":    "https://api.example/orders;param",
	} {
		got, err := normalizeHTU(in)
		if err != nil || got != want {
			t.Errorf("normalizeHTU(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	for _, in := range []string{"", "/orders", "api.example/orders", "ftp://api.example/", "https://user:pw@api.example/",
		"https:///orders", "mailto:a@b", "https://api.example/%zz", "https://api.example/%4", "https://api.example/\x00"} {
		if got, err := normalizeHTU(in); err == nil {
			t.Errorf("normalizeHTU(%q) = %q, want an error", in, got)
		}
	}
}
