"""The MarketGateway servicer in an in-process grpc.aio server on 127.0.0.1:0."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime
from typing import TYPE_CHECKING

import grpc
import pytest
import pytest_asyncio

from argo.marketdata.v1 import marketdata_pb2 as pb
from argo.marketdata.v1 import marketdata_pb2_grpc
from market_gateway.adapters.calendar import NyseCalendar
from market_gateway.bootstrap import GatewayWiring, bootstrap
from market_gateway.config import Settings, Tunables
from market_gateway.domain import RateLimited
from service_runtime.grpc_errors import field_violations

from .conftest import IN_SESSION, PRICES, unit_tunables
from .fakes import FakeQuoteSource, SteppedClock, unavailable


def stepped_tunables() -> Tunables:
    """A SteppedClock blocks every sleep until released: no micro-batch windows, and no
    stale-while-revalidate (a stale quote's refresh would land one step later)."""
    return unit_tunables(optimizations={"batching": False}, ttl={"stale_while_revalidate_ratio": 0})


if TYPE_CHECKING:
    from argo.marketdata.v1.marketdata_pb2_grpc import MarketGatewayAsyncStub as Stub

pytestmark = pytest.mark.asyncio


@pytest_asyncio.fixture
async def stub(wiring: GatewayWiring) -> AsyncIterator[Stub]:
    async with serving(wiring) as stub:
        yield stub


class serving:
    """Serve a wiring on 127.0.0.1:0 and hand out a stub for it."""

    def __init__(self, wiring: GatewayWiring) -> None:
        self._server = grpc.aio.server()
        wiring.register(self._server)
        self._port = self._server.add_insecure_port("127.0.0.1:0")
        self._channel: grpc.aio.Channel | None = None

    async def __aenter__(self) -> Stub:
        await self._server.start()
        self._channel = grpc.aio.insecure_channel(f"127.0.0.1:{self._port}")
        return marketdata_pb2_grpc.MarketGatewayStub(self._channel)  # type: ignore[return-value]

    async def __aexit__(self, *_: object) -> None:
        assert self._channel is not None
        await self._channel.close()
        await self._server.stop(None)


async def rpc_error(call: object) -> grpc.aio.AioRpcError:
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await call  # type: ignore[misc]
    return caught.value


async def eventually(condition: Callable[[], bool]) -> None:
    """Wait (bounded) for something another task does, e.g. notice a cancelled RPC."""
    for _ in range(500):
        if condition():
            return
        await asyncio.sleep(0.01)
    raise AssertionError("condition never became true")


async def test_get_quotes_maps_quotes_and_per_symbol_errors(stub: Stub) -> None:
    reply = await stub.GetQuotes(
        pb.GetQuotesRequest(symbols=["aapl", "nope", "BTC/USD"]), timeout=5
    )
    assert [q.symbol for q in reply.quotes] == ["AAPL", "BTC-USD"]
    aapl = reply.quotes[0]
    assert (aapl.price, aapl.bid, aapl.ask, aapl.volume) == (230.0, 229.99, 230.01, 1000.0)
    assert aapl.provider == "fake" and aapl.cache_status == pb.CACHE_STATUS_MISS
    assert aapl.time.ToDatetime(tzinfo=UTC) == IN_SESSION and aapl.age_ms == 0
    (error,) = reply.errors
    assert (error.symbol, error.reason) == ("nope", pb.ERROR_REASON_UNKNOWN_SYMBOL)
    again = await stub.GetQuotes(pb.GetQuotesRequest(symbols=["AAPL"]), timeout=5)
    assert again.quotes[0].cache_status == pb.CACHE_STATUS_HIT_LOCAL


@pytest.mark.parametrize(
    ("request_", "fields"),
    [
        (pb.GetQuotesRequest(), ["symbols"]),
        (pb.GetQuotesRequest(symbols=["AAPL"] * 1001), ["symbols"]),
        (
            pb.GetQuotesRequest(symbols=["AAPL", "MSFT", "$$$", "X" * 40]),
            ["symbols[2]", "symbols[3]"],
        ),
        (pb.GetQuotesRequest(symbols=["AAPL"], max_age_ms=-5), ["max_age_ms"]),
    ],
)
async def test_bad_quote_requests_are_invalid_argument_with_field_paths(
    stub: Stub, request_: pb.GetQuotesRequest, fields: list[str]
) -> None:
    error = await rpc_error(stub.GetQuotes(request_, timeout=5))
    assert error.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert [f for f, _ in field_violations(error)] == fields


async def test_a_thousand_symbols_are_accepted(stub: Stub) -> None:
    symbols = [f"{chr(65 + i // 26)}{chr(65 + i % 26)}" for i in range(500)] * 2
    reply = await stub.GetQuotes(pb.GetQuotesRequest(symbols=symbols), timeout=5)
    assert len(reply.errors) == 500 and not reply.quotes  # unknown to the fake, one each


async def test_nothing_served_because_of_a_quota_is_unavailable_with_retry_pushback(
    stub: Stub, source: FakeQuoteSource
) -> None:
    source.failure = RateLimited("fake: quota spent", retry_after=1.5)
    error = await rpc_error(stub.GetQuotes(pb.GetQuotesRequest(symbols=["AAPL"]), timeout=5))
    assert error.code() == grpc.StatusCode.UNAVAILABLE and "quota" in (error.details() or "")
    assert ("retry-after-ms", "1500") in tuple(error.trailing_metadata() or ())
    again = await rpc_error(stub.GetQuotes(pb.GetQuotesRequest(symbols=["MSFT"]), timeout=5))
    assert len(source.quote_calls) == 1  # the pushback paused the provider: no second call
    (pushback,) = [v for k, v in again.trailing_metadata() or () if k == "retry-after-ms"]
    assert 0 < int(pushback) <= 1500


async def test_an_outage_without_a_quota_is_unavailable_without_pushback(
    stub: Stub, source: FakeQuoteSource
) -> None:
    source.failure = unavailable()
    error = await rpc_error(stub.GetQuotes(pb.GetQuotesRequest(symbols=["AAPL"]), timeout=5))
    assert error.code() == grpc.StatusCode.UNAVAILABLE and "down" in (error.details() or "")
    assert not [k for k, _ in error.trailing_metadata() or () if k == "retry-after-ms"]


async def test_only_unknown_symbols_is_an_answer_not_an_outage(stub: Stub) -> None:
    reply = await stub.GetQuotes(pb.GetQuotesRequest(symbols=["NOPE"]), timeout=5)
    assert not reply.quotes and reply.errors[0].reason == pb.ERROR_REASON_UNKNOWN_SYMBOL


async def test_a_slow_provider_is_cut_at_the_callers_deadline(
    stub: Stub, source: FakeQuoteSource
) -> None:
    source.hanging = True
    started = time.monotonic()
    error = await rpc_error(stub.GetQuotes(pb.GetQuotesRequest(symbols=["AAPL"]), timeout=0.5))
    assert time.monotonic() - started < 0.5
    # the upstream call ended just before the caller's deadline, so the answer says why
    assert error.code() == grpc.StatusCode.UNAVAILABLE
    assert "deadline" in (error.details() or "")


async def test_bad_bar_requests_report_every_violation(stub: Stub) -> None:
    request = pb.GetBarsRequest(symbol="$", limit=5001)
    request.start_time.FromDatetime(IN_SESSION)
    request.end_time.FromDatetime(IN_SESSION)
    error = await rpc_error(stub.GetBars(request, timeout=5))
    assert error.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert [f for f, _ in field_violations(error)] == ["symbol", "timeframe", "limit", "end_time"]


async def test_bars_of_an_unknown_symbol_are_not_found(stub: Stub) -> None:
    request = pb.GetBarsRequest(symbol="NOPE", timeframe=pb.TIMEFRAME_ONE_MINUTE)
    error = await rpc_error(stub.GetBars(request, timeout=5))
    assert error.code() == grpc.StatusCode.NOT_FOUND


async def test_bars_from_the_synthetic_market_end_to_end(
    settings: Settings, nyse: NyseCalendar
) -> None:
    clock = SteppedClock(IN_SESSION)  # the real synthetic source; nothing may sleep
    wiring = await bootstrap(settings, clock=clock, calendar=nyse, tunables=stepped_tunables())
    async with serving(wiring) as stub:
        request = pb.GetBarsRequest(symbol="btcusd", timeframe=pb.TIMEFRAME_FIVE_MINUTES, limit=12)
        reply = await stub.GetBars(request, timeout=5)
        quotes = await stub.GetQuotes(pb.GetQuotesRequest(symbols=["BTC-USD"]), timeout=5)
    assert (reply.symbol, reply.provider, len(reply.bars)) == ("BTC-USD", "synthetic", 12)
    newest = reply.bars[-1]
    assert newest.start_time.ToDatetime(tzinfo=UTC) == datetime(2026, 11, 17, 15, 25, tzinfo=UTC)
    assert newest.close == quotes.quotes[0].price  # the bar ended exactly now
    assert all(b.low <= b.open <= b.high and b.low <= b.close <= b.high for b in reply.bars)
    assert reply.age_ms == 0 and reply.cache_status == pb.CACHE_STATUS_MISS


async def test_sentiment_without_an_ai_provider_is_unavailable_saying_why(stub: Stub) -> None:
    error = await rpc_error(stub.GetSentiment(pb.GetSentimentRequest(symbol=""), timeout=5))
    assert error.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert [f for f, _ in field_violations(error)] == ["symbol"]
    error = await rpc_error(stub.GetSentiment(pb.GetSentimentRequest(symbol="AAPL"), timeout=5))
    assert error.code() == grpc.StatusCode.UNAVAILABLE
    assert "XAI_API_KEY" in (error.details() or "")


async def test_provider_status_lists_the_provider(stub: Stub) -> None:
    await stub.GetQuotes(pb.GetQuotesRequest(symbols=["AAPL"]), timeout=5)
    reply = await stub.GetProviderStatus(pb.GetProviderStatusRequest(), timeout=5)
    (status,) = [p for p in reply.providers if p.name == "fake"]
    unconfigured = [p for p in reply.providers if p.name != "fake"]
    assert unconfigured and all(p.breaker_state == pb.BREAKER_STATE_DISABLED for p in unconfigured)
    assert (status.name, status.enabled, status.breaker_state) == (
        "fake",
        True,
        pb.BREAKER_STATE_CLOSED,
    )
    assert (status.calls_total, status.errors_total, status.limiter_remaining) == (1, 0, -1.0)
    assert status.cost_usd_total == 0.0 and not status.HasField("paused_until")


@pytest_asyncio.fixture
async def stepped(settings: Settings, nyse: NyseCalendar) -> GatewayWiring:
    clock = SteppedClock(IN_SESSION)
    source = FakeQuoteSource(clock, PRICES)
    wiring = await bootstrap(
        settings, clock=clock, source=source, calendar=nyse, tunables=stepped_tunables()
    )
    wiring.source = source  # type: ignore[attr-defined]
    wiring.clock = clock  # type: ignore[attr-defined]
    return wiring


async def test_stream_sequences_resume_tokens_and_client_cancel(stepped: GatewayWiring) -> None:
    app, source, clock = stepped.app, stepped.source, stepped.clock  # type: ignore[attr-defined]
    async with serving(stepped) as stub:
        call = stub.StreamQuotes(pb.StreamQuotesRequest(symbols=["aapl", "eth/usd"]))
        first = [await call.read(), await call.read()]
        assert [(e.symbol, e.sequence, e.quote.price) for e in first] == [
            ("AAPL", 1, 230.0),
            ("ETH-USD", 1, 3200.0),
        ]
        assert all(e.resume_token and e.WhichOneof("event") == "quote" for e in first)
        source.prices["ETH-USD"] = 3210.0
        clock.release()
        changed = await call.read()
        assert (changed.symbol, changed.sequence, changed.quote.price) == ("ETH-USD", 2, 3210.0)
        call.cancel()
        await eventually(lambda: app.active_streams == 0)
        resumed = stub.StreamQuotes(
            pb.StreamQuotesRequest(symbols=["AAPL", "ETH-USD"], resume_token=first[0].resume_token)
        )
        replayed = [await resumed.read(), await resumed.read()]
        assert [(e.symbol, e.sequence) for e in replayed] == [("ETH-USD", 1), ("ETH-USD", 2)]
        resumed.cancel()
        await eventually(lambda: app.active_streams == 0)


async def test_stream_requests_are_validated(stepped: GatewayWiring) -> None:
    async with serving(stepped) as stub:
        call = stub.StreamQuotes(
            pb.StreamQuotesRequest(symbols=["AAPL", "!!"], resume_token="@@not-a-token@@")
        )
        error = await rpc_error(call.read())
    assert error.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert [f for f, _ in field_violations(error)] == ["symbols[1]", "resume_token"]


async def test_streams_end_unavailable_when_the_gateway_shuts_down(stepped: GatewayWiring) -> None:
    clock = stepped.clock  # type: ignore[attr-defined]
    async with serving(stepped) as stub:
        call = stub.StreamQuotes(pb.StreamQuotesRequest(symbols=["AAPL"]))
        assert (await call.read()).sequence == 1
        await eventually(lambda: clock.sleepers == 1)
        assert stepped.on_shutdown is not None
        await stepped.on_shutdown()  # what the runtime does when it starts shutting down
        clock.release()
        error = await rpc_error(call.read())
    assert error.code() == grpc.StatusCode.UNAVAILABLE and "resume_token" in (error.details() or "")
