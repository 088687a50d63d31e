package e2e

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

const (
	trustDomain = "example.org"
	prodID      = "spiffe://example.org/ns/prod/sa/api"
	devID       = "spiffe://example.org/ns/dev/sa/x"
	audience    = "orders"
)

// TestSPIRE checks jwtverify against a real SPIRE server: see the package
// documentation.
func TestSPIRE(t *testing.T) {
	srv := startSPIRE(t, spireServerBinary(t))
	jv := jwtverifyCLI{bin: buildJWTVerify(t), caFile: srv.tls.caFile}
	dir := t.TempDir()

	svid := srv.mint(t, prodID, audience)
	first := srv.exportBundle(t)
	if len(first.jwtKIDs()) != 1 {
		t.Fatalf("bundle has jwt-svid keys %q, want one", first.jwtKIDs())
	}
	if kid := tokenKID(t, svid); kid != first.jwtKIDs()[0] {
		t.Fatalf("SVID kid %q, bundle jwt-svid kid %q", kid, first.jwtKIDs()[0])
	}
	bundleFile := filepath.Join(dir, "bundle-1.json")
	writeFile(t, bundleFile, first.raw)
	fromFile := trustDomain + "=" + bundleFile
	fromEndpoint := trustDomain + "=" + srv.bundleURL

	t.Run("verify", func(t *testing.T) {
		for _, backend := range []string{"default", "golang-jwt", "jwx"} {
			t.Run(backend, func(t *testing.T) {
				var b []string
				if backend != "default" {
					b = []string{"--backend", backend}
				}
				wantValid(t, jv.verify(t, b, "--spiffe-bundle", fromFile, "--audience", audience, svid), prodID)
				wantValid(t, jv.verifyTLS(t, b, "--spiffe-bundle", fromEndpoint, "--audience", audience, svid), prodID)
				wantRejected(t, jv.verify(t, b, "--spiffe-bundle", fromFile, "--audience", "billing", svid), "audience", svid)
				wantRejected(t, jv.verifyTLS(t, b, "--spiffe-bundle", fromEndpoint, "--audience", "billing", svid), "audience", svid)
				wantRejected(t, jv.verify(t, b, "--spiffe-bundle", "other.org="+bundleFile, "--audience", audience, svid), "issuer", svid)
			})
		}
	})

	t.Run("proxy", func(t *testing.T) {
		testProxy(t, jv, srv, fromEndpoint, svid)
	})

	t.Run("rotation", func(t *testing.T) {
		oldKID := first.jwtKIDs()[0]
		if st := srv.authorities(t); st.Active == nil || st.Active.AuthorityID != oldKID || st.Prepared != nil {
			t.Fatalf("JWT authorities before prepare: %+v, want %s active and none prepared", st, oldKID)
		}

		// Prepare: the new key is published beside the active one.
		var prepared struct {
			Authority *authorityState `json:"prepared_authority"`
		}
		srv.cliJSON(t, &prepared, "localauthority", "jwt", "prepare")
		if prepared.Authority == nil || prepared.Authority.AuthorityID == "" || prepared.Authority.AuthorityID == oldKID {
			t.Fatalf("prepare: prepared authority %+v, want a new one", prepared.Authority)
		}
		newKID := prepared.Authority.AuthorityID
		second := srv.exportBundle(t)
		if second.Sequence <= first.Sequence {
			t.Errorf("spiffe_sequence after prepare %d, want more than %d", second.Sequence, first.Sequence)
		}
		if kids := second.jwtKIDs(); len(kids) != 2 || !slices.Contains(kids, oldKID) || !slices.Contains(kids, newKID) {
			t.Fatalf("jwt-svid kids after prepare %q, want %s and %s", kids, oldKID, newKID)
		}
		bundleFile := filepath.Join(dir, "bundle-2.json")
		writeFile(t, bundleFile, second.raw)
		fromFile := trustDomain + "=" + bundleFile
		srv.waitEndpoint(t, second)
		wantValid(t, jv.verify(t, nil, "--spiffe-bundle", fromFile, "--audience", audience, svid), prodID)
		wantValid(t, jv.verifyTLS(t, nil, "--spiffe-bundle", fromEndpoint, "--audience", audience, svid), prodID)

		// Activate: new SVIDs are signed by the new key; old ones verify.
		var activated struct {
			Authority *authorityState `json:"activated_authority"`
		}
		srv.cliJSON(t, &activated, "localauthority", "jwt", "activate", "-authorityID", newKID)
		if activated.Authority == nil || activated.Authority.AuthorityID != newKID {
			t.Fatalf("activate: activated authority %+v, want %s", activated.Authority, newKID)
		}
		if st := srv.authorities(t); st.Active == nil || st.Active.AuthorityID != newKID || st.Old == nil || st.Old.AuthorityID != oldKID {
			t.Fatalf("JWT authorities after activate: %+v, want %s active and %s old", st, newKID, oldKID)
		}
		newSVID := srv.mint(t, prodID, audience)
		if kid := tokenKID(t, newSVID); kid != newKID {
			t.Fatalf("SVID minted after activate has kid %q, want %s", kid, newKID)
		}
		third := srv.exportBundle(t)
		bundleFile = filepath.Join(dir, "bundle-3.json")
		writeFile(t, bundleFile, third.raw)
		fromFile = trustDomain + "=" + bundleFile
		for _, tok := range []string{svid, newSVID} {
			wantValid(t, jv.verify(t, nil, "--spiffe-bundle", fromFile, "--audience", audience, tok), prodID)
			wantValid(t, jv.verifyTLS(t, nil, "--spiffe-bundle", fromEndpoint, "--audience", audience, tok), prodID)
		}

		// Taint, then revoke, the old authority: its key leaves the bundle.
		var tainted struct {
			Authority *authorityState `json:"tainted_authority"`
		}
		srv.cliJSON(t, &tainted, "localauthority", "jwt", "taint", "-authorityID", oldKID)
		if tainted.Authority == nil || tainted.Authority.AuthorityID != oldKID {
			t.Fatalf("taint: tainted authority %+v, want %s", tainted.Authority, oldKID)
		}
		var revoked struct {
			Authority *authorityState `json:"revoked_authority"`
		}
		srv.cliJSON(t, &revoked, "localauthority", "jwt", "revoke", "-authorityID", oldKID)
		if revoked.Authority == nil || revoked.Authority.AuthorityID != oldKID {
			t.Fatalf("revoke: revoked authority %+v, want %s", revoked.Authority, oldKID)
		}
		var fourth bundle
		eventually(t, "exported bundle without the revoked key", 10*time.Second, func() (bool, string) {
			fourth = srv.exportBundle(t)
			return !slices.Contains(fourth.jwtKIDs(), oldKID), fmt.Sprintf("jwt-svid kids %q", fourth.jwtKIDs())
		})
		if kids := fourth.jwtKIDs(); len(kids) != 1 || kids[0] != newKID {
			t.Fatalf("jwt-svid kids after revoke %q, want only %s", kids, newKID)
		}
		if fourth.Sequence <= second.Sequence {
			t.Errorf("spiffe_sequence after revoke %d, want more than %d", fourth.Sequence, second.Sequence)
		}
		bundleFile = filepath.Join(dir, "bundle-4.json")
		writeFile(t, bundleFile, fourth.raw)
		fromFile = trustDomain + "=" + bundleFile
		wantRejected(t, jv.verify(t, nil, "--spiffe-bundle", fromFile, "--audience", audience, svid), "unknown_key", svid)
		wantValid(t, jv.verify(t, nil, "--spiffe-bundle", fromFile, "--audience", audience, newSVID), prodID)

		// The endpoint may serve its cached bundle for a while.
		var last result
		eventually(t, "bundle endpoint rejecting the revoked key's SVID", 30*time.Second, func() (bool, string) {
			last = jv.verifyTLS(t, nil, "--spiffe-bundle", fromEndpoint, "--audience", audience, svid)
			return last.code != 0, fmt.Sprintf("exit %d, stderr %q", last.code, last.stderr)
		})
		wantRejected(t, last, "unknown_key", svid)
		wantValid(t, jv.verifyTLS(t, nil, "--spiffe-bundle", fromEndpoint, "--audience", audience, newSVID), prodID)
	})
}

