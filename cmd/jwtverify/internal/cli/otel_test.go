package cli

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	coltracepb "go.opentelemetry.io/proto/otlp/collector/trace/v1"
	"google.golang.org/protobuf/proto"
)

// clearOtelEnv makes the OpenTelemetry variables of the test's
// environment empty, which tracerProvider, the exporter, the SDK and the
// resource take as unset, except the sampler, set to always_on (every
// span is exported, whatever the machine's environment says).
func clearOtelEnv(t *testing.T) {
	t.Helper()
	for _, name := range []string{
		envSDKDisabled, envTracesExporter, envEndpoint, envTracesEndpoint, envProtocol, envTracesProtocol,
		"OTEL_EXPORTER_OTLP_HEADERS", "OTEL_EXPORTER_OTLP_TRACES_HEADERS",
		"OTEL_EXPORTER_OTLP_INSECURE", "OTEL_EXPORTER_OTLP_TRACES_INSECURE",
		"OTEL_EXPORTER_OTLP_TIMEOUT", "OTEL_EXPORTER_OTLP_TRACES_TIMEOUT",
		"OTEL_EXPORTER_OTLP_COMPRESSION", "OTEL_EXPORTER_OTLP_TRACES_COMPRESSION",
		"OTEL_EXPORTER_OTLP_CERTIFICATE", "OTEL_EXPORTER_OTLP_TRACES_CERTIFICATE",
		"OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE", "OTEL_EXPORTER_OTLP_TRACES_CLIENT_CERTIFICATE",
		"OTEL_EXPORTER_OTLP_CLIENT_KEY", "OTEL_EXPORTER_OTLP_TRACES_CLIENT_KEY",
		"OTEL_SERVICE_NAME", "OTEL_RESOURCE_ATTRIBUTES", "OTEL_TRACES_SAMPLER_ARG",
		"OTEL_BSP_SCHEDULE_DELAY", "OTEL_BSP_EXPORT_TIMEOUT", "OTEL_BSP_MAX_QUEUE_SIZE", "OTEL_BSP_MAX_EXPORT_BATCH_SIZE",
	} {
		t.Setenv(name, "")
	}
	t.Setenv("OTEL_TRACES_SAMPLER", "always_on")
}

// collector stands in for an OpenTelemetry collector: it records every
// request and answers 200 with an empty body.
type collector struct {
	*httptest.Server
	mu   sync.Mutex
	reqs []collected
}

type collected struct {
	method, path string
	header       http.Header
	body         []byte
}

func newCollector(t *testing.T) *collector {
	c := &collector{}
	c.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		c.mu.Lock()
		c.reqs = append(c.reqs, collected{r.Method, r.URL.Path, r.Header.Clone(), body})
		c.mu.Unlock()
	}))
	t.Cleanup(c.Close)
	return c
}

func (c *collector) requests() []collected {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]collected(nil), c.reqs...)
}

// exportOne makes the provider of the environment, ends one span named
// "probe" in it and shuts it down, which flushes the batch.
func exportOne(t *testing.T) {
	t.Helper()
	ctx := context.Background()
	tp, shutdown, err := tracerProvider(ctx)
	if err != nil || tp == nil {
		t.Fatalf("tracerProvider: %v, %v", tp, err)
	}
	_, span := tp.Tracer("test").Start(ctx, "probe")
	span.End()
	if err := shutdown(ctx); err != nil {
		t.Fatalf("shutdown: %v", err)
	}
}

// decode returns the service.name and the span names of an
// http/protobuf export request.
func decode(t *testing.T, body []byte) (service string, spans []string) {
	t.Helper()
	var req coltracepb.ExportTraceServiceRequest
	if err := proto.Unmarshal(body, &req); err != nil {
		t.Fatalf("the body is not an ExportTraceServiceRequest: %v", err)
	}
	for _, rs := range req.GetResourceSpans() {
		for _, kv := range rs.GetResource().GetAttributes() {
			if kv.GetKey() == "service.name" {
				service = kv.GetValue().GetStringValue()
			}
		}
		for _, ss := range rs.GetScopeSpans() {
			for _, s := range ss.GetSpans() {
				spans = append(spans, s.GetName())
			}
		}
	}
	return service, spans
}

// TestOTLPExport: with OTEL_EXPORTER_OTLP_ENDPOINT set to a collector,
// one span and the shutdown make exactly one POST to /v1/traces, as
// http/protobuf, with the headers of OTEL_EXPORTER_OTLP_HEADERS, holding
// that span under the service name "jwtverify".
func TestOTLPExport(t *testing.T) {
	clearOtelEnv(t)
	c := newCollector(t)
	t.Setenv(envEndpoint, c.URL)
	t.Setenv("OTEL_EXPORTER_OTLP_HEADERS", "x-collector-key=k3y")
	exportOne(t)
	reqs := c.requests()
	if len(reqs) != 1 {
		t.Fatalf("%d requests, want 1", len(reqs))
	}
	r := reqs[0]
	if r.method != http.MethodPost || r.path != "/v1/traces" {
		t.Fatalf("%s %s, want POST /v1/traces", r.method, r.path)
	}
	if ct := r.header.Get("Content-Type"); ct != "application/x-protobuf" {
		t.Fatalf("Content-Type %q, want application/x-protobuf", ct)
	}
	if got := r.header.Get("X-Collector-Key"); got != "k3y" {
		t.Fatalf("header from OTEL_EXPORTER_OTLP_HEADERS %q, want k3y", got)
	}
	service, spans := decode(t, r.body)
	if service != "jwtverify" || len(spans) != 1 || spans[0] != "probe" {
		t.Fatalf("service %q, spans %q, want jwtverify and [probe]", service, spans)
	}
}

