"""PostgreSQL stopped mid-run under a tracker on the test's own server: the tracker says
UNAVAILABLE and NOT_SERVING, the engine's outbox holds the signals, and after the restart
every signal the engine produced is stored exactly once."""

from __future__ import annotations

import asyncio

import grpc
import pytest

from argo.tracker.v1 import tracker_pb2, tracker_pb2_grpc
from tests.chaos.pipeline_support import (
    NOT_SERVING,
    SERVING,
    Pipeline,
    engine_stats,
    generate,
    health_becomes,
    outbox_drained,
    pipeline,  # noqa: F401 - fixture
    published,
    wait_until,
)
from tests.chaos.postgres_instance import PostgresInstance, own_postgres  # noqa: F401
from tests.e2e.test_engine_outbox import metric

pytestmark = [pytest.mark.chaos, pytest.mark.e2e]
SYMBOLS = ["AAPL", "MSFT", "BTC-USD", "ETH-USD"]


def stored(pg: PostgresInstance) -> list[str]:
    """Every stored signal id, straight from the database (a duplicate would show twice)."""
    return sorted(pg.psql("SELECT signal_id::text FROM signals").split())


async def tracker_call_status(address: str, signal: object) -> grpc.StatusCode:
    async with grpc.aio.insecure_channel(address) as channel:
        stub = tracker_pb2_grpc.TrackerStub(channel)
        try:
            await stub.RecordSignals(tracker_pb2.RecordSignalsRequest(signals=[signal]), timeout=5)
        except grpc.aio.AioRpcError as e:
            return e.code()
        return grpc.StatusCode.OK


async def query_status(address: str) -> grpc.StatusCode:
    async with grpc.aio.insecure_channel(address) as channel:
        stub = tracker_pb2_grpc.TrackerStub(channel)
        try:
            await stub.QuerySignals(tracker_pb2.QuerySignalsRequest(page_size=10), timeout=5)
        except grpc.aio.AioRpcError as e:
            return e.code()
        return grpc.StatusCode.OK


@pytest.mark.asyncio
async def test_postgres_outage_is_unavailable_and_loses_or_doubles_no_signal(
    pipeline: Pipeline,  # noqa: F811
    own_postgres: PostgresInstance,  # noqa: F811
) -> None:
    """Failing would mean: signals formed while the database was down are lost (or stored
    twice after it returns), callers see INTERNAL (a bug code, not retried) instead of
    UNAVAILABLE, or the orchestrator keeps routing to a tracker that cannot store."""
    pg, procs = own_postgres, pipeline
    procs.wire(SYMBOLS=",".join(SYMBOLS), CYCLE_SECONDS="0.5", DATABASE_URL=pg.url)
    procs.start("gateway", "market-gateway")
    tracker = procs.start("tracker", "tracker")
    await procs.serving("gateway", "market-gateway")
    await procs.serving("tracker", "tracker")
    engine = procs.start("engine", "signal-engine")
    await procs.serving("engine", "signal-engine")

    async with published(engine) as signals:
        sample = (await generate(engine.address, SYMBOLS))[0]
        await outbox_drained(engine, within=10)
        before = set(stored(pg))  # cycles ran before the subscription: their signals
        assert sample.signal_id in before

        pg.stop()
        assert await query_status(tracker.address) == grpc.StatusCode.UNAVAILABLE
        assert await tracker_call_status(tracker.address, sample) == grpc.StatusCode.UNAVAILABLE
        await health_becomes(tracker.address, "tracker", NOT_SERVING, within=10)

        held: set[str] = set()
        for _ in range(3):
            held |= {s.signal_id for s in await generate(engine.address, SYMBOLS) if not s.stale}

        async def holding() -> bool:
            return (await engine_stats(engine.address)).outbox_depth >= len(held)

        assert held
        await wait_until(holding, 10, "the outbox holds the signals formed during the outage")
        depth = (await engine_stats(engine.address)).outbox_depth
        exported = await asyncio.to_thread(
            metric, engine.admin_port, "argo_signal_engine_outbox_depth"
        )
        assert exported >= len(held) and depth >= len(held)

        pg.start()
        await health_becomes(tracker.address, "tracker", SERVING, within=15)
        await outbox_drained(engine, within=30)
        produced = sorted(await signals.caught_up())

    assert held <= set(produced) and len(set(produced)) == len(produced)
    assert stored(pg) == sorted(before | set(produced))  # every one, each once, nothing else
    assert (await engine_stats(engine.address)).outbox_refused_total == 0
    assert "rpc_failed_unexpectedly" not in tracker.log_text()
