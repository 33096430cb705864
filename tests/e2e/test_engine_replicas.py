"""Two engine processes against the real Redis split 20 symbols without overlap, and each
takes over the other's symbols within one lease period when it is killed."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import AsyncIterator

import grpc
import pytest
import pytest_asyncio
from redis.asyncio import Redis

from argo.signals.v1 import signals_pb2, signals_pb2_grpc
from signal_engine.domain import rendezvous_owner
from tests.e2e.test_engine_outbox import Processes, processes  # noqa: F401 - fixture

pytestmark = pytest.mark.e2e
SYMBOLS = (
    "AAPL MSFT NVDA TSLA AMZN GOOGL META NFLX AMD INTC ORCL IBM "
    "BTC-USD ETH-USD SOL-USD DOGE-USD LTC-USD XRP-USD ADA-USD AVAX-USD"
).split()
LEASE = 2.0
REPLICAS = ("engine-a", "engine-b")


def share(replica: str, members: tuple[str, ...]) -> set[str]:
    return {s for s in SYMBOLS if rendezvous_owner(s, members) == replica}


async def owned(procs: Processes, name: str) -> set[str]:
    async with grpc.aio.insecure_channel(procs.address(name)) as channel:
        stub = signals_pb2_grpc.SignalEngineStub(channel)
        stats = await stub.GetEngineStats(signals_pb2.GetEngineStatsRequest(), timeout=5)
    assert stats.replica_id == name and len(stats.configured_symbols) == 20
    return set(stats.symbols)


async def computed(procs: Processes, name: str) -> set[str]:
    async with grpc.aio.insecure_channel(procs.address(name)) as channel:
        stub = signals_pb2_grpc.SignalEngineStub(channel)
        reply = await stub.GetLatestSignals(signals_pb2.GetLatestSignalsRequest(), timeout=5)
    return {s.symbol for s in reply.signals}


async def settle(procs: Processes, wanted: dict[str, set[str]], within: float) -> float:
    """Seconds until every named engine owns exactly its wanted symbols."""
    started = time.monotonic()
    async with asyncio.timeout(within):
        while True:
            views = {name: await owned(procs, name) for name in wanted}
            if views == wanted:
                return time.monotonic() - started
            await asyncio.sleep(0.05)


@pytest_asyncio.fixture
async def engines(processes: Processes, redis_url: str) -> AsyncIterator[Processes]:  # noqa: F811
    prefix = f"e2e:engine:{uuid.uuid4().hex}"
    processes.env.update(
        {
            "MARKET_GATEWAY_ADDR": processes.address("gateway"),
            "TRACKER_ADDR": processes.address("tracker"),  # never started: outboxes hold
            "REDIS_URL": redis_url,
            "ENGINE_REDIS_KEY_PREFIX": prefix,
            "ENGINE_LEASE_SECONDS": str(LEASE),
            "SYMBOLS": ",".join(SYMBOLS),
            "CYCLE_SECONDS": "0.25",
        }
    )
    processes.start("gateway", "market-gateway")
    await processes.serving("gateway", "market-gateway")
    for name in REPLICAS:
        start_engine(processes, name)
    for name in REPLICAS:
        await processes.serving(name, "signal-engine")
    yield processes
    processes.stop_all()
    client = Redis.from_url(redis_url)
    keys = [k async for k in client.scan_iter(match=f"{{{prefix}}}:*")]
    if keys:
        await client.delete(*keys)
    await client.aclose()


def start_engine(procs: Processes, name: str) -> None:
    outbox = procs.workdir / f"outbox-{name}"
    procs.start(name, "signal-engine", ENGINE_REPLICA_ID=name, ENGINE_OUTBOX_DIR=str(outbox))


@pytest.mark.asyncio
async def test_two_engines_split_twenty_symbols_and_take_over_each_others(
    engines: Processes,
) -> None:
    procs = engines
    both = {name: share(name, REPLICAS) for name in REPLICAS}
    assert all(0 < len(s) < 20 for s in both.values())
    await settle(procs, both, within=5 * LEASE)
    for _ in range(20):  # sampled over a second of cycles: disjoint and complete
        views = [await owned(procs, name) for name in REPLICAS]
        assert not views[0] & views[1] and views[0] | views[1] == set(SYMBOLS)
        await asyncio.sleep(0.05)
    assert all([await computed(procs, name) for name in REPLICAS])  # both cycle

    for dead, alive in (("engine-a", "engine-b"), ("engine-b", "engine-a")):
        procs.kill(dead)  # SIGKILL: its leases are never released, they lapse
        took = await settle(procs, {alive: set(SYMBOLS)}, within=3 * LEASE)
        assert took <= LEASE + 0.5, f"{alive} took {took:.2f} s to take over"
        start_engine(procs, dead)  # back again: the split returns
        await procs.serving(dead, "signal-engine")
        await settle(procs, both, within=5 * LEASE)