// testProxy checks "jwtverify proxy" in front of an upstream, with keys
// from the bundle endpoint and --require-spiffe-id: a prod SVID passes
// (200, with its claims upstream), a dev SVID is refused (403), a request
// without a token or with an SVID for another audience is unauthorized
// (401), and the proxy exits 0 on SIGTERM.
func testProxy(t *testing.T, jv jwtverifyCLI, srv *spireServer, fromEndpoint, svid string) {
	var (
		mu     sync.Mutex
		hits   int
		claims string // the last request's X-Jwt-Claims, decoded
	)
	upstream := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		raw, err := base64.RawURLEncoding.DecodeString(r.Header.Get("X-Jwt-Claims"))
		mu.Lock()
		hits++
		claims = string(raw)
		if err != nil {
			claims = "undecodable: " + err.Error()
		}
		mu.Unlock()
		io.WriteString(w, "upstream ok")
	}))
	t.Cleanup(upstream.Close)

	addr := loopback(freePorts(t, 1)[0])
	p := start(t, "jwtverify proxy", exec.Command(jv.bin, "proxy",
		"--spiffe-bundle", fromEndpoint, "--ca-file", jv.caFile, "--audience", audience,
		"--listen", addr, "--upstream", upstream.URL,
		"--require-spiffe-id", "spiffe://example.org/ns/prod/*"))
	waitListening(t, p, addr)
	client := &http.Client{Transport: &http.Transport{}, Timeout: 30 * time.Second}
	t.Cleanup(client.CloseIdleConnections)

	devSVID := srv.mint(t, devID, audience)
	billingSVID := srv.mint(t, prodID, "billing")
	for _, c := range []struct {
		name, token string
		status      int
	}{
		{"prod SVID", svid, http.StatusOK},
		{"dev SVID", devSVID, http.StatusForbidden},
		{"no token", "", http.StatusUnauthorized},
		{"SVID for another audience", billingSVID, http.StatusUnauthorized},
	} {
		mu.Lock()
		before := hits
		mu.Unlock()
		req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, "http://"+addr+"/orders/1", nil)
		if err != nil {
			t.Fatal(err)
		}
		if c.token != "" {
			req.Header.Set("Authorization", "Bearer "+c.token)
		}
		resp, err := client.Do(req)
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		mu.Lock()
		reached, got := hits-before, claims
		mu.Unlock()
		if resp.StatusCode != c.status {
			t.Errorf("%s: status %d (%q), want %d", c.name, resp.StatusCode, body, c.status)
		}
		if c.status == http.StatusOK {
			if reached != 1 || string(body) != "upstream ok" {
				t.Errorf("%s: reached the upstream %d times, body %q; want once, %q", c.name, reached, body, "upstream ok")
			}
			if !strings.Contains(got, `"sub":"`+prodID+`"`) {
				t.Errorf("%s: upstream got claims %q, want sub %s", c.name, got, prodID)
			}
			continue
		}
		if reached != 0 {
			t.Errorf("%s: reached the upstream (%d times)", c.name, reached)
		}
		if c.status == http.StatusUnauthorized && !strings.HasPrefix(resp.Header.Get("WWW-Authenticate"), "Bearer") {
			t.Errorf("%s: WWW-Authenticate %q, want a Bearer challenge", c.name, resp.Header.Get("WWW-Authenticate"))
		}
		if c.token != "" && strings.Contains(string(body), c.token) {
			t.Errorf("%s: the response shows the token", c.name)
		}
	}

	p.stop(t)
	if p.err != nil {
		t.Errorf("proxy after SIGTERM: %v, want exit 0", p.err)
	}
}

