package clientcert

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"math/big"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"
)

// newChain returns the DER of a leaf certificate and of the CA that
// signed it, both with fresh P-256 keys.
func newChain(t testing.TB, cn string) (leaf, ca []byte) {
	t.Helper()
	caKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	leafKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	caTmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: cn + " CA"},
		NotBefore:             now.Add(-time.Hour),
		NotAfter:              now.Add(time.Hour),
		IsCA:                  true,
		BasicConstraintsValid: true,
		KeyUsage:              x509.KeyUsageCertSign,
	}
	ca, err = x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	leafTmpl := &x509.Certificate{
		SerialNumber: big.NewInt(2),
		Subject:      pkix.Name{CommonName: cn, Organization: []string{"a,b;c"}},
		NotBefore:    now.Add(-time.Hour),
		NotAfter:     now.Add(time.Hour),
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
		KeyUsage:     x509.KeyUsageDigitalSignature,
	}
	leaf, err = x509.CreateCertificate(rand.Reader, leafTmpl, caTmpl, &leafKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	return leaf, ca
}

func pemOf(der ...[]byte) string {
	var b strings.Builder
	for _, d := range der {
		b.Write(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: d}))
	}
	return b.String()
}

// nginxEscape percent-encodes everything but unreserved characters, spaces
// as %20, as nginx's $ssl_client_escaped_cert and Envoy's Cert do.
func nginxEscape(s string) string {
	return strings.ReplaceAll(url.QueryEscape(s), "+", "%20")
}

// traefik builds an X-Forwarded-Tls-Client-Cert value.
func traefik(der ...[]byte) string {
	parts := make([]string, len(der))
	for i, d := range der {
		parts[i] = url.QueryEscape(base64.StdEncoding.EncodeToString(d))
	}
	return strings.Join(parts, ",")
}

func hexSum(der []byte) string {
	sum := sha256.Sum256(der)
	return hex.EncodeToString(sum[:])
}

func TestThumbprint(t *testing.T) {
	// SHA-256("abc"), FIPS 180-2 appendix B.1, in base64url.
	if got, want := Thumbprint([]byte("abc")), "ungWv48Bz-pBQUDeXa4iI7ADYaOWF3qctBD_YfIAFa0"; got != want {
		t.Errorf("Thumbprint(abc) = %q, want %q", got, want)
	}
	leaf, _ := newChain(t, "client")
	sum := sha256.Sum256(leaf)
	got := Thumbprint(leaf)
	if len(got) != 43 || got != base64.RawURLEncoding.EncodeToString(sum[:]) {
		t.Errorf("Thumbprint(leaf) = %q", got)
	}
}

