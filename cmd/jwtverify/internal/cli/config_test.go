package cli

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// issueExample is the configuration file of issue 13, as written there.
const issueExample = `listen: 127.0.0.1:8080
upstream: http://127.0.0.1:9000        # absent in forward-auth mode
metrics_listen: 127.0.0.1:9090
providers:                             # named; a token is tried against the provider its iss (or SPIFFE trust domain) names
  corp:
    issuer: https://login.example.com
    discovery: true                    # or jwks: URL | keys: FILE
    audiences: [orders-api]
    algorithms: [RS256]                # optional
    types: [at+jwt]                    # optional
  mesh:
    spiffe: {trust_domain: example.org, bundle: https://spire.example.org/bundle}
    audiences: [orders-api]
rules:                                 # first match wins; no match: 403
  - match: {prefix: /healthz}
    allow_anonymous: true
  - match: {prefix: /admin, methods: [POST, DELETE]}
    providers: [corp]
    require_scopes: [admin]
  - match: {prefix: /}
    providers: [corp, mesh]
    require_claims: {"org.plan": gold}           # optional
    require_spiffe_ids: ["spiffe://example.org/ns/prod/*"]   # optional
`

func env(vars map[string]string) func(string) string {
	return func(name string) string { return vars[name] }
}

// TestConfigValid: the issue's example decodes to what it says, and
// ${NAME} references take the environment's values, typed after
// expansion, never parsed as YAML.
func TestConfigValid(t *testing.T) {
	cfg, err := parseConfig([]byte(issueExample), env(nil))
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Listen != "127.0.0.1:8080" || cfg.Upstream != "http://127.0.0.1:9000" || cfg.MetricsListen != "127.0.0.1:9090" {
		t.Fatalf("addresses: %+v", cfg)
	}
	corp, mesh := cfg.Providers["corp"], cfg.Providers["mesh"]
	if corp.Issuer != "https://login.example.com" || !corp.Discovery || corp.Audiences[0] != "orders-api" || corp.Algorithms[0] != "RS256" || corp.Types[0] != "at+jwt" {
		t.Fatalf("corp: %+v", corp)
	}
	if mesh.SPIFFE == nil || mesh.SPIFFE.TrustDomain != "example.org" || mesh.SPIFFE.Bundle != "https://spire.example.org/bundle" {
		t.Fatalf("mesh: %+v", mesh)
	}
	if len(cfg.Rules) != 3 || !cfg.Rules[0].AllowAnonymous || cfg.Rules[1].Match.Methods[1] != "DELETE" || cfg.Rules[2].RequireClaims["org.plan"] != "gold" {
		t.Fatalf("rules: %+v", cfg.Rules)
	}
	if cfg.ruleLines[1] != 17 || cfg.providerLines["mesh"] != 11 {
		t.Fatalf("lines: rules %v, providers %v", cfg.ruleLines, cfg.providerLines)
	}

	withEnv := strings.NewReplacer("127.0.0.1:8080", "${LISTEN}", "https://login.example.com", "${ISSUER}", "[orders-api]\n    algorithms", "[\"${AUD}\"]\n    algorithms").Replace(issueExample)
	cfg, err = parseConfig([]byte(withEnv), env(map[string]string{"LISTEN": "0.0.0.0:80", "ISSUER": "https://idp.example/t1", "AUD": "x: [y]"}))
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Listen != "0.0.0.0:80" || cfg.Providers["corp"].Issuer != "https://idp.example/t1" || cfg.Providers["corp"].Audiences[0] != "x: [y]" {
		t.Fatalf("expanded: %q %q %q", cfg.Listen, cfg.Providers["corp"].Issuer, cfg.Providers["corp"].Audiences)
	}
	lit, err := parseConfig([]byte(strings.Replace(issueExample, "upstream: http://127.0.0.1:9000", `upstream: "http://127.0.0.1:9000/$${literal}"`, 1)), env(nil))
	if err != nil || lit.Upstream != "http://127.0.0.1:9000/${literal}" {
		t.Fatalf("$${ escape: %q, %v", lit.Upstream, err)
	}
}

