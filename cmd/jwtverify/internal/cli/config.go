package cli

import (
	"bytes"
	"cmp"
	"errors"
	"flag"
	"fmt"
	"io"
	"maps"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/jwtverify/jwtverify/internal/spiffeid"
)

// fileConfig is the proxy's configuration file (--config). It is decoded
// strictly: every mapping key must be a field below (checkFields), each
// ${NAME} in a scalar is replaced by that environment variable (expand),
// and validate checks what types cannot. The yaml tags are the file's
// names.
type fileConfig struct {
	Mode          string   `yaml:"mode"` // "proxy" (default) or "forward-auth"
	Listen        string   `yaml:"listen"`
	Upstream      string   `yaml:"upstream"`
	MetricsListen string   `yaml:"metrics_listen"`
	Backend       string   `yaml:"backend"`
	TrustedProxy  []string `yaml:"trusted_proxies"`
	ClaimsHeader  string   `yaml:"claims_header"`
	// ForwardClaims maps a claim (a dotted path) to the header that
	// carries its value: --forward-claim CLAIM=HEADER.
	ForwardClaims map[string]string         `yaml:"forward_claims"`
	Providers     map[string]providerConfig `yaml:"providers"`
	Rules         []ruleConfig              `yaml:"rules"`
	// DPoP holds the --dpop flags (see docs/sender-constrained.md).
	DPoP *dpopConfig `yaml:"dpop"`

	// lines records where each provider and rule was written, for errors.
	providerLines map[string]int
	ruleLines     []int
	line          func(path ...string) int // the line of a member, 0 when absent
}

// providerConfig is one named provider: an issuer with its keys, or a
// SPIFFE trust domain with its bundle.
type providerConfig struct {
	Issuer     string        `yaml:"issuer"`
	Discovery  bool          `yaml:"discovery"` // keys from the issuer's OpenID discovery document
	JWKS       string        `yaml:"jwks"`      // a JWKS URL or file
	Keys       string        `yaml:"keys"`      // a key file: PEM, JWK or JWKS
	SecretFile string        `yaml:"secret_file"`
	SPIFFE     *spiffeConfig `yaml:"spiffe"`
	Audiences  []string      `yaml:"audiences"`
	Algorithms []string      `yaml:"algorithms"`
	Types      []string      `yaml:"types"`
	Leeway     time.Duration `yaml:"leeway"`
	// CAFile and FetchBearerFile are --ca-file and --fetch-bearer-file for
	// this provider's fetches alone.
	CAFile          string `yaml:"ca_file"`
	FetchBearerFile string `yaml:"fetch_bearer_file"`
}

// remote reports whether the provider's keys are fetched over HTTP.
func (p *providerConfig) remote() bool {
	if p.SPIFFE != nil {
		return strings.Contains(p.SPIFFE.Bundle, "://")
	}
	return p.Discovery || strings.Contains(p.JWKS, "://")
}

type spiffeConfig struct {
	TrustDomain string `yaml:"trust_domain"`
	Bundle      string `yaml:"bundle"` // a file or an https bundle endpoint
}

// dpopConfig is the file's form of the --dpop flags.
type dpopConfig struct {
	Mode            string        `yaml:"mode"` // off, allowed (the default), required
	PublicURL       string        `yaml:"public_url"`
	Window          time.Duration `yaml:"window"`
	Nonce           bool          `yaml:"nonce"`
	NonceSecretFile string        `yaml:"nonce_secret_file"`
	ReplayStore     string        `yaml:"replay_store"`
}

// ruleConfig is one access rule; the first that matches a request decides.
type ruleConfig struct {
	Match struct {
		Prefix  string   `yaml:"prefix"`
		Methods []string `yaml:"methods"`
	} `yaml:"match"`
	AllowAnonymous   bool           `yaml:"allow_anonymous"`
	Providers        []string       `yaml:"providers"`
	RequireScopes    []string       `yaml:"require_scopes"`
	RequireClaims    map[string]any `yaml:"require_claims"`
	RequireSPIFFEIDs []string       `yaml:"require_spiffe_ids"`
}

// maxConfigBytes bounds the configuration file.
const maxConfigBytes = 1 << 20

