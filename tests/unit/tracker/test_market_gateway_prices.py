"""GatewayPriceSource against an in-process fake MarketGateway server."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import grpc
import pytest
import pytest_asyncio
from google.protobuf.timestamp_pb2 import Timestamp

from argo.marketdata.v1 import marketdata_pb2 as pb
from argo.marketdata.v1 import marketdata_pb2_grpc
from tracker.adapters.market_gateway_prices import GatewayPriceSource
from tracker.domain import PriceDataUnavailable

from .factories import T0

MINUTE = timedelta(minutes=1)


def ts(instant: datetime) -> Timestamp:
    out = Timestamp()
    out.FromDatetime(instant)
    return out


class FakeGateway(marketdata_pb2_grpc.MarketGatewayServicer):
    """One bar a minute from T0 for AAPL (close = 100 + minute index); a page cap like the
    real gateway's limit; `fail` makes every call UNAVAILABLE."""

    def __init__(self, bars: int) -> None:
        self.bars = bars
        self.fail = False
        self.requests: list[pb.GetBarsRequest] = []

    async def GetQuotes(
        self, request: pb.GetQuotesRequest, context: grpc.aio.ServicerContext
    ) -> pb.GetQuotesResponse:
        if self.fail:
            await context.abort(grpc.StatusCode.UNAVAILABLE, "no provider")
        quotes = [
            pb.Quote(symbol=s, price=101.5, time=ts(T0 + timedelta(seconds=90)))
            for s in request.symbols
            if s == "AAPL"
        ]
        errors = [
            pb.SymbolError(symbol=s, reason=pb.ERROR_REASON_UNKNOWN_SYMBOL)
            for s in request.symbols
            if s != "AAPL"
        ]
        return pb.GetQuotesResponse(quotes=quotes, errors=errors)

    async def GetBars(
        self, request: pb.GetBarsRequest, context: grpc.aio.ServicerContext
    ) -> pb.GetBarsResponse:
        self.requests.append(request)
        if self.fail:
            await context.abort(grpc.StatusCode.UNAVAILABLE, "no provider")
        if request.symbol != "AAPL":
            await context.abort(grpc.StatusCode.NOT_FOUND, "unknown symbol")
        assert request.timeframe == pb.TIMEFRAME_ONE_MINUTE
        start = request.start_time.ToDatetime(tzinfo=UTC)
        end = request.end_time.ToDatetime(tzinfo=UTC)
        bars = []
        for i in range(self.bars):
            begin = T0 + i * MINUTE
            if start <= begin < end:
                close = 100.0 + i
                bars.append(
                    pb.Bar(
                        start_time=ts(begin),
                        open=close,
                        high=close + 0.5,
                        low=close - 0.5,
                        close=close,
                    )  # fmt: skip
                )
        return pb.GetBarsResponse(symbol="AAPL", bars=bars[: request.limit])


@pytest_asyncio.fixture
async def gateway() -> AsyncIterator[tuple[FakeGateway, grpc.aio.Channel]]:
    fake = FakeGateway(bars=25)
    server = grpc.aio.server()
    marketdata_pb2_grpc.add_MarketGatewayServicer_to_server(fake, server)
    port = server.add_insecure_port("127.0.0.1:0")
    await server.start()
    channel = grpc.aio.insecure_channel(f"127.0.0.1:{port}")
    try:
        yield fake, channel
    finally:
        await channel.close()
        await server.stop(None)


@pytest.mark.asyncio
async def test_quotes_are_one_batched_call_and_unknown_symbols_are_missing(
    gateway: tuple[FakeGateway, grpc.aio.Channel],
) -> None:
    _, channel = gateway
    prices = GatewayPriceSource(channel)
    ticks = await prices.latest(["AAPL", "NOPE"])
    assert list(ticks) == ["AAPL"]
    assert ticks["AAPL"].price == 101.5 and ticks["AAPL"].time == T0 + timedelta(seconds=90)
    assert await prices.check_ready() is True


@pytest.mark.asyncio
async def test_bars_page_past_the_per_call_limit(
    gateway: tuple[FakeGateway, grpc.aio.Channel],
) -> None:
    fake, channel = gateway
    prices = GatewayPriceSource(channel, bars_per_call=10)
    bars = await prices.bars("AAPL", T0 + 2 * MINUTE, T0 + 40 * MINUTE)
    assert [b.close for b in bars] == [100.0 + i for i in range(2, 25)]
    assert all(b.end_time - b.start_time == MINUTE for b in bars)
    assert [r.start_time.ToDatetime(tzinfo=UTC) for r in fake.requests] == [
        T0 + 2 * MINUTE,
        T0 + 12 * MINUTE,
        T0 + 22 * MINUTE,
    ]


@pytest.mark.asyncio
async def test_unknown_symbol_has_no_bars_and_outages_are_unavailable(
    gateway: tuple[FakeGateway, grpc.aio.Channel],
) -> None:
    fake, channel = gateway
    prices = GatewayPriceSource(channel)
    assert await prices.bars("NOPE", T0, T0 + MINUTE * 5) == []
    fake.fail = True
    with pytest.raises(PriceDataUnavailable, match="UNAVAILABLE"):
        await prices.latest(["AAPL"])
    with pytest.raises(PriceDataUnavailable):
        await prices.bars("AAPL", T0, T0 + MINUTE * 5)


@pytest.mark.asyncio
async def test_a_gateway_that_is_not_there_is_unavailable() -> None:
    channel = grpc.aio.insecure_channel("127.0.0.1:9")  # discard port: nothing listens
    prices = GatewayPriceSource(channel, deadline_seconds=0.5, ready_timeout_seconds=0.2)
    try:
        with pytest.raises(PriceDataUnavailable):
            await prices.latest(["AAPL"])
        assert await prices.check_ready() is False
    finally:
        await channel.close()
