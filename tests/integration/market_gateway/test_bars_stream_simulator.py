"""Against the provider simulator: Polygon's minute aggregates (AM) streamed to the gateway
are written through to the bars cache, so an incremental client's next request is served
without an aggregates call."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta

import pytest

from market_gateway.adapters.calendar import NyseCalendar
from market_gateway.domain import CacheStatus, FeedEvent, QuoteUpdate, Timeframe
from service_runtime.clock import FakeClock

from .test_adapters_against_simulator import SESSION
from .test_gateway_against_simulator import AGGREGATES, gateway

pytestmark = pytest.mark.integration
MINUTE = Timeframe.ONE_MINUTE


@pytest.fixture(scope="module")
def calendar() -> NyseCalendar:
    return NyseCalendar.build(2020, 2030)


@pytest.mark.asyncio
async def test_streamed_minute_bars_serve_the_next_incremental_request(
    calendar: NyseCalendar,
) -> None:
    tunables = {"routing": {"synthetic_fallback": False}}
    async with gateway(calendar, providers=("polygon",), tunables=tunables) as gw:
        app, clock = gw.wiring.app, gw.wiring.app.bars._clock
        assert isinstance(clock, FakeClock)
        events = app.follower.listen()  # what the feed delivers, after the gateway kept it
        await app.get_quotes(["AAPL"])  # the feed follows AAPL from now on
        cold = await app.get_bars("AAPL", MINUTE, limit=100)
        assert cold.bars[-1].start_time + MINUTE.width == SESSION
        fetched = gw.calls("polygon", AGGREGATES)
        async with asyncio.timeout(10):
            await events.get()  # subscribed and streaming
        clock.advance(61)  # the 15:30 bar completes...
        async with asyncio.timeout(10):  # ...and its AM event arrives
            while not _bar_of(await events.get(), SESSION):
                pass
        since = await app.get_bars("AAPL", MINUTE, limit=100, start=SESSION)
        assert since.cache_status is CacheStatus.HIT_LOCAL
        assert [b.start_time for b in since.bars] == [SESSION]
        assert gw.calls("polygon", AGGREGATES) == fetched
        assert since.bars[0].start_time + timedelta(minutes=1) <= clock.now()


def _bar_of(event: FeedEvent, start: datetime) -> bool:
    return (
        isinstance(event, QuoteUpdate) and event.bar is not None and event.bar.start_time == start
    )
