"""GetBars: cached bar series per symbol and timeframe, extended incrementally.

The latest N bars (no window, or a window ending now) are served from the cached series of
the symbol and timeframe when it holds at least N bars and no newer bar can have completed
since the provider was last asked (its next bar ends later, or the provider was asked after
that and less than the TTL policy's freshness ago). Otherwise, with
`optimizations.incremental_bars`, only the bars after the newest cached one are fetched and
appended; without it the whole series is fetched again. A window inside the cached series is
cut from it; other windows go to the providers. Every fetch fails over along the bar order
(`routing.bars`); when every provider fails a cached series is served stale.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from market_gateway.app.outcomes import failure_of
from market_gateway.app.requests import DEFAULT_BARS, MAX_BARS, age_ms, check_bars_request
from market_gateway.app.routing import Router
from market_gateway.app.ttl_policy import TtlPolicy
from market_gateway.domain import (
    Bar,
    BarSeries,
    CachedBars,
    CacheStatus,
    ProviderUnavailable,
    Symbol,
    Timeframe,
    Tunables,
    UnknownSymbol,
    parse_symbol,
)
from market_gateway.ports import Cache, CachedValue, Clock
from observability.metrics import CACHE_HITS, CACHE_MISSES


class BarService:
    def __init__(
        self,
        router: Router,
        *,
        cache: Cache | None,
        ttl: TtlPolicy,
        clock: Clock,
        tunables: Callable[[], Tunables],
    ) -> None:
        self._router = router
        self._cache = cache
        self._ttl = ttl
        self._clock = clock
        self._tunables = tunables
        self._hits = CACHE_HITS.labels(cache="bars")  # the cache's get() counts nothing
        self._misses = CACHE_MISSES.labels(cache="bars")

    async def get_bars(
        self,
        symbol: str,
        timeframe: Timeframe,
        *,
        limit: int = 0,
        start: datetime | None = None,
        end: datetime | None = None,
    ) -> BarSeries:
        """Completed bars oldest first: the latest `limit` (default 100), or a window."""
        parsed = parse_symbol(symbol)
        check_bars_request(limit, start, end)
        now = self._clock.now()
        until = min(end, now) if end is not None else now
        count = limit or (DEFAULT_BARS if start is None else MAX_BARS)
        cached = self._cache is not None and self._tunables().optimizations.cache
        if not cached:
            return await self._fetched(parsed, timeframe, start, until, count)
        if start is None and until == now:
            return await self._latest(parsed, timeframe, count, now)
        found = await self._cached(parsed, timeframe)
        if found is not None and (window := _window(found.value, start, until, count)):
            self._hits.inc()
            return _series(found.value, window, _status(found), now)
        return await self._fetched(parsed, timeframe, start, until, count)

    async def _latest(
        self, symbol: Symbol, timeframe: Timeframe, count: int, now: datetime
    ) -> BarSeries:
        assert self._cache is not None
        found = await self._cached(symbol, timeframe)
        entry = found.value if found is not None and found.value.depth >= count else None
        if found is not None and entry is not None and not self._due(entry, now):
            self._hits.inc()
            return _series(entry, entry.bars[-count:], _status(found), now)
        self._misses.inc()  # the provider is asked (for all of them, or the newer ones)
        try:
            if entry is not None and self._tunables().optimizations.incremental_bars:
                since = entry.newest_end or now
                newer, provider = await self._fetch(symbol, timeframe, since, now, MAX_BARS)
                entry = entry.extended(newer, provider, now, max(entry.depth, count))
            else:
                bars, provider = await self._fetch(symbol, timeframe, None, now, count)
                entry = CachedBars(symbol.canonical, timeframe, provider, count, tuple(bars), now)
        except UnknownSymbol:
            raise
        except Exception:
            if found is None or found.value.depth < count:
                raise
            return _series(found.value, found.value.bars[-count:], CacheStatus.STALE, now)
        await self._cache.set(_key(symbol, timeframe), entry)
        self._ttl.volatility.observe_bars(symbol.canonical, entry.bars)
        return _series(entry, entry.bars[-count:], CacheStatus.MISS, now)

    async def _fetched(
        self,
        symbol: Symbol,
        timeframe: Timeframe,
        start: datetime | None,
        until: datetime,
        count: int,
    ) -> BarSeries:
        self._misses.inc()
        bars, provider = await self._fetch(symbol, timeframe, start, until, count)
        now = self._clock.now()
        newest_end = bars[-1].start_time + timeframe.width if bars else now
        return BarSeries(
            symbol.canonical, bars, provider, CacheStatus.MISS, age_ms(now, newest_end)
        )

    async def _fetch(
        self,
        symbol: Symbol,
        timeframe: Timeframe,
        start: datetime | None,
        until: datetime,
        count: int,
    ) -> tuple[list[Bar], str]:
        """Bars from the first provider in the bar order that has them."""
        said: list[tuple[str, Exception | None]] = []
        order = self._router.bars()
        real = any(not p.synthetic for p in order)
        for provider in order:
            if provider.synthetic and real and all(e is None for _, e in said):
                break  # every real provider said unknown: not a case for the fallback
            source = provider.source
            try:
                bars = await provider.guard.call(
                    "get_bars",
                    lambda: source.get_bars(symbol, timeframe, start, until, count),  # noqa: B023
                )
            except UnknownSymbol:
                said.append((provider.name, None))
                continue
            except Exception as e:
                said.append((provider.name, e))
                continue
            return bars, provider.name
        if not order:
            said.append(("gateway", ProviderUnavailable("no market-data provider is enabled")))
        raise failure_of(symbol, said)

    async def _cached(self, symbol: Symbol, timeframe: Timeframe) -> CachedValue | None:
        assert self._cache is not None
        found = await self._cache.get(_key(symbol, timeframe))
        if found is None or not isinstance(found.value, CachedBars):
            return None
        return found

    def _due(self, entry: CachedBars, now: datetime) -> bool:
        """Could the provider have a newer completed bar than the cached ones?"""
        newest_end = entry.newest_end
        if newest_end is None:
            return True
        next_complete = newest_end + entry.timeframe.width
        if now < next_complete:
            return False
        if entry.checked_at < next_complete:
            return True
        fresh = self._ttl.fresh_seconds("bars", parse_symbol(entry.symbol), now)
        return (now - entry.checked_at).total_seconds() >= fresh


def _key(symbol: Symbol, timeframe: Timeframe) -> str:
    return f"bars:{symbol.canonical}:{timeframe.value}"


def _status(found: CachedValue) -> CacheStatus:
    return CacheStatus.HIT_SHARED if found.tier == "l2" else CacheStatus.HIT_LOCAL


def _window(
    entry: CachedBars, start: datetime | None, until: datetime, count: int
) -> tuple[Bar, ...]:
    """The bars of [start, until) when the cached series covers that window, else ()."""
    newest_end = entry.newest_end
    if start is None or newest_end is None or entry.bars[0].start_time > start:
        return ()
    if until > newest_end:
        return ()
    width = entry.timeframe.width
    inside = [b for b in entry.bars if b.start_time >= start and b.start_time + width <= until]
    return tuple(inside[:count])


def _series(
    entry: CachedBars, bars: tuple[Bar, ...], status: CacheStatus, now: datetime
) -> BarSeries:
    newest_end = bars[-1].start_time + entry.timeframe.width if bars else now
    return BarSeries(entry.symbol, list(bars), entry.provider, status, age_ms(now, newest_end))
