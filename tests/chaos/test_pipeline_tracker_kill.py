"""SIGKILL of the tracker (on PostgreSQL) while RecordSignals batches are in flight, from a
direct client and from the engine's outbox: what was acknowledged is stored, a batch cut
off is stored whole or not at all, and the engine re-sends the rest exactly once."""

from __future__ import annotations

import asyncio
import signal
import uuid
from dataclasses import dataclass, field

import grpc
import pytest

from argo.signals.v1 import signals_pb2
from argo.tracker.v1 import tracker_pb2, tracker_pb2_grpc
from tests.chaos.pipeline_support import (
    Pipeline,
    generate,
    outbox_drained,
    pipeline,  # noqa: F401 - fixture
    published,
    wait_until,
)
from tests.chaos.postgres_instance import PostgresInstance, own_postgres  # noqa: F401

pytestmark = [pytest.mark.chaos, pytest.mark.e2e]
SYMBOLS = "AAPL MSFT NVDA TSLA AMZN GOOGL META NFLX BTC-USD ETH-USD SOL-USD DOGE-USD".split()
BATCH = 500


def stored(pg: PostgresInstance) -> set[str]:
    return set(pg.psql("SELECT signal_id::text FROM signals").split())


@dataclass
class DirectWriter:
    """Sends batches of copies of one signal (fresh ids) back to back until a call fails."""

    template: signals_pb2.Signal
    acknowledged: set[str] = field(default_factory=set)
    cut_off: list[set[str]] = field(default_factory=list)
    batches_ok: int = 0
    in_flight: asyncio.Future[object] | None = None

    def batch(self) -> list[signals_pb2.Signal]:
        copies = []
        for _ in range(BATCH):
            copy = signals_pb2.Signal()
            copy.CopyFrom(self.template)
            copy.signal_id = str(uuid.uuid4())
            copies.append(copy)
        return copies

    async def run(self, address: str) -> None:
        async with grpc.aio.insecure_channel(address) as channel:
            stub = tracker_pb2_grpc.TrackerStub(channel)
            while True:
                signals = self.batch()
                call = stub.RecordSignals(
                    tracker_pb2.RecordSignalsRequest(signals=signals), timeout=10
                )
                self.in_flight = asyncio.ensure_future(call)
                try:
                    reply = await self.in_flight
                except grpc.aio.AioRpcError as e:
                    assert e.code() == grpc.StatusCode.UNAVAILABLE, e
                    self.cut_off.append({s.signal_id for s in signals})
                    return
                assert reply.accepted == BATCH
                self.acknowledged |= {r.signal_id for r in reply.results}
                self.batches_ok += 1


@pytest.mark.asyncio
async def test_a_tracker_killed_mid_batch_keeps_every_acknowledged_signal(
    pipeline: Pipeline,  # noqa: F811
    own_postgres: PostgresInstance,  # noqa: F811
) -> None:
    """Failing would mean: a signal the tracker acknowledged (the engine then deleted it from
    its outbox) is gone after a crash, a batch is half-stored, or the engine's re-sent
    signals are lost or stored twice: outcome statistics built on them would be wrong."""
    pg, procs = own_postgres, pipeline
    procs.wire(SYMBOLS=",".join(SYMBOLS), CYCLE_SECONDS="0.5", DATABASE_URL=pg.url)
    procs.start("gateway", "market-gateway")
    tracker = procs.start("tracker", "tracker")
    await procs.serving("gateway", "market-gateway")
    await procs.serving("tracker", "tracker")
    engine = procs.start("engine", "signal-engine")
    await procs.serving("engine", "signal-engine")

    async with published(engine) as signals:
        writer = DirectWriter((await generate(engine.address, SYMBOLS))[0])
        await outbox_drained(engine, within=10)
        before = stored(pg)  # includes cycles from before the subscription
        writing = asyncio.create_task(writer.run(tracker.address))

        async def engine_load() -> None:
            while True:
                await generate(engine.address, SYMBOLS)  # forced: new signals every call

        loading = asyncio.create_task(engine_load())

        async def some_acknowledged() -> bool:
            return writer.batches_ok >= 3 or writing.done()

        await wait_until(some_acknowledged, 20, "three direct batches acknowledged", 0.005)
        assert writer.in_flight is not None and not writer.in_flight.done()
        procs.signal("tracker", signal.SIGKILL)  # a batch is unanswered right now
        await asyncio.wait_for(writing, 15)
        loading.cancel()
        await asyncio.gather(loading, return_exceptions=True)

        tracker = procs.start("tracker", "tracker")
        await procs.serving("tracker", "tracker")
        await outbox_drained(engine, within=30)
        produced = await signals.caught_up()

    after = stored(pg)
    assert writer.batches_ok >= 3 and writer.cut_off
    assert writer.acknowledged <= after  # nothing acknowledged was lost
    for batch in writer.cut_off:  # one transaction: all of it or none of it
        assert batch <= after or not batch & after
    engine_ids = after - writer.acknowledged - set().union(*writer.cut_off)
    assert len(produced) == len(set(produced)) and len(produced) > len(SYMBOLS)
    assert engine_ids == before | set(produced)  # the engine's: each once, no gaps
