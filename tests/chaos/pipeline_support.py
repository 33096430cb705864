"""Shared pieces of the pipeline fault tests: processes on fixed ports (restartable), the
engine's and tracker's RPCs the tests read, a StreamSignals collector, bounded waits."""

from __future__ import annotations

import asyncio
import signal
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import asynccontextmanager
from pathlib import Path

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc

from argo.signals.v1 import signals_pb2, signals_pb2_grpc
from tests.e2e.suite import SERVICES, RunningService
from tests.e2e.test_engine_outbox import Processes, metric

SERVING = health_pb2.HealthCheckResponse.SERVING
NOT_SERVING = health_pb2.HealthCheckResponse.NOT_SERVING


class Pipeline(Processes):
    """The e2e Processes plus stopping one service with a chosen signal."""

    def wire(self, **env: str) -> None:
        """Every process finds the others on their fixed ports."""
        self.env.update(
            {
                "MARKET_GATEWAY_ADDR": self.address("gateway"),
                "TRACKER_ADDR": self.address("tracker"),
                "ENGINE_OUTBOX_DIR": str(self.workdir / "outbox"),
                "ENGINE_DELIVERY_MAX_BACKOFF_SECONDS": "0.3",
                "TRACKER_DEADLINE_SECONDS": "2",
                **env,
            }
        )

    def signal(self, name: str, sig: signal.Signals, within: float = 20.0) -> int:
        """Send `sig` and wait for the process to exit; its exit code."""
        process = self.running.pop(name).process
        process.send_signal(sig)
        return process.wait(timeout=within)


@pytest.fixture
def pipeline(tmp_path: Path) -> Iterator[Pipeline]:
    procs = Pipeline(tmp_path)
    yield procs
    procs.stop_all()


async def wait_until(
    check: Callable[[], Awaitable[bool]], within: float, what: str, every: float = 0.1
) -> float:
    """Poll `check` (another process's state) until true; seconds it took. Fails at the
    deadline naming `what`."""
    started = time.monotonic()
    while not await check():
        if time.monotonic() - started > within:
            raise AssertionError(f"not within {within} s: {what}")
        await asyncio.sleep(every)
    return time.monotonic() - started


async def health_becomes(
    address: str, kind: str, status: health_pb2.HealthCheckResponse.ServingStatus, within: float
) -> float:
    """Seconds until Health/Watch of the service reports `status` (event-driven)."""
    started = time.monotonic()
    request = health_pb2.HealthCheckRequest(service=SERVICES[kind][1])
    try:
        async with asyncio.timeout(within), grpc.aio.insecure_channel(address) as channel:
            async for reply in health_pb2_grpc.HealthStub(channel).Watch(
                request, wait_for_ready=True
            ):
                if reply.status == status:
                    return time.monotonic() - started
    except TimeoutError:
        pass
    name = health_pb2.HealthCheckResponse.ServingStatus.Name(status)
    raise AssertionError(f"{kind} at {address} not {name} within {within} s")


async def engine_stats(address: str) -> signals_pb2.GetEngineStatsResponse:
    async with grpc.aio.insecure_channel(address) as channel:
        stub = signals_pb2_grpc.SignalEngineStub(channel)
        return await stub.GetEngineStats(signals_pb2.GetEngineStatsRequest(), timeout=5)


async def latest(address: str, symbols: list[str]) -> list[signals_pb2.Signal]:
    async with grpc.aio.insecure_channel(address) as channel:
        stub = signals_pb2_grpc.SignalEngineStub(channel)
        reply = await stub.GetLatestSignals(
            signals_pb2.GetLatestSignalsRequest(symbols=symbols), timeout=5
        )
    return list(reply.signals)


async def generate(address: str, symbols: list[str]) -> list[signals_pb2.Signal]:
    """Forced signals for `symbols` now (new ones, unless the gateway is away)."""
    async with grpc.aio.insecure_channel(address) as channel:
        stub = signals_pb2_grpc.SignalEngineStub(channel)
        reply = await stub.GenerateSignals(
            signals_pb2.GenerateSignalsRequest(symbols=symbols, force=True), timeout=15
        )
    return list(reply.signals)


async def outbox_drained(engine: RunningService, within: float) -> None:
    async def empty() -> bool:
        return (await engine_stats(engine.address)).outbox_depth == 0

    try:
        await wait_until(empty, within, "the engine's outbox drained")
    except AssertionError as e:
        lines = engine.log_text().splitlines()
        raise AssertionError(f"{e}; engine log tail:\n" + "\n".join(lines[-40:])) from None


class Published:
    """Every signal the engine publishes (StreamSignals from the engine's start on)."""

    def __init__(self, engine: RunningService) -> None:
        self.engine = engine
        self.ids: list[str] = []
        self.arrived = asyncio.Event()
        self.published_before = 0  # the engine's count when the subscription began

    async def caught_up(self, within: float = 10.0) -> list[str]:
        """Every signal the engine published since the subscription, once it has them all
        (the stream may lag behind the outbox); fails if the engine dropped any for it."""

        async def complete() -> bool:
            total = (await engine_stats(self.engine.address)).signals_published_total
            return len(self.ids) >= total - self.published_before

        await wait_until(complete, within, "every published signal arrived on the stream")
        dropped = "argo_signal_engine_stream_dropped_total"
        assert await asyncio.to_thread(metric, self.engine.admin_port, dropped) == 0
        return list(self.ids)

    async def follow(self, address: str) -> None:
        async with grpc.aio.insecure_channel(address) as channel:
            stub = signals_pb2_grpc.SignalEngineStub(channel)
            stream = stub.StreamSignals(signals_pb2.StreamSignalsRequest(), wait_for_ready=True)
            async for reply in stream:
                self.ids.append(reply.signal.signal_id)
                self.arrived.set()


@asynccontextmanager
async def published(engine: RunningService) -> AsyncIterator[Published]:
    """Collect the engine's new signals while the block runs (subscribed on entry)."""
    collector = Published(engine)
    task = asyncio.create_task(collector.follow(engine.address))

    async def subscribed() -> bool:
        metric_name = "argo_signal_engine_stream_subscribers"
        return await asyncio.to_thread(metric, engine.admin_port, metric_name) >= 1

    try:
        await wait_until(subscribed, 10, "StreamSignals subscribed")
        collector.published_before = (await engine_stats(engine.address)).signals_published_total
        yield collector
    finally:
        task.cancel()
        try:
            await task
        except (asyncio.CancelledError, grpc.aio.AioRpcError):
            pass
