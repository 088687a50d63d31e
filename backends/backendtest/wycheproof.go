package backendtest

import (
	"context"
	"crypto"
	"embed"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"testing"

	"github.com/jwtverify/jwtverify"
	"github.com/jwtverify/jwtverify/internal/b64url"
	"github.com/jwtverify/jwtverify/keyset"
)

// WycheproofEnv names the environment variable that may point at another
// copy of the testvectors_v1 directory of Project Wycheproof
// (https://github.com/C2SP/wycheproof), for example a newer one to try
// before it replaces the committed copy. Without it, Wycheproof runs the
// vectors committed under testdata/wycheproof (Apache License 2.0; the
// LICENSE and the upstream commit are beside them), which are embedded in
// this package.
const WycheproofEnv = "WYCHEPROOF_DIR"

// committedVectors holds the files of wycheproofFiles, as C2SP/wycheproof
// published them, byte for byte.
//
//go:embed testdata/wycheproof/testvectors_v1/*.json
var committedVectors embed.FS

// wycheproofFiles are the vector files Wycheproof runs: every file of
// testvectors_v1 whose algorithm JWS has (RFC 7518, RFC 8037), plus the
// JOSE files. Left out on purpose: other hashes (SHA-1, SHA-224,
// SHA-512/t, SHA-3, SHAKE), which no JWS algorithm names; ECDSA on a curve
// with a hash other than its JWS pairing; DER-encoded ECDSA, which JWS
// forbids; and the rsa_pss_*_params files, which repeat their twins with
// the key in an id-RSASSA-PSS SubjectPublicKeyInfo, a form crypto/x509
// (and so keyset.ParsePEM) does not parse and that no JWK can express.
var wycheproofFiles = []string{
	"rsa_signature_2048_sha256_test.json", "rsa_signature_2048_sha384_test.json", "rsa_signature_2048_sha512_test.json",
	"rsa_signature_3072_sha256_test.json", "rsa_signature_3072_sha384_test.json", "rsa_signature_3072_sha512_test.json",
	"rsa_signature_4096_sha256_test.json", "rsa_signature_4096_sha384_test.json", "rsa_signature_4096_sha512_test.json",
	"rsa_signature_8192_sha256_test.json", "rsa_signature_8192_sha384_test.json", "rsa_signature_8192_sha512_test.json",
	"rsa_pss_2048_sha256_mgf1_0_test.json", "rsa_pss_2048_sha256_mgf1_32_test.json", "rsa_pss_2048_sha256_mgf1sha1_20_test.json",
	"rsa_pss_2048_sha384_mgf1_48_test.json", "rsa_pss_3072_sha256_mgf1_32_test.json", "rsa_pss_4096_sha256_mgf1_32_test.json",
	"rsa_pss_4096_sha384_mgf1_48_test.json", "rsa_pss_4096_sha512_mgf1_32_test.json", "rsa_pss_4096_sha512_mgf1_64_test.json",
	"rsa_pss_misc_test.json",
	"ecdsa_secp256r1_sha256_p1363_test.json", "ecdsa_secp384r1_sha384_p1363_test.json", "ecdsa_secp521r1_sha512_p1363_test.json",
	"ed25519_test.json",
	"json_web_signature_test.json", "json_web_key_test.json",
}

// A wycheproofDeviation is a set of vectors whose verdict here differs
// from Wycheproof's on purpose, and why.
type wycheproofDeviation struct {
	file   string
	tcIDs  []int
	reason string
}

