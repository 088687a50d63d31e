package cli

import (
	"crypto/ecdsa"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/jwtverify/jwtverify/backends/backendtest"
	"github.com/jwtverify/jwtverify/internal/mint"
	"github.com/jwtverify/jwtverify/internal/testkeys"
)

// The warnings verify gives with an accepted token when a check is off.
const (
	issWarning = "jwtverify: warning: no --issuer, --oidc-issuer or --spiffe-bundle: tokens of any issuer that the keys verify are accepted\n"
	audWarning = "jwtverify: warning: no --audience: tokens for any audience are accepted\n"
)

// fixedNow is backendtest.Now(), the instant its claims are valid at, as
// --now takes it.
const fixedNow = "2026-01-01T00:00:00Z"

// checkNoSegments fails when out shows a segment (4 characters or more)
// of token.
func checkNoSegments(t *testing.T, out, token string) {
	t.Helper()
	for _, seg := range strings.Split(token, ".") {
		if len(seg) >= 4 && strings.Contains(out, seg) {
			t.Fatalf("output echoes the token: %q", out)
		}
	}
}

// oidcServer serves a discovery document naming itself the issuer and
// the JWKS of the fixture's P-256 key.
func oidcServer(t *testing.T, f *backendtest.Fixture) *httptest.Server {
	t.Helper()
	jwk, err := mint.JWK(&f.Keys.P256.PublicKey, "ec-256", "ES256")
	if err != nil {
		t.Fatal(err)
	}
	jwks, _ := json.Marshal(map[string]any{"keys": []any{jwk}})
	var srv *httptest.Server
	srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/.well-known/openid-configuration":
			json.NewEncoder(w).Encode(map[string]string{"issuer": srv.URL, "jwks_uri": srv.URL + "/jwks"})
		case "/jwks":
			w.Write(jwks)
		default:
			http.NotFound(w, r)
		}
	}))
	t.Cleanup(srv.Close)
	return srv
}

// TestVerifyWarnings: an accepted token comes with one warning line for
// the issuer check when no --issuer, --oidc-issuer or --spiffe-bundle is
// given, and one for the audience check without --audience, and with
// nothing else on stderr; a rejection stays its one line.
func TestVerifyWarnings(t *testing.T) {
	f, err := backendtest.NewFixture()
	if err != nil {
		t.Fatal(err)
	}
	key := writeFile(t, "ec.pem", testkeys.PublicPEM(&f.Keys.P256.PublicKey))
	token := f.Sign("ES256", nil, backendtest.Claims())
	srv := oidcServer(t, f)
	c := backendtest.Claims()
	c["iss"] = srv.URL
	oidcToken := f.Sign("ES256", nil, c)
	sk := newSPIFFEKeys(t)
	bundle := writeFile(t, "bundle.json", spiffeBundle(t, 1, map[string]*ecdsa.PrivateKey{"j1": sk.j1}))
	svidToken := svid(t, sk.j1, "j1", "spiffe://example.org/billing")

	for name, tc := range map[string]struct {
		args  []string
		token string
		want  string
	}{
		"no checks":           {[]string{"--key", key, "--now", fixedNow}, token, issWarning + audWarning},
		"issuer only":         {[]string{"--key", key, "--now", fixedNow, "--issuer", backendtest.Issuer}, token, audWarning},
		"audience only":       {[]string{"--key", key, "--now", fixedNow, "--audience", backendtest.Audience}, token, issWarning},
		"issuer and audience": {[]string{"--key", key, "--now", fixedNow, "--issuer", backendtest.Issuer, "--audience", backendtest.Audience}, token, ""},
		"oidc-issuer only":    {[]string{"--oidc-issuer", srv.URL, "--now", fixedNow}, oidcToken, audWarning},
		"oidc and audience":   {[]string{"--oidc-issuer", srv.URL, "--now", fixedNow, "--audience", backendtest.Audience}, oidcToken, ""},
		"spiffe-bundle":       {[]string{"--spiffe-bundle", "example.org=" + bundle, "--audience", "orders"}, svidToken, ""},
	} {
		t.Run(name, func(t *testing.T) {
			r := run("", append(append([]string{"verify"}, tc.args...), tc.token)...)
			if r.code != ExitValid || r.stderr != tc.want || !strings.HasPrefix(r.stdout, "{") {
				t.Fatalf("got %+v, want exit 0 and stderr %q", r, tc.want)
			}
		})
	}
	c = backendtest.Claims()
	c["exp"] = backendtest.Now().Add(-time.Hour).Unix()
	expired := f.Sign("ES256", nil, c)
	checkRejected(t, run("", "verify", "--key", key, "--now", fixedNow, expired), "expired", expired)
}

