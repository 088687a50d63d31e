package backendtest

import (
	"testing"

	"github.com/jwtverify/jwtverify"
)

// Agree runs every case through every backend and fails on any difference
// in verdict, class or (on acceptance) claims; then, in the subtest
// "wycheproof" (the committed vectors, or those WycheproofEnv names), every
// Wycheproof vector, failing on any difference in verdict.
func Agree(t *testing.T, backends ...jwtverify.Backend) {
	t.Helper()
	if len(backends) < 2 {
		t.Fatal("Agree needs at least two backends")
	}
	f, err := NewFixture()
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range f.Cases() {
		first, err0 := f.verify(backends[0], tc)
		for _, b := range backends[1:] {
			tok, err := f.verify(b, tc)
			if jwtverify.Class(err) != jwtverify.Class(err0) || (err == nil) != (err0 == nil) {
				t.Errorf("%s: %s says %v, %s says %v", tc.Name, backends[0].Name(), err0, b.Name(), err)
				continue
			}
			if err == nil && tok.Claims.Raw != first.Claims.Raw {
				t.Errorf("%s: backends return different claims", tc.Name)
			}
		}
	}
	t.Run("wycheproof", func(t *testing.T) {
		vectors := wycheproofVectors(t)
		for _, name := range wycheproofFiles {
			first := runWycheproofFile(t, backends[0], vectors, name)
			for _, b := range backends[1:] {
				for i, v := range runWycheproofFile(t, b, vectors, name) {
					if v.got != first[i].got {
						t.Errorf("%s tcId %d: %s accepts it %v, %s %v", name, v.tcID, backends[0].Name(), first[i].got, b.Name(), v.got)
					}
				}
			}
		}
	})
}