// loadConfig reads and decodes the configuration file at path. Its errors
// name the file and, where there is one, the line and column.
func loadConfig(path string, getenv func(string) string) (*fileConfig, error) {
	data, err := readFile(path)
	if err != nil {
		return nil, fmt.Errorf("--config: %w", err)
	}
	if len(data) > maxConfigBytes {
		return nil, fmt.Errorf("--config %s: larger than %d bytes", path, maxConfigBytes)
	}
	cfg, err := parseConfig(data, getenv)
	if err != nil {
		return nil, fmt.Errorf("--config %s: %w", path, err)
	}
	return cfg, nil
}

// parseConfig decodes data (see fileConfig) and validates it.
func parseConfig(data []byte, getenv func(string) string) (*fileConfig, error) {
	var doc, more yaml.Node
	dec := yaml.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, errors.New("the file is empty")
		}
		return nil, yamlError(err)
	}
	if err := dec.Decode(&more); !errors.Is(err, io.EOF) {
		line := more.Line
		if len(more.Content) > 0 {
			line = more.Content[0].Line
		}
		return nil, fmt.Errorf("line %d: a second YAML document: the file must be one", line)
	}
	if doc.Kind == 0 {
		return nil, errors.New("the file is empty")
	}
	if err := plainYAML(&doc); err != nil {
		return nil, err
	}
	if doc.Kind != yaml.DocumentNode || len(doc.Content) != 1 || doc.Content[0].Kind != yaml.MappingNode {
		return nil, errors.New("line 1: the file must be one YAML mapping")
	}
	root := doc.Content[0]
	if err := checkFields(root, reflect.TypeFor[fileConfig]()); err != nil {
		return nil, err
	}
	if err := expand(root, getenv); err != nil {
		return nil, err
	}
	var cfg fileConfig
	if err := root.Decode(&cfg); err != nil {
		return nil, yamlError(err)
	}
	cfg.line = func(path ...string) int {
		if n := lookupNode(root, path...); n != nil {
			return n.Line
		}
		return 0
	}
	cfg.providerLines = map[string]int{}
	if n := lookupNode(root, "providers"); n != nil {
		for i := 0; i+1 < len(n.Content); i += 2 {
			cfg.providerLines[n.Content[i].Value] = n.Content[i].Line
		}
	}
	if n := lookupNode(root, "rules"); n != nil {
		for _, r := range n.Content {
			cfg.ruleLines = append(cfg.ruleLines, r.Line)
		}
	}
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	return &cfg, nil
}

// yamlError turns a YAML library error into one without its "yaml: "
// prefix; its text already names the line. The values it quotes (between
// backquotes) are left out: one may come from an environment variable,
// and a secret's does not belong in an error.
func yamlError(err error) error {
	msg := strings.TrimPrefix(strings.ReplaceAll(err.Error(), "yaml: unmarshal errors:\n  ", ""), "yaml: ")
	return errors.New(quoted.ReplaceAllString(msg, "a value"))
}

var quoted = regexp.MustCompile("`[^`]*`")

// plainYAML refuses, anywhere in the document, the YAML features that let
// one part of a file stand for another: anchors, aliases and merge keys
// (a reader of the file sees what it says, nothing more), and explicit
// tags other than the standard scalar ones.
func plainYAML(n *yaml.Node) error {
	switch {
	case n.Kind == yaml.AliasNode || n.Anchor != "":
		return fmt.Errorf("line %d, column %d: YAML anchors and aliases are not supported", n.Line, n.Column)
	case n.Kind == yaml.ScalarNode && n.Tag == "!!merge":
		return fmt.Errorf("line %d, column %d: YAML merge keys are not supported", n.Line, n.Column)
	case n.Style&yaml.TaggedStyle != 0 && !slices.Contains([]string{"!!str", "!!int", "!!bool", "!!float", "!!null"}, n.ShortTag()):
		return fmt.Errorf("line %d, column %d: YAML tag %s is not supported", n.Line, n.Column, n.Tag)
	}
	for _, c := range n.Content {
		if err := plainYAML(c); err != nil {
			return err
		}
	}
	return nil
}

// lookupNode returns the value of the member at path in the mapping n, or
// nil.
func lookupNode(n *yaml.Node, path ...string) *yaml.Node {
	for _, name := range path {
		if n.Kind != yaml.MappingNode {
			return nil
		}
		var next *yaml.Node
		for i := 0; i+1 < len(n.Content); i += 2 {
			if n.Content[i].Value == name {
				next = n.Content[i+1]
			}
		}
		if next == nil {
			return nil
		}
		n = next
	}
	return n
}