// TestVerifyVerbose: --verbose reports on stderr the header and an "ok:"
// line for each check that applied, only those, in check order, the
// dates as of --now; for a rejected token, its header marked unverified
// before the rejection. Never the token, and header values that could
// drive a terminal are escaped.
func TestVerifyVerbose(t *testing.T) {
	f, err := backendtest.NewFixture()
	if err != nil {
		t.Fatal(err)
	}
	key := writeFile(t, "ec.pem", testkeys.PublicPEM(&f.Keys.P256.PublicKey))
	full := f.Sign("ES256", map[string]any{"typ": "at+jwt"}, backendtest.Claims())
	c := backendtest.Claims()
	delete(c, "nbf")
	delete(c, "iat")
	bare := f.Sign("ES256", map[string]any{"kid": nil}, c)
	c = backendtest.Claims()
	c["exp"] = backendtest.Now().Add(-time.Hour).Unix()
	expired := f.Sign("ES256", nil, c)
	hostileKid := map[string]any{"kid": "k\x1b[2J\nok: signature"}
	hostile := f.Sign("ES256", hostileKid, c) // expired
	hostileOK := f.Sign("ES256", hostileKid, backendtest.Claims())

	for name, tc := range map[string]struct {
		args   []string
		token  string
		code   int
		stderr string
	}{
		"every check": {
			[]string{"--issuer", backendtest.Issuer, "--audience", backendtest.Audience, "--type", "at+jwt"}, full, ExitValid,
			"header: alg ES256, kid ec-256, typ at+jwt\n" +
				"ok: typ at+jwt\n" +
				"ok: signature (ES256, kid ec-256)\n" +
				"ok: iss https://issuer.example\n" +
				"ok: aud api\n" +
				"ok: exp 2026-01-01T01:00:00Z (in 1h)\n" +
				"ok: nbf 2025-12-31T23:59:00Z (1m ago)\n" +
				"ok: iat 2025-12-31T23:59:00Z (1m ago)\n",
		},
		"only signature and exp": {
			[]string{"--leeway", "30s"}, bare, ExitValid,
			"header: alg ES256\n" +
				"ok: signature (ES256)\n" +
				"ok: exp 2026-01-01T01:00:00Z (in 1h; leeway 30s)\n" +
				issWarning + audWarning,
		},
		"accepted, hostile kid": {
			[]string{"--issuer", backendtest.Issuer, "--audience", backendtest.Audience}, hostileOK, ExitValid,
			`header: alg ES256, kid k\u001b[2J\u000aok: signature` + "\n" +
				`ok: signature (ES256, kid k\u001b[2J\u000aok: signature)` + "\n" +
				"ok: iss https://issuer.example\n" +
				"ok: aud api\n" +
				"ok: exp 2026-01-01T01:00:00Z (in 1h)\n" +
				"ok: nbf 2025-12-31T23:59:00Z (1m ago)\n" +
				"ok: iat 2025-12-31T23:59:00Z (1m ago)\n",
		},
		"rejected": {
			[]string{"--issuer", backendtest.Issuer, "--audience", backendtest.Audience}, expired, ExitRejected,
			"header (unverified): alg ES256, kid ec-256\n" +
				"jwtverify: rejected: expired: token expired at 2025-12-31T23:00:00Z, 1h ago (leeway 0s)\n",
		},
		"rejected, hostile kid": {
			nil, hostile, ExitRejected,
			`header (unverified): alg ES256, kid k\u001b[2J\u000aok: signature` + "\n" +
				"jwtverify: rejected: expired: token expired at 2025-12-31T23:00:00Z, 1h ago (leeway 0s)\n",
		},
		"rejected, not decodable": {
			nil, "a.b", ExitRejected,
			"jwtverify: rejected: malformed: token has 2 segments; a compact JWS has 3\n",
		},
	} {
		t.Run(name, func(t *testing.T) {
			args := append([]string{"verify", "--verbose", "--key", key, "--now", fixedNow}, tc.args...)
			r := run("", append(args, tc.token)...)
			if r.code != tc.code || r.stderr != tc.stderr {
				t.Fatalf("exit %d, stderr:\n%s\nwant exit %d, stderr:\n%s", r.code, r.stderr, tc.code, tc.stderr)
			}
			checkNoSegments(t, r.stderr, tc.token)
		})
	}

	// A JWT-SVID: its SPIFFE ID's trust domain instead of iss, and its typ,
	// which jwtsvid checks when present.
	sk := newSPIFFEKeys(t)
	bundle := writeFile(t, "bundle.json", spiffeBundle(t, 1, map[string]*ecdsa.PrivateKey{"j1": sk.j1}))
	tok := svid(t, sk.j1, "j1", "spiffe://example.org/billing")
	r := run("", "verify", "--verbose", "--spiffe-bundle", "example.org="+bundle, "--audience", "orders", tok)
	if r.code != ExitValid {
		t.Fatalf("JWT-SVID: %+v", r)
	}
	for _, want := range []string{"header: alg ES256, kid j1, typ JWT\n", "ok: typ JWT\n", "ok: signature (ES256, kid j1)\n",
		"ok: sub spiffe://example.org/billing (trust domain example.org)\n", "ok: aud orders\n", "ok: exp ", "ok: iat "} {
		if !strings.Contains(r.stderr, want) {
			t.Errorf("JWT-SVID: stderr lacks %q:\n%s", want, r.stderr)
		}
	}
	if strings.Contains(r.stderr, "ok: iss") || strings.Contains(r.stderr, "ok: nbf") || strings.Contains(r.stderr, "warning") {
		t.Errorf("JWT-SVID: stderr reports a check that did not apply:\n%s", r.stderr)
	}
	checkNoSegments(t, r.stderr, tok)
}