// TestConfigInvalid: every kind of invalid file is refused with a message
// that names the line (and, for unknown fields, the column).
func TestConfigInvalid(t *testing.T) {
	replace := func(old, new string) string {
		if !strings.Contains(issueExample, old) {
			t.Fatalf("the example has no %q", old)
		}
		return strings.Replace(issueExample, old, new, 1)
	}
	for _, tc := range []struct {
		name, file, want string
	}{
		{"empty", "", "empty"},
		{"not a mapping", "- a\n- b\n", "line 1: the file must be one YAML mapping"},
		{"syntax", "listen: [\n", "line"},
		{"unknown top-level field", replace("metrics_listen:", "metrics_listn:"), `line 3, column 1: unknown field "metrics_listn"`},
		{"unknown provider field", replace("    types: [at+jwt]", "    typs: [at+jwt]"), `line 10, column 5: unknown field "typs"`},
		{"unknown spiffe field", replace("trust_domain: example.org", "trustdomain: example.org"), `line 12, column 14: unknown field "trustdomain"`},
		{"unknown rule field", replace("    require_scopes: [admin]", "    require_scope: [admin]"), `line 19, column 5: unknown field "require_scope"`},
		{"unknown match field", replace("{prefix: /healthz}", "{path: /healthz}"), `line 15, column 13: unknown field "path"`},
		{"duplicate key", replace("metrics_listen: 127.0.0.1:9090", "metrics_listen: 127.0.0.1:9090\nlisten: :1"), `line 4, column 1: "listen" is given twice (first at line 1)`},
		{"wrong type", replace("discovery: true ", "discovery: maybe "), "line 7"},
		{"unset variable", replace("127.0.0.1:8080", "${NOPE}"), "line 1, column 9: environment variable NOPE is not set"},
		{"bad reference", replace("127.0.0.1:8080", "${1X}"), "line 1"},
		{"bad mode", "mode: sidecar\n" + issueExample, "line 1: mode \"sidecar\""},
		{"unknown provider in a rule", replace("providers: [corp]", "providers: [crop]"), `line 17: rule 2: unknown provider "crop"`},
		{"unreachable rule", replace("  - match: {prefix: /healthz}", "  - match: {prefix: /}\n    allow_anonymous: true\n  - match: {prefix: /healthz}"), "rule 2 is unreachable: rule 1 (line 15)"},
		{"unreachable by methods", replace("  - match: {prefix: /}\n", "  - match: {prefix: /admin/users, methods: [POST]}\n    providers: [corp]\n  - match: {prefix: /}\n"), "rule 3 is unreachable: rule 2 (line 17)"},
		{"missing issuer", replace("    issuer: https://login.example.com\n", ""), "line 5: provider corp: issuer is required"},
		{"two key sources", replace("discovery: true", "discovery: true\n    jwks: https://x.example/jwks"), "provider corp: give only one of"},
		{"no keys", replace("    discovery: true                    # or jwks: URL | keys: FILE\n", ""), "provider corp: no keys"},
		{"spiffe without audiences", replace("    audiences: [orders-api]\nrules:", "rules:"), "line 11: provider mesh: spiffe needs audiences"},
		{"spiffe bad trust domain", replace("trust_domain: example.org", "trust_domain: Example.org"), "provider mesh: spiffe trust_domain"},
		{"spiffe with issuer", replace("    spiffe: {", "    issuer: https://x\n    spiffe: {"), "provider mesh: spiffe is used instead"},
		{"same issuer twice", replace("  mesh:\n    spiffe: {trust_domain: example.org, bundle: https://spire.example.org/bundle}", "  corp2:\n    issuer: https://login.example.com\n    keys: k.pem"), "have the same issuer"},
		{"no providers", "listen: :1\nrules:\n  - match: {prefix: /}\n    allow_anonymous: true\n", "no providers"},
		{"no rules", replace(issueExample[strings.Index(issueExample, "rules:"):], ""), "no rules"},
		{"anonymous with providers", replace("    allow_anonymous: true", "    allow_anonymous: true\n    providers: [corp]"), "line 15: rule 1: allow_anonymous takes no providers"},
		{"rule without providers", replace("    providers: [corp]\n", ""), "line 17: rule 2: providers is required"},
		{"prefix not a path", replace("{prefix: /healthz}", "{prefix: healthz}"), "rule 1: match prefix \"healthz\""},
		{"prefix not clean", replace("{prefix: /healthz}", "{prefix: /a/../healthz}"), "not a clean path"},
		{"lower-case method", replace("methods: [POST, DELETE]", "methods: [post]"), "method \"post\" must be an upper-case"},
		{"claim value an object", replace(`require_claims: {"org.plan": gold}`, `require_claims: {"org.plan": {a: b}}`), "require_claims org.plan"},
		{"bad claim path", replace(`require_claims: {"org.plan": gold}`, `require_claims: {"org..plan": gold}`), "not a dotted claim path"},
		{"bad spiffe pattern", replace(`"spiffe://example.org/ns/prod/*"`, `"spiffe://example.org/ns/*/prod"`), "require_spiffe_ids"},
		{"alias", replace("    audiences: [orders-api]\n    algorithms", "    audiences: &a [orders-api]\n    algorithms") + "x: *a\n", "line"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := parseConfig([]byte(tc.file), env(nil))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("got %v, want an error with %q", err, tc.want)
			}
		})
	}
}

