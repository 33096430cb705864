"""GetQuotes: stream, then cache, then providers — each step behind its switch.

For every distinct symbol of a request:
1. streams on, and a healthy provider feed follows the symbol: its latest quote (STREAM),
   no upstream call, whatever `max_age_ms` says (a live feed's quote is current even when
   the symbol has not traded for a while). Every requested symbol is offered to the feed
   (up to its limit).
2. cache on: the two-tier cache (L1, then Redis) — fresh (HIT_LOCAL / HIT_SHARED), stale
   while one refresh runs (STALE), or loaded (MISS); stale when every provider fails.
   `max_age_ms` > 0 replaces the TTL policy: anything older is loaded again.
3. the load: batching on -> the micro-batcher (symbols of concurrent requests within
   `batching.window_seconds` go out as one provider call; a symbol pending or in flight is
   shared); else single flight on -> concurrent identical loads share one call; else a
   call of its own. With batching off the request's symbols are loaded one after another.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping, Sequence

from market_gateway.app.caching import cache_status
from market_gateway.app.deadline import current_deadline, detached, seconds_left
from market_gateway.app.outcomes import Outcome, symbol_error
from market_gateway.app.quote_fetch import QuoteFetcher
from market_gateway.app.requests import distinct_request
from market_gateway.app.served_quotes import ServedQuotes, as_served
from market_gateway.app.stream_follow import StreamFollower
from market_gateway.app.ttl_policy import VolatilityTracker
from market_gateway.domain import (
    BatchingSettings,
    CacheStatus,
    InvalidRequest,
    Quote,
    Symbol,
    SymbolError,
    Tunables,
)
from market_gateway.ports import Cache, Clock
from market_gateway.telemetry import QUOTES_SERVED
from observability.metrics import CACHE_HITS, CACHE_MISSES
from resilience.batcher import MicroBatcher
from resilience.singleflight import SingleFlight

CACHE_NAME = "quotes"
_PATIENCE = 0.8  # share of the remaining deadline spent waiting on a load with a stale fallback


class QuoteService:
    def __init__(
        self,
        fetcher: QuoteFetcher,
        *,
        cache: Cache | None,
        follower: StreamFollower,
        volatility: VolatilityTracker,
        clock: Clock,
        tunables: Callable[[], Tunables],
    ) -> None:
        self._fetcher = fetcher
        self._cache = cache
        self._follower = follower
        self._volatility = volatility
        self._clock = clock
        self._tunables = tunables
        self._flight = SingleFlight("quotes")
        self._served_copies = ServedQuotes()
        self._batching: BatchingSettings | None = None
        self._batcher = self._new_batcher(tunables().batching)
        self.hits = 0
        self.misses = 0
        self._cache_hits = CACHE_HITS.labels(cache=CACHE_NAME)
        self._cache_misses = CACHE_MISSES.labels(cache=CACHE_NAME)
        self._served = {
            status: QUOTES_SERVED.labels(cache_status=status.value) for status in CacheStatus
        }

    def apply(self, tunables: Tunables) -> None:
        if tunables.batching != self._batching:  # the old batcher finishes what it holds
            self._batcher = self._new_batcher(tunables.batching)

    async def get_quotes(
        self, symbols: Sequence[str], max_age_ms: int = 0
    ) -> tuple[list[Quote], list[SymbolError]]:
        """One quote or one error per distinct symbol, in order of first mention."""
        if max_age_ms < 0:
            raise InvalidRequest("max_age_ms", "must be >= 0")
        wanted = distinct_request(symbols)
        switches = self._tunables().optimizations
        parsed = [symbol for symbol, _ in wanted.values()]
        outcomes: dict[str, Outcome] = {}
        if switches.streams:
            self._follower.want(parsed)
            book = self._follower.book()
            for symbol in parsed:
                streamed = book.get(symbol.canonical)
                if streamed is not None:
                    outcomes[symbol.canonical] = streamed
        todo = [s for s in parsed if s.canonical not in outcomes]
        if todo and switches.cache and self._cache is not None and not max_age_ms:
            todo = await self._fresh_hits(todo, outcomes)
        if not todo:  # all streamed or fresh in the cache: the warm path
            return self._answer(wanted, outcomes)
        if switches.batching:
            found = await asyncio.gather(*(self._one(s, max_age_ms) for s in todo))
        else:
            found = [await self._one(s, max_age_ms) for s in todo]
        outcomes.update(zip((s.canonical for s in todo), found, strict=True))
        return self._answer(wanted, outcomes)

    async def _fresh_hits(
        self, symbols: list[Symbol], outcomes: dict[str, Outcome]
    ) -> list[Symbol]:
        """Serve what the cache holds fresh (no task per symbol); return the rest, which go
        through the full lookup (stale-while-revalidate, loads, stale-on-error)."""
        assert self._cache is not None
        rest = []
        for symbol in symbols:
            found = await self._cache.get(f"quote:{symbol.canonical}")
            if found is None or found.status != "hit":
                rest.append(symbol)
                continue
            status = CacheStatus.HIT_SHARED if found.tier == "l2" else CacheStatus.HIT_LOCAL
            outcomes[symbol.canonical] = as_served(found.value, status)
        if len(rest) < len(symbols):
            self._cache_hits.inc(len(symbols) - len(rest))  # once per request, not per symbol
        return rest

    async def store(self, quote: Quote) -> None:
        """A streamed quote, written through to the cache (when it is on)."""
        self._volatility.observe(quote.symbol, quote.price, quote.time)
        if self._cache is not None and self._tunables().optimizations.cache:
            await self._cache.set(f"quote:{quote.symbol}", quote)

    async def _one(self, symbol: Symbol, max_age_ms: int) -> Outcome:
        key = f"quote:{symbol.canonical}"
        try:
            if self._cache is None or not self._tunables().optimizations.cache:
                self._cache_misses.inc()
                return as_served(await self._load(symbol), CacheStatus.MISS)
            if max_age_ms > 0:
                return await self._within(key, symbol, max_age_ms / 1000)
            waiting = True

            async def load() -> Quote:
                """Under the request's deadline while it waits; without one as the
                background refresh of a stale entry (which outlives the request)."""
                if waiting:
                    return await self._load(symbol)
                with detached():
                    return await self._load(symbol)

            try:
                found = await self._cache.get_or_load(key, load, max_wait=self._patience())
            finally:
                waiting = False
            return as_served(found.value, cache_status(found))
        except Exception as e:
            return e

    def _patience(self) -> float | None:
        """How long a caller waits for a load before a stale-if-error quote is served:
        most of its deadline, leaving room to answer (None: no deadline, wait)."""
        left = seconds_left(self._clock, current_deadline())
        return None if left == float("inf") else left * _PATIENCE

    async def _within(self, key: str, symbol: Symbol, max_age: float) -> Quote:
        """A cached quote at most `max_age` seconds old, else a fresh one (counted here:
        the cache counts only its own lookups)."""
        assert self._cache is not None
        found = await self._cache.get(key)
        if found is not None and found.age <= max_age:
            self._cache_hits.inc()
            status = CacheStatus.HIT_SHARED if found.tier == "l2" else CacheStatus.HIT_LOCAL
            return as_served(found.value, status)
        self._cache_misses.inc()
        quote = await self._load(symbol)
        await self._cache.set(key, quote)
        return as_served(quote, CacheStatus.MISS)

    async def _load(self, symbol: Symbol) -> Quote:
        switches = self._tunables().optimizations
        if switches.batching:
            quote = await self._batcher.load(symbol)
        elif switches.single_flight:
            quote = await self._flight.do(symbol.canonical, lambda: self._fetch_one(symbol))
        else:
            quote = await self._fetch_one(symbol)
        self._volatility.observe(quote.symbol, quote.price, quote.time)
        return quote

    async def _fetch_one(self, symbol: Symbol) -> Quote:
        outcome = (await self._fetcher.fetch([symbol]))[symbol.canonical]
        if isinstance(outcome, Exception):
            raise outcome
        return outcome

    async def _fetch_many(self, symbols: list[Symbol]) -> Mapping[Symbol, Outcome]:
        outcomes = await self._fetcher.fetch(symbols)
        return {s: outcomes[s.canonical] for s in symbols}

    def _answer(
        self, wanted: Mapping[str, tuple[Symbol, str]], outcomes: dict[str, Outcome]
    ) -> tuple[list[Quote], list[SymbolError]]:
        now = self._clock.now()
        quotes: list[Quote] = []
        errors: list[SymbolError] = []
        served: dict[CacheStatus, int] = {}
        serve = self._served_copies.serve
        for canonical, (_, spelled) in wanted.items():
            outcome = outcomes[canonical]
            if isinstance(outcome, Exception):
                errors.append(symbol_error(spelled, outcome))
                continue
            status = outcome.cache_status
            served[status] = served.get(status, 0) + 1
            quotes.append(serve(canonical, outcome, now))
        for status, count in served.items():  # counters once per request (they take a lock)
            self._served[status].inc(count)
        misses = served.get(CacheStatus.MISS, 0)
        self.misses += misses
        self.hits += len(quotes) - misses
        if streamed := served.get(CacheStatus.STREAM, 0):
            self._cache_hits.inc(streamed)
        return quotes, errors

    def _new_batcher(self, settings: BatchingSettings) -> MicroBatcher[Symbol, Quote]:
        self._batching = settings
        return MicroBatcher(
            self._fetch_many,
            name="quotes",
            window=settings.window_seconds,
            max_batch=settings.max_batch,
            clock=self._clock,
        )
