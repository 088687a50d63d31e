//go:build !race

package native_test

const raceDetector = false
