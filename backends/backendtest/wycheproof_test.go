package backendtest

import (
	"crypto"
	"encoding/hex"
	"encoding/json"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/jwtverify/jwtverify/backends/golangjwt"
	"github.com/jwtverify/jwtverify/internal/mint"
	"github.com/jwtverify/jwtverify/internal/testkeys"
)

// The runner itself, on small files in Wycheproof's schemas made from the
// test keys, so that it is checked without the vectors.

func writeJSON(t *testing.T, dir, name string, v any) string {
	t.Helper()
	data, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestWycheproofRunnerJudgesRawVectors(t *testing.T) {
	ks := testkeys.Load()
	pem := string(testkeys.PublicPEM(&ks.RSA2.PublicKey))
	msg := []byte("message")
	vec := func(id int, salt int, result string) map[string]any {
		sig := pssSign(ks.RSA2, crypto.SHA256, crypto.SHA256, salt, msg)
		return map[string]any{"tcId": id, "comment": "", "flags": []string{}, "msg": hex.EncodeToString(msg), "sig": hex.EncodeToString(sig), "result": result}
	}
	group := func(sha string, sLen int, tests ...map[string]any) map[string]any {
		return map[string]any{"sha": sha, "mgf": "MGF1", "mgfSha": sha, "sLen": sLen, "publicKeyPem": pem, "tests": tests}
	}
	path := writeJSON(t, t.TempDir(), "pss.json", map[string]any{
		"schema": "rsassa_pss_verify_schema_v1.json", "numberOfTests": 7,
		"testGroups": []any{
			group("SHA-256", 32,
				vec(1, 32, "valid"),      // accepted as Wycheproof says, but listed: stale
				vec(2, 0, "invalid"),     // refused as Wycheproof says
				vec(3, 20, "valid"),      // refused against Wycheproof, unlisted
				vec(4, 32, "acceptable"), // accepted against the rule, listed
			),
			group("SHA-256", 0,
				vec(5, 0, "valid"),    // refused by the PS256 rule
				vec(6, 32, "invalid"), // a valid PS256 signature, unlisted
			),
			group("SHA-1", 20, vec(7, 20, "valid")), // no JWS algorithm
		},
	})
	vectors := runWycheproofFile(t, golangjwt.Backend{}, os.DirFS(filepath.Dir(path)), filepath.Base(path))
	got := map[int]bool{}
	for _, v := range vectors {
		got[v.tcID] = v.got
	}
	want := map[int]bool{1: true, 2: false, 3: false, 4: true, 5: false, 6: true, 7: false}
	for id, w := range want {
		if got[id] != w {
			t.Errorf("tcId %d accepted %v, want %v", id, got[id], w)
		}
	}
	problems, summary := judgeWycheproof(vectors, map[int]string{1: "stale", 4: "listed"}, "golang-jwt")
	if len(problems) != 3 ||
		!strings.HasPrefix(problems[0], "tcId 1 ") || !strings.Contains(problems[0], "remove it from the list") ||
		!strings.HasPrefix(problems[1], "tcId 3 ") || !strings.Contains(problems[1], "not a listed deviation") ||
		!strings.HasPrefix(problems[2], "tcId 6 ") || !strings.Contains(problems[2], "not a listed deviation") {
		t.Errorf("problems = %q", problems)
	}
	if want := "golang-jwt: 7 vectors: 1 as Wycheproof says, 1 refused by rule, 1 listed deviations, 1 skipped (no JWS algorithm); 0 refused with their key"; summary != want {
		t.Errorf("summary = %q, want %q", summary, want)
	}
}

func TestWycheproofRunnerJudgesJWSVectors(t *testing.T) {
	ks := testkeys.Load()
	ecJWK, err := mint.JWK(&ks.P256.PublicKey, "ec", "ES256")
	if err != nil {
		t.Fatal(err)
	}
	es, err := mint.Raw("ES256", ks.P256, []byte(`{"alg":"ES256","kid":"ec"}`), []byte("foo"))
	if err != nil {
		t.Fatal(err)
	}
	hs, err := mint.Raw("HS256", ks.HMAC, []byte(`{"alg":"HS256","kid":"hs"}`), []byte("foo"))
	if err != nil {
		t.Fatal(err)
	}
	test := func(id int, jws any, result string) map[string]any {
		return map[string]any{"tcId": id, "comment": "", "flags": []string{}, "jws": jws, "result": result}
	}
	oct := map[string]any{"kty": "oct", "kid": "hs", "alg": "HS256", "k": b64(string(ks.HMAC))}
	dir := t.TempDir()
	jws := writeJSON(t, dir, "jws.json", map[string]any{
		"schema": "json_web_signature_schema_v1.json", "numberOfTests": 5,
		"testGroups": []any{
			map[string]any{"public": ecJWK, "tests": []any{
				test(1, es, "valid"), // the payload is no claim set: accepted all the same
				test(2, es[:len(es)-2]+flipChar(es[len(es)-2:]), "invalid"),
				test(3, map[string]any{"payload": "Zm9v"}, "invalid"), // JSON serialization
			}},
			map[string]any{"private": oct, "tests": []any{test(4, hs, "valid"), test(5, hs+"A", "invalid")}},
		},
	})
	jwks := writeJSON(t, dir, "jwk.json", map[string]any{
		"schema": "json_web_key_schema_v1.json", "numberOfTests": 2,
		"testGroups": []any{
			map[string]any{"public": map[string]any{"keys": []any{ecJWK}}, "tests": []any{test(1, es, "valid")}},
			map[string]any{"private": map[string]any{"keys": []any{oct}}, "tests": []any{test(2, hs, "valid")}}, // oct refused
		},
	})
	for path, want := range map[string]map[int]bool{
		jws:  {1: true, 2: false, 3: false, 4: true, 5: false},
		jwks: {1: true, 2: false},
	} {
		for _, v := range runWycheproofFile(t, golangjwt.Backend{}, os.DirFS(filepath.Dir(path)), filepath.Base(path)) {
			if v.got != want[v.tcID] {
				t.Errorf("%s tcId %d accepted %v, want %v", filepath.Base(path), v.tcID, v.got, want[v.tcID])
			}
		}
	}
}

func TestWycheproofVectorsFromEnv(t *testing.T) {
	dir := t.TempDir()
	writeJSON(t, dir, wycheproofFiles[0], map[string]any{"schema": "from the environment"})
	t.Setenv(WycheproofEnv, dir)
	data, err := fs.ReadFile(wycheproofVectors(t), wycheproofFiles[0])
	if err != nil || !strings.Contains(string(data), "from the environment") {
		t.Fatalf("wycheproofVectors() with %s set read %q, %v; want the file in %s", WycheproofEnv, data, err, dir)
	}
}

// TestWycheproofVectorsCommitted: without the environment variable, every
// file the runner names is in the committed copy, with its licence beside
// it, so no clone ever runs fewer vectors than the list says.
func TestWycheproofVectorsCommitted(t *testing.T) {
	t.Setenv(WycheproofEnv, "")
	vectors := wycheproofVectors(t)
	names, err := fs.Glob(vectors, "*.json")
	if err != nil {
		t.Fatal(err)
	}
	if len(names) != len(wycheproofFiles) {
		t.Errorf("%d committed vector files, %d in wycheproofFiles: keep the two in step", len(names), len(wycheproofFiles))
	}
	for _, name := range wycheproofFiles {
		data, err := fs.ReadFile(vectors, name)
		if err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		var f wpFile
		if err := json.Unmarshal(data, &f); err != nil || len(f.TestGroups) == 0 {
			t.Errorf("%s: %d groups, %v", name, len(f.TestGroups), err)
		}
	}
	licence, err := os.ReadFile(filepath.Join("testdata", "wycheproof", "LICENSE"))
	if err != nil || !strings.Contains(string(licence), "Apache License") {
		t.Errorf("testdata/wycheproof/LICENSE: %v", err)
	}
}
