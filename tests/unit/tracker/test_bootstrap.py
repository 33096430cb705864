"""The composition root: real SQLite wiring, readiness, hot-reloaded tunables."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import cast

import grpc
import pytest

from argo.tracker.v1 import tracker_pb2, tracker_pb2_grpc
from service_runtime.clock import FakeClock
from service_runtime.settings import ConfigError
from service_runtime.wiring import Wiring
from tracker.bootstrap import bootstrap
from tracker.config import load_settings
from tracker.grpc_api import mapping

from .factories import make_series
from .fakes import FakeSignalStore


async def record_and_query(wiring: Wiring, count: int) -> tracker_pb2.QuerySignalsResponse:
    server = grpc.aio.server()
    wiring.register(server)
    port = server.add_insecure_port("127.0.0.1:0")
    await server.start()
    try:
        async with grpc.aio.insecure_channel(f"127.0.0.1:{port}") as channel:
            stub = cast("tracker_pb2_grpc.TrackerAsyncStub", tracker_pb2_grpc.TrackerStub(channel))
            batch = [mapping.signal_to_pb(s) for s in make_series(count)]
            await stub.RecordSignals(tracker_pb2.RecordSignalsRequest(signals=batch))
            request = tracker_pb2.QuerySignalsRequest()
            response: tracker_pb2.QuerySignalsResponse = await stub.QuerySignals(request)
            return response
    finally:
        await server.stop(None)


@pytest.mark.asyncio
async def test_real_sqlite_wiring(tmp_path: Path, clock: FakeClock) -> None:
    path = tmp_path / "data" / "tracker.db"
    settings = load_settings({"DATABASE_URL": f"sqlite:///{path}"})
    wiring = await bootstrap(settings, clock=clock)
    try:
        assert list(wiring.service_names) == ["argo.tracker.v1.Tracker"]
        assert wiring.ready is not None and await wiring.ready() is True
        response = await record_and_query(wiring, 5)
        assert len(response.signals) == 5
        performance = wiring.performance()
        assert performance["database"] == "sqlite"
        assert performance["total_signals_recorded"] == 5
        assert set(performance) >= {"total_duplicates", "avg_record_time"}
    finally:
        await wiring.exit_stack.aclose()
    assert path.exists()
    assert await wiring.ready() is False  # closed by the exit stack


@pytest.mark.asyncio
async def test_database_down_at_start_is_not_fatal(
    fake_store: FakeSignalStore, clock: FakeClock
) -> None:
    fake_store.unavailable = True
    wiring = await bootstrap(load_settings({}), clock=clock, store=fake_store)
    assert wiring.ready is not None
    assert await wiring.ready() is False
    fake_store.unavailable = False
    assert await wiring.ready() is True
    await wiring.exit_stack.aclose()
    assert fake_store.closed is False  # a store passed in belongs to the caller


@pytest.mark.asyncio
async def test_tunables_apply_and_bad_ones_are_rejected(
    fake_store: FakeSignalStore, clock: FakeClock
) -> None:
    wiring = await bootstrap(load_settings({}), clock=clock, store=fake_store)
    assert wiring.apply_config is not None
    wiring.apply_config({"tracker": {"query_default_page_size": 4}})
    response = await record_and_query(wiring, 6)
    assert len(response.signals) == 4 and response.next_page_token
    with pytest.raises(ValueError, match="query_default_page_size"):
        wiring.apply_config({"query_default_page_size": 5000})
    await wiring.exit_stack.aclose()


@pytest.mark.asyncio
async def test_unusable_database_url_is_a_config_error(clock: FakeClock) -> None:
    settings = dataclasses.replace(load_settings({}), database_url="sqlite:///")
    with pytest.raises(ConfigError, match="DATABASE_URL"):
        await bootstrap(settings, clock=clock)
