// Package e2e holds the end-to-end test of the jwtverify command against a
// real SPIRE server (v1.13.3). It is a module of its own, so the root
// module's "go test ./..." never runs it; it has no dependencies beyond
// the standard library and drives both programs through os/exec.
//
// TestSPIRE starts spire-server with a SQLite datastore, an in-memory key
// manager and a federation bundle endpoint (profile https_web, serving a
// certificate from a CA the test makes), mints JWT-SVIDs with
// "spire-server jwt mint", exports the bundle with "spire-server bundle
// show -format spiffe", and checks the contract of "jwtverify verify
// --spiffe-bundle" (exit codes, the claims on stdout, the rejection class
// on stderr and no token in it), from the exported file and from the
// bundle endpoint, on both backends. It checks "jwtverify proxy" with
// --require-spiffe-id (200, 403, 401), then rotates and revokes the JWT
// authority with "spire-server localauthority jwt prepare|activate|taint|
// revoke" and checks that old SVIDs verify until the revocation and are
// unknown_key after it, while new ones verify.
//
// Run it from this directory, on a Unix system:
//
//	cd e2e && go test -count=1 -timeout 30m ./...
//
// The spire-server binary is $SPIRE_SERVER when set. Otherwise the test
// builds it from the module github.com/spiffe/spire@v1.13.3 (go mod
// download, then go build ./cmd/spire-server; cgo and a C compiler are
// needed for SQLite) and caches it as spire-server-v1.13.3 under
// jwtverify in os.UserCacheDir, reusing it on later runs. That first build
// takes five to ten minutes, more than go test's default 10m timeout
// leaves, hence -timeout 30m; the build is bounded by the test deadline
// and, if it cannot finish, the test fails saying so. A missing or
// unbuildable spire-server fails the test: it never skips.
package e2e