// spireServer is a running spire-server and what the test needs to talk
// to it.
type spireServer struct {
	bin, socket string
	bundleURL   string // the federation bundle endpoint
	tls         tlsFiles
}

// serverConf is the spire-server configuration: trust domain example.org,
// loopback ports, SQLite and state in a temporary directory, an in-memory
// key manager, join tokens, and a bundle endpoint (profile https_web) with
// a certificate from disk.
const serverConf = `server {
    bind_address = "127.0.0.1"
    bind_port = %d
    socket_path = %q
    trust_domain = %q
    data_dir = %q
    log_level = "DEBUG"

    federation {
        bundle_endpoint {
            address = "127.0.0.1"
            port = %d
            refresh_hint = "1m"
            profile "https_web" {
                serving_cert_file {
                    cert_file_path = %q
                    key_file_path = %q
                    file_sync_interval = "1h"
                }
            }
        }
    }
}

plugins {
    DataStore "sql" {
        plugin_data {
            database_type = "sqlite3"
            connection_string = %q
        }
    }
    KeyManager "memory" {
        plugin_data {}
    }
    NodeAttestor "join_token" {
        plugin_data {}
    }
}
`

// startSPIRE writes a configuration, starts "spire-server run" (stopped
// by SIGTERM in t.Cleanup), and waits until its health check passes and
// its bundle endpoint serves a bundle.
func startSPIRE(t *testing.T, bin string) *spireServer {
	t.Helper()
	dir := t.TempDir()
	// A Unix socket path is limited to about 100 bytes; t.TempDir's can
	// be longer.
	sockDir, err := os.MkdirTemp("", "spire")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(sockDir) })
	ports := freePorts(t, 2)
	s := &spireServer{
		bin:       bin,
		socket:    filepath.Join(sockDir, "api.sock"),
		bundleURL: "https://" + loopback(ports[1]),
		tls:       writeTLS(t, dir),
	}
	data := filepath.Join(dir, "data")
	conf := filepath.Join(dir, "server.conf")
	writeFile(t, conf, fmt.Appendf(nil, serverConf, ports[0], s.socket, trustDomain, data,
		ports[1], s.tls.certFile, s.tls.keyFile, filepath.Join(data, "datastore.sqlite3")))

	p := start(t, "spire-server", exec.Command(bin, "run", "-config", conf))
	eventually(t, "spire-server healthy", time.Minute, func() (bool, string) {
		if p.exited() {
			t.Fatalf("spire-server exited: %v", p.err)
		}
		r := run(t, 10*time.Second, bin, "healthcheck", "-socketPath", s.socket)
		return r.code == 0, strings.TrimSpace(r.stdout + r.stderr)
	})
	eventually(t, "bundle endpoint serving", 30*time.Second, func() (bool, string) {
		_, err := s.fetchEndpoint()
		return err == nil, fmt.Sprint(err)
	})
	return s
}

