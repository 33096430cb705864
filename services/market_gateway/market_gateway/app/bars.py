"""GetBars: cached bar series per symbol and timeframe, extended incrementally.

The latest N bars (no window, or a window ending now) are served from the cached series of
the symbol and timeframe when it holds at least N bars and no newer bar can have completed
since the provider was last asked (its next bar ends later, or the provider was asked after
that and less than the TTL policy's freshness ago). Otherwise, with
`optimizations.incremental_bars`, only the bars after the newest cached one are fetched and
appended; without it the whole series is fetched again. A window that starts inside the
cached series is cut from it — after bringing the series up to date the same way when a bar
ending inside the window could be newer than the series (an incremental client's "what is
new since my last bar", the tracker's "since the signal"); other windows go to the
providers. A provider feed's 1-minute bars are written through to
the series (`absorb`), so while a feed follows the symbol no provider is asked. Series due
at the same time are refreshed together in one multi-symbol call (bar_batch.py). Every fetch
fails over along the bar order (`routing.bars`); when every provider fails a cached series
is served stale.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime

from market_gateway.app.bar_batch import BarBatcher
from market_gateway.app.bar_windows import (
    cached_status,
    is_due,
    may_lack,
    reaches_back,
    series_key,
    series_of,
    window_of,
)
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
        self.batcher = BarBatcher(router, ttl=ttl, tunables=tunables, store=self._stored)
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
            entry, status = await self._current(parsed, timeframe, count, now)
            return series_of(entry, entry.bars[-count:], status, now)
        found = await self._cached(parsed, timeframe)
        if found is None or start is None or not reaches_back(found.value, start):
            return await self._fetched(parsed, timeframe, start, until, count)
        # a window inside the series, or from inside it to about now (an incremental client)
        entry, status = found.value, cached_status(found)
        if may_lack(entry, until):  # a bar ending by `until` can be newer than the series
            entry, status = await self._current(parsed, timeframe, 0, now, found)
        else:
            self._hits.inc()
        return series_of(entry, window_of(entry, start, until, count), status, now)

    async def absorb(
        self, symbol: str, bars: Sequence[Bar], provider: str, complete_since: datetime
    ) -> bool:
        """Streamed 1-minute bars, written through to the symbol's cached series when it
        reaches `complete_since` (from there on the feed's record has every bar), so the
        next request is served without asking a provider. True when the series grew."""
        if not bars or self._cache is None or not self._tunables().optimizations.cache:
            return False
        parsed = parse_symbol(symbol)
        found = await self._cached(parsed, Timeframe.ONE_MINUTE)
        newest_end = found.value.newest_end if found is not None else None
        if found is None or newest_end is None or newest_end < complete_since:
            return False  # nothing cached, or a hole between the series and the feed
        newer = [b for b in bars if b.start_time >= newest_end]
        if not newer:
            return False
        entry = found.value.extended(newer, provider, self._clock.now(), found.value.depth)
        await self._stored(parsed, entry)
        return True

    async def _stored(self, symbol: Symbol, entry: CachedBars) -> None:
        assert self._cache is not None
        await self._cache.set(series_key(symbol, entry.timeframe), entry)
        self._ttl.volatility.observe_bars(symbol.canonical, entry.bars)
        self.batcher.note(entry)

    async def _current(
        self,
        symbol: Symbol,
        timeframe: Timeframe,
        count: int,
        now: datetime,
        found: CachedValue | None = None,
    ) -> tuple[CachedBars, CacheStatus]:
        """The cached series (holding at least `count` bars), brought up to date when a
        newer bar can have completed; stale when every provider fails."""
        assert self._cache is not None
        found = found or await self._cached(symbol, timeframe)
        entry = found.value if found is not None and found.value.depth >= count else None
        if found is not None and entry is not None and not self._due(entry, now):
            self._hits.inc()
            return entry, cached_status(found)
        self._misses.inc()  # the provider is asked (for all of them, or the newer ones)
        try:
            if entry is not None and self._tunables().optimizations.incremental_bars:
                batched = await self.batcher.refresh(symbol, entry, now)
                if batched is not None:  # stored by the batch
                    return batched, CacheStatus.MISS
                since = entry.newest_end or now
                newer, provider = await self._fetch(symbol, timeframe, since, now, MAX_BARS)
                entry = entry.extended(newer, provider, now, max(entry.depth, count))
            else:
                depth = max(count, found.value.depth) if found is not None else count
                bars, provider = await self._fetch(symbol, timeframe, None, now, depth)
                entry = CachedBars(symbol.canonical, timeframe, provider, depth, tuple(bars), now)
        except UnknownSymbol:
            raise
        except Exception:
            if found is None or found.value.depth < count:
                raise
            return found.value, CacheStatus.STALE_ON_ERROR
        await self._stored(symbol, entry)
        return entry, CacheStatus.MISS

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
        found = await self._cache.get(series_key(symbol, timeframe))
        if found is None or not isinstance(found.value, CachedBars):
            return None
        self.batcher.note(found.value)
        return found

    def _due(self, entry: CachedBars, now: datetime) -> bool:
        return is_due(entry, now, self._ttl)
