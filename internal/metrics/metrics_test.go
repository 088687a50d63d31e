package metrics

import (
	"net/http/httptest"
	"strings"
	"testing"
)

func TestExposition(t *testing.T) {
	var r Registry
	c := r.Counter("jwtverify_verifications_total", "Verifications by result.")
	c.Inc("result", "valid", "backend", "golang-jwt")
	c.Inc("result", "valid", "backend", "golang-jwt")
	c.Inc("result", `ex"pired`, "backend", "jwx")
	h := r.Histogram("jwtverify_verify_duration_seconds", "Verification latency.", []float64{0.001, 0.0001})
	h.Observe(0.00005)
	h.Observe(0.0005)
	h.Observe(2)
	r.GaugeFunc("jwtverify_jwks_age_seconds", "Age of the key set.", func() (float64, bool) { return 12.5, true })
	r.GaugeFunc("absent", "Omitted.", func() (float64, bool) { return 0, false })
	w := httptest.NewRecorder()
	r.Handler().ServeHTTP(w, httptest.NewRequest("GET", "/metrics", nil))
	want := `# HELP jwtverify_verifications_total Verifications by result.
# TYPE jwtverify_verifications_total counter
jwtverify_verifications_total{result="ex\"pired",backend="jwx"} 1
jwtverify_verifications_total{result="valid",backend="golang-jwt"} 2
# HELP jwtverify_verify_duration_seconds Verification latency.
# TYPE jwtverify_verify_duration_seconds histogram
jwtverify_verify_duration_seconds_bucket{le="0.0001"} 1
jwtverify_verify_duration_seconds_bucket{le="0.001"} 2
jwtverify_verify_duration_seconds_bucket{le="+Inf"} 3
jwtverify_verify_duration_seconds_sum 2.00055
jwtverify_verify_duration_seconds_count 3
# HELP jwtverify_jwks_age_seconds Age of the key set.
# TYPE jwtverify_jwks_age_seconds gauge
jwtverify_jwks_age_seconds 12.5
# HELP absent Omitted.
# TYPE absent gauge
`
	if got := w.Body.String(); got != want {
		t.Fatalf("got:\n%s\nwant:\n%s", got, want)
	}
	if !strings.HasPrefix(w.Header().Get("Content-Type"), "text/plain; version=0.0.4") {
		t.Fatal(w.Header().Get("Content-Type"))
	}
	if c.Value("result", "valid", "backend", "golang-jwt") != 2 {
		t.Fatal("Value")
	}
}
