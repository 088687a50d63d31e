package cli

import (
	"encoding/json"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/jwtverify/jwtverify/backends/backendtest"
)

// inspectSections returns the JSON of inspect's header and claims
// sections in out: each ends with the line "}" that closes its object.
func inspectSections(t *testing.T, out string) (header, claims string) {
	t.Helper()
	_, rest, ok1 := strings.Cut(out, "\nheader:\n")
	header, rest, ok2 := strings.Cut(rest, "\nclaims:\n")
	claims, _, ok3 := strings.Cut(rest, "\n}\n")
	if !ok1 || !ok2 || !ok3 {
		t.Fatalf("no header and claims sections in:\n%s", out)
	}
	return header, claims + "\n}"
}

// TestInspect: inspect prints, on stdout, the UNVERIFIED banner, the
// header and the claims as indented JSON, then the dates with their RFC
// 3339 time and their distance from --now, then the signature's size;
// the same for every way of giving the token.
func TestInspect(t *testing.T) {
	f, err := backendtest.NewFixture()
	if err != nil {
		t.Fatal(err)
	}
	token := f.Sign("ES256", map[string]any{"typ": "JWT"}, backendtest.Claims())
	const want = unverifiedBanner + `
header:
{
  "alg": "ES256",
  "kid": "ec-256",
  "typ": "JWT"
}
claims:
{
  "aud": [
    "api",
    "other"
  ],
  "exp": 1767229200,
  "iat": 1767225540,
  "iss": "https://issuer.example",
  "jti": "id-1",
  "nbf": 1767225540,
  "roles": [
    "admin"
  ],
  "scope": "read write",
  "sub": "user-1"
}
dates:
  exp  1767229200  2026-01-01T01:00:00Z  (in 1h)
  nbf  1767225540  2025-12-31T23:59:00Z  (1m ago)
  iat  1767225540  2025-12-31T23:59:00Z  (1m ago)
signature: 64 bytes, not checked
`
	for name, r := range map[string]result{
		"argument":        run("", "inspect", "--now", fixedNow, token),
		"flags after":     run("", "inspect", token, "--now", fixedNow),
		"unix --now":      run("", "inspect", "--now", "1767225600", token),
		"stdin":           run(token+"\n", "inspect", "--now", fixedNow),
		"stdin dash":      run(" Bearer "+token+" \n", "inspect", "--now", fixedNow, "-"),
		"bearer argument": run("", "inspect", "--now", fixedNow, "bearer "+token),
	} {
		if r.code != ExitValid || r.stdout != want || r.stderr != "" {
			t.Errorf("%s: exit %d, stderr %q, stdout:\n%s\nwant:\n%s", name, r.code, r.stderr, r.stdout, want)
		}
	}

	// Without --now, the distances are from the clock.
	c := backendtest.Claims()
	c["exp"] = time.Now().Add(time.Hour).Unix()
	r := run("", "inspect", f.Sign("ES256", nil, c))
	if r.code != ExitValid || !regexp.MustCompile(`\n  exp  \d+  \S+Z  \(in (1h|59m59s)\)\n`).MatchString(r.stdout) {
		t.Fatalf("clock: %+v", r)
	}
}

// TestInspectUntrustedContent: inspect shows any strict token, escaping
// what could drive a terminal so that the JSON stays valid and means the
// same, and tells dates verify refuses apart; it writes no dates section
// for a token without dates.
func TestInspectUntrustedContent(t *testing.T) {
	f, err := backendtest.NewFixture()
	if err != nil {
		t.Fatal(err)
	}
	const header = `{"alg":"ES256","kid":"ec-256"}`
	for name, tc := range map[string]struct {
		payload string
		want    []string // in stdout
		absent  []string // not in stdout
	}{
		"unprintable runes": {
			"{\"note\":\"a\u202eb\u009bc\\u001bd\",\"smile\":\"\U0001F600\",\"tag\":\"\U000E0001\",\"exp\":1767229200}",
			[]string{`"note": "a\u202eb\u009bc\u001bd"`, "\"smile\": \"\U0001F600\"", `"tag": "\udb40\udc01"`},
			[]string{"\u202e", "\u009b", "\U000E0001"},
		},
		"dates verify refuses": {
			`{"exp":"1767229200","nbf":-1,"iat":1e300}`,
			[]string{
				"\ndates:\n  exp  not a number: verify rejects the token as malformed\n" +
					"  nbf  -1  not a date between 1970 and 9999: verify rejects the token as malformed\n" +
					"  iat  1e300  not a date between 1970 and 9999: verify rejects the token as malformed\n",
			},
			nil,
		},
		"fractional date": {
			`{"exp":1767229200.5}`,
			[]string{"\ndates:\n  exp  1767229200.5  2026-01-01T01:00:00.5Z  (in 1h)\nsignature: "},
			nil,
		},
		"no dates": {`{"sub":"x"}`, []string{"\n  \"sub\": \"x\"\n}\nsignature: 64 bytes"}, []string{"dates:"}},
	} {
		t.Run(name, func(t *testing.T) {
			r := run("", "inspect", "--now", fixedNow, f.SignRaw("ES256", "ec-256", header, tc.payload))
			if r.code != ExitValid || r.stderr != "" {
				t.Fatalf("got %+v", r)
			}
			for _, w := range tc.want {
				if !strings.Contains(r.stdout, w) {
					t.Errorf("stdout lacks %q:\n%s", w, r.stdout)
				}
			}
			for _, a := range tc.absent {
				if strings.Contains(r.stdout, a) {
					t.Errorf("stdout has %q:\n%s", a, r.stdout)
				}
			}
			h, c := inspectSections(t, r.stdout)
			var gotH, wantH, gotC, wantC any
			if json.Unmarshal([]byte(h), &gotH) != nil || json.Unmarshal([]byte(header), &wantH) != nil ||
				json.Unmarshal([]byte(c), &gotC) != nil || json.Unmarshal([]byte(tc.payload), &wantC) != nil {
				t.Fatalf("sections are not JSON:\n%s", r.stdout)
			}
			gotJSON, _ := json.Marshal([]any{gotH, gotC})
			wantJSON, _ := json.Marshal([]any{wantH, wantC})
			if string(gotJSON) != string(wantJSON) {
				t.Fatalf("sections decode to %s, want %s", gotJSON, wantJSON)
			}
		})
	}
}

