"""One GenerateSignals call: a single trace spans engine, gateway and tracker."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import grpc
import pytest
import pytest_asyncio

from argo.signals.v1 import signals_pb2, signals_pb2_grpc
from argo.tracker.v1 import tracker_pb2, tracker_pb2_grpc
from tests.e2e.otlp_receiver import OtlpReceiver
from tests.e2e.suite import Suite

pytestmark = pytest.mark.e2e
_SYMBOLS = ["AAPL", "BTC-USD"]


@pytest_asyncio.fixture
async def running_suite(tmp_path: Path) -> AsyncIterator[tuple[Suite, OtlpReceiver]]:
    receiver = OtlpReceiver()
    port = await receiver.start()
    suite = Suite(
        tmp_path,
        extra_env={
            "OTEL_EXPORTER_OTLP_ENDPOINT": f"http://127.0.0.1:{port}",
            "OTEL_EXPORTER_OTLP_INSECURE": "true",
            "OTEL_BSP_SCHEDULE_DELAY": "100",
            "SYMBOLS": ",".join(_SYMBOLS),
            "CYCLE_SECONDS": "3600",  # keep the background cycle out of this test's traces
            "ARGO_CLOCK_START": "2026-11-17T10:30:00-05:00",
        },
    )
    suite.start()
    try:
        async with asyncio.timeout(60):
            await suite.wait_serving()
        yield suite, receiver
    finally:
        codes = await asyncio.to_thread(suite.stop)  # the receiver keeps serving exports
        await receiver.stop()
    assert codes == {"signal-engine": 0, "tracker": 0, "market-gateway": 0}, codes


@pytest.mark.asyncio
async def test_generate_signals_is_one_trace_across_three_services_and_stored(
    running_suite: tuple[Suite, OtlpReceiver],
) -> None:
    suite, receiver = running_suite
    engine = suite.services["signal-engine"]
    async with grpc.aio.insecure_channel(engine.address) as channel:
        stub = signals_pb2_grpc.SignalEngineStub(channel)
        reply = await stub.GenerateSignals(
            signals_pb2.GenerateSignalsRequest(symbols=_SYMBOLS, force=True), timeout=15
        )
    assert {s.symbol for s in reply.signals} == set(_SYMBOLS)
    trace_ids = {s.trace_id for s in reply.signals}
    assert len(trace_ids) == 1 and len(next(iter(trace_ids))) == 32
    trace_id = trace_ids.pop()

    required = {
        ("signal-engine", "/argo.signals.v1.SignalEngine/GenerateSignals"),
        ("market-gateway", "/argo.marketdata.v1.MarketGateway/GetQuotes"),
        ("tracker", "/argo.tracker.v1.Tracker/RecordSignals"),
    }
    # Each service exports on its own schedule: wait for the named spans, not just any.
    async with asyncio.timeout(15):
        await receiver.wait_for_spans(trace_id, required)
    assert receiver.services_in_trace(trace_id) >= {"signal-engine", "market-gateway", "tracker"}

    tracker = suite.services["tracker"]
    async with grpc.aio.insecure_channel(tracker.address) as channel:
        stub = tracker_pb2_grpc.TrackerStub(channel)
        stored = await stub.QuerySignals(
            tracker_pb2.QuerySignalsRequest(filter=tracker_pb2.SignalFilter(symbols=_SYMBOLS)),
            timeout=5,
        )
    assert {t.signal.signal_id for t in stored.signals} >= {s.signal_id for s in reply.signals}
