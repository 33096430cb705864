"""The default sampler: with no exporter, new traces are not recorded (nothing would read
them) but still carry ids; a caller's sampled parent, an exporter or a named sampler
restore recording."""

from __future__ import annotations

from collections.abc import AsyncIterator

import grpc
import pytest
import pytest_asyncio
from opentelemetry import trace
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.sdk.trace.sampling import Decision, ParentBased

from observability.grpc_server import ServerTelemetry
from observability.redaction import Redactor
from observability.tracing import build_provider, default_sampler
from service_runtime.wrapping_server import WrappingServer

SERVICE = "test.sampler.v1.Probe"
SAMPLED_PARENT = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"
UNSAMPLED_PARENT = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-00"


def test_exported_or_named_samplers_are_left_to_the_sdk() -> None:
    assert default_sampler({}, exported=True) is None
    named = {"OTEL_TRACES_SAMPLER": "parentbased_traceidratio"}
    assert default_sampler(named, exported=False) is None
    off = default_sampler({"OTEL_TRACES_SAMPLER": "  "}, exported=False)
    assert isinstance(off, ParentBased)
    root = off.should_sample(None, trace_id=0x1234, name="/a.B/C")
    assert root.decision is Decision.DROP


@pytest.mark.parametrize(
    ("environ", "root"),
    [
        ({"OTEL_TRACES_EXPORTER": "none"}, "AlwaysOffSampler"),
        ({}, "AlwaysOffSampler"),  # no exporter named and no endpoint: none
        ({"OTEL_TRACES_EXPORTER": "console"}, "AlwaysOnSampler"),
        ({"OTEL_TRACES_EXPORTER": "none", "OTEL_TRACES_SAMPLER": "always_on"}, "AlwaysOnSampler"),
    ],
)
def test_the_services_provider_records_only_when_something_reads_the_spans(
    environ: dict[str, str], root: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The provider configure_tracing installs; the named sampler is read by the SDK from
    the process environment, which the services pass in whole."""
    for key in ("OTEL_TRACES_SAMPLER", "OTEL_EXPORTER_OTLP_ENDPOINT"):
        monkeypatch.delenv(key, raising=False)
    for key, value in environ.items():
        monkeypatch.setenv(key, value)
    provider = build_provider(service="t", environ=environ, redactor=Redactor())
    try:
        description = provider.sampler.get_description()
        assert description == root or description.startswith(f"ParentBased{{root:{root},")
    finally:
        provider.shutdown()


async def where_am_i(request: bytes, context: grpc.aio.ServicerContext) -> bytes:
    """The handler's current span as `trace_id/recording/sampled`."""
    span = trace.get_current_span()
    ids = span.get_span_context()
    sampled = ids.trace_flags.sampled
    return f"{ids.trace_id:032x}/{int(span.is_recording())}/{int(sampled)}".encode()


@pytest_asyncio.fixture
async def unexported() -> AsyncIterator[tuple[grpc.aio.Channel, InMemorySpanExporter]]:
    """A server whose provider has the no-exporter default; the in-memory processor only
    shows which spans were recorded."""
    memory = InMemorySpanExporter()
    provider = TracerProvider(sampler=default_sampler({}, exported=False))
    provider.add_span_processor(SimpleSpanProcessor(memory))
    server = WrappingServer([ServerTelemetry(tracer_provider=provider)])
    handlers = {"Where": grpc.unary_unary_rpc_method_handler(where_am_i)}
    server.add_generic_rpc_handlers((grpc.method_handlers_generic_handler(SERVICE, handlers),))
    port = server.add_insecure_port("127.0.0.1:0")
    await server.start()
    async with grpc.aio.insecure_channel(f"127.0.0.1:{port}") as channel:
        yield channel, memory
    await server.stop(None)


@pytest.mark.asyncio
async def test_an_untraced_call_gets_ids_for_its_logs_but_records_nothing(unexported) -> None:
    channel, memory = unexported
    where = channel.unary_unary(f"/{SERVICE}/Where")
    first = (await where(b"", timeout=5)).decode().split("/")
    second = (await where(b"", timeout=5)).decode().split("/")
    assert first[1:] == ["0", "0"] and second[1:] == ["0", "0"]
    assert int(first[0], 16) != 0 and first[0] != second[0]  # a new trace id per call
    assert memory.get_finished_spans() == ()


@pytest.mark.asyncio
async def test_a_callers_decision_is_kept_either_way(unexported) -> None:
    """A caller that samples its trace still gets the gateway's span, recorded for whoever
    keeps that trace; a caller that does not sample gets none."""
    channel, memory = unexported
    where = channel.unary_unary(f"/{SERVICE}/Where")
    sampled = await where(b"", metadata=(("traceparent", SAMPLED_PARENT),), timeout=5)
    unsampled = await where(b"", metadata=(("traceparent", UNSAMPLED_PARENT),), timeout=5)
    trace_id = SAMPLED_PARENT.split("-")[1]
    assert sampled.decode() == f"{trace_id}/1/1"
    assert unsampled.decode() == f"{trace_id}/0/0"
    (recorded,) = memory.get_finished_spans()
    assert recorded.name == f"/{SERVICE}/Where"
    assert dict(recorded.attributes or {})["rpc.grpc.status_code"] == 0