// TestInspectRefused: a token the strict front end refuses is exit 1 with
// verify's one rejection line, giving the reason and no part of the
// token, and nothing on stdout.
func TestInspectRefused(t *testing.T) {
	f, err := backendtest.NewFixture()
	if err != nil {
		t.Fatal(err)
	}
	good := strings.Split(f.Sign("ES256", nil, backendtest.Claims()), ".")
	const header = `{"alg":"ES256","kid":"ec-256"}`
	raw := func(payload string) string { return f.SignRaw("ES256", "ec-256", header, payload) }
	for name, tc := range map[string]struct {
		token, class, reason string
	}{
		"two segments":        {good[0] + "." + good[1], "malformed", "token has 2 segments"},
		"JWE":                 {good[0] + ".aaaa.bbbb.cccc.dddd", "unsupported", "JWE"},
		"padded base64":       {good[0] + "=." + good[1] + "." + good[2], "malformed", "not strict base64url"},
		"bad base64 payload":  {good[0] + ".pay*load." + good[2], "malformed", "payload is not strict base64url"},
		"header not JSON":     {b64(`{"alg":"ES256"`) + "." + good[1] + "." + good[2], "malformed", "header: invalid JSON"},
		"header not object":   {b64("not json at all") + "." + good[1] + "." + good[2], "malformed", "header: not a JSON object"},
		"duplicate member":    {raw(`{"sub":"user-1","sub":"admin"}`), "malformed", "payload: duplicate member name"},
		"case-folded member":  {raw(`{"sub":"user-1","Sub":"admin"}`), "malformed", "payload: member names equal under case folding"},
		"duplicate in header": {b64(`{"alg":"ES256","alg":"none"}`) + "." + good[1] + "." + good[2], "malformed", "header: duplicate member name"},
		"payload not object":  {raw(`["user-1"]`), "malformed", "payload: not a JSON object"},
		"invalid UTF-8":       {raw("{\"sub\":\"\xc0\xaf\"}"), "malformed", "payload: invalid UTF-8"},
		"trailing data":       {raw(`{"sub":"user-1"} {"sub":"admin"}`), "malformed", "payload: data after the JSON object"},
		"too large":           {strings.Repeat("a", 17<<10), "too_large", "the limit is 16384"},
	} {
		t.Run(name, func(t *testing.T) {
			for _, r := range []result{run("", "inspect", tc.token), run(tc.token, "inspect")} {
				checkRejected(t, r, tc.class, tc.token)
				if !strings.Contains(r.stderr, tc.reason) {
					t.Fatalf("stderr %q does not give the reason %q", r.stderr, tc.reason)
				}
			}
		})
	}
	checkRejected(t, run("", "inspect", "-"), "malformed", "")

	for name, args := range map[string][]string{
		"two tokens": {"inspect", good[0], good[1]},
		"bad --now":  {"inspect", "--now", "tomorrow", strings.Join(good, ".")},
		"bad flag":   {"inspect", "--key", "k.pem", strings.Join(good, ".")},
	} {
		if r := run("", args...); r.code != ExitUsage || r.stdout != "" || r.stderr == "" {
			t.Errorf("%s: %+v, want exit 2 with a message", name, r)
		}
	}
}