func TestFormats(t *testing.T) {
	leaf, ca := newChain(t, "client")
	other, _ := newChain(t, "other")
	want := Thumbprint(leaf)
	hashLeaf := hexSum(leaf)
	certLeaf := `Cert="` + nginxEscape(pemOf(leaf)) + `"`

	tests := []struct {
		name   string
		format Format
		value  string
	}{
		{"xfcc/cert", FormatXFCC, certLeaf},
		{"xfcc/envoy full", FormatXFCC, `By=spiffe://example.org/proxy;Hash=` + hashLeaf + `;` + certLeaf +
			`;Chain="` + nginxEscape(pemOf(leaf, ca)) + `";Subject="O=a\,b\;c,CN=client";URI=spiffe://example.org/client;DNS=client.example.org;DNS=alt.example.org`},
		{"xfcc/hash upper case", FormatXFCC, `Hash=` + strings.ToUpper(hashLeaf) + `;` + certLeaf},
		{"xfcc/hash only", FormatXFCC, `By=spiffe://example.org/proxy;Hash=` + hashLeaf + `;Subject="CN=client"`},
		{"xfcc/hash only quoted", FormatXFCC, `Hash="` + hashLeaf + `"`},
		{"xfcc/lower-case keys", FormatXFCC, `hash=` + hashLeaf + `;cert="` + nginxEscape(pemOf(leaf)) + `"`},
		{"xfcc/unquoted cert", FormatXFCC, `Cert=` + nginxEscape(pemOf(leaf))},
		{"xfcc/cert with lower-case hex escapes and literal +", FormatXFCC,
			`Cert="` + strings.ReplaceAll(strings.ReplaceAll(url.PathEscape(pemOf(leaf)), "%0A", "%0a"), "%2F", "%2f") + `"`},
		{"xfcc/spaces around separators", FormatXFCC, ` By=x ; ` + certLeaf + ` ;Subject="CN=x" `},
		{"xfcc/quoted commas, semicolons, escapes", FormatXFCC,
			`By="p;q,r";Subject="\"a,b\";c\"";URI="x=1,y=2";` + certLeaf + `;DNS="a;b"`},
		{"xfcc/quoted comma hides a fake element", FormatXFCC,
			`Subject="x,Hash=` + hexSum(other) + `";` + certLeaf},
		{"xfcc/unknown key ignored", FormatXFCC, `URI=x;Future=1;` + certLeaf},

		{"pem/nginx", FormatPEM, nginxEscape(pemOf(leaf))},
		{"pem/path-escaped", FormatPEM, url.PathEscape(pemOf(leaf))},
		{"pem/with chain", FormatPEM, nginxEscape(pemOf(leaf, ca))},
		{"pem/surrounding whitespace", FormatPEM, "%0A%20" + nginxEscape(pemOf(leaf)) + "%0A%0A"},

		{"base64/traefik", FormatBase64DER, traefik(leaf)},
		{"base64/traefik chain", FormatBase64DER, traefik(leaf, ca)},
		{"base64/traefik chain with space", FormatBase64DER, traefik(leaf) + ", " + traefik(ca)},
		{"base64/raw padded", FormatBase64DER, base64.StdEncoding.EncodeToString(leaf)},
		{"base64/raw unpadded", FormatBase64DER, base64.RawStdEncoding.EncodeToString(leaf)},
		{"base64/escaped comma", FormatBase64DER, traefik(leaf) + "%2C" + traefik(ca)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, f := range []Format{tt.format, FormatAuto} {
				got, err := ThumbprintFromHeader(f, []string{tt.value})
				if err != nil {
					t.Fatalf("%v: %v", f, err)
				}
				if got != want {
					t.Fatalf("%v: got %q, want %q", f, got, want)
				}
			}
		})
	}
}

// TestUnpaddedBase64 makes sure both padding cases are really exercised:
// DER lengths vary, so build certificates until one needs padding.
func TestUnpaddedBase64(t *testing.T) {
	for range 50 {
		leaf, _ := newChain(t, "client")
		if len(leaf)%3 == 0 {
			continue
		}
		for _, v := range []string{base64.StdEncoding.EncodeToString(leaf), base64.RawStdEncoding.EncodeToString(leaf)} {
			got, err := ThumbprintFromHeader(FormatBase64DER, []string{v})
			if err != nil || got != Thumbprint(leaf) {
				t.Fatalf("got %q, %v", got, err)
			}
		}
		// Padding, when present, must be right.
		padded := base64.StdEncoding.EncodeToString(leaf)
		for _, v := range []string{padded + "=", strings.TrimSuffix(padded, "=") + "==="} {
			if _, err := ThumbprintFromHeader(FormatBase64DER, []string{v}); !errors.Is(err, ErrMalformed) {
				t.Fatalf("wrong padding: err = %v", err)
			}
		}
		return
	}
	t.Skip("no certificate needing padding generated")
}