// checkFields refuses, with its line and column, a mapping key that is
// not a field of t (a struct, by its yaml tags), or one given twice, at
// any depth the types reach: structs, pointers to them, slices and maps
// of them. Maps with other element types (require_claims) take any key.
func checkFields(n *yaml.Node, t reflect.Type) error {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch {
	case n.Kind == yaml.AliasNode:
		return fmt.Errorf("line %d, column %d: YAML aliases are not supported", n.Line, n.Column)
	case t.Kind() == reflect.Struct && n.Kind == yaml.MappingNode:
		seen := map[string]int{}
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, v := n.Content[i], n.Content[i+1]
			if k.Value == "<<" {
				return fmt.Errorf("line %d, column %d: YAML merge keys are not supported", k.Line, k.Column)
			}
			if prev, dup := seen[k.Value]; dup {
				return fmt.Errorf("line %d, column %d: %q is given twice (first at line %d)", k.Line, k.Column, k.Value, prev)
			}
			seen[k.Value] = k.Line
			f, ok := fieldByTag(t, k.Value)
			if !ok {
				return fmt.Errorf("line %d, column %d: unknown field %q%s", k.Line, k.Column, k.Value, suggest(t))
			}
			if err := checkFields(v, f.Type); err != nil {
				return err
			}
		}
	case t.Kind() == reflect.Slice && n.Kind == yaml.SequenceNode:
		for _, e := range n.Content {
			if err := checkFields(e, t.Elem()); err != nil {
				return err
			}
		}
	case t.Kind() == reflect.Map && n.Kind == yaml.MappingNode:
		seen := map[string]int{}
		for i := 0; i+1 < len(n.Content); i += 2 {
			k := n.Content[i]
			if prev, dup := seen[k.Value]; dup {
				return fmt.Errorf("line %d, column %d: %q is given twice (first at line %d)", k.Line, k.Column, k.Value, prev)
			}
			seen[k.Value] = k.Line
			if err := checkFields(n.Content[i+1], t.Elem()); err != nil {
				return err
			}
		}
	}
	return nil // a type mismatch is Decode's to report
}

// fieldByTag returns t's field whose yaml tag is name.
func fieldByTag(t reflect.Type, name string) (reflect.StructField, bool) {
	for i := range t.NumField() {
		f := t.Field(i)
		if tag, _, _ := strings.Cut(f.Tag.Get("yaml"), ","); tag == name && f.IsExported() {
			return f, true
		}
	}
	return reflect.StructField{}, false
}

// suggest lists the fields of t, for an unknown-field error.
func suggest(t reflect.Type) string {
	var names []string
	for i := range t.NumField() {
		if tag, _, _ := strings.Cut(t.Field(i).Tag.Get("yaml"), ","); tag != "" && t.Field(i).IsExported() {
			names = append(names, tag)
		}
	}
	return " (known: " + strings.Join(names, ", ") + ")"
}

// envRef is a ${NAME} reference; $${ is a literal "${".
var envRef = regexp.MustCompile(`\$\$\{|\$\{([^}]*)\}`)

var envName = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

// expand replaces each ${NAME} in the scalars under n (keys excluded) by
// the environment variable NAME. A reference to a variable that is unset
// or empty, or that is not a valid name, is an error naming its line: a
// configuration must not silently lose a value. Expansion happens after
// parsing, inside one scalar, so a variable's value is never parsed as
// YAML.
func expand(n *yaml.Node, getenv func(string) string) error {
	switch n.Kind {
	case yaml.ScalarNode:
		var bad error
		orig := n.Value
		n.Value = envRef.ReplaceAllStringFunc(n.Value, func(ref string) string {
			if ref == "$${" {
				return "${"
			}
			name := ref[2 : len(ref)-1]
			if !envName.MatchString(name) {
				bad = fmt.Errorf("line %d, column %d: %q is not a ${NAME} reference", n.Line, n.Column, ref)
				return ""
			}
			v := getenv(name)
			if v == "" {
				bad = fmt.Errorf("line %d, column %d: environment variable %s is not set", n.Line, n.Column, name)
			}
			return v
		})
		if bad != nil {
			return bad
		}
		if n.Style == 0 && n.Value != orig {
			n.Tag = "" // a plain scalar: its expanded value decides its type (discovery: ${D})
		}
	case yaml.MappingNode:
		for i := 1; i < len(n.Content); i += 2 {
			if err := expand(n.Content[i], getenv); err != nil {
				return err
			}
		}
	default:
		for _, c := range n.Content {
			if err := expand(c, getenv); err != nil {
				return err
			}
		}
	}
	return nil
}

