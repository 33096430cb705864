"""Provider feeds behind GetQuotes and StreamQuotes: write-through, no polling, gaps."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, timedelta

import pytest
import pytest_asyncio

from market_gateway.adapters.calendar import NyseCalendar
from market_gateway.bootstrap import GatewayWiring, bootstrap
from market_gateway.config import Settings
from market_gateway.domain import (
    AuthFailed,
    Backfilled,
    CacheStatus,
    FeedGap,
    Quote,
    QuoteUpdate,
    UpdateKind,
)
from market_gateway.grpc_api import mapping
from service_runtime.clock import FakeClock

from .conftest import IN_SESSION, PRICES, unit_tunables
from .fakes import FakeQuoteSource, FakeQuoteStream

pytestmark = pytest.mark.asyncio


async def settle() -> None:
    for _ in range(30):
        await asyncio.sleep(0)


class Rig:
    def __init__(self, wiring: GatewayWiring, clock: FakeClock) -> None:
        self.wiring = wiring
        self.app = wiring.app
        self.clock = clock
        self.polygon: FakeQuoteSource = FakeQuoteSource(clock, PRICES, name="polygon")
        self.feeds: list[FakeQuoteStream] = []

    def update(self, symbol: str, price: float) -> QuoteUpdate:
        quote = Quote(symbol, price, price - 0.01, price + 0.01, 5.0, self.clock.now(), "polygon",
                      cache_status=CacheStatus.STREAM)  # fmt: skip
        return QuoteUpdate(UpdateKind.TRADE, quote, size=10)


@pytest_asyncio.fixture
async def rig(settings: Settings, nyse: NyseCalendar) -> AsyncIterator[Rig]:
    clock = FakeClock(IN_SESSION)
    polygon = FakeQuoteSource(clock, PRICES, name="polygon")
    alpaca = FakeQuoteSource(clock, PRICES, name="alpaca")
    feeds = [FakeQuoteStream("polygon"), FakeQuoteStream("alpaca")]
    wiring = await bootstrap(
        settings,
        clock=clock,
        sources=[polygon, alpaca],
        streams=feeds,
        calendar=nyse,
        tunables=unit_tunables(optimizations={"agreement": False}),
    )
    made = Rig(wiring, clock)
    made.polygon, made.feeds = polygon, feeds
    yield made
    await wiring.exit_stack.aclose()


async def test_streamed_symbols_are_served_from_the_feed_and_never_polled(rig: Rig) -> None:
    (first,), _ = await rig.app.get_quotes(["AAPL"])
    assert first.cache_status is CacheStatus.MISS  # nothing streamed yet: polled once
    await settle()
    assert rig.feeds[0].subscriptions == [["AAPL"]] and rig.feeds[1].subscriptions == []
    rig.feeds[0].push(rig.update("AAPL", 231.5))
    await settle()
    for _ in range(5):
        rig.clock.advance(2)  # past the quote TTL: only the feed keeps it current
        (quote,), _ = await rig.app.get_quotes(["AAPL"])
        assert (quote.cache_status, quote.price, quote.provider) == (
            CacheStatus.STREAM,
            231.5,
            "polygon",
        )
        rig.feeds[0].push(rig.update("AAPL", 231.5))
        await settle()
    assert len(rig.polygon.quote_calls) == 1
    assert rig.app.performance()["streamed_symbols"] == 1


async def test_updates_are_written_through_to_the_cache(rig: Rig) -> None:
    await rig.app.get_quotes(["MSFT"])
    await settle()
    rig.feeds[0].push(rig.update("MSFT", 421.0))
    await settle()
    rig.clock.advance(0.5)
    await rig.app.follower.stop()  # the feed goes away: the cache still has its quote
    (quote,), _ = await rig.app.get_quotes(["MSFT"])
    assert (quote.cache_status, quote.price) == (CacheStatus.HIT_LOCAL, 421.0)


async def test_a_silent_feed_is_polled_around(rig: Rig) -> None:
    await rig.app.get_quotes(["AAPL"])
    await settle()
    rig.feeds[0].push(rig.update("AAPL", 231.5))
    await settle()
    rig.clock.advance(11)  # nothing for longer than streams.healthy_within_seconds
    (quote,), _ = await rig.app.get_quotes(["AAPL"])
    assert quote.cache_status is CacheStatus.MISS and len(rig.polygon.quote_calls) == 2


async def test_new_symbols_resubscribe_and_a_refused_feed_hands_over_to_the_next(
    rig: Rig,
) -> None:
    await rig.app.get_quotes(["AAPL"])
    await settle()
    await rig.app.get_quotes(["AAPL", "BTC-USD"])
    await settle()
    assert rig.feeds[0].subscriptions == [["AAPL"], ["AAPL", "BTC-USD"]]
    rig.feeds[0].push(AuthFailed("polygon stream: auth_failed"))
    await settle()
    assert rig.feeds[1].subscriptions == [["AAPL", "BTC-USD"]]
    assert rig.app.follower.provider == "alpaca"


async def test_stream_quotes_tells_of_a_feed_gap_and_its_back_fill(rig: Rig) -> None:
    stream = rig.app.stream_quotes(["AAPL"])
    first = await asyncio.wait_for(anext(stream), 5)
    assert (first.sequence, first.quote and first.quote.price) == (1, 230.0)
    await settle()
    down, up = rig.clock.now() - timedelta(seconds=3), rig.clock.now()
    filled = Quote("AAPL", 232.0, 231.9, 232.1, 9.0, up, "polygon", CacheStatus.STREAM)
    rig.feeds[0].push(
        FeedGap(("AAPL",), down, up, "closed by the server", "polygon"),
        Backfilled("AAPL", down, up, (), filled, "polygon"),
    )
    events = [await asyncio.wait_for(anext(stream), 5) for _ in range(3)]
    gap, backfilled, quote = events
    assert gap.gap is not None and (gap.sequence, gap.gap.from_sequence) == (2, 2)
    assert "polygon feed down" in gap.gap.reason
    assert backfilled.backfilled is not None and backfilled.sequence == 3
    assert (backfilled.backfilled.start, backfilled.backfilled.end) == (down, up)
    assert quote.quote is not None and (quote.sequence, quote.quote.price) == (4, 232.0)
    message = mapping.stream_event_to_pb(backfilled)
    assert message.WhichOneof("event") == "backfilled"
    assert message.backfilled.from_time.ToDatetime(tzinfo=UTC) == down
    assert mapping.stream_event_to_pb(gap).gap.to_sequence == 2
    await stream.aclose()


async def test_with_streams_off_no_feed_is_followed(settings: Settings, nyse: NyseCalendar) -> None:
    clock = FakeClock(IN_SESSION)
    feed = FakeQuoteStream("fake")
    wiring = await bootstrap(
        settings,
        clock=clock,
        source=FakeQuoteSource(clock, PRICES),
        streams=[feed],
        calendar=nyse,
        tunables=unit_tunables(optimizations={"streams": False}),
    )
    await wiring.app.get_quotes(["AAPL"])
    await settle()
    assert feed.subscriptions == []
    await wiring.exit_stack.aclose()
