"""OpenTelemetry tracing driven by the standard OTEL_* environment variables.

- OTEL_SERVICE_NAME / OTEL_RESOURCE_ATTRIBUTES name the resource (read by the SDK).
- OTEL_TRACES_EXPORTER: `otlp` (gRPC OTLP, which Jaeger ingests directly), `console` or
  `none`. Unset, it is `otlp` when OTEL_EXPORTER_OTLP_ENDPOINT is set and `none` otherwise,
  so an offline `make run` does not retry a collector that is not there.
- OTEL_TRACES_SAMPLER / _ARG choose the sampler (read by the SDK). Unset, it is the SDK's
  `parentbased_always_on` when spans are exported, and `parentbased_always_off` when they
  are not: recording spans that nothing exports cost the gateway about a fifth of its warm
  GetQuotes throughput (docs/decisions/0025-no-exporter-no-recording.md). Trace context
  is still extracted, generated and propagated, so trace ids reach the logs and the
  signals' lineage, and a caller's sampled parent is still honoured. Calls to other
  services go out marked not sampled, so set the exporter on every service (or name a
  sampler) to see whole traces.
- OTEL_EXPORTER_OTLP_ENDPOINT / OTEL_EXPORTER_OTLP_TRACES_ENDPOINT / _HEADERS / _INSECURE
  and OTEL_BSP_* are read by the exporter and the batch processor themselves.
"""

from __future__ import annotations

from collections.abc import Mapping

import structlog
from opentelemetry import trace
from opentelemetry.sdk.resources import SERVICE_NAME, Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import (
    BatchSpanProcessor,
    ConsoleSpanExporter,
    SpanExporter,
)
from opentelemetry.sdk.trace.sampling import DEFAULT_OFF, Sampler

from observability.redaction import Redactor
from observability.span_redaction import RedactingSpanExporter

log = structlog.get_logger(__name__)


def _exporter_name(environ: Mapping[str, str]) -> str:
    explicit = environ.get("OTEL_TRACES_EXPORTER", "").strip().lower()
    if explicit:
        return explicit.split(",")[0].strip()
    endpoint = environ.get("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT") or environ.get(
        "OTEL_EXPORTER_OTLP_ENDPOINT"
    )
    return "otlp" if endpoint else "none"


def _build_exporter(name: str, environ: Mapping[str, str]) -> SpanExporter | None:
    if name == "none":
        return None
    if name == "console":
        return ConsoleSpanExporter()
    if name != "otlp":
        raise ValueError(f"OTEL_TRACES_EXPORTER: unsupported exporter {name!r} (otlp|console|none)")
    protocol = environ.get("OTEL_EXPORTER_OTLP_TRACES_PROTOCOL") or environ.get(
        "OTEL_EXPORTER_OTLP_PROTOCOL", "grpc"
    )
    if protocol.strip() != "grpc":
        raise ValueError(f"OTEL_EXPORTER_OTLP_PROTOCOL: only 'grpc' is supported, got {protocol!r}")
    from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import OTLPSpanExporter

    return OTLPSpanExporter()


def configure_tracing(
    *, service: str, environ: Mapping[str, str], redactor: Redactor
) -> TracerProvider:
    """Install a global TracerProvider and the httpx/redis/asyncpg instrumentations."""
    provider = build_provider(service=service, environ=environ, redactor=redactor)
    trace.set_tracer_provider(provider)
    _instrument_libraries()
    return provider


def build_provider(
    *, service: str, environ: Mapping[str, str], redactor: Redactor
) -> TracerProvider:
    """The provider the OTEL_* variables describe (no global state touched). `environ` must
    be the process environment's contents: the SDK reads OTEL_TRACES_SAMPLER from
    os.environ itself."""
    resource = Resource.create({SERVICE_NAME: environ.get("OTEL_SERVICE_NAME") or service})
    name = _exporter_name(environ)
    exporter = _build_exporter(name, environ)
    sampler = default_sampler(environ, exported=exporter is not None)
    provider = TracerProvider(resource=resource, sampler=sampler)
    if exporter is not None:
        provider.add_span_processor(BatchSpanProcessor(RedactingSpanExporter(exporter, redactor)))
    log.info("tracing_configured", exporter=name, sampler=provider.sampler.get_description())
    return provider


def default_sampler(environ: Mapping[str, str], *, exported: bool) -> Sampler | None:
    """None (the SDK reads OTEL_TRACES_SAMPLER, else samples every new trace) when spans
    are exported or a sampler is named; else new traces are not recorded."""
    if exported or environ.get("OTEL_TRACES_SAMPLER", "").strip():
        return None
    return DEFAULT_OFF  # parentbased_always_off


def _instrument_libraries() -> None:
    from opentelemetry.instrumentation.asyncpg import AsyncPGInstrumentor
    from opentelemetry.instrumentation.httpx import HTTPXClientInstrumentor
    from opentelemetry.instrumentation.redis import RedisInstrumentor

    instrumentors = (
        HTTPXClientInstrumentor(),
        RedisInstrumentor(),
        AsyncPGInstrumentor(),  # type: ignore[no-untyped-call]
    )
    for instrumentor in instrumentors:
        if not instrumentor.is_instrumented_by_opentelemetry:
            instrumentor.instrument()
