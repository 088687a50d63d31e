package cli

import (
	"context"
	"fmt"
	"os"
	"strings"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"
)

// The standard OpenTelemetry variables that decide whether the proxy
// exports traces. The exporter reads the other OTEL_EXPORTER_OTLP_*
// variables itself (headers, insecure, timeout, compression,
// certificates), the SDK OTEL_TRACES_SAMPLER and OTEL_BSP_*, and the
// resource OTEL_SERVICE_NAME and OTEL_RESOURCE_ATTRIBUTES.
const (
	envSDKDisabled    = "OTEL_SDK_DISABLED"
	envTracesExporter = "OTEL_TRACES_EXPORTER"
	envEndpoint       = "OTEL_EXPORTER_OTLP_ENDPOINT"
	envTracesEndpoint = "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"
	envProtocol       = "OTEL_EXPORTER_OTLP_PROTOCOL"
	envTracesProtocol = "OTEL_EXPORTER_OTLP_TRACES_PROTOCOL"
)

// defaultServiceName is the service.name of the proxy's spans unless
// OTEL_SERVICE_NAME or OTEL_RESOURCE_ATTRIBUTES names another.
const defaultServiceName = "jwtverify"

// tracerProvider returns the provider of the proxy's spans, exporting
// them with OTLP over HTTP when OTEL_EXPORTER_OTLP_ENDPOINT or
// OTEL_EXPORTER_OTLP_TRACES_ENDPOINT is set (not empty), and the function
// that flushes and stops it, which the caller calls once, at exit, with a
// context that bounds the flush. Otherwise (neither is set,
// OTEL_SDK_DISABLED is "true", or OTEL_TRACES_EXPORTER is "none") it
// returns a nil provider, which records nothing, and a shutdown that does
// nothing: no exporter, no goroutine, no request.
//
// The provider batches spans (OTEL_BSP_* tune it), samples as
// OTEL_TRACES_SAMPLER says (every span by default) and describes the
// process with a resource whose service.name is OTEL_SERVICE_NAME, or
// the one in OTEL_RESOURCE_ATTRIBUTES, or "jwtverify". The exporter sends
// http/protobuf, or http/json when the protocol variable says so; any
// other protocol (grpc), or an OTEL_TRACES_EXPORTER other than otlp or
// none, is an error that names the variable: the proxy would otherwise
// export nothing, or not what was asked for, silently.
//
// It reads the process's environment, as the exporter, the SDK and the
// resource do: it takes no getenv of its own, which they would not
// follow.
func tracerProvider(ctx context.Context) (trace.TracerProvider, func(context.Context) error, error) {
	nothing := func(context.Context) error { return nil }
	env := func(name string) string { return strings.TrimSpace(os.Getenv(name)) }
	if strings.EqualFold(env(envSDKDisabled), "true") {
		return nil, nothing, nil
	}
	if env(envEndpoint) == "" && env(envTracesEndpoint) == "" {
		return nil, nothing, nil
	}
	switch e := env(envTracesExporter); e {
	case "", "otlp":
	case "none":
		return nil, nothing, nil
	default:
		return nil, nil, fmt.Errorf("%s is %q: the proxy exports traces with otlp, or none", envTracesExporter, e)
	}
	// The signal's variable overrides the general one, as the exporter
	// reads them.
	name, protocol := envTracesProtocol, env(envTracesProtocol)
	if protocol == "" {
		name, protocol = envProtocol, env(envProtocol)
	}
	switch protocol {
	case "", "http/protobuf", "http/json":
	default:
		return nil, nil, fmt.Errorf("%s is %q: the proxy exports OTLP over HTTP only, http/protobuf (the default) or http/json", name, protocol)
	}

	res, err := resource.New(ctx,
		resource.WithTelemetrySDK(),
		resource.WithAttributes(attribute.String("service.name", defaultServiceName)),
		resource.WithFromEnv(), // OTEL_RESOURCE_ATTRIBUTES, then OTEL_SERVICE_NAME, over the default
	)
	if err != nil {
		return nil, nil, fmt.Errorf("OpenTelemetry resource (OTEL_RESOURCE_ATTRIBUTES, OTEL_SERVICE_NAME): %w", err)
	}
	exp, err := otlptracehttp.New(ctx)
	if err != nil {
		return nil, nil, fmt.Errorf("OTLP trace exporter: %w", err)
	}
	tp := sdktrace.NewTracerProvider(sdktrace.WithBatcher(exp), sdktrace.WithResource(res))
	return tp, tp.Shutdown, nil
}