// TestReadableRejectionTimes: the date rejections give the claim's date
// in RFC 3339 and the distance to it in at most two short units, never a
// count of hours beyond a day, even for dates centuries away.
func TestReadableRejectionTimes(t *testing.T) {
	f, err := backendtest.NewFixture()
	if err != nil {
		t.Fatal(err)
	}
	key := writeFile(t, "ec.pem", testkeys.PublicPEM(&f.Keys.P256.PublicKey))
	longHours := regexp.MustCompile(`\d{3,}h`)
	for name, tc := range map[string]struct {
		claim string
		value int64
		want  string
	}{
		"expired long ago": {"exp", time.Date(2010, 5, 1, 12, 0, 0, 0, time.UTC).Unix(),
			"jwtverify: rejected: expired: token expired at 2010-05-01T12:00:00Z, 15y248d ago (leeway 0s)\n"},
		"not yet valid": {"nbf", backendtest.Now().Add(5 * time.Minute).Unix(),
			"jwtverify: rejected: not_yet_valid: token not valid until 2026-01-01T00:05:00Z, in 5m (leeway 0s)\n"},
		"not valid before the year 9999": {"nbf", 253402300799,
			"jwtverify: rejected: not_yet_valid: token not valid until 9999-12-31T23:59:59Z, in 7979y107d (leeway 0s)\n"},
		"issued in the future": {"iat", backendtest.Now().Add(90 * time.Minute).Unix(),
			"jwtverify: rejected: issued_in_future: iat is 2026-01-01T01:30:00Z, 1h30m in the future (leeway 0s)\n"},
	} {
		t.Run(name, func(t *testing.T) {
			c := backendtest.Claims()
			c[tc.claim] = tc.value
			token := f.Sign("ES256", nil, c)
			r := run("", "verify", "--key", key, "--now", fixedNow, token)
			if r.code != ExitRejected || r.stderr != tc.want || longHours.MatchString(r.stderr) {
				t.Fatalf("got %+v, want exit 1 and stderr %q", r, tc.want)
			}
		})
	}
}