func TestHeaderValues(t *testing.T) {
	// Through net/http: one field line gives one value; two lines give two,
	// which is ErrMultiple, even if each is valid.
	leaf, _ := newChain(t, "client")
	h := http.Header{}
	h.Add("X-Forwarded-Tls-Client-Cert", traefik(leaf))
	if got, err := ThumbprintFromHeader(FormatAuto, h.Values("X-Forwarded-Tls-Client-Cert")); err != nil || got != Thumbprint(leaf) {
		t.Fatalf("one line: %q, %v", got, err)
	}
	h.Add("X-Forwarded-Tls-Client-Cert", traefik(leaf))
	if _, err := ThumbprintFromHeader(FormatAuto, h.Values("X-Forwarded-Tls-Client-Cert")); !errors.Is(err, ErrMultiple) {
		t.Fatalf("two lines: err = %v", err)
	}
	if _, err := ThumbprintFromHeader(FormatAuto, h.Values("X-Absent")); !errors.Is(err, ErrMissing) {
		t.Fatalf("absent: err = %v", err)
	}
}

func TestDetect(t *testing.T) {
	for v, want := range map[string]Format{
		"By=x":                FormatXFCC,
		"hash=00":             FormatXFCC,
		"CERT=x":              FormatXFCC,
		"Chain=x":             FormatXFCC,
		"Subject=\"x\"":       FormatXFCC,
		"URI=x":               FormatXFCC,
		"dns=x":               FormatXFCC,
		"Future=x":            FormatBase64DER, // unknown first key: not detected
		"-----BEGIN%20CERT":   FormatPEM,
		"%2D%2D%2D%2D%2DBEGI": FormatPEM,
		"%2d%2d%2d%2d%2d":     FormatPEM,
		"%0A%20-----BEGIN":    FormatPEM,
		"-----BEGIN%zz":       FormatPEM,       // and fails there
		"%0A%zz-----BEGIN":    FormatBase64DER, // bad escape: fails there
		"%2d%2d":              FormatBase64DER,
		"MIIBxjCCAW2gAwIBAgI": FormatBase64DER,
		"MIIB%2Bxj%3D":        FormatBase64DER,
		"MIIB==":              FormatBase64DER,
	} {
		if got := detect(v); got != want {
			t.Errorf("detect(%q) = %v, want %v", v, got, want)
		}
	}
}

func TestFormatString(t *testing.T) {
	for f, want := range map[Format]string{
		FormatAuto: "Auto", FormatXFCC: "XFCC", FormatPEM: "PEM", FormatBase64DER: "Base64DER",
		Format(-1): "Format(invalid)", Format(99): "Format(invalid)",
	} {
		if got := f.String(); got != want {
			t.Errorf("Format(%d).String() = %q, want %q", int(f), got, want)
		}
	}
}

// marker is planted in error inputs where the syntax allows; no error
// message may contain it.
const marker = "Zq7Xw9Kp"