// TestOTLPTracesVariables: OTEL_EXPORTER_OTLP_TRACES_ENDPOINT is the URL
// itself (no /v1/traces added), OTEL_EXPORTER_OTLP_TRACES_PROTOCOL
// overrides OTEL_EXPORTER_OTLP_PROTOCOL (grpc here, which alone is an
// error), and OTEL_SERVICE_NAME names the service.
func TestOTLPTracesVariables(t *testing.T) {
	clearOtelEnv(t)
	c := newCollector(t)
	t.Setenv(envTracesEndpoint, c.URL+"/collector/traces")
	t.Setenv(envProtocol, "grpc")
	t.Setenv(envTracesProtocol, "http/protobuf")
	t.Setenv("OTEL_SERVICE_NAME", "edge-proxy")
	exportOne(t)
	reqs := c.requests()
	if len(reqs) != 1 || reqs[0].path != "/collector/traces" {
		t.Fatalf("requests %v, want one to /collector/traces", reqs)
	}
	if service, spans := decode(t, reqs[0].body); service != "edge-proxy" || len(spans) != 1 {
		t.Fatalf("service %q, spans %q, want edge-proxy and one span", service, spans)
	}
}

// TestOTLPJSON: the protocol http/json sends JSON.
func TestOTLPJSON(t *testing.T) {
	clearOtelEnv(t)
	c := newCollector(t)
	t.Setenv(envEndpoint, c.URL)
	t.Setenv(envProtocol, "http/json")
	exportOne(t)
	reqs := c.requests()
	if len(reqs) != 1 || reqs[0].header.Get("Content-Type") != "application/json" || !strings.Contains(string(reqs[0].body), `"probe"`) {
		t.Fatalf("requests %v, want one JSON request with the span", reqs)
	}
}

// TestOtelOff: with no endpoint, with OTEL_SDK_DISABLED=true or with
// OTEL_TRACES_EXPORTER=none, there is no provider, the shutdown does
// nothing, and the collector the endpoint names gets no request.
func TestOtelOff(t *testing.T) {
	for name, vars := range map[string]map[string]string{
		"no variables":  {},
		"headers alone": {"OTEL_EXPORTER_OTLP_HEADERS": "a=b", envProtocol: "http/protobuf"},
		"sdk disabled":  {envEndpoint: "COLLECTOR", envSDKDisabled: "TRUE"},
		"exporter none": {envTracesEndpoint: "COLLECTOR", envTracesExporter: "none"},
	} {
		t.Run(name, func(t *testing.T) {
			clearOtelEnv(t)
			c := newCollector(t)
			for k, v := range vars {
				t.Setenv(k, strings.ReplaceAll(v, "COLLECTOR", c.URL))
			}
			tp, shutdown, err := tracerProvider(context.Background())
			if err != nil || tp != nil {
				t.Fatalf("tracerProvider: %v, %v, want no provider", tp, err)
			}
			if err := shutdown(context.Background()); err != nil {
				t.Fatalf("shutdown: %v", err)
			}
			if n := len(c.requests()); n != 0 {
				t.Fatalf("%d requests to the collector, want none", n)
			}
		})
	}
}

// TestOtelUnsupported: a protocol other than OTLP over HTTP, or an
// exporter other than otlp, is an error naming the variable, and nothing
// is exported.
func TestOtelUnsupported(t *testing.T) {
	for _, tc := range []struct {
		name, value string
		more        map[string]string
	}{
		{name: envProtocol, value: "grpc"},
		{name: envTracesProtocol, value: "grpc", more: map[string]string{envProtocol: "http/protobuf"}},
		{name: envProtocol, value: "http/thrift"},
		{name: envTracesExporter, value: "zipkin"},
	} {
		t.Run(tc.name+"="+tc.value, func(t *testing.T) {
			clearOtelEnv(t)
			c := newCollector(t)
			t.Setenv(envEndpoint, c.URL)
			t.Setenv(tc.name, tc.value)
			for k, v := range tc.more {
				t.Setenv(k, v)
			}
			tp, _, err := tracerProvider(context.Background())
			if err == nil || tp != nil {
				t.Fatalf("tracerProvider: %v, %v, want an error", tp, err)
			}
			if msg := err.Error(); !strings.Contains(msg, tc.name+" is ") || !strings.Contains(msg, tc.value) {
				t.Fatalf("error %q does not name %s=%s", msg, tc.name, tc.value)
			}
			if n := len(c.requests()); n != 0 {
				t.Fatalf("%d requests to the collector, want none", n)
			}
		})
	}
}