// wycheproofDeviations lists every vector of wycheproofFiles whose verdict
// differs from Wycheproof's, beyond the two rules the runner applies to
// every file: a vector marked "acceptable" must be refused, and an RSA-PSS vector
// whose parameters are not those of the JWS algorithm of its hash (MGF1
// with the same hash, salt as long as the hash; RFC 7518 §3.5) must be
// refused. The test fails on a deviation not listed here and on a listed
// one that no longer happens, so the list cannot rot.
var wycheproofDeviations = []wycheproofDeviation{
	{"rsa_pss_2048_sha256_mgf1_0_test.json", []int{69},
		"its salt is 32 bytes: a valid PS256 signature, invalid only under the file's salt length 0"},
	{"json_web_signature_test.json", []int{346, 350},
		"the JWK says alg PS256 and the token PS384: a key's alg restricts it (RFC 7517 §4.4)"},
	{"json_web_signature_test.json", []int{347, 351},
		`the JWK says alg "ES521", which is no JWS algorithm (ES512 is): keyset refuses the key`},
	{"json_web_signature_test.json", []int{367, 370},
		"byte for byte the token of tcId 357, which Wycheproof calls valid: the padding the name speaks of is not in the file"},
	{"json_web_signature_test.json", []int{372, 373},
		`a "?" inside a segment is not base64url: the strict decoder refuses what a lenient one skips`},
	{"json_web_key_test.json", []int{2, 13, 14, 15},
		"oct JWKs are refused by design: HMAC secrets are configured with jwtverify.NewSecretKey, never in a public key set"},
}

// Wycheproof runs Project Wycheproof's vectors for the JWS algorithms
// against b: RSA PKCS #1 v1.5 (2048 to 8192 bits, SHA-256/384/512),
// RSA-PSS, ECDSA P1363 on P-256/SHA-256, P-384/SHA-384 and P-521/SHA-512,
// Ed25519, and the JWS and JWK files. It fails on any verdict other than
// Wycheproof's that the suite's deviation list does not give a reason for,
// and on any listed deviation that no longer happens. A vector marked
// "acceptable" must be refused; an RSA-PSS vector is run as the JWS
// algorithm of its hash, so those signed with other PSS parameters must be
// refused. It fails when WycheproofEnv names a directory that does not
// hold the vectors.
//
// Raw signature vectors (RSA PKCS #1 v1.5, RSA-PSS, ECDSA P1363, Ed25519)
// go through a Verifier whose backend is b with the signing input replaced by
// the vector's message, so a vector is accepted only if its key passes the
// key checks (keyset.ParseJWK when the group has a JWK, else
// keyset.ParsePEM), its signature has the length Verify requires, and b
// verifies it. JWS vectors are accepted when Verify lets the signature
// through to b and b verifies it; their payloads are not claim sets, which
// Verify then rejects, but that is not what they test. In the JWS file an oct
// key, which keyset refuses by design, becomes a jwtverify.NewSecretKey, as
// an application configures HMAC secrets; the JWK file parses its key sets
// with keyset.ParseJWKS as they are.
func Wycheproof(t *testing.T, b jwtverify.Backend) {
	t.Helper()
	vectors := wycheproofVectors(t)
	listed := map[string]map[int]string{} // file -> tcId -> reason
	for _, d := range wycheproofDeviations {
		if listed[d.file] == nil {
			listed[d.file] = map[int]string{}
		}
		for _, id := range d.tcIDs {
			listed[d.file][id] = d.reason
		}
	}
	for _, name := range wycheproofFiles {
		t.Run(name, func(t *testing.T) {
			problems, summary := judgeWycheproof(runWycheproofFile(t, b, vectors, name), listed[name], b.Name())
			for _, p := range problems {
				t.Error(p)
			}
			t.Log(summary)
		})
	}
}

// judgeWycheproof compares the outcomes of one file's vectors with what
// they should be, given the deviations listed for it (tcId to reason),
// and returns every unlisted deviation and every listed one that did not
// happen, and a one-line count.
func judgeWycheproof(vectors []wycheproofVector, listed map[int]string, backend string) (problems []string, summary string) {
	var same, byRule, deviations, skipped, keyRefused int
	for _, v := range vectors {
		if v.keyRefused {
			keyRefused++
		}
		verdict := backend + " refuses it"
		if v.got {
			verdict = backend + " accepts it"
		}
		want := "Wycheproof says " + v.result
		if v.rule != "" {
			want += ", refused here because " + v.rule
		}
		reason, isListed := listed[v.tcID]
		switch {
		case v.skipped:
			skipped++
		case v.got != v.want && !isListed:
			problems = append(problems, fmt.Sprintf("tcId %d (%s %v): %s, but %s, and it is not a listed deviation", v.tcID, v.comment, v.flags, want, verdict))
		case v.got == v.want && isListed:
			problems = append(problems, fmt.Sprintf("tcId %d (%s %v): listed as a deviation (%s), but %s as expected (%s): remove it from the list", v.tcID, v.comment, v.flags, reason, verdict, want))
		case v.got != v.want:
			deviations++
		case v.rule != "":
			byRule++
		default:
			same++
		}
	}
	summary = fmt.Sprintf("%s: %d vectors: %d as Wycheproof says, %d refused by rule, %d listed deviations, %d skipped (no JWS algorithm); %d refused with their key",
		backend, len(vectors), same, byRule, deviations, skipped, keyRefused)
	return problems, summary
}