// TestErrors is the table of rejected headers. Each must fail with its
// sentinel, and the message must contain no bytes of the input: not the
// marker, not any 8-byte window of the value, and nothing but printable
// ASCII.
func TestErrors(t *testing.T) {
	leaf, ca := newChain(t, "client")
	other, _ := newChain(t, "other")
	hashLeaf := hexSum(leaf)
	pemLeafText := pemOf(leaf)
	certLeaf := `Cert="` + nginxEscape(pemLeafText) + `"`
	b64Leaf := base64.StdEncoding.EncodeToString(leaf)
	keyPEM := string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: []byte(marker + marker)}))
	junkCertPEM := string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: []byte(marker + marker)}))
	headersPEM := string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Headers: map[string]string{"X": marker}, Bytes: leaf}))
	badFirstPEM := "-----BEGIN CERTIFICATE-----\n" + marker + "!!\n-----END CERTIFICATE-----\n" + pemLeafText

	type tc struct {
		name   string
		format Format
		values []string
		want   error
	}
	one := func(name string, f Format, v string, want error) tc { return tc{name, f, []string{v}, want} }
	tests := []tc{
		{"nil values", FormatAuto, nil, ErrMissing},
		{"empty slice", FormatAuto, []string{}, ErrMissing},
		one("empty value", FormatAuto, "", ErrMissing),
		one("blank value", FormatXFCC, " \t ", ErrMissing),
		{"two lines", FormatAuto, []string{traefik(leaf), traefik(leaf)}, ErrMultiple},
		{"two lines, one empty", FormatAuto, []string{traefik(leaf), ""}, ErrMultiple},
		one("oversized", FormatAuto, strings.Repeat(marker, MaxHeaderLen/len(marker)+1), ErrTooLarge),
		one("oversized xfcc", FormatXFCC, certLeaf+`;Subject="`+strings.Repeat(marker, MaxHeaderLen/len(marker))+`"`, ErrTooLarge),
		one("control character", FormatAuto, "Hash="+marker+"\n", ErrMalformed),
		one("NUL", FormatBase64DER, b64Leaf[:10]+"\x00"+b64Leaf[10:], ErrMalformed),
		{"unknown format", Format(42), []string{traefik(leaf)}, ErrUnknownFormat},
		{"negative format", Format(-1), []string{traefik(leaf)}, ErrUnknownFormat},

		// Percent-encoding (url.PathUnescape's own error quotes the input).
		one("pem bad escape", FormatPEM, "-----BEGIN%2"+marker, ErrMalformed),
		one("pem bad escape auto", FormatAuto, nginxEscape(pemLeafText)+"%zz"+marker, ErrMalformed),
		one("pem truncated escape", FormatPEM, nginxEscape(pemLeafText)+"%4", ErrMalformed),
		one("xfcc cert bad escape", FormatXFCC, `Cert="-----BEGIN%zz`+marker+`"`, ErrMalformed),
		one("base64 bad escape", FormatBase64DER, "MII%g0"+marker, ErrMalformed),

		// PEM that is not one certificate.
		one("pem private key", FormatPEM, nginxEscape(keyPEM), ErrMalformed),
		one("pem garbage DER", FormatPEM, nginxEscape(junkCertPEM), ErrMalformed),
		one("pem with headers", FormatPEM, nginxEscape(headersPEM), ErrMalformed),
		one("pem text before", FormatPEM, nginxEscape(marker+"\n"+pemLeafText), ErrMalformed),
		one("pem text after", FormatPEM, nginxEscape(pemLeafText+marker), ErrMalformed),
		one("pem key after leaf", FormatPEM, nginxEscape(pemLeafText+keyPEM), ErrMalformed),
		one("pem junk chain cert", FormatPEM, nginxEscape(pemLeafText+junkCertPEM), ErrMalformed),
		one("pem invalid first block", FormatPEM, nginxEscape(badFirstPEM), ErrMalformed),
		one("pem truncated", FormatPEM, nginxEscape(pemLeafText[:len(pemLeafText)-10]), ErrMalformed),
		one("pem unescaped newline-less", FormatPEM, strings.ReplaceAll(pemLeafText, "\n", " "), ErrMalformed),
		one("pem only whitespace", FormatPEM, "%0A%20%0A", ErrMalformed),
		one("pem not pem", FormatPEM, marker, ErrMalformed),
		one("xfcc cert private key", FormatXFCC, `Cert="`+nginxEscape(keyPEM)+`"`, ErrMalformed),
		one("xfcc cert garbage DER", FormatXFCC, `Cert="`+nginxEscape(junkCertPEM)+`"`, ErrMalformed),
		one("xfcc cert with chain", FormatXFCC, `Cert="`+nginxEscape(pemOf(leaf, ca))+`"`, ErrMalformed),
		one("xfcc cert empty", FormatXFCC, `Hash=`+hashLeaf+`;Cert=""`, ErrMalformed),
		one("xfcc cert base64 DER", FormatXFCC, `Cert="`+url.QueryEscape(b64Leaf)+`"`, ErrMalformed),

		// Base64 that is not a certificate.
		one("base64 garbage", FormatBase64DER, "MII!"+marker, ErrMalformed),
		one("base64 url alphabet", FormatBase64DER, strings.NewReplacer("+", "-", "/", "_").Replace(b64Leaf)+"-_", ErrMalformed),
		one("base64 newline", FormatBase64DER, b64Leaf[:64]+"%0A"+b64Leaf[64:], ErrMalformed),
		one("base64 space", FormatBase64DER, b64Leaf[:64]+"%20"+b64Leaf[64:], ErrMalformed),
		one("base64 inner padding", FormatBase64DER, b64Leaf[:64]+"="+b64Leaf[64:], ErrMalformed),
		one("base64 not a certificate", FormatBase64DER, base64.StdEncoding.EncodeToString([]byte(marker+marker+marker)), ErrMalformed),
		one("base64 not a certificate auto", FormatAuto, "M"+marker, ErrMalformed),
		one("base64 truncated cert", FormatBase64DER, base64.StdEncoding.EncodeToString(leaf[:len(leaf)-3]), ErrMalformed),
		one("base64 trailing data", FormatBase64DER, base64.StdEncoding.EncodeToString(append(append([]byte{}, leaf...), 0, 0, 0)), ErrMalformed),
		one("base64 empty list entry", FormatBase64DER, traefik(leaf)+",", ErrMalformed),
		one("base64 empty first entry", FormatBase64DER, ","+traefik(leaf), ErrMalformed),
		one("base64 junk chain entry", FormatBase64DER, traefik(leaf)+","+marker, ErrMalformed),
		one("base64 pem", FormatBase64DER, nginxEscape(pemLeafText), ErrMalformed),
		one("auto garbage", FormatAuto, marker+"!", ErrMalformed),

		// XFCC syntax and rules.
		one("xfcc hash mismatch", FormatXFCC, `Hash=`+hexSum(other)+`;`+certLeaf, ErrHashMismatch),
		one("xfcc hash mismatch auto", FormatAuto, `By=x;Hash=`+hexSum(other)+`;`+certLeaf, ErrHashMismatch),
		one("xfcc two elements (APPEND_FORWARD)", FormatXFCC,
			`By=spiffe://a;Hash=`+hexSum(other)+`;Cert="`+nginxEscape(pemOf(other))+`",By=spiffe://b;`+certLeaf, ErrMalformed),
		one("xfcc two hash-only elements", FormatXFCC, `Hash=`+hexSum(other)+`,Hash=`+hashLeaf, ErrMalformed),
		// Envoy writes URI and DNS unquoted: a client certificate's URI SAN
		// "spiffe://attacker,Hash=<victim>" would add an element of the
		// attacker's, which must be refused, not read as the last one.
		one("xfcc element injected through an unquoted URI SAN", FormatXFCC,
			`By=spiffe://cluster/proxy;Hash=`+hexSum(other)+`;Subject="CN=attacker";URI=spiffe://attacker,Hash=`+hashLeaf, ErrMalformed),
		one("xfcc hash short", FormatXFCC, `Hash=`+hashLeaf[:62], ErrMalformed),
		one("xfcc hash long", FormatXFCC, `Hash=`+hashLeaf+`00`, ErrMalformed),
		one("xfcc hash not hex", FormatXFCC, `Hash=`+strings.Repeat(marker, 8), ErrMalformed),
		one("xfcc hash empty", FormatXFCC, `Hash=;`+certLeaf, ErrMalformed),
		one("xfcc neither cert nor hash", FormatXFCC, `By=spiffe://`+marker+`;Subject="CN=x"`, ErrMalformed),
		one("xfcc last element has neither", FormatXFCC, `Hash=`+hashLeaf+`;`+certLeaf+`,By=`+marker, ErrMalformed),
		one("xfcc repeated cert", FormatXFCC, certLeaf+`;`+certLeaf, ErrMalformed),
		one("xfcc repeated hash", FormatXFCC, `Hash=`+hashLeaf+`;hash=`+hashLeaf, ErrMalformed),
		one("xfcc unterminated quote", FormatXFCC, certLeaf+`;Subject="`+marker, ErrMalformed),
		one("xfcc unterminated after escape", FormatXFCC, `Hash=`+hashLeaf+`;Subject="`+marker+`\`, ErrMalformed),
		one("xfcc escaped closing quote", FormatXFCC, `Hash=`+hashLeaf+`;Subject="`+marker+`\"`, ErrMalformed),
		one("xfcc text after quote", FormatXFCC, `Hash=`+hashLeaf+`;Subject="CN=x"`+marker, ErrMalformed),
		one("xfcc quote in unquoted value", FormatXFCC, `Hash=`+hashLeaf+`;Subject=`+marker+`"x"`, ErrMalformed),
		one("xfcc missing =", FormatXFCC, `Hash=`+hashLeaf+`;`+marker, ErrMalformed),
		one("xfcc space before =", FormatXFCC, `Hash =`+hashLeaf, ErrMalformed),
		one("xfcc empty key", FormatXFCC, `=`+marker+`;Hash=`+hashLeaf, ErrMalformed),
		one("xfcc empty element", FormatXFCC, `By=`+marker+`,,Hash=`+hashLeaf, ErrMalformed),
		one("xfcc trailing comma", FormatXFCC, `Hash=`+hashLeaf+`,`, ErrMalformed),
		one("xfcc trailing semicolon", FormatXFCC, `Hash=`+hashLeaf+`;`, ErrMalformed),
		one("xfcc empty pair", FormatXFCC, `Hash=`+hashLeaf+`;;By=`+marker, ErrMalformed),
		one("xfcc malformed earlier element", FormatXFCC, `By="`+marker+`"x,Hash=`+hashLeaf, ErrMalformed),
		one("xfcc not xfcc", FormatXFCC, traefik(leaf), ErrMalformed),
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ThumbprintFromHeader(tt.format, tt.values)
			if err == nil {
				t.Fatalf("got %q, want error %v", got, tt.want)
			}
			if !errors.Is(err, tt.want) {
				t.Fatalf("err = %v, want %v", err, tt.want)
			}
			if got != "" {
				t.Errorf("thumbprint %q returned with an error", got)
			}
			checkNoInput(t, err.Error(), tt.values)
		})
	}
}