// validate checks what the types cannot: the mode and its members, each
// provider's keys, and the rules (known providers, methods, and none
// unreachable). Errors name the line.
func (c *fileConfig) validate() error {
	switch c.Mode {
	case "", "proxy", "forward-auth":
	default:
		return fmt.Errorf("line %d: mode %q is neither proxy nor forward-auth", c.line("mode"), c.Mode)
	}
	if len(c.Providers) == 0 {
		return errors.New("no providers: the file needs at least one")
	}
	names := slices.Sorted(maps.Keys(c.Providers))
	for _, name := range names {
		p := c.Providers[name]
		line := c.providerLines[name]
		if err := p.validate(); err != nil {
			return fmt.Errorf("line %d: provider %s: %v", line, name, err)
		}
	}
	tds := map[string]string{}
	issuers := map[string]string{}
	for _, name := range names {
		p := c.Providers[name]
		if p.SPIFFE != nil {
			if other, dup := tds[p.SPIFFE.TrustDomain]; dup {
				return fmt.Errorf("line %d: providers %s and %s have the same trust domain", c.providerLines[name], other, name)
			}
			tds[p.SPIFFE.TrustDomain] = name
		} else {
			if other, dup := issuers[p.Issuer]; dup {
				return fmt.Errorf("line %d: providers %s and %s have the same issuer", c.providerLines[name], other, name)
			}
			issuers[p.Issuer] = name
		}
	}
	if len(c.Rules) == 0 {
		return errors.New("no rules: the file needs at least one (no rule matches a request: 403)")
	}
	used := map[string]bool{}
	for i := range c.Rules {
		r := &c.Rules[i]
		line := c.ruleLines[i]
		if err := r.validate(c.Providers); err != nil {
			return fmt.Errorf("line %d: rule %d: %v", line, i+1, err)
		}
		for _, name := range r.Providers {
			used[name] = true
		}
		for j := range i {
			if c.Rules[j].covers(r) {
				return fmt.Errorf("line %d: rule %d is unreachable: rule %d (line %d) matches every request it matches", line, i+1, j+1, c.ruleLines[j])
			}
		}
	}
	for _, name := range names {
		if !used[name] {
			return fmt.Errorf("line %d: provider %s is used by no rule (it would only delay readiness)", c.providerLines[name], name)
		}
	}
	return nil
}

// validate checks one provider: exactly one source of keys, and the
// members its kind needs.
func (p *providerConfig) validate() error {
	if p.SPIFFE != nil {
		switch {
		case p.Issuer != "" || p.Discovery || p.JWKS != "" || p.Keys != "" || p.SecretFile != "":
			return errors.New("spiffe is used instead of issuer, discovery, jwks, keys and secret_file")
		case len(p.Algorithms) > 0 || len(p.Types) > 0:
			return errors.New("algorithms and types do not apply to spiffe: JWT-SVIDs allow RS, ES and PS and typ JWT or JOSE")
		case p.SPIFFE.Bundle == "":
			return errors.New("spiffe needs bundle (a file or an https bundle endpoint)")
		case len(p.Audiences) == 0:
			return errors.New("spiffe needs audiences: a JWT-SVID's aud is required")
		}
		if (p.CAFile != "" || p.FetchBearerFile != "") && !p.remote() {
			return errors.New("ca_file and fetch_bearer_file apply to a bundle endpoint only")
		}
		if id, err := spiffeid.Parse("spiffe://" + p.SPIFFE.TrustDomain); err != nil || id.Path != "" || p.SPIFFE.TrustDomain == "" {
			return fmt.Errorf("spiffe trust_domain %q is not a trust domain name", p.SPIFFE.TrustDomain)
		}
		return nil
	}
	sources := 0
	for _, set := range []bool{p.Discovery, p.JWKS != "", p.Keys != "", p.SecretFile != ""} {
		if set {
			sources++
		}
	}
	switch {
	case p.Issuer == "":
		return errors.New("issuer is required (or spiffe)")
	case sources == 0:
		return errors.New("no keys: give one of discovery: true, jwks, keys or secret_file")
	case sources > 1:
		return errors.New("give only one of discovery: true, jwks, keys and secret_file")
	case p.Leeway < 0 || p.Leeway > 5*time.Minute:
		return errors.New("leeway must be between 0 and 5m")
	case (p.CAFile != "" || p.FetchBearerFile != "") && !p.remote():
		return errors.New("ca_file and fetch_bearer_file apply to keys fetched over HTTP only")
	}
	return nil
}