// wycheproofVectors returns the vectors to run: the directory
// WycheproofEnv names, failing t when it does not hold them, else the
// committed copy.
func wycheproofVectors(t *testing.T) fs.FS {
	t.Helper()
	dir := os.Getenv(WycheproofEnv)
	if dir == "" {
		sub, err := fs.Sub(committedVectors, "testdata/wycheproof/testvectors_v1")
		if err != nil {
			t.Fatal(err)
		}
		return sub
	}
	vectors := os.DirFS(dir)
	if _, err := fs.Stat(vectors, wycheproofFiles[0]); err != nil {
		t.Fatalf("%s=%s does not hold the Wycheproof vectors: %v", WycheproofEnv, dir, err)
	}
	return vectors
}

// wycheproofVector is one vector and its outcome.
type wycheproofVector struct {
	tcID    int
	comment string
	flags   []string
	result  string // Wycheproof's: valid, invalid or acceptable
	want    bool   // acceptance required, by Wycheproof's result and the rules
	rule    string // the rule that turned Wycheproof's result around, if any
	got     bool   // accepted
	skipped bool   // no JWS algorithm: not run
	// keyRefused: the group's key was refused, so the vector was refused
	// without a signature check.
	keyRefused bool
}

// The parts of Wycheproof's schemas (rsassa_pkcs1_verify, rsassa_pss_verify,
// ecdsa_p1363_verify, eddsa_verify, json_web_signature, json_web_key) that
// the runner reads.
type (
	wpFile struct {
		Schema        string    `json:"schema"`
		NumberOfTests int       `json:"numberOfTests"`
		TestGroups    []wpGroup `json:"testGroups"`
	}
	wpGroup struct {
		Sha          string          `json:"sha"`
		Mgf          string          `json:"mgf"`
		MgfSha       string          `json:"mgfSha"`
		SLen         int             `json:"sLen"`
		PublicKey    json.RawMessage `json:"publicKey"`
		PublicKeyPem string          `json:"publicKeyPem"`
		PublicKeyJwk json.RawMessage `json:"publicKeyJwk"`
		KeyJwk       json.RawMessage `json:"keyJwk"` // the RSA PKCS #1 files' name for it
		Public       json.RawMessage `json:"public"`
		Private      json.RawMessage `json:"private"`
		Tests        []wpTest        `json:"tests"`
	}
	wpTest struct {
		TcID    int             `json:"tcId"`
		Comment string          `json:"comment"`
		Msg     string          `json:"msg"`
		Sig     string          `json:"sig"`
		JWS     json.RawMessage `json:"jws"`
		Result  string          `json:"result"`
		Flags   []string        `json:"flags"`
	}
)

// recorder is the backend under test, with the signing input replaced by
// msg when msg is set; verified reports whether the last check succeeded.
type recorder struct {
	jwtverify.Backend
	msg      *string
	verified bool
}

func (r *recorder) VerifySignature(alg string, key any, input string, sig []byte) error {
	if r.msg != nil {
		input = *r.msg
	}
	err := r.Backend.VerifySignature(alg, key, input, sig)
	r.verified = err == nil
	return err
}

