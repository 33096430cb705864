"""Due 1-minute bar series of many symbols brought up to date in one multi-symbol call.

With `optimizations.batching` and `incremental_bars`: when a symbol's cached 1-minute
series is due (a newer bar can have completed) and other series this gateway holds are due
too, the first provider in the bar order that answers many symbols at once (`MultiBarSource`:
Alpaca's `symbols=A,B,...`) is asked once for the new bars of up to `batching.max_batch` of
them, from the oldest newest bar among them. Every series it answered for is extended and
stored, so the other symbols' next requests are cache hits; a request for a symbol whose
batch is in flight waits for it (single flight). A symbol the batch brought no bar for, a
failed batch, or a series due alone go the usual way: the symbol's own fetch along the bar
order. The series known here are the last `MAX_TRACKED` this process read or stored.
"""

from __future__ import annotations

import asyncio
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from datetime import datetime

import structlog

from market_gateway.app.bar_windows import is_due
from market_gateway.app.requests import MAX_BARS
from market_gateway.app.routing import MarketProvider, Router
from market_gateway.app.ttl_policy import TtlPolicy
from market_gateway.domain import CachedBars, Symbol, Timeframe, Tunables, parse_symbol
from market_gateway.ports import MultiBarSource

log = structlog.get_logger(__name__)
MAX_TRACKED = 2_000  # references to the cache's own objects; bounded for huge universes
MINUTE = Timeframe.ONE_MINUTE
Store = Callable[[Symbol, CachedBars], Awaitable[None]]


class BarBatcher:
    def __init__(
        self,
        router: Router,
        *,
        ttl: TtlPolicy,
        tunables: Callable[[], Tunables],
        store: Store,
    ) -> None:
        self._router = router
        self._ttl = ttl
        self._tunables = tunables
        self._store = store
        self._series: OrderedDict[str, CachedBars] = OrderedDict()
        self._pending: dict[str, asyncio.Future[CachedBars | None]] = {}
        self.batches = 0  # multi-symbol calls made (tests, stats)

    def note(self, entry: CachedBars) -> None:
        """A 1-minute series read from or written to the cache (the latest one known)."""
        if entry.timeframe is not MINUTE:
            return
        self._series[entry.symbol] = entry
        self._series.move_to_end(entry.symbol)
        while len(self._series) > MAX_TRACKED:
            self._series.popitem(last=False)

    async def refresh(self, symbol: Symbol, entry: CachedBars, now: datetime) -> CachedBars | None:
        """`entry` (due) extended by a batch, or None: the caller fetches it alone."""
        pending = self._pending.get(symbol.canonical)
        if pending is not None:
            return await asyncio.shield(pending)
        tunables = self._tunables()
        switches = tunables.optimizations
        if entry.timeframe is not MINUTE or not (switches.batching and switches.incremental_bars):
            return None
        provider = self._provider()
        if provider is None:
            return None
        group = self._due_group(entry, now, tunables.batching.max_batch)
        if len(group) < 2:
            return None
        return await self._run(provider, group, symbol.canonical, now)

    def _provider(self) -> MarketProvider | None:
        for provider in self._router.bars():
            if isinstance(provider.source, MultiBarSource) and not provider.synthetic:
                return provider
        return None

    def _due_group(self, entry: CachedBars, now: datetime, limit: int) -> dict[str, CachedBars]:
        """This series first, then the other due ones (most recently used first)."""
        group = {entry.symbol: entry}
        for name in reversed(self._series):
            if len(group) >= limit:
                break
            other = self._series[name]
            if name in group or name in self._pending or other.newest_end is None:
                continue
            if is_due(other, now, self._ttl):
                group[name] = other
        return group

    async def _run(
        self, provider: MarketProvider, group: dict[str, CachedBars], wanted: str, now: datetime
    ) -> CachedBars | None:
        loop = asyncio.get_running_loop()
        futures = {name: loop.create_future() for name in group}
        self._pending.update(futures)
        done: dict[str, CachedBars] = {}
        try:
            since = min(e.newest_end or now for e in group.values())
            symbols = [parse_symbol(name) for name in group]
            source = provider.source
            assert isinstance(source, MultiBarSource)
            self.batches += 1
            fresh = await provider.guard.call(
                "get_bars",
                lambda: source.get_bars_multi(symbols, MINUTE, since, now, MAX_BARS),
            )
            for symbol in symbols:
                bars = fresh.get(symbol.canonical)
                if not bars:
                    continue  # unknown there, or quiet: the symbol's own fetch decides
                entry = group[symbol.canonical]
                done[symbol.canonical] = entry.extended(bars, provider.name, now, entry.depth)
                await self._store(symbol, done[symbol.canonical])
        except Exception as e:  # the symbols' own fetches fail over as usual
            log.info("bar_batch_failed", provider=provider.name, symbols=len(group), error=str(e))
        finally:
            for name, future in futures.items():
                self._pending.pop(name, None)
                if not future.done():
                    future.set_result(done.get(name))
        return done.get(wanted)
