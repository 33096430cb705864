"""The shared server lifecycle: health gating, reflection, admin port, graceful drain."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from dataclasses import replace

import grpc
import httpx
import pytest
import pytest_asyncio
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection_pb2, reflection_pb2_grpc

from service_runtime.server import Lifecycle
from service_runtime.settings import load_common
from service_runtime.wiring import Wiring

_SERVICE = "test.Slow"


class _SlowService:
    def __init__(self) -> None:
        self.release = asyncio.Event()
        self.entered = asyncio.Event()

    async def wait(self, request: bytes, context: grpc.aio.ServicerContext) -> bytes:
        self.entered.set()
        await self.release.wait()
        return b"done:" + request

    def register(self, server: grpc.aio.Server) -> None:
        handler = grpc.method_handlers_generic_handler(
            _SERVICE, {"Wait": grpc.unary_unary_rpc_method_handler(self.wait)}
        )
        server.add_generic_rpc_handlers((handler,))


@pytest_asyncio.fixture
async def running() -> AsyncIterator[tuple[Lifecycle, _SlowService, dict[str, bool]]]:
    slow = _SlowService()
    flags = {"ready": False, "closed": False, "notified": False}

    async def ready() -> bool:
        return flags["ready"]

    async def notify() -> None:
        flags["notified"] = True

    stack = contextlib.AsyncExitStack()
    stack.callback(lambda: flags.__setitem__("closed", True))
    wiring = Wiring(
        service_names=[_SERVICE],
        register=slow.register,
        performance=lambda: {"cache_hit_rate": 0.5},
        exit_stack=stack,
        ready=ready,
        on_shutdown=notify,
    )
    common = replace(
        load_common({}, service_name="test", default_grpc_port=0, default_admin_port=0),
        bind_host="127.0.0.1",
        shutdown_grace_seconds=5.0,
    )
    lifecycle = Lifecycle(common, wiring)
    await lifecycle.start()
    yield lifecycle, slow, flags
    if lifecycle.state != "stopping":
        await lifecycle.stop()


async def _health(port: int, service: str) -> int:
    async with grpc.aio.insecure_channel(f"127.0.0.1:{port}") as channel:
        stub = health_pb2_grpc.HealthStub(channel)
        reply = await stub.Check(health_pb2.HealthCheckRequest(service=service), timeout=2)
        return int(reply.status)


async def _wait_for_health(port: int, wanted: int) -> None:
    async with grpc.aio.insecure_channel(f"127.0.0.1:{port}") as channel:
        stub = health_pb2_grpc.HealthStub(channel)
        stream = stub.Watch(health_pb2.HealthCheckRequest(service=_SERVICE), timeout=10)
        async for reply in stream:
            if reply.status == wanted:
                stream.cancel()
                return


@pytest.mark.asyncio
async def test_health_is_not_serving_until_dependencies_are_ready(running) -> None:
    lifecycle, _, flags = running
    serving = health_pb2.HealthCheckResponse.SERVING
    status = await _health(lifecycle.grpc_port, _SERVICE)
    assert status == health_pb2.HealthCheckResponse.NOT_SERVING  # readiness
    assert await _health(lifecycle.grpc_port, "") == serving  # liveness: the process is up
    flags["ready"] = True
    await _wait_for_health(lifecycle.grpc_port, serving)
    assert await _health(lifecycle.grpc_port, "") == serving


@pytest.mark.asyncio
async def test_reflection_lists_the_service_and_health(running) -> None:
    lifecycle, _, _ = running
    async with grpc.aio.insecure_channel(f"127.0.0.1:{lifecycle.grpc_port}") as channel:
        stub = reflection_pb2_grpc.ServerReflectionStub(channel)
        request = reflection_pb2.ServerReflectionRequest(list_services="")
        names = []
        async for reply in stub.ServerReflectionInfo(iter([request]), timeout=5):
            names = [s.name for s in reply.list_services_response.service]
    assert _SERVICE in names and "grpc.health.v1.Health" in names


@pytest.mark.asyncio
async def test_admin_port_serves_health_json_and_metrics(running) -> None:
    lifecycle, _, flags = running
    base = f"http://127.0.0.1:{lifecycle.admin.port}"
    async with httpx.AsyncClient() as client:
        starting = await client.get(f"{base}/healthz")
        assert starting.status_code == 503
        assert (await client.get(f"{base}/livez")).status_code == 200  # alive, not ready
        flags["ready"] = True
        await _wait_for_health(lifecycle.grpc_port, health_pb2.HealthCheckResponse.SERVING)
        body = (await client.get(f"{base}/api/v1/health")).json()
        metrics = (await client.get(f"{base}/metrics")).text
    assert body["status"] == "healthy"
    assert body["services"]["performance"]["cache_hit_rate"] == 0.5
    assert body["services"]["performance"]["uptime_seconds"] >= 0
    assert "argo_grpc_server_requests_total" in metrics


@pytest.mark.asyncio
async def test_shutdown_drains_in_flight_calls_and_closes_adapters(running) -> None:
    lifecycle, slow, flags = running
    async with grpc.aio.insecure_channel(f"127.0.0.1:{lifecycle.grpc_port}") as channel:
        call = channel.unary_unary(f"/{_SERVICE}/Wait")(b"x", timeout=10)
        await slow.entered.wait()
        stopping = asyncio.create_task(lifecycle.stop())
        await asyncio.sleep(0)  # let stop() begin before the call is released
        assert lifecycle.state == "stopping"
        slow.release.set()
        assert await call == b"done:x"
        await stopping
    assert lifecycle.health._server_status[""] == health_pb2.HealthCheckResponse.NOT_SERVING
    assert flags["closed"] is True and flags["notified"] is True