// checkNoInput fails if msg contains the marker, any 8-byte window of the
// values, or anything but printable ASCII.
func checkNoInput(t *testing.T, msg string, values []string) {
	t.Helper()
	if strings.Contains(msg, marker) {
		t.Errorf("error %q contains the input marker", msg)
	}
	for i := 0; i < len(msg); i++ {
		if msg[i] < 0x20 || msg[i] > 0x7e {
			t.Errorf("error %q contains a non-printable byte", msg)
			break
		}
	}
	const w = 8
	for _, v := range values {
		for i := 0; i+w <= len(v); i++ {
			if strings.Contains(msg, v[i:i+w]) {
				t.Errorf("error %q contains input bytes %q", msg, v[i:i+w])
				return
			}
		}
	}
}

func TestParseXFCC(t *testing.T) {
	got, err := parseXFCC(`By="a,b;c";Subject="\"q\"\\x\,y" , URI=u=1;DNS= d ;K=`)
	if err != nil {
		t.Fatal(err)
	}
	want := [][]pair{
		{{"By", "a,b;c"}, {"Subject", `"q"\x\,y`}},
		{{"URI", "u=1"}, {"DNS", "d"}, {"K", ""}},
	}
	if len(got) != len(want) {
		t.Fatalf("got %d elements, want %d: %q", len(got), len(want), got)
	}
	for i := range want {
		if len(got[i]) != len(want[i]) {
			t.Fatalf("element %d: got %q, want %q", i, got[i], want[i])
		}
		for j := range want[i] {
			if got[i][j] != want[i][j] {
				t.Errorf("element %d pair %d: got %q, want %q", i, j, got[i][j], want[i][j])
			}
		}
	}
}
