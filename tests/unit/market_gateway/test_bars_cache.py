"""GetBars over the cache: served while no newer bar can exist, extended incrementally."""

from __future__ import annotations

from datetime import timedelta

import pytest
from prometheus_client import REGISTRY

from market_gateway.app import MarketGatewayApp
from market_gateway.bootstrap import GatewayWiring
from market_gateway.domain import CacheStatus, ProviderUnavailable, Timeframe, UnknownSymbol
from service_runtime.clock import FakeClock

from .conftest import IN_SESSION
from .fakes import FakeQuoteSource, unavailable

pytestmark = pytest.mark.asyncio
MINUTE = Timeframe.ONE_MINUTE


def counted(name: str) -> float:
    return REGISTRY.get_sample_value(name, {"cache": "bars"}) or 0.0


async def test_the_cached_series_serves_until_a_newer_bar_can_have_completed(
    app: MarketGatewayApp, source: FakeQuoteSource, clock: FakeClock
) -> None:
    hits, misses = (counted(f"argo_cache_{k}_total") for k in ("hits", "misses"))
    first = await app.get_bars("AAPL", MINUTE, limit=3)
    assert first.cache_status is CacheStatus.MISS and len(source.bar_calls) == 1
    clock.advance(50)  # 15:30:50: the 15:30 bar is not complete yet
    again = await app.get_bars("AAPL", MINUTE, limit=2)
    assert again.cache_status is CacheStatus.HIT_LOCAL and len(source.bar_calls) == 1
    assert again.bars == first.bars[-2:] and again.age_ms == 50_000
    assert counted("argo_cache_hits_total") == hits + 1
    assert counted("argo_cache_misses_total") == misses + 1


async def test_only_bars_after_the_newest_cached_one_are_fetched(
    app: MarketGatewayApp, source: FakeQuoteSource, clock: FakeClock
) -> None:
    first = await app.get_bars("AAPL", MINUTE, limit=3)
    newest_end = first.bars[-1].start_time + MINUTE.width
    assert newest_end == IN_SESSION
    clock.advance(125)  # two more bars completed: 15:30 and 15:31
    later = await app.get_bars("AAPL", MINUTE, limit=3)
    (_, _, since, until, _) = source.bar_calls[-1]
    assert since == newest_end and until == clock.now()  # only the new ones were asked for
    assert later.cache_status is CacheStatus.MISS
    assert [b.start_time for b in later.bars] == [
        IN_SESSION - timedelta(minutes=1),
        IN_SESSION,
        IN_SESSION + timedelta(minutes=1),
    ]
    assert later.bars[0] == first.bars[-1]


async def test_without_incremental_bars_the_whole_series_is_fetched_again(
    wiring: GatewayWiring, source: FakeQuoteSource, clock: FakeClock
) -> None:
    assert wiring.apply_config is not None
    wiring.apply_config(
        {"batching": {"window_seconds": 0}, "optimizations": {"incremental_bars": False}}
    )
    await wiring.app.get_bars("AAPL", MINUTE, limit=3)
    clock.advance(125)
    await wiring.app.get_bars("AAPL", MINUTE, limit=3)
    assert [call[2] for call in source.bar_calls] == [None, None]  # no start: full fetches


async def test_more_bars_than_cached_are_fetched_in_full(
    app: MarketGatewayApp, source: FakeQuoteSource
) -> None:
    await app.get_bars("AAPL", MINUTE, limit=3)
    source.bar_count = 10
    series = await app.get_bars("AAPL", MINUTE, limit=10)
    assert len(series.bars) == 10 and source.bar_calls[-1][2] is None


async def test_a_window_inside_the_cached_series_is_cut_from_it(
    app: MarketGatewayApp, source: FakeQuoteSource
) -> None:
    source.bar_count = 10
    await app.get_bars("AAPL", MINUTE, limit=10)
    window = await app.get_bars(
        "AAPL",
        MINUTE,
        start=IN_SESSION - timedelta(minutes=4),
        end=IN_SESSION - timedelta(minutes=1),
    )
    assert window.cache_status is CacheStatus.HIT_LOCAL and len(source.bar_calls) == 1
    assert [b.start_time for b in window.bars] == [
        IN_SESSION - timedelta(minutes=m) for m in (4, 3, 2)
    ]


async def test_a_failing_provider_serves_the_cached_series_stale(
    app: MarketGatewayApp, source: FakeQuoteSource, clock: FakeClock
) -> None:
    await app.get_bars("AAPL", MINUTE, limit=3)
    clock.advance(300)
    source.failure = unavailable()
    stale = await app.get_bars("AAPL", MINUTE, limit=3)
    assert stale.cache_status is CacheStatus.STALE_ON_ERROR and len(stale.bars) == 3
    with pytest.raises(ProviderUnavailable):  # nothing cached to fall back on
        await app.get_bars("MSFT", MINUTE)
    source.failure = None
    with pytest.raises(UnknownSymbol):
        await app.get_bars("NOPE", MINUTE)
