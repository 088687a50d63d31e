package metrics_test

import (
	"context"
	"fmt"
	"time"

	"github.com/jwtverify/jwtverify/keyset"
	"github.com/jwtverify/jwtverify/metrics"
	"github.com/jwtverify/jwtverify/middleware"
	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
)

// A service registers one Metrics in the registry it serves and gives its
// methods to the middleware and the Remote: middleware.Options{Observe:
// m.Observe} and keyset.RemoteConfig{OnRefresh: m.OnRefresh}. Here they
// are called by hand, with one refused request and one JWKS request.
func Example() {
	m := metrics.New("native")
	reg := prometheus.NewRegistry()
	reg.MustRegister(m)

	ctx := context.Background()
	m.Observe(ctx, middleware.Outcome{Route: "/api", Status: 401, Class: "expired", Code: "invalid_token", Duration: 80 * time.Microsecond})
	m.OnRefresh(ctx, keyset.RefreshEvent{URL: "https://idp.example/jwks", Trigger: "initial", Outcome: "updated", Keys: 2})

	families, err := reg.Gather()
	if err != nil {
		panic(err)
	}
	for _, f := range families {
		if f.GetType() != dto.MetricType_COUNTER {
			continue
		}
		for _, s := range f.GetMetric() {
			fmt.Print(f.GetName())
			for _, l := range s.GetLabel() {
				fmt.Printf(" %s=%s", l.GetName(), l.GetValue())
			}
			fmt.Println(":", s.GetCounter().GetValue())
		}
	}
	// Output:
	// jwtverify_jwks_refresh_total outcome=updated trigger=initial: 1
	// jwtverify_verifications_total backend=native result=expired: 1
}