// TestConfigExitCode: the command refuses an invalid file at start with
// exit 2 and a message naming the file and the line; the environment
// names the file as well as --config does.
func TestConfigExitCode(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "jwtverify.yaml")
	if err := os.WriteFile(path, []byte(strings.Replace(issueExample, "metrics_listen:", "metrics_listn:", 1)), 0o600); err != nil {
		t.Fatal(err)
	}
	var stderr bytes.Buffer
	if code := Run([]string{"proxy", "--config", path}, nil, &bytes.Buffer{}, &stderr); code != ExitUsage {
		t.Fatalf("exit %d, want %d", code, ExitUsage)
	}
	if !strings.Contains(stderr.String(), path) || !strings.Contains(stderr.String(), "line 3, column 1") {
		t.Fatalf("stderr %q names neither the file nor the line", stderr.String())
	}
	t.Setenv("JWTVERIFY_CONFIG", path)
	stderr.Reset()
	if code := Run([]string{"proxy"}, nil, &bytes.Buffer{}, &stderr); code != ExitUsage || !strings.Contains(stderr.String(), "line 3, column 1") {
		t.Fatalf("JWTVERIFY_CONFIG: exit %d, %q", code, stderr.String())
	}
}

// TestEnvAndPrecedence: every flag reads JWTVERIFY_<NAME>; a flag on the
// command line wins over the environment, which wins over the file, which
// wins over the default; a repeatable flag takes a comma-separated list;
// an invalid value names the variable, not the value.
func TestEnvAndPrecedence(t *testing.T) {
	if got := envVar("metrics-listen"); got != "JWTVERIFY_METRICS_LISTEN" {
		t.Fatalf("envVar: %q", got)
	}
	file := writeFile(t, "c.yaml", []byte(issueExample))
	vars := map[string]string{
		"JWTVERIFY_CONFIG":        file,
		"JWTVERIFY_LISTEN":        "127.0.0.1:7000",
		"JWTVERIFY_TRUSTED_PROXY": "10.0.0.0/8, 192.168.0.0/16",
	}
	f, err := parseProxyArgs(t, env(vars), "--upstream", "http://127.0.0.1:9999")
	if err != nil {
		t.Fatal(err)
	}
	switch {
	case f.configPath != file:
		t.Fatalf("JWTVERIFY_CONFIG: %q", f.configPath)
	case f.listen != "127.0.0.1:7000":
		t.Fatalf("environment over file: listen %q", f.listen)
	case f.upstream != "http://127.0.0.1:9999":
		t.Fatalf("flag over file: upstream %q", f.upstream)
	case f.metricsListen != "127.0.0.1:9090":
		t.Fatalf("file over default: metrics_listen %q", f.metricsListen)
	case strings.Join(f.binding.trustedProxies, " ") != "10.0.0.0/8 192.168.0.0/16":
		t.Fatalf("repeatable flag from the environment: %q", f.binding.trustedProxies)
	}
	f, err = parseProxyArgs(t, env(vars), "--listen", "127.0.0.1:6000", "--trusted-proxy", "127.0.0.1/32")
	if err != nil {
		t.Fatal(err)
	}
	if f.listen != "127.0.0.1:6000" || strings.Join(f.binding.trustedProxies, " ") != "127.0.0.1/32" {
		t.Fatalf("flag over environment: %q %q", f.listen, f.binding.trustedProxies)
	}
	_, err = parseProxyArgs(t, env(map[string]string{"JWTVERIFY_READ_TIMEOUT": "s3cret-value"}))
	if err == nil || !strings.Contains(err.Error(), "JWTVERIFY_READ_TIMEOUT") || strings.Contains(err.Error(), "s3cret") {
		t.Fatalf("invalid environment value: %v", err)
	}
	// Provider flags beside a file with providers are refused.
	f, err = parseProxyArgs(t, env(nil), "--config", file, "--jwks", "keys.json")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := newProxy(f, discardLogger()); !errors.Is(err, errProviderFlags) {
		t.Fatalf("--jwks beside providers: %v", err)
	}
}

// TestConfigDPoP: the file's dpop block sets the --dpop flags, which
// override it when given.
func TestConfigDPoP(t *testing.T) {
	file := writeFile(t, "c.yaml", []byte(issueExample+"dpop:\n  mode: required\n  public_url: https://api.example\n  window: 30s\n  nonce: true\n"))
	f, err := parseProxyArgs(t, env(nil), "--config", file, "--dpop-window", "45s")
	if err != nil {
		t.Fatal(err)
	}
	b := f.binding
	if b.dpopMode != "required" || b.dpopPublicURL != "https://api.example" || !b.dpopNonce || b.dpopWindow != 45*time.Second {
		t.Fatalf("dpop: %+v", b)
	}
	if _, err := parseConfig([]byte(issueExample+"dpop:\n  mod: required\n"), env(nil)); err == nil || !strings.Contains(err.Error(), `line 25, column 3: unknown field "mod"`) {
		t.Fatalf("unknown dpop field: %v", err)
	}
}