// validate checks one rule against the providers.
func (r *ruleConfig) validate(providers map[string]providerConfig) error {
	if r.Match.Prefix == "" || r.Match.Prefix[0] != '/' {
		return fmt.Errorf("match prefix %q must be a path starting with /", r.Match.Prefix)
	}
	if cleanPath(r.Match.Prefix) != r.Match.Prefix || !canonicalPath(r.Match.Prefix, "") {
		return fmt.Errorf("match prefix %q is not a clean path (no //, . or .. segments, no segment ending in . or space, no ;, \\ or control character)", r.Match.Prefix)
	}
	if strings.ContainsAny(r.Match.Prefix, "%?#") {
		return fmt.Errorf("match prefix %q has %%, ? or #: rules compare the decoded path, without its query", r.Match.Prefix)
	}
	for i, m := range r.Match.Methods {
		if m == "" || strings.ToUpper(m) != m || strings.ContainsAny(m, " \t/") {
			return fmt.Errorf("method %q must be an upper-case method name", m)
		}
		if slices.Contains(r.Match.Methods[:i], m) {
			return fmt.Errorf("method %s is given twice", m)
		}
	}
	if r.AllowAnonymous {
		if len(r.Providers) > 0 || len(r.RequireScopes) > 0 || len(r.RequireClaims) > 0 || len(r.RequireSPIFFEIDs) > 0 {
			return errors.New("allow_anonymous takes no providers and no require_ members")
		}
		return nil
	}
	if len(r.Providers) == 0 {
		return errors.New("providers is required (or allow_anonymous: true)")
	}
	for i, name := range r.Providers {
		if _, ok := providers[name]; !ok {
			return fmt.Errorf("unknown provider %q", name)
		}
		if slices.Contains(r.Providers[:i], name) {
			return fmt.Errorf("provider %s is given twice", name)
		}
	}
	for path, want := range r.RequireClaims {
		if path == "" || strings.HasPrefix(path, ".") || strings.HasSuffix(path, ".") || strings.Contains(path, "..") {
			return fmt.Errorf("require_claims %q is not a dotted claim path", path)
		}
		if _, err := claimValues(want); err != nil {
			return fmt.Errorf("require_claims %s: %v", path, err)
		}
	}
	for _, p := range r.RequireSPIFFEIDs {
		if _, err := spiffeid.ParsePattern(p); err != nil {
			return fmt.Errorf("require_spiffe_ids %q: %v", p, err)
		}
	}
	if len(r.RequireSPIFFEIDs) > 0 && !slices.ContainsFunc(r.Providers, func(n string) bool { return providers[n].SPIFFE != nil }) {
		return errors.New("require_spiffe_ids needs a spiffe provider among the rule's: an issuer's token never satisfies it")
	}
	return nil
}

// claimValues returns the values a require_claims entry accepts: one
// scalar, or a list of them.
func claimValues(v any) ([]any, error) {
	scalar := func(v any) bool {
		switch v.(type) {
		case string, bool, int, int64, uint64, float64:
			return true
		}
		return false
	}
	if list, ok := v.([]any); ok {
		if len(list) == 0 {
			return nil, errors.New("an empty list accepts nothing")
		}
		for _, e := range list {
			if !scalar(e) {
				return nil, errors.New("a list of strings, numbers or booleans is needed")
			}
		}
		return list, nil
	}
	if !scalar(v) {
		return nil, errors.New("a string, number or boolean, or a list of them, is needed")
	}
	return []any{v}, nil
}

// covers reports whether r matches every request that s matches, which
// then never reaches s.
func (r *ruleConfig) covers(s *ruleConfig) bool {
	prefix, path := r.Match.Prefix, s.Match.Prefix
	// A verifying rule matches in any case (proxyRule.matches): when either
	// rule verifies, prefixes are compared so. An anonymous rule before a
	// verifying one whose prefix it matches in some case would take some
	// of its requests (anonymous /public before verifying /PUBLIC/admin
	// takes /public/admin): refused as well.
	if !r.AllowAnonymous || !s.AllowAnonymous {
		prefix, path = asciiLower(prefix), asciiLower(path)
	}
	if !prefixMatches(prefix, path) {
		return false
	}
	if len(r.Match.Methods) == 0 {
		return true
	}
	if len(s.Match.Methods) == 0 {
		return false
	}
	for _, m := range s.Match.Methods {
		if !methodIn(r.Match.Methods, m) {
			return false
		}
	}
	return true
}