// runWycheproofFile runs every vector of one file against b.
func runWycheproofFile(t *testing.T, b jwtverify.Backend, vectors fs.FS, path string) []wycheproofVector {
	t.Helper()
	data, err := fs.ReadFile(vectors, path)
	if err != nil {
		t.Fatal(err)
	}
	var f wpFile
	if err := json.Unmarshal(data, &f); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	var out []wycheproofVector
	for gi, g := range f.TestGroups {
		alg, rule, err := wpAlgorithm(f.Schema, g)
		if err != nil {
			t.Fatalf("group %d: %v", gi, err)
		}
		jose := f.Schema == "json_web_signature_schema_v1.json" || f.Schema == "json_web_key_schema_v1.json"
		var keys []jwtverify.Key
		var keyErr error
		switch {
		case alg == "" && !jose:
			// Not a JWS algorithm: nothing to run.
		case f.Schema == "json_web_signature_schema_v1.json":
			var k jwtverify.Key
			k, keyErr = joseKey(g)
			keys = []jwtverify.Key{k}
		case f.Schema == "json_web_key_schema_v1.json":
			keys, _, keyErr = keyset.ParseJWKS(cmpRaw(g.Public, g.Private))
		default:
			var k jwtverify.Key
			k, keyErr = rawKey(t, gi, g)
			keys = []jwtverify.Key{k}
		}
		rec := &recorder{Backend: b}
		var core *jwtverify.Verifier // nil: the group's keys verify nothing
		if keyErr == nil && len(keys) > 0 {
			core = wpCore(rec, keys)
		}
		for _, tc := range g.Tests {
			v := wycheproofVector{tcID: tc.TcID, comment: tc.Comment, flags: tc.Flags, result: tc.Result, want: tc.Result == "valid"}
			switch {
			case tc.Result == "acceptable":
				v.rule = "acceptable is refused"
			case rule != "" && tc.Result == "valid":
				v.want, v.rule = false, rule
			}
			if alg == "" && !jose {
				v.skipped = true
				out = append(out, v)
				continue
			}
			token, msg := wpToken(t, alg, tc)
			rec.msg, rec.verified = msg, false
			if core == nil {
				v.keyRefused = true
			} else {
				_, err := core.Verify(context.Background(), token)
				// A raw vector's token is well-formed with a valid claim set:
				// only its key or its signature can fail it.
				if msg != nil && (rec.verified != (err == nil) || err != nil && !errors.Is(err, jwtverify.ErrSignature) && !errors.Is(err, jwtverify.ErrAlgorithm)) {
					t.Errorf("tcId %d: signature verified %v but Verify returned %v", tc.TcID, rec.verified, err)
				}
			}
			v.got = rec.verified
			out = append(out, v)
		}
	}
	if len(out) != f.NumberOfTests {
		t.Fatalf("%s: read %d vectors, the file says %d", path, len(out), f.NumberOfTests)
	}
	return out
}

// wpCore returns a Verifier over keys that checks signatures and no
// claims, or nil when the keys make no key set or Verifier.
func wpCore(b jwtverify.Backend, keys []jwtverify.Key) *jwtverify.Verifier {
	static, err := keyset.NewStatic(keys...)
	if err != nil {
		return nil
	}
	core, err := jwtverify.New(b, jwtverify.Config{
		Keys: static, SkipIssuerCheck: true, SkipAudienceCheck: true, AllowMissingExpiry: true,
		Now: Now,
	})
	if err != nil {
		return nil
	}
	return core
}