// cli runs "spire-server ARGS -socketPath SOCKET", failing the test
// unless it exits 0, and returns its stdout.
func (s *spireServer) cli(t *testing.T, args ...string) string {
	t.Helper()
	args = append(args, "-socketPath", s.socket)
	r := run(t, 30*time.Second, s.bin, args...)
	if r.code != 0 {
		t.Fatalf("spire-server %s: exit %d\nstdout: %s\nstderr: %s", strings.Join(args, " "), r.code, r.stdout, r.stderr)
	}
	return r.stdout
}

// cliJSON runs cli with -output json and decodes its stdout into v.
func (s *spireServer) cliJSON(t *testing.T, v any, args ...string) {
	t.Helper()
	out := s.cli(t, append(args, "-output", "json")...)
	if err := json.Unmarshal([]byte(out), v); err != nil {
		t.Fatalf("spire-server %s -output json: %v\n%s", strings.Join(args, " "), err, out)
	}
}

// mint returns a JWT-SVID for id and aud from "spire-server jwt mint".
func (s *spireServer) mint(t *testing.T, id, aud string) string {
	t.Helper()
	tok := strings.TrimSpace(s.cli(t, "jwt", "mint", "-spiffeID", id, "-audience", aud))
	if len(strings.Split(tok, ".")) != 3 || strings.ContainsAny(tok, " \n") {
		t.Fatalf("spire-server jwt mint printed %q, want one compact JWS", tok)
	}
	return tok
}