// prefixMatches reports whether path is under prefix, segment by segment:
// "/admin" matches "/admin" and "/admin/users" but not "/administrator";
// a prefix ending in "/" matches the paths below it and itself.
func prefixMatches(prefix, path string) bool {
	if prefix == "/" || path == prefix {
		return true
	}
	if strings.HasSuffix(prefix, "/") {
		return strings.HasPrefix(path, prefix) || path == strings.TrimSuffix(prefix, "/")
	}
	return strings.HasPrefix(path, prefix+"/")
}

// cleanPath is path with no empty, "." or ".." segments, keeping a
// trailing slash: what a request path must already be for the rules to
// judge it (see canonicalPath).
func cleanPath(p string) string {
	var out []string
	for _, seg := range strings.Split(strings.TrimPrefix(p, "/"), "/") {
		switch seg {
		case "", ".":
		case "..":
			if len(out) > 0 {
				out = out[:len(out)-1]
			}
		default:
			out = append(out, seg)
		}
	}
	c := "/" + strings.Join(out, "/")
	if strings.HasSuffix(p, "/") && c != "/" {
		c += "/"
	}
	return c
}

// providerFlags are the flags that describe the one provider of the flags
// (see errProviderFlags).
var providerFlags = []string{"jwks", "key", "secret-file", "oidc-issuer", "spiffe-bundle", "issuer", "audience", "alg", "type", "leeway"}

// loadFile reads the --config file, if any, into f.file and takes the
// settings it gives for every flag not set on the command line or in the
// environment (fs has been parsed and applyEnv has run): a flag beside
// the file overrides the file's value.
func (f *proxyFlags) loadFile(fs *flag.FlagSet, getenv func(string) string) error {
	set := map[string]bool{}
	fs.Visit(func(fl *flag.Flag) { set[fl.Name] = true })
	for _, name := range providerFlags {
		f.providerFlagsSet = f.providerFlagsSet || set[name]
	}
	if f.configPath == "" {
		return nil
	}
	cfg, err := loadConfig(f.configPath, getenv)
	if err != nil {
		return err
	}
	f.file = cfg
	for name, dst := range map[string]*string{
		"listen": &f.listen, "upstream": &f.upstream, "metrics-listen": &f.metricsListen,
		"backend": &f.backend, "claims-header": &f.claimsHeader,
	} {
		if v := map[string]string{
			"listen": cfg.Listen, "upstream": cfg.Upstream, "metrics-listen": cfg.MetricsListen,
			"backend": cfg.Backend, "claims-header": cfg.ClaimsHeader,
		}[name]; !set[name] && v != "" {
			*dst = v
		}
	}
	if d := cfg.DPoP; d != nil {
		b := &f.binding
		for name, apply := range map[string]func(){
			"dpop":                   func() { b.dpopMode = cmp.Or(d.Mode, b.dpopMode) },
			"dpop-public-url":        func() { b.dpopPublicURL = cmp.Or(d.PublicURL, b.dpopPublicURL) },
			"dpop-window":            func() { b.dpopWindow = cmp.Or(d.Window, b.dpopWindow) },
			"dpop-nonce":             func() { b.dpopNonce = d.Nonce || b.dpopNonce },
			"dpop-nonce-secret-file": func() { b.dpopNonceSecretFile = cmp.Or(d.NonceSecretFile, b.dpopNonceSecretFile) },
			"replay-store":           func() { b.replayStore = cmp.Or(d.ReplayStore, b.replayStore) },
		} {
			if !set[name] {
				apply()
			}
		}
	}
	if !set["forward-auth"] {
		f.forwardAuth = cfg.Mode == "forward-auth"
	}
	if !set["trusted-proxy"] && len(cfg.TrustedProxy) > 0 {
		f.binding.trustedProxies = list(cfg.TrustedProxy)
	}
	if !set["forward-claim"] {
		for _, claim := range slices.Sorted(maps.Keys(cfg.ForwardClaims)) {
			f.forwardClaims = append(f.forwardClaims, claim+"="+cfg.ForwardClaims[claim])
		}
	}
	return nil
}
