"""Helpers of GetBars: cache keys and status, whether a cached series is due for newer bars,
and cutting windows out of a cached bar series."""

from __future__ import annotations

import itertools
from datetime import datetime

from market_gateway.app.requests import age_ms
from market_gateway.app.ttl_policy import TtlPolicy
from market_gateway.domain import (
    Bar,
    BarSeries,
    CachedBars,
    CacheStatus,
    Symbol,
    Timeframe,
    parse_symbol,
)
from market_gateway.ports import CachedValue


def series_key(symbol: Symbol, timeframe: Timeframe) -> str:
    return f"bars:{symbol.canonical}:{timeframe.value}"


def cached_status(found: CachedValue) -> CacheStatus:
    return CacheStatus.HIT_SHARED if found.tier == "l2" else CacheStatus.HIT_LOCAL


def reaches_back(entry: CachedBars, start: datetime | None) -> bool:
    """Does the cached series hold every bar from `start` on (up to its newest)?"""
    return start is not None and bool(entry.bars) and entry.bars[0].start_time <= start


def may_lack(entry: CachedBars, until: datetime) -> bool:
    """Can a bar ending by `until` be newer than the series' newest one?"""
    newest_end = entry.newest_end
    return newest_end is None or newest_end + entry.timeframe.width <= until


def window_of(entry: CachedBars, start: datetime, until: datetime, count: int) -> tuple[Bar, ...]:
    """The first `count` cached bars starting at or after `start` and ending by `until`."""
    width = entry.timeframe.width
    inside = (b for b in entry.bars if b.start_time >= start and b.start_time + width <= until)
    return tuple(itertools.islice(inside, count))


def series_of(
    entry: CachedBars, bars: tuple[Bar, ...], status: CacheStatus, now: datetime
) -> BarSeries:
    newest_end = bars[-1].start_time + entry.timeframe.width if bars else now
    return BarSeries(entry.symbol, list(bars), entry.provider, status, age_ms(now, newest_end))


def is_due(entry: CachedBars, now: datetime, ttl: TtlPolicy) -> bool:
    """Could the provider have a newer completed bar than the cached ones? (Its next bar
    has ended and the provider was not asked since, or longer ago than the TTL policy's
    freshness of bars.)"""
    newest_end = entry.newest_end
    if newest_end is None:
        return True
    next_complete = newest_end + entry.timeframe.width
    if now < next_complete:
        return False
    if entry.checked_at < next_complete:
        return True
    fresh = ttl.fresh_seconds("bars", parse_symbol(entry.symbol), now)
    return (now - entry.checked_at).total_seconds() >= fresh
