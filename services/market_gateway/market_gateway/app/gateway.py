"""MarketGatewayApp: the gateway's use cases behind one object (what the servicer calls).

Composition of the app's parts: provider guards and orders (routing), quote fetching
(quote_fetch), GetQuotes (quotes), provider feeds (stream_follow), StreamQuotes
(quote_streams), GetBars (bars), GetSentiment (sentiment), the TTL policy, agreement and the
cost ledger. Each request runs under the caller's deadline (deadline.py). Callers pass
symbols in any accepted spelling; answers use canonical symbols, name their provider, cache
status and age.
"""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import AsyncGenerator, Callable, Mapping, Sequence
from datetime import datetime
from typing import Any

from market_gateway.app.agreement import AgreementTracker
from market_gateway.app.bars import BarService
from market_gateway.app.caching import CacheFactory, SwitchableFlight
from market_gateway.app.cost_ledger import CostLedger
from market_gateway.app.deadline import background_context, deadline_scope
from market_gateway.app.quote_fetch import QuoteFetcher
from market_gateway.app.quote_streams import QuoteStreams
from market_gateway.app.quotes import QuoteService
from market_gateway.app.routing import Router
from market_gateway.app.sentiment import Aggregate, SentimentService
from market_gateway.app.stream_follow import StreamFollower
from market_gateway.app.ttl_policy import TtlPolicy, VolatilityTracker
from market_gateway.domain import (
    Bar,
    BarSeries,
    ProviderStatus,
    Quote,
    Sentiment,
    StreamEvent,
    SymbolError,
    Timeframe,
    Tunables,
)
from market_gateway.ports import (
    Cache,
    Clock,
    MarketCalendar,
    QuoteSource,
    QuoteStream,
    SentimentSource,
)
from resilience.limiter import RateLimiter


