"""The server interceptor: one SERVER span per call, child of the caller's trace, with the
status code; log context and metrics; probes untouched; handlers built once per method."""

from __future__ import annotations

from collections.abc import AsyncIterator

import grpc
import pytest
import pytest_asyncio
import structlog
from opentelemetry import trace
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind, StatusCode
from prometheus_client import REGISTRY

from observability.grpc_server import ServerTelemetryInterceptor, _Call

pytestmark = pytest.mark.asyncio
SERVICE = "test.telemetry.v1.Echo"
PARENT = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"


async def echo(request: bytes, context: grpc.aio.ServicerContext) -> bytes:
    context_vars = structlog.contextvars.get_contextvars()
    return f"{context_vars['rpc_method']}|{len(context_vars['request_id'])}".encode()


async def broken(request: bytes, context: grpc.aio.ServicerContext) -> bytes:
    if request == b"bad":
        await context.abort(grpc.StatusCode.INVALID_ARGUMENT, "bad request")
    raise RuntimeError("a bug")


async def ticks(request: bytes, context: grpc.aio.ServicerContext) -> AsyncIterator[bytes]:
    for i in range(3):
        yield bytes([i])


@pytest_asyncio.fixture
async def served() -> AsyncIterator[tuple[grpc.aio.Channel, InMemorySpanExporter, object]]:
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    interceptor = ServerTelemetryInterceptor(tracer_provider=provider)
    server = grpc.aio.server(interceptors=[interceptor])
    methods = {
        "Echo": grpc.unary_unary_rpc_method_handler(echo),
        "Broken": grpc.unary_unary_rpc_method_handler(broken),
        "Ticks": grpc.unary_stream_rpc_method_handler(ticks),
    }
    server.add_generic_rpc_handlers((grpc.method_handlers_generic_handler(SERVICE, methods),))
    port = server.add_insecure_port("127.0.0.1:0")
    await server.start()
    async with grpc.aio.insecure_channel(f"127.0.0.1:{port}") as channel:
        yield channel, exporter, interceptor
    await server.stop(None)


def requests(method: str, code: str) -> float:
    labels = {"method": f"/{SERVICE}/{method}", "code": code}
    return REGISTRY.get_sample_value("argo_grpc_server_requests_total", labels) or 0.0


async def test_a_call_is_one_server_span_in_the_callers_trace_with_log_context(served) -> None:
    """Without it, Jaeger would show each service's part of a request as a separate trace,
    and log lines could not be matched to the call that wrote them."""
    channel, exporter, _ = served
    before = requests("Echo", "OK")
    reply = await channel.unary_unary(f"/{SERVICE}/Echo")(
        b"x", metadata=(("traceparent", PARENT),), timeout=5
    )
    assert reply == f"/{SERVICE}/Echo|16".encode()
    (span,) = exporter.get_finished_spans()
    assert span.name == f"/{SERVICE}/Echo" and span.kind is SpanKind.SERVER
    assert format(span.context.trace_id, "032x") == PARENT.split("-")[1]
    assert span.parent is not None and format(span.parent.span_id, "016x") == PARENT.split("-")[2]
    assert dict(span.attributes or {}) == {
        "rpc.system": "grpc",
        "rpc.service": SERVICE,
        "rpc.method": "Echo",
        "rpc.grpc.status_code": 0,
    }
    assert requests("Echo", "OK") == before + 1


async def test_a_call_without_trace_context_starts_a_trace_and_leaves_no_context(
    served,
) -> None:
    """Calls with no propagation headers skip extraction; if that skip or the hand-made
    attach/detach went wrong, spans would chain into the previous call's trace."""
    channel, exporter, _ = served
    for _ in range(2):
        await channel.unary_unary(f"/{SERVICE}/Echo")(b"x", timeout=5)
    first, second = exporter.get_finished_spans()
    assert first.parent is None and second.parent is None
    assert first.context.trace_id != second.context.trace_id
    assert requests("Echo", "OK") >= 2
    assert not trace.get_current_span().get_span_context().is_valid  # nothing leaked here


async def test_server_faults_mark_the_span_and_client_faults_do_not(served) -> None:
    """Else alerts on error spans would fire for callers' bad input, or miss real bugs."""
    channel, exporter, _ = served
    call = channel.unary_unary(f"/{SERVICE}/Broken")
    for payload, code in (
        (b"bad", grpc.StatusCode.INVALID_ARGUMENT),
        (b"x", grpc.StatusCode.UNKNOWN),
    ):
        with pytest.raises(grpc.aio.AioRpcError) as raised:
            await call(payload, timeout=5)
        assert raised.value.code() is code
    client_fault, bug = exporter.get_finished_spans()
    assert client_fault.attributes["rpc.grpc.status_code"] == 3
    assert client_fault.status.status_code is StatusCode.UNSET
    assert bug.status.status_code is StatusCode.ERROR
    assert [e.name for e in bug.events] == ["exception"]
    assert requests("Broken", "INVALID_ARGUMENT") >= 1 and requests("Broken", "UNKNOWN") >= 1


async def test_streams_are_traced_and_handlers_are_built_once_per_method(served) -> None:
    """Rebuilding handlers per call cost the gateway ~150 µs of CPU per request."""
    channel, exporter, interceptor = served
    for _ in range(3):
        items = [item async for item in channel.unary_stream(f"/{SERVICE}/Ticks")(b"", timeout=5)]
        assert items == [b"\x00", b"\x01", b"\x02"]
    assert [s.name for s in exporter.get_finished_spans()] == [f"/{SERVICE}/Ticks"] * 3
    assert list(interceptor._wrapped) == [f"/{SERVICE}/Ticks"]


async def test_an_untraced_call_is_a_root_even_when_its_task_inherited_a_span() -> None:
    """Lost if it failed: every untraced RPC would join whatever trace was current when the
    server started, one endless trace in Jaeger instead of one per call."""
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    call = _Call(provider.get_tracer("test"), f"/{SERVICE}/Echo")

    class Context:
        def invocation_metadata(self) -> tuple[()]:
            return ()

        def code(self) -> None:
            return None

    with provider.get_tracer("test").start_as_current_span("server-startup"):
        assert await call.unary(echo)(b"x", Context()) == f"/{SERVICE}/Echo|16".encode()
    rpc = next(s for s in exporter.get_finished_spans() if s.name == f"/{SERVICE}/Echo")
    assert rpc.parent is None
