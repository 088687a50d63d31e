// Package fuzz holds the native Go fuzz targets over token parsing and key
// set parsing. Their seed corpora (testdata/fuzz/<Target>/) run on every
// go test; .ci/run also fuzzes each target for a bounded time:
//
//	go test ./fuzz -run='^$' -fuzz='^FuzzVerifyGolangJWT$' -fuzztime=20s
//
// Targets: FuzzVerifyGolangJWT and FuzzVerifyJWX (arbitrary tokens through
// one backend), FuzzBackendsAgree (every backend, same verdict), FuzzResign
// (mutated header and payload JSON, signed, checked against a reference
// policy), FuzzJWKS (arbitrary key set documents, static and remote paths).
package fuzz