// TestSubcommandHelp: -h, -help and --help of each subcommand exit 0 and
// print its usage line and its flags as the README writes them: two
// dashes, the value's placeholder in upper case, none for a boolean, the
// default when it is not zero; never Go's "-alg value".
func TestSubcommandHelp(t *testing.T) {
	singleDash := regexp.MustCompile(`(^|\s)-[a-z]`)
	goStyle := regexp.MustCompile(`(?m)^\s+-+[a-z-]+ (string|value|duration)$`)
	for _, tc := range []struct {
		sub   string
		want  []string
		flags bool
	}{
		{"verify", []string{
			"usage: jwtverify verify [flags] [TOKEN]\n",
			"\n  --alg ALG            allowed algorithm (repeatable); default: derived from the\n                       keys\n",
			"\n  --backend NAME       golang-jwt | jwx | native (default golang-jwt)\n",
			"\n  --jwks SOURCE        JWKS: an http(s) URL or a local file\n",
			"\n  --leeway DURATION    clock skew",
			"\n  --now TIME           validate as of TIME (RFC 3339 or Unix seconds); default:\n                       the clock\n",
			"\n  --spiffe-bundle TD=SOURCE\n                       verify JWT-SVIDs",
			"\n  --verbose            on stderr",
			"\n  --fetch-bearer-file FILE\n                       FILE whose content",
		}, true},
		{"inspect", []string{"usage: jwtverify inspect [flags] [TOKEN]\n", "UNVERIFIED", "\n  --now TIME           tell the dates' distance as of TIME"}, true},
		{"bench", []string{"usage: jwtverify bench [flags]\n", "\n  --duration DURATION  total time", "(default 30s)\n", "\n  --format FORMAT      table | json (default table)\n"}, true},
		{"demo", []string{"usage: jwtverify demo\n", "needs no network"}, false},
		{"proxy", []string{
			"usage: jwtverify proxy [flags]\n", "JWTVERIFY_<FLAG>",
			"\n  --config FILE        YAML configuration file",
			"\n  --listen ADDR        address to serve on",
			"\n  --forward-claim CLAIM=HEADER\n",
			"\n  --trusted-proxy CIDR\n                       CIDR of a proxy",
			"\n  --read-timeout DURATION\n",
		}, true},
	} {
		for _, h := range []string{"-h", "-help", "--help"} {
			r := run("", tc.sub, h)
			if r.code != ExitValid || r.stdout != "" {
				t.Fatalf("%s %s: %+v, want exit 0, help on stderr", tc.sub, h, r)
			}
			for _, want := range tc.want {
				if !strings.Contains(r.stderr, want) {
					t.Errorf("%s %s: help lacks %q:\n%s", tc.sub, h, want, r.stderr)
				}
			}
			if singleDash.MatchString(r.stderr) || goStyle.MatchString(r.stderr) {
				t.Errorf("%s %s: help has a single-dash or Go-style flag:\n%s", tc.sub, h, r.stderr)
			}
			if strings.Contains(r.stderr, "\nflags:\n") != tc.flags {
				t.Errorf("%s %s: flags section present = %v, want %v", tc.sub, h, !tc.flags, tc.flags)
			}
		}
	}
	// The top-level help names the new subcommand.
	if r := run("", "help"); r.code != ExitValid || !strings.Contains(r.stdout, "\n  inspect  ") {
		t.Fatalf("help: %+v", r)
	}
}

// TestBenchWarning: bench warns, naming the --duration that is enough,
// exactly when --duration leaves each measurement less than
// minPerContender, and still measures and exits 0.
func TestBenchWarning(t *testing.T) {
	for _, tc := range []struct {
		d    time.Duration
		n    int
		want string
	}{
		{30 * time.Second, 42, ""},
		{21 * time.Second, 42, ""},
		{time.Second, 1, ""},
		{20 * time.Second, 42, "jwtverify: warning: --duration 20s gives each of the 42 measurements 476.190476ms: too short for stable ratios; use --duration 21s or more"},
		{time.Second, 3, "jwtverify: warning: --duration 1s gives each of the 3 measurements 333.333333ms: too short for stable ratios; use --duration 2s or more"},
	} {
		if got := benchWarning(tc.d, tc.n); got != tc.want {
			t.Errorf("benchWarning(%v, %d) = %q, want %q", tc.d, tc.n, got, tc.want)
		}
	}
	r := run("", "bench", "--duration", "1ms", "--format", "json")
	var results []map[string]any
	if r.code != ExitValid || json.Unmarshal([]byte(r.stdout), &results) != nil || len(results) == 0 {
		t.Fatalf("bench --duration 1ms: %+v", r)
	}
	want := benchWarning(time.Millisecond, len(results)) + "\n"
	if !strings.HasPrefix(r.stderr, want) || !strings.Contains(want, "use --duration 21s or more") {
		t.Fatalf("bench --duration 1ms: stderr %q, want it to start with %q", r.stderr, want)
	}
}