// exportBundle returns the bundle "spire-server bundle show -format
// spiffe" prints.
func (s *spireServer) exportBundle(t *testing.T) bundle {
	t.Helper()
	out := s.cli(t, "bundle", "show", "-format", "spiffe")
	b, err := parseBundle([]byte(out))
	if err != nil {
		t.Fatalf("spire-server bundle show -format spiffe: %v\n%s", err, out)
	}
	return b
}

// authorities returns "spire-server localauthority jwt show".
func (s *spireServer) authorities(t *testing.T) jwtAuthorities {
	t.Helper()
	var st jwtAuthorities
	s.cliJSON(t, &st, "localauthority", "jwt", "show")
	return st
}

// fetchEndpoint GETs the bundle from the bundle endpoint, trusting the
// test's CA.
func (s *spireServer) fetchEndpoint() (bundle, error) {
	tr := &http.Transport{}
	tr.TLSClientConfig = tlsConfig(s.tls.roots)
	defer tr.CloseIdleConnections()
	c := &http.Client{Transport: tr, Timeout: 5 * time.Second}
	resp, err := c.Get(s.bundleURL)
	if err != nil {
		return bundle{}, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return bundle{}, err
	}
	if resp.StatusCode != http.StatusOK {
		return bundle{}, fmt.Errorf("status %d: %s", resp.StatusCode, body)
	}
	return parseBundle(body)
}

// waitEndpoint waits until the bundle endpoint serves want's sequence
// and jwt-svid keys.
func (s *spireServer) waitEndpoint(t *testing.T, want bundle) {
	t.Helper()
	eventually(t, "bundle endpoint serving the exported bundle", 30*time.Second, func() (bool, string) {
		got, err := s.fetchEndpoint()
		if err != nil {
			return false, err.Error()
		}
		return got.Sequence == want.Sequence && slices.Equal(sorted(got.jwtKIDs()), sorted(want.jwtKIDs())),
			fmt.Sprintf("sequence %d, jwt-svid kids %q; want %d, %q", got.Sequence, got.jwtKIDs(), want.Sequence, want.jwtKIDs())
	})
}

func sorted(s []string) []string {
	s = slices.Clone(s)
	slices.Sort(s)
	return s
}

// bundle is a SPIFFE bundle as SPIRE prints and serves it.
type bundle struct {
	raw      []byte
	Sequence uint64 `json:"spiffe_sequence"`
	Keys     []struct {
		Use string `json:"use"`
		Kid string `json:"kid"`
	} `json:"keys"`
}

func parseBundle(raw []byte) (bundle, error) {
	b := bundle{raw: raw}
	if err := json.Unmarshal(raw, &b); err != nil {
		return bundle{}, err
	}
	return b, nil
}

// jwtKIDs returns the kids of the bundle's jwt-svid keys.
func (b bundle) jwtKIDs() []string {
	var kids []string
	for _, k := range b.Keys {
		if k.Use == "jwt-svid" {
			kids = append(kids, k.Kid)
		}
	}
	return kids
}

// authorityState is a local authority in "spire-server localauthority
// jwt" JSON output.
type authorityState struct {
	AuthorityID string `json:"authority_id"`
}

// String returns the authority ID, or "none" for a nil state.
func (a *authorityState) String() string {
	if a == nil {
		return "none"
	}
	return a.AuthorityID
}

