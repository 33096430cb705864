"""The server telemetry wrapper: one SERVER span per call, child of the caller's trace, with
the status code (a handler cut at its deadline is DEADLINE_EXCEEDED); log context and
metrics; probes untouched."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable
from typing import Any

import grpc
import pytest
import pytest_asyncio
from grpc_health.v1 import health, health_pb2, health_pb2_grpc
from opentelemetry import trace
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind, StatusCode
from prometheus_client import REGISTRY

from observability import rpc_context
from observability.grpc_server import ServerTelemetry, _Call
from service_runtime.wrapping_server import WrappingServer

pytestmark = pytest.mark.asyncio
SERVICE = "test.telemetry.v1.Echo"
PARENT = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"


async def echo(request: bytes, context: grpc.aio.ServicerContext) -> bytes:
    context_vars = rpc_context.current()
    return f"{context_vars['rpc_method']}|{len(context_vars['request_id'])}".encode()


async def broken(request: bytes, context: grpc.aio.ServicerContext) -> bytes:
    if request == b"bad":
        await context.abort(grpc.StatusCode.INVALID_ARGUMENT, "bad request")
    raise RuntimeError("a bug")


async def ticks(request: bytes, context: grpc.aio.ServicerContext) -> AsyncIterator[bytes]:
    for i in range(3):
        yield bytes([i])


def stuck(seen: list[str]) -> Any:
    """A handler that never answers; `seen` records its start and its end."""

    async def behaviour(request: bytes, context: grpc.aio.ServicerContext) -> bytes:
        seen.append(f"started {request.decode()}")
        try:
            await asyncio.Event().wait()
        finally:
            seen.append(f"ended {request.decode()}")
        return b""

    return behaviour


@pytest_asyncio.fixture
async def served() -> AsyncIterator[tuple[grpc.aio.Channel, InMemorySpanExporter, list[str]]]:
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    server = WrappingServer([ServerTelemetry(tracer_provider=provider)])
    seen: list[str] = []
    methods = {
        "Echo": grpc.unary_unary_rpc_method_handler(echo),
        "Broken": grpc.unary_unary_rpc_method_handler(broken),
        "Ticks": grpc.unary_stream_rpc_method_handler(ticks),
        "Stuck": grpc.unary_unary_rpc_method_handler(stuck(seen)),
    }
    server.add_generic_rpc_handlers((grpc.method_handlers_generic_handler(SERVICE, methods),))
    health_pb2_grpc.add_HealthServicer_to_server(health.aio.HealthServicer(), server)
    port = server.add_insecure_port("127.0.0.1:0")
    await server.start()
    async with grpc.aio.insecure_channel(f"127.0.0.1:{port}") as channel:
        yield channel, exporter, seen
    await server.stop(None)


async def until(condition: Callable[[], bool], within: float = 5.0) -> None:
    """Wait (bounded) for the server side of a call to finish."""
    deadline = time.monotonic() + within
    while not condition():
        assert time.monotonic() < deadline, "the server never finished the call"
        await asyncio.sleep(0.01)


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


async def test_server_streams_are_traced_one_span_per_call(served) -> None:
    """Else StreamQuotes would be invisible in Jaeger, or one span would cover many calls."""
    channel, exporter, _ = served
    for _ in range(3):
        items = [item async for item in channel.unary_stream(f"/{SERVICE}/Ticks")(b"", timeout=5)]
        assert items == [b"\x00", b"\x01", b"\x02"]
    spans = exporter.get_finished_spans()
    assert [s.name for s in spans] == [f"/{SERVICE}/Ticks"] * 3
    assert len({s.context.span_id for s in spans}) == 3


async def test_a_handler_cut_at_its_deadline_is_a_server_error_and_a_hang_up_is_not(
    served,
) -> None:
    """grpc.aio cancels a handler still running when the caller's deadline passes (the
    gateway relies on it instead of a timer of its own). Lost if it failed: a server that
    overran its callers' deadlines would look like callers hanging up, with no error span,
    warning or DEADLINE_EXCEEDED count to alert on; or hang-ups would page someone."""
    channel, exporter, seen = served
    overran, hung_up = requests("Stuck", "DEADLINE_EXCEEDED"), requests("Stuck", "CANCELLED")
    call = channel.unary_unary(f"/{SERVICE}/Stuck")
    with pytest.raises(grpc.aio.AioRpcError) as raised:
        await call(b"deadline", timeout=0.3)
    assert raised.value.code() is grpc.StatusCode.DEADLINE_EXCEEDED
    await until(lambda: len(exporter.get_finished_spans()) == 1)
    assert seen == ["started deadline", "ended deadline"]
    (span,) = exporter.get_finished_spans()
    assert span.status.status_code is StatusCode.ERROR
    assert span.attributes["rpc.grpc.status_code"] == grpc.StatusCode.DEADLINE_EXCEEDED.value[0]
    assert requests("Stuck", "DEADLINE_EXCEEDED") == overran + 1

    pending = call(b"hang-up", timeout=30)
    await until(lambda: "started hang-up" in seen)
    pending.cancel()
    await until(lambda: len(exporter.get_finished_spans()) == 2)
    assert seen[2:] == ["started hang-up", "ended hang-up"]
    assert exporter.get_finished_spans()[1].status.status_code is StatusCode.UNSET
    assert requests("Stuck", "CANCELLED") == hung_up + 1


async def test_health_probes_get_no_span_or_count(served) -> None:
    """kubelet probes every few seconds would drown the real calls in Jaeger and skew the
    request metrics."""
    channel, exporter, _ = served
    status = await health_pb2_grpc.HealthStub(channel).Check(
        health_pb2.HealthCheckRequest(service=""), timeout=5
    )
    assert status.status == health_pb2.HealthCheckResponse.SERVING
    assert exporter.get_finished_spans() == ()
    labels = {"method": "/grpc.health.v1.Health/Check", "code": "OK"}
    assert REGISTRY.get_sample_value("argo_grpc_server_requests_total", labels) is None


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
