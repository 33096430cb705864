"""The Tracker gRPC API in an in-process server (wired by bootstrap) on 127.0.0.1:0."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING, cast

import grpc
import pytest
import pytest_asyncio

from argo.signals.v1 import signals_pb2
from argo.tracker.v1 import tracker_pb2, tracker_pb2_grpc
from service_runtime.clock import FakeClock
from service_runtime.grpc_errors import field_violations
from tracker.bootstrap import bootstrap
from tracker.config import load_settings
from tracker.grpc_api import mapping

from .factories import make_series, make_signal
from .fakes import FakeObjectStore, FakePriceSource, FakeSignalStore

if TYPE_CHECKING:
    Stub = tracker_pb2_grpc.TrackerAsyncStub


@pytest_asyncio.fixture
async def stub(
    fake_store: FakeSignalStore,
    fake_prices: FakePriceSource,
    fake_objects: FakeObjectStore,
    clock: FakeClock,
) -> AsyncIterator[Stub]:
    wiring = await bootstrap(
        load_settings({}), clock=clock, store=fake_store, prices=fake_prices, objects=fake_objects
    )
    server = grpc.aio.server()
    wiring.register(server)
    port = server.add_insecure_port("127.0.0.1:0")
    await server.start()
    channel = grpc.aio.insecure_channel(f"127.0.0.1:{port}")
    try:
        yield cast("Stub", tracker_pb2_grpc.TrackerStub(channel))
    finally:
        await channel.close()
        await server.stop(None)
        await wiring.exit_stack.aclose()


def record_request(count: int = 3) -> tracker_pb2.RecordSignalsRequest:
    return tracker_pb2.RecordSignalsRequest(
        signals=[mapping.signal_to_pb(s) for s in make_series(count)]
    )


async def rpc_error(call: object) -> grpc.aio.AioRpcError:
    with pytest.raises(grpc.aio.AioRpcError) as error:
        await call  # type: ignore[misc]
    return error.value


@pytest.mark.asyncio
async def test_record_then_record_again_counts_duplicates(stub: Stub) -> None:
    request = record_request(3)
    first = await stub.RecordSignals(request)
    again = await stub.RecordSignals(request)
    assert (first.accepted, first.duplicate) == (3, 0)
    assert (again.accepted, again.duplicate) == (0, 3)


@pytest.mark.asyncio
async def test_invalid_signals_are_answered_per_item_and_the_rest_stored(
    stub: Stub, fake_store: FakeSignalStore
) -> None:
    request = record_request(5)
    request.signals[3].confidence = 150.0
    request.signals[1].action = signals_pb2.ACTION_UNSPECIFIED
    request.signals[4].ClearField("expire_time")
    request.signals[0].lineage[1].weight = 3.0
    request.signals[2].signal_id = request.signals[2].signal_id.upper()
    response = await stub.RecordSignals(request)
    assert (response.accepted, response.duplicate, response.rejected) == (1, 0, 4)
    assert [r.status for r in response.results] == [
        tracker_pb2.RECORD_STATUS_REJECTED,
        tracker_pb2.RECORD_STATUS_REJECTED,
        tracker_pb2.RECORD_STATUS_ACCEPTED,
        tracker_pb2.RECORD_STATUS_REJECTED,
        tracker_pb2.RECORD_STATUS_REJECTED,
    ]
    assert [[v.field for v in r.violations] for r in response.results] == [
        ["lineage[1].weight"],
        ["action"],
        [],
        ["confidence"],
        ["expire_time"],
    ]
    assert response.results[3].reason == "confidence: must be within 0..100, got 150.0"
    assert response.results[2].signal_id == request.signals[2].signal_id.lower()
    assert [r.signal_id for r in response.results] == [s.signal_id.lower() for s in request.signals]
    assert list(fake_store.rows) == [request.signals[2].signal_id.lower()]


@pytest.mark.asyncio
async def test_all_or_nothing_is_invalid_argument_with_field_violations(
    stub: Stub, fake_store: FakeSignalStore
) -> None:
    request = record_request(5)
    request.all_or_nothing = True
    request.signals[3].confidence = 150.0
    request.signals[1].action = signals_pb2.ACTION_UNSPECIFIED
    request.signals[4].ClearField("expire_time")
    request.signals[0].lineage[1].weight = 3.0
    error = await rpc_error(stub.RecordSignals(request))
    assert error.code() == grpc.StatusCode.INVALID_ARGUMENT
    fields = {f for f, _ in field_violations(error)}
    assert fields == {
        "signals[0].lineage[1].weight",
        "signals[1].action",
        "signals[3].confidence",
        "signals[4].expire_time",
    }
    assert "signals[3].confidence" in (error.details() or "")
    assert fake_store.rows == {}


@pytest.mark.asyncio
async def test_empty_and_oversized_batches_are_rejected(stub: Stub) -> None:
    empty = await rpc_error(stub.RecordSignals(tracker_pb2.RecordSignalsRequest()))
    assert [f for f, _ in field_violations(empty)] == ["signals"]
    signal = mapping.signal_to_pb(make_signal())
    big = tracker_pb2.RecordSignalsRequest(signals=[signal] * 1001)
    assert [f for f, _ in field_violations(await rpc_error(stub.RecordSignals(big)))] == ["signals"]


@pytest.mark.asyncio
async def test_250_signals_come_back_in_3_pages_of_100(stub: Stub) -> None:
    signals = make_series(250, ties=2)
    for start in range(0, 250, 50):
        batch = [mapping.signal_to_pb(s) for s in signals[start : start + 50]]
        await stub.RecordSignals(tracker_pb2.RecordSignalsRequest(signals=batch))
    pages: list[list[str]] = []
    token = ""
    while True:
        response = await stub.QuerySignals(
            tracker_pb2.QuerySignalsRequest(page_size=100, page_token=token)
        )
        pages.append([t.signal.signal_id for t in response.signals])
        token = response.next_page_token
        if not token:
            break
    assert [len(p) for p in pages] == [100, 100, 50]
    ordered = sorted(signals, key=lambda s: (s.create_time, s.signal_id), reverse=True)
    assert [i for p in pages for i in p] == [s.signal_id for s in ordered]


@pytest.mark.asyncio
async def test_query_errors_carry_field_violations(stub: Stub) -> None:
    await stub.RecordSignals(record_request(3))
    first = await stub.QuerySignals(tracker_pb2.QuerySignalsRequest(page_size=1))
    wrong_filter = tracker_pb2.QuerySignalsRequest(
        filter=tracker_pb2.SignalFilter(symbols=["AAPL"]),
        page_size=1,
        page_token=first.next_page_token,
    )
    cases = [
        (wrong_filter, "page_token"),
        (tracker_pb2.QuerySignalsRequest(page_size=1001), "page_size"),
        (tracker_pb2.QuerySignalsRequest(page_token="garbage!"), "page_token"),
        (
            tracker_pb2.QuerySignalsRequest(
                filter=tracker_pb2.SignalFilter(actions=[signals_pb2.ACTION_UNSPECIFIED])
            ),
            "filter.actions[0]",
        ),
        (
            tracker_pb2.QuerySignalsRequest(filter=tracker_pb2.SignalFilter(symbols=["a b"])),
            "filter.symbols",
        ),
    ]
    for request, field in cases:
        error = await rpc_error(stub.QuerySignals(request))
        assert error.code() == grpc.StatusCode.INVALID_ARGUMENT
        assert [f for f, _ in field_violations(error)] == [field]


@pytest.mark.asyncio
async def test_outcome_stats_and_their_validation(stub: Stub) -> None:
    await stub.RecordSignals(record_request(4))
    stats = await stub.GetOutcomeStats(tracker_pb2.GetOutcomeStatsRequest(symbol="AAPL"))
    assert (stats.total, stats.open, stats.win_rate) == (4, 4, 0.0)
    error = await rpc_error(stub.GetOutcomeStats(tracker_pb2.GetOutcomeStatsRequest(days=-3)))
    assert error.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert [f for f, _ in field_violations(error)] == ["days"]


@pytest.mark.asyncio
async def test_calibration_and_archive_validate_their_arguments(stub: Stub) -> None:
    none_yet = await rpc_error(stub.GetCalibration(tracker_pb2.GetCalibrationRequest()))
    assert none_yet.code() == grpc.StatusCode.NOT_FOUND
    assert "resolved outcomes" in (none_yet.details() or "")
    bad_symbol = await rpc_error(
        stub.GetCalibration(tracker_pb2.GetCalibrationRequest(symbol="not valid"))
    )
    assert [f for f, _ in field_violations(bad_symbol)] == ["symbol"]
    for date in ("2026/11/20", "2026-02-30", "", "2026-W47-5", "20261120"):
        error = await rpc_error(stub.RunArchive(tracker_pb2.RunArchiveRequest(date=date)))
        assert error.code() == grpc.StatusCode.INVALID_ARGUMENT, date
        assert [f for f, _ in field_violations(error)] == ["date"]
    not_over = await rpc_error(stub.RunArchive(tracker_pb2.RunArchiveRequest(date="2026-11-17")))
    assert not_over.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert [f for f, _ in field_violations(not_over)] == ["date"]


@pytest.mark.asyncio
async def test_database_outage_is_unavailable(stub: Stub, fake_store: FakeSignalStore) -> None:
    fake_store.unavailable = True
    error = await rpc_error(stub.RecordSignals(record_request(1)))
    assert error.code() == grpc.StatusCode.UNAVAILABLE
    error = await rpc_error(stub.QuerySignals(tracker_pb2.QuerySignalsRequest()))
    assert error.code() == grpc.StatusCode.UNAVAILABLE


@pytest.mark.asyncio
async def test_a_bug_is_internal_without_leaking_details(
    stub: Stub, fake_store: FakeSignalStore
) -> None:
    fake_store.error = RuntimeError("secret internals")
    error = await rpc_error(stub.QuerySignals(tracker_pb2.QuerySignalsRequest()))
    assert error.code() == grpc.StatusCode.INTERNAL
    assert "secret" not in (error.details() or "")


@pytest.mark.asyncio
async def test_a_slow_store_gives_deadline_exceeded(
    stub: Stub, fake_store: FakeSignalStore
) -> None:
    fake_store.blocked = asyncio.Event()
    try:
        error = await rpc_error(stub.QuerySignals(tracker_pb2.QuerySignalsRequest(), timeout=0.2))
    finally:
        fake_store.blocked.set()
    assert error.code() == grpc.StatusCode.DEADLINE_EXCEEDED
