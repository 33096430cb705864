"""The market gateway stopped (SIGTERM, then SIGKILL) and restarted while the engine runs
cycles: the engine marks its signals stale meanwhile, and its cycles serve fresh signals
again within one cycle time of the gateway being SERVING, without an engine restart."""

from __future__ import annotations

import signal
import time

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc

from tests.chaos.pipeline_support import (
    SERVING,
    Pipeline,
    engine_stats,
    latest,
    pipeline,  # noqa: F401 - fixture
    wait_until,
)
from tests.e2e.suite import SERVICES

pytestmark = [pytest.mark.chaos, pytest.mark.e2e]
SYMBOLS = ["AAPL", "MSFT", "NVDA", "BTC-USD", "ETH-USD", "SOL-USD"]
CYCLE = 1.0
SLACK = 0.5  # the cycle's own work and this test's polling


async def serving_now(address: str) -> bool:
    """One Health/Check on a fresh channel (no reconnect backoff of the test's own)."""
    request = health_pb2.HealthCheckRequest(service=SERVICES["market-gateway"][1])
    async with grpc.aio.insecure_channel(address) as channel:
        try:
            reply = await health_pb2_grpc.HealthStub(channel).Check(request, timeout=0.5)
        except grpc.aio.AioRpcError:
            return False
    return bool(reply.status == SERVING)


@pytest.mark.asyncio
@pytest.mark.parametrize("stop_signal", [signal.SIGTERM, signal.SIGKILL], ids=["term", "kill"])
async def test_engine_cycles_resume_within_a_cycle_of_the_gateway_returning(
    pipeline: Pipeline,  # noqa: F811
    stop_signal: signal.Signals,
) -> None:
    """Failing would mean: after a gateway deploy or crash the engine serves stale signals
    for longer than a cycle (reconnect backoff, a wedged channel) or needs a restart, or
    it presents signals as current while it cannot refresh them."""
    procs = pipeline
    config = procs.workdir / "argo.yaml"
    config.write_text("signal_engine:\n  quiet_poll_multiplier: 1.0\n")  # every symbol, every cycle
    procs.wire(
        SYMBOLS=",".join(SYMBOLS),
        CYCLE_SECONDS=str(CYCLE),
        DATABASE_URL=f"sqlite:///{procs.workdir / 'tracker.db'}",
        GATEWAY_DEADLINE_SECONDS="1",
    )
    gateway = procs.start("gateway", "market-gateway")
    procs.start("tracker", "tracker")
    await procs.serving("gateway", "market-gateway")
    await procs.serving("tracker", "tracker")
    engine = procs.start("engine", "signal-engine", ARGO_CONFIG=str(config))
    await procs.serving("engine", "signal-engine")

    async def all_fresh() -> bool:
        signals = await latest(engine.address, SYMBOLS)
        return len(signals) == len(SYMBOLS) and not any(s.stale for s in signals)

    async def all_stale() -> bool:
        signals = await latest(engine.address, SYMBOLS)
        return len(signals) == len(SYMBOLS) and all(s.stale for s in signals)

    await wait_until(all_fresh, 15, "a signal for every symbol")
    cycles_before = (await engine_stats(engine.address)).cycles_total

    procs.signal("gateway", stop_signal)
    await wait_until(all_stale, 3 * CYCLE + 2, "every signal marked stale without the gateway")
    stale_ids = {s.symbol: s.signal_id for s in await latest(engine.address, SYMBOLS)}
    assert (await engine_stats(engine.address)).cycles_total > cycles_before  # it kept cycling

    gateway = procs.start("gateway", "market-gateway")
    await wait_until(lambda: serving_now(gateway.address), 30, "the gateway SERVING", 0.02)
    serving_at = time.monotonic()
    await wait_until(all_fresh, CYCLE + SLACK + 5, "fresh signals after the gateway returned")
    took = time.monotonic() - serving_at
    assert took <= CYCLE + SLACK, f"cycles resumed {took:.2f} s after the gateway was SERVING"
    fresh = await latest(engine.address, SYMBOLS)
    assert all(not s.stale for s in fresh) and {s.symbol for s in fresh} == set(stale_ids)
    assert engine.process.poll() is None  # the same engine process throughout
