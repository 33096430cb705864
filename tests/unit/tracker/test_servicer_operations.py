"""Calibration, archive and analytics RPCs in an in-process server wired by bootstrap."""

from __future__ import annotations

import random
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import TYPE_CHECKING, cast

import grpc
import pytest
import pytest_asyncio

from argo.signals.v1 import signals_pb2
from argo.tracker.v1 import tracker_pb2, tracker_pb2_grpc
from service_runtime.clock import FakeClock
from service_runtime.grpc_errors import field_violations
from service_runtime.wiring import Wiring
from tracker.bootstrap import bootstrap, build_components
from tracker.config import load_settings
from tracker.domain import archive_keys
from tracker.grpc_api import mapping

from .factories import T0, make_series
from .fakes import FakeObjectStore, FakePriceSource, FakeSignalStore
from .test_calibration import seed_outcomes

if TYPE_CHECKING:
    Stub = tracker_pb2_grpc.TrackerAsyncStub


@pytest_asyncio.fixture
async def wired(
    fake_store: FakeSignalStore,
    fake_prices: FakePriceSource,
    fake_objects: FakeObjectStore,
    clock: FakeClock,
) -> AsyncIterator[tuple[Stub, Wiring]]:
    clock.set(T0 + timedelta(days=2))
    wiring = await bootstrap(
        load_settings({}), clock=clock, store=fake_store, prices=fake_prices, objects=fake_objects
    )
    server = grpc.aio.server()
    wiring.register(server)
    port = server.add_insecure_port("127.0.0.1:0")
    await server.start()
    channel = grpc.aio.insecure_channel(f"127.0.0.1:{port}")
    try:
        yield cast("Stub", tracker_pb2_grpc.TrackerStub(channel)), wiring
    finally:
        await channel.close()
        await server.stop(None)
        await wiring.exit_stack.aclose()


async def rpc_error(call: object) -> grpc.aio.AioRpcError:
    with pytest.raises(grpc.aio.AioRpcError) as error:
        await call  # type: ignore[misc]
    return error.value


@pytest.mark.asyncio
async def test_get_calibration_serves_the_fit_and_falls_back_to_global(
    wired: tuple[Stub, Wiring], fake_store: FakeSignalStore, clock: FakeClock
) -> None:
    stub, _ = wired
    await seed_outcomes(fake_store, "AAPL", 600, random.Random(1))
    missing = await rpc_error(stub.GetCalibration(tracker_pb2.GetCalibrationRequest()))
    assert missing.code() == grpc.StatusCode.NOT_FOUND
    # Another process (the `calibrate` command, or a replica's loop) fits; this one serves.
    c = await build_components(
        load_settings({}), store=fake_store, prices=FakePriceSource(), objects=FakeObjectStore()
    )
    await c.calibration.fit_all()
    await c.exit_stack.aclose()
    clock.advance(30)  # what the serving replica loaded expires, and it reads the new fit
    aapl = await stub.GetCalibration(tracker_pb2.GetCalibrationRequest(symbol="AAPL"))
    assert aapl.symbol == "AAPL" and not aapl.global_fallback
    assert aapl.method in (
        tracker_pb2.CALIBRATION_METHOD_ISOTONIC,
        tracker_pb2.CALIBRATION_METHOD_PLATT,
    )
    knots = [p.raw_confidence for p in aapl.points]
    assert knots == sorted(knots) and len(knots) >= 2
    assert aapl.sample_size == 600 and aapl.held_out_size == 180
    assert aapl.ece_after < aapl.ece_before and aapl.HasField("fit_time")
    other = await stub.GetCalibration(tracker_pb2.GetCalibrationRequest(symbol="ETH-USD"))
    assert other.global_fallback and other.symbol == ""