class MarketGatewayApp:
    def __init__(
        self,
        market: Sequence[QuoteSource],
        clock: Clock,
        calendar: MarketCalendar,
        tunables: Tunables,
        *,
        streams: Sequence[QuoteStream] = (),
        ai: Sequence[SentimentSource] = (),
        aggregate: Aggregate | None = None,
        ask_all_ai: bool = False,
        limiter: RateLimiter | None = None,
        cache_factory: CacheFactory | None = None,
        credentials: Mapping[str, str] | None = None,
        known_providers: Sequence[str] = (),
        new_stream_id: Callable[[], str] = lambda: uuid.uuid4().hex,
    ) -> None:
        self._tunables = tunables
        self._clock = clock
        self._stopping: asyncio.Task[None] | None = None
        self.volatility = VolatilityTracker()
        self.ttl = TtlPolicy(calendar, clock, self._current, self.volatility)
        self.ledger = CostLedger(lambda name: self._tunables.provider(name).price_per_call_usd)
        self.agreement = AgreementTracker(clock, lambda: self._tunables.agreement)
        self.router = Router(
            market=market,
            ai=ai,
            clock=clock,
            limiter=limiter or RateLimiter({}, clock=clock),
            ledger=self.ledger,
            tunables=self._current,
            agreement=self.agreement,
            credentials=credentials,
            known=known_providers,
        )
        caches = self._caches(cache_factory)
        # background work (feeds, agreement samples) runs in the app's context as it is now,
        # at bootstrap: log bindings of the service, no request's deadline or trace
        context = background_context()
        self._fetcher = QuoteFetcher(
            self.router, self.agreement, clock, self._current, context=context
        )
        self.follower = StreamFollower(
            streams,
            clock=clock,
            tunables=self._current,
            order=lambda: [p.name for p in self.router.quotes()],
            store=self._store,
            store_bars=self._store_bars,
            context=context,
        )
        self.quotes = QuoteService(
            self._fetcher,
            cache=caches.get("quotes"),
            follower=self.follower,
            volatility=self.volatility,
            clock=clock,
            tunables=self._current,
        )
        self.bars = BarService(
            self.router, cache=caches.get("bars"), ttl=self.ttl, clock=clock, tunables=self._current
        )
        self.sentiment = SentimentService(
            self.router,
            aggregate=aggregate,
            ask_all=ask_all_ai,
            cache=caches.get("sentiment"),
            clock=clock,
            tunables=self._current,
        )
        self.streams = QuoteStreams(
            self.quotes,
            self.follower,
            clock=clock,
            tunables=self._current,
            new_stream_id=new_stream_id,
        )

    @property
    def tunables(self) -> Tunables:
        return self._tunables

    @property
    def active_streams(self) -> int:
        return self.streams.active

    def apply_tunables(self, tunables: Tunables) -> None:
        self._tunables = tunables
        self.router.apply(tunables)
        self._fetcher.apply(tunables)
        self.quotes.apply(tunables)
        if not tunables.optimizations.streams and self.follower.followed:
            with contextlib.suppress(RuntimeError):  # no loop: nothing is being followed
                self._stopping = asyncio.get_running_loop().create_task(self.follower.stop())

    def begin_shutdown(self) -> None:
        """Let open streams finish at their next tick."""
        self.streams.shutting_down = True

    async def aclose(self) -> None:
        self.begin_shutdown()
        await self.follower.aclose()
        await self._fetcher.aclose()

    async def get_quotes(
        self, symbols: Sequence[str], max_age_ms: int = 0, *, time_left: float | None = None
    ) -> tuple[list[Quote], list[SymbolError]]:
        """One quote or one error per distinct symbol, in order of first mention; every
        upstream call ends within `time_left` seconds (the caller's deadline)."""
        with deadline_scope(self._clock, time_left):
            return await self.quotes.get_quotes(symbols, max_age_ms)

    async def get_bars(
        self,
        symbol: str,
        timeframe: Timeframe,
        *,
        limit: int = 0,
        start: datetime | None = None,
        end: datetime | None = None,
        time_left: float | None = None,
    ) -> BarSeries:
        with deadline_scope(self._clock, time_left):
            return await self.bars.get_bars(symbol, timeframe, limit=limit, start=start, end=end)

    async def get_sentiment(self, symbol: str, *, time_left: float | None = None) -> Sentiment:
        with deadline_scope(self._clock, time_left):
            return await self.sentiment.get_sentiment(symbol)

    def stream_quotes(
        self, symbols: Sequence[str], resume_token: str = ""
    ) -> AsyncGenerator[StreamEvent, None]:
        """Quote events per symbol whenever its price changes, until cancelled or shutdown."""
        return self.streams.stream(symbols, resume_token)

    async def provider_status(self) -> list[ProviderStatus]:
        return await self.router.statuses()

    def record_ai_spend(self, provider: str, cost_usd: float) -> None:
        """An AI call's token cost, as the adapter priced it."""
        self.ledger.record_spend(provider, cost_usd)

    def performance(self) -> dict[str, Any]:
        """The health endpoint's "performance" object (latencies in milliseconds)."""
        hits, misses = self.quotes.hits, self.quotes.misses
        lookups = hits + misses
        latencies = {g.name: g.stats.mean_latency_ms() for g in self.router.guards}
        called = [g.stats.mean_latency_ms() for g in self.router.guards if g.stats.calls_total]
        return {
            "cache_hit_rate": hits / lookups if lookups else 0.0,
            "total_cache_hits": hits,
            "total_cache_misses": misses,
            "avg_api_latency": sum(called) / len(called) if called else 0.0,
            "data_source_latencies": latencies,
            "active_streams": self.streams.active,
            "streamed_symbols": len(self.follower.followed) if self.follower.healthy else 0,
            "cost_usd_total": self.ledger.total_usd(),
        }

    def _current(self) -> Tunables:
        return self._tunables

    def _caches(self, factory: CacheFactory | None) -> dict[str, Cache]:
        if factory is None:
            return {}
        flight = SwitchableFlight("cache", lambda: self._tunables.optimizations.single_flight)
        return {name: factory(name, self.ttl.for_entry, flight) for name in CACHES}

    async def _store(self, quote: Quote) -> None:
        await self.quotes.store(quote)

    async def _store_bars(
        self, symbol: str, bars: Sequence[Bar], provider: str, since: datetime
    ) -> None:
        await self.bars.absorb(symbol, bars, provider, since)


CACHES = ("quotes", "bars", "sentiment")
