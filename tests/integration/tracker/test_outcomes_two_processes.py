"""Two tracker processes resolve the same open signals on PostgreSQL: each exactly once.

Both run `python -m tracker.commands track-outcomes --once` against one schema and a fake
gateway in this process. The gateway holds the first quote call of each process until
both are waiting, so the two really hold claims (row locks) at the same time.
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import grpc
import pytest
import pytest_asyncio
from google.protobuf.timestamp_pb2 import Timestamp

from argo.marketdata.v1 import marketdata_pb2 as pb
from argo.marketdata.v1 import marketdata_pb2_grpc
from tests.unit.tracker.factories import T0, make_signal
from tracker.adapters.postgres_store import PostgresSignalStore
from tracker.domain import Outcome, SignalFilter

pytestmark = pytest.mark.integration

SIGNALS = 120
BATCH = 15


def ts(seconds_after_t0: float) -> Timestamp:
    out = Timestamp()
    out.FromDatetime(T0 + timedelta(seconds=seconds_after_t0))
    return out


class RendezvousGateway(marketdata_pb2_grpc.MarketGatewayServicer):
    """AAPL's second minute (the first after the signals) touches 101; the first two quote
    calls wait for each other."""

    def __init__(self) -> None:
        self.waiting = 0
        self.both_arrived = asyncio.Event()
        self.quote_calls = 0

    async def GetQuotes(
        self, request: pb.GetQuotesRequest, context: grpc.aio.ServicerContext
    ) -> pb.GetQuotesResponse:
        self.quote_calls += 1
        if not self.both_arrived.is_set():
            self.waiting += 1
            if self.waiting >= 2:
                self.both_arrived.set()
            try:
                await asyncio.wait_for(self.both_arrived.wait(), timeout=30)
            except TimeoutError:
                pass  # the test's assertions will say the claims never overlapped
        return pb.GetQuotesResponse(quotes=[pb.Quote(symbol="AAPL", price=100.4, time=ts(30))])

    async def GetBars(
        self, request: pb.GetBarsRequest, context: grpc.aio.ServicerContext
    ) -> pb.GetBarsResponse:
        bar = pb.Bar(start_time=ts(60), open=100.0, high=101.5, low=99.8, close=101.2)
        return pb.GetBarsResponse(symbol="AAPL", bars=[bar])


@pytest_asyncio.fixture
async def gateway() -> AsyncIterator[tuple[RendezvousGateway, int]]:
    fake = RendezvousGateway()
    server = grpc.aio.server()
    marketdata_pb2_grpc.add_MarketGatewayServicer_to_server(fake, server)
    port = server.add_insecure_port("127.0.0.1:0")
    await server.start()
    try:
        yield fake, port
    finally:
        await server.stop(None)


@pytest.mark.asyncio
async def test_two_processes_resolve_each_signal_exactly_once(
    schema_url: str, gateway: tuple[RendezvousGateway, int], tmp_path: Path
) -> None:
    fake, port = gateway
    store = PostgresSignalStore(schema_url)
    signals = [
        make_signal(
            create_time=T0 + timedelta(microseconds=i),
            entry_price=100.0,
            target_price=101.0,
            stop_price=95.0,
        )
        for i in range(SIGNALS)
    ]
    await store.record(signals, record_time=T0)
    config = tmp_path / "argo.yaml"
    config.write_text(f"tracker:\n  outcome_batch_size: {BATCH}\n")
    env = {
        **os.environ,
        "DATABASE_URL": schema_url,
        "MARKET_GATEWAY_ADDR": f"127.0.0.1:{port}",
        "ARGO_CLOCK_START": (T0 + timedelta(minutes=10)).isoformat(),
        "ARGO_CONFIG": str(config),
        "ARCHIVE_URL": f"file://{tmp_path}/archive",
        "LOG_FORMAT": "json",
    }
    processes = [
        await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "tracker.commands",
            "track-outcomes",
            "--once",
            env=env,
            cwd=tmp_path,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )  # fmt: skip
        for _ in range(2)
    ]
    outputs = await asyncio.wait_for(
        asyncio.gather(*(p.communicate() for p in processes)), timeout=90
    )
    results = []
    for process, (out, err) in zip(processes, outputs, strict=True):
        assert process.returncode == 0, err.decode()[-2000:]
        results.append(json.loads(out))
    first, second = ({*r["resolved"]} for r in results)
    assert fake.both_arrived.is_set(), "the two processes never held claims at the same time"
    assert first and second, "one process did all the work: the claims did not overlap"
    assert not first & second
    assert first | second == {s.signal_id for s in signals}
    # SKIP LOCKED: what one process held, the other never even examined.
    assert sum(r["examined"] for r in results) == SIGNALS
    rows, _ = await store.query(SignalFilter(), 1000, None)
    assert {t.outcome for t in rows} == {Outcome.WIN}
    assert {t.exit_price for t in rows} == {101.0}
    await store.aclose()