@pytest.mark.asyncio
async def test_run_archive_then_list_archives(
    wired: tuple[Stub, Wiring], fake_objects: FakeObjectStore
) -> None:
    stub, _ = wired
    batch = [mapping.signal_to_pb(s) for s in make_series(12)]
    await stub.RecordSignals(tracker_pb2.RecordSignalsRequest(signals=batch))
    day = T0.date().isoformat()
    run = await stub.RunArchive(tracker_pb2.RunArchiveRequest(date=day))
    assert (run.date, run.rows, run.compression, run.pruned_rows) == (day, 12, "zstd", 0)
    stored = fake_objects.objects[archive_keys(T0.date()).data]
    assert run.bytes == len(stored) and run.location == f"memory://{archive_keys(T0.date()).data}"
    await stub.RunArchive(tracker_pb2.RunArchiveRequest(date="2026-11-16"))
    first = await stub.ListArchives(tracker_pb2.ListArchivesRequest(page_size=1))
    assert [m.date for m in first.manifests] == [day] and first.next_page_token
    second = await stub.ListArchives(
        tracker_pb2.ListArchivesRequest(page_size=1, page_token=first.next_page_token)
    )
    assert [m.date for m in second.manifests] == ["2026-11-16"]
    assert second.manifests[0].rows == 0 and not second.next_page_token
    bad = await rpc_error(
        stub.ListArchives(tracker_pb2.ListArchivesRequest(start_date="17/11/2026", page_size=-1))
    )
    assert [f for f, _ in field_violations(bad)] == ["start_date"]
    reversed_dates = await rpc_error(
        stub.ListArchives(
            tracker_pb2.ListArchivesRequest(start_date="2026-11-18", end_date="2026-11-17")
        )
    )
    assert [f for f, _ in field_violations(reversed_dates)] == ["end_date"]


@pytest.mark.asyncio
async def test_archive_failures_have_precise_codes(
    wired: tuple[Stub, Wiring], fake_objects: FakeObjectStore
) -> None:
    stub, _ = wired
    fake_objects.down = True
    down = await rpc_error(stub.RunArchive(tracker_pb2.RunArchiveRequest(date="2026-11-17")))
    assert down.code() == grpc.StatusCode.UNAVAILABLE
    assert "object store" in (down.details() or "")
    fake_objects.down = False

    original_put = fake_objects.put

    async def corrupting_put(key: str, data: bytes) -> None:
        await original_put(key, data[::-1])

    fake_objects.put = corrupting_put  # type: ignore[method-assign]
    corrupt = await rpc_error(stub.RunArchive(tracker_pb2.RunArchiveRequest(date="2026-11-17")))
    assert corrupt.code() == grpc.StatusCode.DATA_LOSS


@pytest.mark.asyncio
async def test_get_analytics(wired: tuple[Stub, Wiring]) -> None:
    stub, _ = wired
    batch = [mapping.signal_to_pb(s) for s in make_series(4, confidence=73.0)]
    await stub.RecordSignals(tracker_pb2.RecordSignalsRequest(signals=batch))
    found = await stub.GetAnalytics(tracker_pb2.GetAnalyticsRequest(symbol="AAPL", days=7))
    assert [(d.date, d.action, d.signals) for d in found.daily] == [
        (T0.date().isoformat(), signals_pb2.ACTION_BUY, 4)
    ]
    assert [(p.symbol, p.open) for p in found.symbols] == [("AAPL", 4)]
    assert [(b.confidence_low, b.confidence_high, b.signals) for b in found.confidence] == [
        (70.0, 80.0, 4)
    ]
    assert found.HasField("refresh_time")
    bad = await rpc_error(stub.GetAnalytics(tracker_pb2.GetAnalyticsRequest(days=5000)))
    assert [f for f, _ in field_violations(bad)] == ["days"]


@pytest.mark.asyncio
async def test_background_loops_are_wired(wired: tuple[Stub, Wiring]) -> None:
    _, wiring = wired
    names = sorted(getattr(loop, "__qualname__", "") for loop in wiring.background)
    assert names == ["CalibrationService.run", "OutcomeTracker.run"]  # no views to refresh
