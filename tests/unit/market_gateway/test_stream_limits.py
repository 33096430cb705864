"""A feed follows at most `streams.max_symbols` symbols and its provider plan's limit
(Alpaca IEX: 30; Polygon: none); the rest are polled."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
import pytest_asyncio

from market_gateway.adapters.alpaca.stream import AlpacaStream
from market_gateway.adapters.calendar import NyseCalendar
from market_gateway.adapters.polygon.stream import PolygonStream
from market_gateway.app.stream_follow import plan_limit
from market_gateway.bootstrap import GatewayWiring, bootstrap
from market_gateway.config import Settings
from market_gateway.domain import CacheStatus, Quote, QuoteUpdate, UpdateKind
from service_runtime.clock import FakeClock

from .conftest import IN_SESSION, PRICES, unit_tunables
from .fakes import FakeQuoteSource, FakeQuoteStream

pytestmark = pytest.mark.asyncio


class LimitedStream(FakeQuoteStream):
    max_symbols = 2


async def settle() -> None:
    for _ in range(30):
        await asyncio.sleep(0)


def update(symbol: str, price: float, clock: FakeClock) -> QuoteUpdate:
    quote = Quote(symbol, price, price, price, 1.0, clock.now(), "polygon", CacheStatus.STREAM)
    return QuoteUpdate(UpdateKind.TRADE, quote)


@pytest_asyncio.fixture
async def limited(
    settings: Settings, nyse: NyseCalendar
) -> AsyncIterator[tuple[GatewayWiring, LimitedStream, FakeClock]]:
    clock = FakeClock(IN_SESSION)
    feed = LimitedStream("polygon")
    wiring = await bootstrap(
        settings,
        clock=clock,
        sources=[FakeQuoteSource(clock, PRICES, name="polygon")],
        streams=[feed],
        calendar=nyse,
        tunables=unit_tunables(optimizations={"agreement": False}),
    )
    yield wiring, feed, clock
    await wiring.exit_stack.aclose()


async def test_only_as_many_symbols_as_the_plan_allows_are_subscribed(
    limited: tuple[GatewayWiring, LimitedStream, FakeClock],
) -> None:
    wiring, feed, clock = limited
    await wiring.app.get_quotes(["AAPL", "MSFT", "BTC-USD"])
    await settle()
    assert feed.subscriptions == [["AAPL", "MSFT"]]
    feed.push(update("AAPL", 231.0, clock), update("MSFT", 421.0, clock))
    await settle()
    quotes, _ = await wiring.app.get_quotes(["AAPL", "MSFT", "BTC-USD"])
    statuses = {q.symbol: q.cache_status for q in quotes}
    assert statuses["AAPL"] is statuses["MSFT"] is CacheStatus.STREAM
    assert statuses["BTC-USD"] is not CacheStatus.STREAM  # beyond the plan: polled


async def test_the_adapters_know_their_plans_limits() -> None:
    clock = FakeClock(IN_SESSION)
    iex = AlpacaStream(ws_url="wss://x", key_id="k", secret_key="s", clock=clock)
    sip = AlpacaStream(ws_url="wss://x", key_id="k", secret_key="s", clock=clock, feed="sip")
    polygon = PolygonStream(ws_url="wss://x", api_key="k", clock=clock)
    assert (plan_limit(iex), plan_limit(sip), plan_limit(polygon)) == (30, None, None)
    assert plan_limit(FakeQuoteStream("fake")) is None