// jwtAuthorities is "spire-server localauthority jwt show -output json".
type jwtAuthorities struct {
	Active   *authorityState `json:"active"`
	Prepared *authorityState `json:"prepared"`
	Old      *authorityState `json:"old"`
}

// tokenKID returns the kid of a compact JWS's header.
func tokenKID(t *testing.T, token string) string {
	t.Helper()
	seg, _, _ := strings.Cut(token, ".")
	raw, err := base64.RawURLEncoding.DecodeString(seg)
	if err != nil {
		t.Fatalf("token header: %v", err)
	}
	var h struct {
		Kid string `json:"kid"`
	}
	if err := json.Unmarshal(raw, &h); err != nil {
		t.Fatalf("token header %s: %v", raw, err)
	}
	return h.Kid
}

// jwtverifyCLI is the built jwtverify command.
type jwtverifyCLI struct {
	bin    string
	caFile string // the bundle endpoint's CA, for --ca-file
}

// verify runs "jwtverify verify" with the flags pre (e.g. --backend) and
// args.
func (j jwtverifyCLI) verify(t *testing.T, pre []string, args ...string) result {
	t.Helper()
	return run(t, 30*time.Second, j.bin, slices.Concat([]string{"verify"}, pre, args)...)
}

// verifyTLS is verify with --ca-file, for a bundle endpoint URL.
func (j jwtverifyCLI) verifyTLS(t *testing.T, pre []string, args ...string) result {
	t.Helper()
	return j.verify(t, slices.Concat(pre, []string{"--ca-file", j.caFile}), args...)
}

// wantValid checks a verification that passed: exit 0, nothing on
// stderr, and on stdout the token's claims as one line of compact JSON
// with sub and aud.
func wantValid(t *testing.T, r result, sub string) {
	t.Helper()
	if r.code != 0 {
		t.Errorf("exit %d, want 0; stderr: %q", r.code, r.stderr)
		return
	}
	if r.stderr != "" {
		t.Errorf("stderr %q, want none", r.stderr)
	}
	line, rest, _ := strings.Cut(r.stdout, "\n")
	var claims struct {
		Sub string `json:"sub"`
		Aud any    `json:"aud"`
	}
	if rest != "" || json.Unmarshal([]byte(line), &claims) != nil {
		t.Fatalf("stdout %q, want one line of claims JSON", r.stdout)
	}
	if !strings.Contains(line, `"sub":"`+sub+`"`) {
		t.Errorf("claims %s, want \"sub\":%q", line, sub)
	}
	if aud := fmt.Sprint(claims.Aud); aud != audience && aud != "["+audience+"]" {
		t.Errorf("claims aud %v, want %s", claims.Aud, audience)
	}
}

// wantRejected checks a rejection: exit 1, nothing on stdout, one line
// on stderr starting "jwtverify: rejected: CLASS: ", and no segment of
// the token in it.
func wantRejected(t *testing.T, r result, class, token string) {
	t.Helper()
	if r.code != 1 {
		t.Errorf("exit %d, want 1 (rejected: %s); stdout %q, stderr %q", r.code, class, r.stdout, r.stderr)
		return
	}
	if r.stdout != "" {
		t.Errorf("stdout %q, want none", r.stdout)
	}
	if prefix := "jwtverify: rejected: " + class + ": "; !strings.HasPrefix(r.stderr, prefix) {
		t.Errorf("stderr %q, want it to start %q", r.stderr, prefix)
	}
	if strings.Count(r.stderr, "\n") != 1 || !strings.HasSuffix(r.stderr, "\n") {
		t.Errorf("stderr %q, want one line", r.stderr)
	}
	for i, seg := range strings.Split(token, ".") {
		if strings.Contains(r.stderr, seg) {
			t.Errorf("stderr shows segment %d of the token: %q", i, r.stderr)
		}
	}
	t.Logf("rejected as expected: %s", strings.TrimSpace(r.stderr))
}
