package clientcert

import (
	"encoding/base64"
	"strings"
	"testing"
)

// FuzzThumbprintFromHeader checks that no input panics, that success means
// a 43-character base64url SHA-256, and that FormatAuto never accepts a
// value no explicit format accepts, nor reads it differently.
func FuzzThumbprintFromHeader(f *testing.F) {
	leaf, ca := newChain(f, "fuzz")
	hash := hexSum(leaf)
	cert := `Cert="` + nginxEscape(pemOf(leaf)) + `"`
	for _, s := range []struct {
		format uint8
		value  string
	}{
		{uint8(FormatXFCC), `By=spiffe://a;Hash=` + hash + `;` + cert + `;Subject="CN=\"x\",O=y;z";URI=spiffe://b`},
		{uint8(FormatXFCC), `Hash=` + hash + `,By=x;` + cert},
		{uint8(FormatXFCC), `Hash=` + hash},
		{uint8(FormatAuto), `Hash=` + hash + `;` + cert},
		{uint8(FormatPEM), nginxEscape(pemOf(leaf, ca))},
		{uint8(FormatAuto), nginxEscape(pemOf(leaf))},
		{uint8(FormatBase64DER), traefik(leaf, ca)},
		{uint8(FormatAuto), base64.RawStdEncoding.EncodeToString(leaf)},
		{uint8(FormatXFCC), `a="\\\"",b=;c="`},
		{uint8(FormatPEM), "-----BEGIN%20CERTIFICATE-----%0A%zz"},
		{uint8(FormatBase64DER), "MIIB,,%2C"},
		{uint8(FormatAuto), ""},
		{7, "x"},
	} {
		f.Add(s.format, s.value, false)
	}
	f.Fuzz(func(t *testing.T, format uint8, value string, twice bool) {
		values := []string{value}
		if twice {
			values = append(values, value)
		}
		got, err := ThumbprintFromHeader(Format(format%5), values)
		if err != nil {
			if got != "" {
				t.Fatalf("thumbprint %q returned with error %v", got, err)
			}
			return
		}
		if twice {
			t.Fatal("two header lines accepted")
		}
		if len(value) > MaxHeaderLen {
			t.Fatal("oversized value accepted")
		}
		if len(got) != 43 {
			t.Fatalf("thumbprint %q is not 43 characters", got)
		}
		sum, derr := base64.RawURLEncoding.Strict().DecodeString(got)
		if derr != nil || len(sum) != 32 || base64.RawURLEncoding.EncodeToString(sum) != got || strings.ContainsAny(got, "=\r\n") {
			t.Fatalf("thumbprint %q is not base64url of 32 bytes", got)
		}
		// FormatAuto only picks one of the explicit formats.
		auto, aerr := ThumbprintFromHeader(FormatAuto, values)
		if Format(format%5) == FormatAuto {
			auto, aerr = got, nil
		}
		if aerr == nil {
			found := false
			for _, f := range []Format{FormatXFCC, FormatPEM, FormatBase64DER} {
				if tp, err := ThumbprintFromHeader(f, values); err == nil && tp == auto {
					found = true
				}
			}
			if !found {
				t.Fatalf("FormatAuto accepted %q, which no explicit format reads the same", value)
			}
		}
	})
}
