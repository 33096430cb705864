"""Streamed 1-minute bars are written through to the bars cache; incremental clients (the
bars since their last one) are served from the cached series."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import datetime, timedelta

import pytest
import pytest_asyncio

from market_gateway.adapters.calendar import NyseCalendar
from market_gateway.bootstrap import GatewayWiring, bootstrap
from market_gateway.config import Settings
from market_gateway.domain import (
    Bar,
    CacheStatus,
    FeedGap,
    Quote,
    QuoteUpdate,
    Timeframe,
    UpdateKind,
)
from service_runtime.clock import FakeClock

from .conftest import IN_SESSION, PRICES, unit_tunables
from .fakes import FakeQuoteSource, FakeQuoteStream

pytestmark = pytest.mark.asyncio
MINUTE = Timeframe.ONE_MINUTE
ONE = timedelta(minutes=1)


async def settle() -> None:
    for _ in range(30):
        await asyncio.sleep(0)


class Rig:
    def __init__(self, wiring: GatewayWiring, clock: FakeClock, polygon: FakeQuoteSource) -> None:
        self.app, self.clock, self.polygon = wiring.app, clock, polygon
        self.feed = FakeQuoteStream("polygon")

    def bar(self, start: datetime, close: float = 231.0) -> QuoteUpdate:
        bar = Bar(start, close, close + 1, close - 1, close, 50.0)
        quote = Quote("AAPL", close, close, close, 50.0, start + ONE, "polygon",
                      cache_status=CacheStatus.STREAM)  # fmt: skip
        return QuoteUpdate(UpdateKind.BAR, quote, bar=bar)

    async def push(self, *events: QuoteUpdate | FeedGap) -> None:
        self.feed.push(*events)
        await settle()


@pytest_asyncio.fixture
async def rig(settings: Settings, nyse: NyseCalendar) -> AsyncIterator[Rig]:
    clock = FakeClock(IN_SESSION)
    polygon = FakeQuoteSource(clock, PRICES, name="polygon")
    feed = FakeQuoteStream("polygon")
    wiring = await bootstrap(
        settings,
        clock=clock,
        sources=[polygon],
        streams=[feed],
        calendar=nyse,
        tunables=unit_tunables(optimizations={"agreement": False}),
    )
    made = Rig(wiring, clock, polygon)
    made.feed = feed
    await made.app.get_quotes(["AAPL"])  # the feed follows AAPL from now on
    await settle()
    first = await made.app.get_bars("AAPL", MINUTE, limit=3)  # cached: bars up to 15:30
    assert first.cache_status is CacheStatus.MISS and len(polygon.bar_calls) == 1
    yield made
    await wiring.exit_stack.aclose()


async def test_a_streamed_bar_is_served_from_the_bars_cache_without_an_upstream_call(
    rig: Rig,
) -> None:
    rig.clock.advance(61)  # 15:31:01: the 15:30 bar has completed...
    await rig.push(rig.bar(IN_SESSION))  # ...and the feed delivered it
    latest = await rig.app.get_bars("AAPL", MINUTE, limit=3)
    assert latest.cache_status is CacheStatus.HIT_LOCAL
    assert latest.bars[-1].start_time == IN_SESSION and latest.bars[-1].close == 231.0
    since = await rig.app.get_bars("AAPL", MINUTE, limit=100, start=IN_SESSION)
    assert since.cache_status is CacheStatus.HIT_LOCAL and len(since.bars) == 1
    assert len(rig.polygon.bar_calls) == 1  # only the first, cold fetch went upstream


async def test_without_the_streamed_bar_the_next_minute_is_fetched_incrementally(
    rig: Rig,
) -> None:
    rig.clock.advance(61)
    since = await rig.app.get_bars("AAPL", MINUTE, limit=100, start=IN_SESSION)
    assert since.cache_status is CacheStatus.MISS and len(since.bars) == 1
    (_, _, start, _, _) = rig.polygon.bar_calls[-1]
    assert start == IN_SESSION  # only what is newer than the cached series was asked for
    again = await rig.app.get_bars("AAPL", MINUTE, limit=100, start=IN_SESSION)
    assert again.cache_status is CacheStatus.HIT_LOCAL and len(rig.polygon.bar_calls) == 2


async def test_a_streamed_bar_after_a_hole_is_not_written_through(rig: Rig) -> None:
    rig.clock.advance(121)  # 15:32:01; the feed's first bar is 15:31's: 15:30's is missing
    await rig.push(rig.bar(IN_SESSION + ONE))
    latest = await rig.app.get_bars("AAPL", MINUTE, limit=3)
    assert latest.cache_status is CacheStatus.MISS and len(rig.polygon.bar_calls) == 2


async def test_a_feed_gap_ends_the_write_through_until_the_series_is_refetched(
    rig: Rig,
) -> None:
    rig.clock.advance(61)
    await rig.push(rig.bar(IN_SESSION))
    rig.clock.advance(120)  # 15:33:01
    gap = FeedGap(("AAPL",), IN_SESSION + ONE, rig.clock.now(), "dropped", "polygon")
    await rig.push(gap, rig.bar(IN_SESSION + 2 * ONE))  # 15:31 was lost in the gap
    latest = await rig.app.get_bars("AAPL", MINUTE, limit=3)
    assert latest.cache_status is CacheStatus.MISS and len(rig.polygon.bar_calls) == 2
    (_, _, start, _, _) = rig.polygon.bar_calls[-1]
    assert start == IN_SESSION + ONE  # the series is continued from its own newest bar


async def test_with_the_cache_off_streamed_bars_are_not_kept(
    settings: Settings, nyse: NyseCalendar
) -> None:
    clock = FakeClock(IN_SESSION)
    polygon = FakeQuoteSource(clock, PRICES, name="polygon")
    wiring = await bootstrap(
        settings,
        clock=clock,
        sources=[polygon],
        calendar=nyse,
        tunables=unit_tunables(optimizations={"cache": False}),
    )
    bar = Bar(IN_SESSION, 1.0, 1.0, 1.0, 1.0, 1.0)
    assert not await wiring.app.bars.absorb("AAPL", [bar], "polygon", IN_SESSION)
    await wiring.exit_stack.aclose()


async def test_a_window_ending_about_now_is_cut_from_the_series_kept_up_to_date(
    rig: Rig,
) -> None:
    # the tracker asks "since the signal, until my now" (its clock, a moment earlier)
    signal_time = IN_SESSION - ONE - timedelta(seconds=20)
    rig.clock.advance(30)
    inside = await rig.app.get_bars(
        "AAPL", MINUTE, start=signal_time, end=rig.clock.now() - timedelta(seconds=0.1)
    )
    assert inside.cache_status is CacheStatus.HIT_LOCAL and len(rig.polygon.bar_calls) == 1
    assert [b.start_time for b in inside.bars] == [IN_SESSION - ONE]
    rig.clock.advance(31)  # 15:31:01: the 15:30 bar has completed, not yet fetched
    later = await rig.app.get_bars(
        "AAPL", MINUTE, start=signal_time, end=rig.clock.now() - timedelta(seconds=0.1)
    )
    assert later.cache_status is CacheStatus.MISS and len(rig.polygon.bar_calls) == 2
    assert [b.start_time for b in later.bars] == [IN_SESSION - ONE, IN_SESSION]
    again = await rig.app.get_bars(
        "AAPL", MINUTE, start=signal_time, end=rig.clock.now() - timedelta(seconds=0.1)
    )
    assert again.cache_status is CacheStatus.HIT_LOCAL and len(rig.polygon.bar_calls) == 2