// wpAlgorithm returns the JWS algorithm of a raw-signature group ("" when
// JWS has none) and, for RSA-PSS groups whose parameters are not that
// algorithm's, the rule that makes their valid vectors invalid here.
func wpAlgorithm(schema string, g wpGroup) (alg, rule string, err error) {
	bits := map[string]string{"SHA-256": "256", "SHA-384": "384", "SHA-512": "512"}[g.Sha]
	switch schema {
	case "json_web_signature_schema_v1.json", "json_web_key_schema_v1.json":
		return "", "", nil
	case "rsassa_pkcs1_verify_schema_v1.json":
		if bits == "" {
			return "", "", nil
		}
		return "RS" + bits, "", nil
	case "rsassa_pss_verify_schema_v1.json":
		if bits == "" {
			return "", "", nil
		}
		alg = "PS" + bits
		if g.Mgf != "MGF1" || g.MgfSha != g.Sha || g.SLen != hashOf(alg).Size() {
			rule = fmt.Sprintf("%s is MGF1-%s with a %d-byte salt (RFC 7518 §3.5)", alg, g.Sha, hashOf(alg).Size())
		}
		return alg, rule, nil
	case "ecdsa_p1363_verify_schema_v1.json":
		var pk struct {
			Curve string `json:"curve"`
		}
		if err := json.Unmarshal(g.PublicKey, &pk); err != nil {
			return "", "", err
		}
		pair := map[string]string{"secp256r1": "256", "secp384r1": "384", "secp521r1": "512"}[pk.Curve]
		if pair == "" || pair != bits {
			return "", "", nil
		}
		return "ES" + bits, "", nil
	case "eddsa_verify_schema_v1.json":
		var pk struct {
			Curve string `json:"curve"`
		}
		if err := json.Unmarshal(g.PublicKey, &pk); err != nil {
			return "", "", err
		}
		if pk.Curve != "edwards25519" {
			return "", "", nil
		}
		return "EdDSA", "", nil
	}
	return "", "", fmt.Errorf("unknown schema %q", schema)
}

// rawKey loads a raw-signature group's key: from its JWK through
// keyset.ParseJWK when it has one, else from its PEM through
// keyset.ParsePEM. When it has both, they must agree.
func rawKey(t *testing.T, gi int, g wpGroup) (jwtverify.Key, error) {
	t.Helper()
	fromPEM, errPEM := keyset.ParsePEM([]byte(g.PublicKeyPem))
	jwk := cmpRaw(g.PublicKeyJwk, g.KeyJwk)
	if jwk == nil {
		return fromPEM, errPEM
	}
	fromJWK, errJWK := keyset.ParseJWK(jwk)
	type equaler interface{ Equal(crypto.PublicKey) bool }
	switch {
	case (errPEM == nil) != (errJWK == nil):
		t.Errorf("group %d: the key's JWK and PEM forms load differently: JWK %v, PEM %v", gi, errJWK, errPEM)
	case errJWK == nil && !fromJWK.Public().(equaler).Equal(fromPEM.Public()):
		t.Errorf("group %d: the key's JWK and PEM forms are different keys", gi)
	}
	return fromJWK, errJWK
}

// joseKey loads a JWS group's key: a public JWK through keyset.ParseJWK, an
// oct JWK as an HMAC secret through jwtverify.NewSecretKey.
func joseKey(g wpGroup) (jwtverify.Key, error) {
	raw := cmpRaw(g.Public, g.Private)
	var oct struct{ Kty, Kid, Alg, K string }
	if err := json.Unmarshal(raw, &oct); err != nil {
		return jwtverify.Key{}, err
	}
	if oct.Kty != "oct" {
		return keyset.ParseJWK(raw)
	}
	secret, err := b64url.DecodeString(oct.K)
	if err != nil {
		return jwtverify.Key{}, err
	}
	return jwtverify.NewSecretKey(oct.Kid, oct.Alg, secret)
}

// wpToken returns the token a vector is verified as: a JWS vector's own
// (a JSON serialization as its JSON text), or for a raw signature a
// compact JWS of alg carrying the vector's signature, with its message to
// replace the signing input.
func wpToken(t *testing.T, alg string, tc wpTest) (token string, msg *string) {
	t.Helper()
	if tc.JWS != nil {
		if err := json.Unmarshal(tc.JWS, &token); err != nil {
			return string(tc.JWS), nil
		}
		return token, nil
	}
	m, err1 := hex.DecodeString(tc.Msg)
	sig, err2 := hex.DecodeString(tc.Sig)
	if err := errors.Join(err1, err2); err != nil {
		t.Fatalf("tcId %d: %v", tc.TcID, err)
	}
	s := string(m)
	return b64(`{"alg":"`+alg+`"}`) + "." + b64(`{}`) + "." + b64(string(sig)), &s
}

// cmpRaw returns the first non-empty of a and b, or nil.
func cmpRaw(a, b json.RawMessage) json.RawMessage {
	if len(a) > 0 {
		return a
	}
	if len(b) > 0 {
		return b
	}
	return nil
}
