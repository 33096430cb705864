"""The gateway and tracker gRPC client adapters against tiny in-process fake servers."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import grpc
import pytest
import pytest_asyncio
from google.protobuf.timestamp_pb2 import Timestamp

from argo.marketdata.v1 import marketdata_pb2 as md
from argo.marketdata.v1 import marketdata_pb2_grpc
from argo.signals.v1 import signals_pb2
from argo.tracker.v1 import tracker_pb2, tracker_pb2_grpc
from service_runtime.channels import open_channel
from signal_engine.adapters.market_gateway_client import GatewayMarketData
from signal_engine.adapters.tracker_client import TrackerCalibrations, TrackerSignalSink
from signal_engine.domain import (
    Action,
    CacheStatus,
    CalibrationUnavailable,
    GatewayError,
    GatewayRejected,
    GatewayTimeout,
    GatewayUnavailable,
    Regime,
    SentimentUnsupported,
    Signal,
    SinkRejected,
    SinkUnavailable,
    SourceContribution,
    Timeframe,
    UnknownSymbol,
)
from signal_engine.ports import RecordReceipt
from tests.conftest import free_port

pytestmark = pytest.mark.asyncio
QUOTE_TIME = datetime(2026, 11, 17, 15, 29, 58, tzinfo=UTC)


def _ts(instant: datetime) -> Timestamp:
    stamp = Timestamp()
    stamp.FromDatetime(instant)
    return stamp


class Failure:
    """Makes a fake servicer abort with `code`, optionally with trailing metadata."""

    def __init__(
        self, code: grpc.StatusCode, message: str, trailers: tuple[tuple[str, str], ...] = ()
    ) -> None:
        self.code, self.message, self.trailers = code, message, trailers

    async def apply(self, context: grpc.aio.ServicerContext) -> None:
        if self.trailers:
            context.set_trailing_metadata(self.trailers)
        await context.abort(self.code, self.message)


class FakeGateway(marketdata_pb2_grpc.MarketGatewayServicer):
    def __init__(self) -> None:
        self.requests: list[Any] = []
        self.failure: Failure | None = None
        self.hang: asyncio.Event | None = None
        self.quotes = [
            md.Quote(
                symbol="AAPL",
                price=190.5,
                bid=190.4,
                ask=190.6,
                volume=1e6,
                time=_ts(QUOTE_TIME),
                provider="polygon",
                cache_status=md.CACHE_STATUS_HIT_SHARED,
                age_ms=1200,
            ),
            md.Quote(
                symbol="BTC-USD",
                price=64000.0,
                time=_ts(QUOTE_TIME),
                provider="alpaca",
                cache_status=md.CACHE_STATUS_STREAM,
                age_ms=80,
            ),
        ]
        self.errors = [
            md.SymbolError(
                symbol="zzzz",
                reason=md.ERROR_REASON_UNKNOWN_SYMBOL,
                message="no provider knows zzzz",
            )
        ]

    async def _maybe_fail(self, context: grpc.aio.ServicerContext) -> None:
        if self.hang is not None:
            await self.hang.wait()
        if self.failure is not None:
            await self.failure.apply(context)

    async def GetQuotes(self, request, context):
        self.requests.append(request)
        await self._maybe_fail(context)
        return md.GetQuotesResponse(quotes=self.quotes, errors=self.errors)

    async def GetBars(self, request, context):
        self.requests.append(request)
        await self._maybe_fail(context)
        start = datetime(2026, 11, 17, 15, 0, tzinfo=UTC)
        bars = [
            md.Bar(
                start_time=_ts(start + timedelta(minutes=i)),
                open=100 + i,
                high=101 + i,
                low=99 + i,
                close=100.5 + i,
                volume=10.0 * i,
            )
            for i in range(3)
        ]
        return md.GetBarsResponse(
            symbol="AAPL",
            bars=bars,
            provider="synthetic",
            cache_status=md.CACHE_STATUS_STALE,
            age_ms=3000,
        )

    async def GetSentiment(self, request, context):
        self.requests.append(request)
        await self._maybe_fail(context)
        return self.sentiment

    sentiment = md.GetSentimentResponse(
        symbol="AAPL",
        score=-0.4,
        confidence=0.7,
        rationale="guidance cut",
        provider="XAI",
        time=_ts(QUOTE_TIME),
        cache_status=md.CACHE_STATUS_HIT_SHARED,
        age_ms=2000,
    )


class FakeTracker(tracker_pb2_grpc.TrackerServicer):
    def __init__(self) -> None:
        self.requests: list[Any] = []
        self.failure: Failure | None = None
        self.invalid = False  # answer the first signal of a batch as REJECTED
        self.calibration = tracker_pb2.GetCalibrationResponse(
            symbol="AAPL",
            method=tracker_pb2.CALIBRATION_METHOD_ISOTONIC,
            points=[
                tracker_pb2.CalibrationPoint(raw_confidence=0.0, probability=0.1),
                tracker_pb2.CalibrationPoint(raw_confidence=100.0, probability=0.9),
            ],
            sample_size=400,
        )

    async def GetCalibration(self, request, context):
        self.requests.append(request)
        if self.failure is not None:
            await self.failure.apply(context)
        return self.calibration

    async def RecordSignals(self, request, context):
        self.requests.append(request)
        if self.failure is not None:
            await self.failure.apply(context)
        if self.invalid:
            results = [
                tracker_pb2.RecordResult(
                    signal_id=s.signal_id,
                    status=tracker_pb2.RECORD_STATUS_REJECTED,
                    reason="confidence: must be within 0..100, got 150.0",
                )
                if i == 0
                else tracker_pb2.RecordResult(
                    signal_id=s.signal_id, status=tracker_pb2.RECORD_STATUS_ACCEPTED
                )
                for i, s in enumerate(request.signals)
            ]
            return tracker_pb2.RecordSignalsResponse(
                accepted=len(request.signals) - 1, rejected=1, results=results
            )
        return tracker_pb2.RecordSignalsResponse(accepted=len(request.signals) - 1, duplicate=1)


@pytest_asyncio.fixture
async def fakes() -> AsyncIterator[tuple[FakeGateway, FakeTracker, str]]:
    # Only the RPCs the engine calls are implemented; the others keep the stubs' defaults.
    gateway, tracker = FakeGateway(), FakeTracker()  # type: ignore[abstract]
    server = grpc.aio.server()
    marketdata_pb2_grpc.add_MarketGatewayServicer_to_server(gateway, server)
    tracker_pb2_grpc.add_TrackerServicer_to_server(tracker, server)
    port = server.add_insecure_port("127.0.0.1:0")
    await server.start()
    yield gateway, tracker, f"127.0.0.1:{port}"
    if gateway.hang is not None:
        gateway.hang.set()
    await server.stop(None)


@pytest_asyncio.fixture
async def market(fakes) -> AsyncIterator[tuple[FakeGateway, GatewayMarketData]]:
    gateway, _, address = fakes
    channel = open_channel(address)
    yield gateway, GatewayMarketData(channel, deadline_seconds=2.0)
    await channel.close()


@pytest_asyncio.fixture
async def tracker_calibrations(fakes) -> AsyncIterator[tuple[FakeTracker, TrackerCalibrations]]:
    _, tracker, address = fakes
    channel = open_channel(address)
    yield tracker, TrackerCalibrations(channel, deadline_seconds=2.0)
    await channel.close()


@pytest_asyncio.fixture
async def sink(fakes) -> AsyncIterator[tuple[FakeTracker, TrackerSignalSink]]:
    _, tracker, address = fakes
    channel = open_channel(address)
    yield tracker, TrackerSignalSink(channel, deadline_seconds=2.0)
    await channel.close()


async def test_quotes_are_keyed_by_the_requested_spelling(market) -> None:
    gateway, client = market
    quotes, errors = await client.get_quotes(["AAPL", "btc/usd", "zzzz", "AAPL"])
    assert list(gateway.requests[0].symbols) == ["AAPL", "btc/usd", "zzzz", "AAPL"]
    assert set(quotes) == {"AAPL", "btc/usd"} and errors == {"zzzz": "no provider knows zzzz"}
    aapl = quotes["AAPL"]
    assert (aapl.price, aapl.bid, aapl.ask, aapl.volume) == (190.5, 190.4, 190.6, 1e6)
    assert aapl.time == QUOTE_TIME and aapl.provider == "polygon" and aapl.age_ms == 1200
    assert aapl.cache_status is CacheStatus.HIT_SHARED
    assert quotes["btc/usd"].symbol == "BTC-USD"
    assert quotes["btc/usd"].cache_status is CacheStatus.STREAM


async def test_a_quote_with_a_bad_price_becomes_a_symbol_error(market) -> None:
    gateway, client = market
    gateway.quotes[0].price = 0.0
    quotes, errors = await client.get_quotes(["AAPL", "BTC-USD", "zzzz"])
    assert set(quotes) == {"BTC-USD"} and "bad price" in errors["AAPL"]


async def test_bars_mapping(market) -> None:
    gateway, client = market
    series = await client.get_bars("AAPL", Timeframe.ONE_MINUTE, 3)
    request = gateway.requests[0]
    assert (request.symbol, request.timeframe, request.limit) == (
        "AAPL",
        md.TIMEFRAME_ONE_MINUTE,
        3,
    )
    assert series.closes == [100.5, 101.5, 102.5]
    assert series.bars[1].start_time == datetime(2026, 11, 17, 15, 1, tzinfo=UTC)
    assert (series.bars[2].high, series.bars[2].low, series.bars[2].volume) == (103, 101, 20.0)
    assert series.provider == "synthetic" and series.age_ms == 3000
    assert series.cache_status is CacheStatus.STALE


async def test_new_bars_are_asked_for_from_a_start_time(market) -> None:
    gateway, client = market
    start = datetime(2026, 11, 17, 15, 2, tzinfo=UTC)
    await client.get_bars("AAPL", Timeframe.ONE_MINUTE, 100, start=start)
    request = gateway.requests[0]
    assert request.HasField("start_time") and not request.HasField("end_time")
    assert request.start_time.ToDatetime(tzinfo=UTC) == start and request.limit == 100


async def test_sentiment_mapping(market) -> None:
    gateway, client = market
    verdict = await client.get_sentiment("aapl")
    assert gateway.requests[0].symbol == "aapl"
    assert (verdict.symbol, verdict.provider, verdict.score, verdict.confidence) == (
        "AAPL",
        "xai",
        -0.4,
        0.7,
    )
    assert verdict.time == QUOTE_TIME and verdict.age_ms == 2000
    assert verdict.cache_status is CacheStatus.HIT_SHARED and verdict.rationale == "guidance cut"


async def test_sentiment_unimplemented_or_malformed(market) -> None:
    gateway, client = market
    gateway.failure = Failure(grpc.StatusCode.UNIMPLEMENTED, "arrives with issue #4")
    with pytest.raises(SentimentUnsupported):
        await client.get_sentiment("AAPL")
    gateway.failure = Failure(grpc.StatusCode.UNAVAILABLE, "no provider enabled")
    with pytest.raises(GatewayUnavailable):
        await client.get_sentiment("AAPL")
    gateway.failure = None
    gateway.sentiment = md.GetSentimentResponse(symbol="AAPL", score=3.0, provider="xai")
    with pytest.raises(GatewayError, match="score"):
        await client.get_sentiment("AAPL")


async def test_calibration_mapping_and_no_calibration(tracker_calibrations) -> None:
    tracker, client = tracker_calibrations
    calibration = await client.get_calibration("AAPL")
    assert calibration is not None and calibration.points == ((0.0, 0.1), (100.0, 0.9))
    assert calibration.apply(50.0) == pytest.approx(50.0)
    assert tracker.requests[0].symbol == "AAPL"
    for code in (grpc.StatusCode.NOT_FOUND, grpc.StatusCode.UNIMPLEMENTED):
        tracker.failure = Failure(code, "none")
        assert await client.get_calibration("AAPL") is None
    tracker.failure = Failure(grpc.StatusCode.UNAVAILABLE, "database down")
    with pytest.raises(CalibrationUnavailable, match="UNAVAILABLE"):
        await client.get_calibration("AAPL")
    tracker.failure = None
    tracker.calibration.points[0].probability = 1.5  # malformed: ignored
    assert await client.get_calibration("AAPL") is None


@pytest.mark.parametrize(
    ("code", "error_type"),
    [
        (grpc.StatusCode.UNAVAILABLE, GatewayUnavailable),
        (grpc.StatusCode.RESOURCE_EXHAUSTED, GatewayUnavailable),
        (grpc.StatusCode.NOT_FOUND, UnknownSymbol),
        (grpc.StatusCode.INVALID_ARGUMENT, GatewayRejected),
        (grpc.StatusCode.INTERNAL, GatewayError),
    ],
)
async def test_gateway_errors_are_translated(market, code, error_type) -> None:
    gateway, client = market
    gateway.failure = Failure(code, "nope")
    with pytest.raises(error_type) as caught:
        await client.get_bars("AAPL", Timeframe.ONE_MINUTE, 3)
    assert type(caught.value) is error_type
    assert f"GetBars: {code.name}: nope" in str(caught.value)


async def test_retry_pushback_is_kept(market) -> None:
    gateway, client = market
    gateway.failure = Failure(grpc.StatusCode.UNAVAILABLE, "quota", (("retry-after-ms", "750"),))
    with pytest.raises(GatewayUnavailable) as caught:
        await client.get_quotes(["AAPL"])
    assert caught.value.retry_after_ms == 750


async def test_per_call_deadline_becomes_gateway_timeout(fakes) -> None:
    gateway, _, address = fakes
    gateway.hang = asyncio.Event()
    channel = open_channel(address)
    client = GatewayMarketData(channel, deadline_seconds=0.1)
    with pytest.raises(GatewayTimeout):
        await client.get_quotes(["AAPL"])
    gateway.hang.set()
    await channel.close()


async def test_readiness(market) -> None:
    _, client = market
    assert await client.check_ready()
    channel = open_channel(f"127.0.0.1:{free_port()}")  # nothing listens there
    assert not await GatewayMarketData(channel, ready_timeout_seconds=0.2).check_ready()
    await channel.close()


SIGNAL = Signal(
    signal_id="00000000-0000-4000-8000-000000000001",
    symbol="BTC-USD",
    action=Action.SELL,
    confidence=71.5,
    raw_confidence=71.5,
    entry_price=64000.0,
    target_price=63000.0,
    stop_price=64500.0,
    create_time=datetime(2026, 11, 17, 15, 30, 0, 123456, tzinfo=UTC),
    expire_time=datetime(2026, 11, 17, 15, 45, 0, 123456, tzinfo=UTC),
    regime=Regime.VOLATILE,
    lineage=(
        SourceContribution(
            source="rsi",
            direction=-0.5,
            confidence=1.0,
            weight=1.0,
            data_age_ms=80,
            provider="alpaca",
            cache_status=CacheStatus.STREAM,
            raw_contribution=71.5,
            contribution=71.5,
        ),
    ),
    trace_id="0af7651916cd43dd8448eb211c80319c",
)


async def test_record_signals_sends_the_mapped_batch(sink) -> None:
    tracker, client = sink
    assert await client.record([SIGNAL, SIGNAL]) == RecordReceipt(1, 1, {})
    sent = tracker.requests[0].signals[0]
    assert sent.signal_id == SIGNAL.signal_id and sent.symbol == "BTC-USD"
    assert sent.action == signals_pb2.ACTION_SELL and sent.regime == signals_pb2.REGIME_VOLATILE
    assert (sent.entry_price, sent.target_price, sent.stop_price) == (64000.0, 63000.0, 64500.0)
    assert sent.create_time.ToDatetime(tzinfo=UTC) == SIGNAL.create_time
    assert sent.lineage[0].cache_status == md.CACHE_STATUS_STREAM
    assert (sent.lineage[0].contribution, sent.lineage[0].raw_contribution) == (71.5, 71.5)
    assert sent.trace_id == SIGNAL.trace_id


async def test_per_item_rejections_are_reported_by_signal_id(sink) -> None:
    tracker, client = sink
    tracker.invalid = True
    other = replace(SIGNAL, signal_id="00000000-0000-4000-8000-000000000002")
    receipt = await client.record([SIGNAL, other])
    assert (receipt.accepted, receipt.duplicate) == (1, 0)
    assert receipt.rejected == {SIGNAL.signal_id: "confidence: must be within 0..100, got 150.0"}


@pytest.mark.parametrize(
    ("code", "error_type"),
    [
        (grpc.StatusCode.INVALID_ARGUMENT, SinkRejected),
        (grpc.StatusCode.UNAVAILABLE, SinkUnavailable),
        (grpc.StatusCode.UNIMPLEMENTED, SinkUnavailable),
        (grpc.StatusCode.INTERNAL, SinkUnavailable),
    ],
)
async def test_tracker_errors_are_translated(sink, code, error_type) -> None:
    tracker, client = sink
    tracker.failure = Failure(code, "nope")
    with pytest.raises(error_type, match=code.name):
        await client.record([SIGNAL])


async def test_tracker_away_is_unavailable() -> None:
    channel = open_channel(f"127.0.0.1:{free_port()}")
    with pytest.raises(SinkUnavailable):
        await TrackerSignalSink(channel, deadline_seconds=0.5).record([SIGNAL])
    await channel.close()
