//go:build race

package native_test

// raceDetector: the race detector's sync.Pool drops a quarter of what is
// put back, so pooled paths allocate under -race; allocation counts are
// asserted by .ci/run's run without it.
const raceDetector = true
