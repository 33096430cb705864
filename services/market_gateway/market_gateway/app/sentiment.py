"""GetSentiment: AI providers behind their guards, aggregated, cached.

With `optimizations.hedging` the enabled AI providers are asked in parallel through the
adapters' SentimentAggregator (`AI_SENTIMENT_MODE`: the first usable verdict, or the most
confident of all). Without it they are asked one after another in `routing.sentiment` order
(stopping at the first usable verdict in first_good mode). With `single_source` off every
provider is asked and the most confident verdict wins (the seeds' behaviour). Verdicts are
cached per symbol (sentiment x2 in the TTL policy). No AI provider enabled -> UNAVAILABLE.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import replace

from market_gateway.app.caching import cache_status
from market_gateway.app.outcomes import failure_of
from market_gateway.app.requests import age_ms
from market_gateway.app.routing import AiProvider, Router
from market_gateway.domain import (
    CacheStatus,
    ProviderUnavailable,
    Sentiment,
    Symbol,
    Tunables,
    parse_symbol,
)
from market_gateway.ports import Cache, Clock, SentimentSource

# (sources in order, ask_all) -> one source that asks them in parallel
Aggregate = Callable[[Sequence[SentimentSource], bool], SentimentSource]
NO_AI = (
    "no AI sentiment provider is enabled: set XAI_API_KEY, PERPLEXITY_API_KEY, "
    "DEEPSEEK_API_KEY, QWEN_API_KEY or GLM_API_KEY"
)


class GuardedSentiment:
    """One AI provider as a SentimentSource, every call through its guard."""

    def __init__(self, provider: AiProvider) -> None:
        self._provider = provider

    @property
    def name(self) -> str:
        return self._provider.name

    async def get_sentiment(self, symbol: Symbol) -> Sentiment:
        source = self._provider.source
        return await self._provider.guard.call("chat", lambda: source.get_sentiment(symbol))


class SentimentService:
    def __init__(
        self,
        router: Router,
        *,
        aggregate: Aggregate | None,
        ask_all: bool,
        cache: Cache | None,
        clock: Clock,
        tunables: Callable[[], Tunables],
    ) -> None:
        self._router = router
        self._aggregate = aggregate
        self._ask_all = ask_all
        self._cache = cache
        self._clock = clock
        self._tunables = tunables

    async def get_sentiment(self, symbol: str) -> Sentiment:
        parsed = parse_symbol(symbol)
        order = self._router.sentiment()
        if not order:
            reason = "disabled by configuration" if self._router.has_ai else NO_AI
            raise ProviderUnavailable(f"sentiment: {reason}")
        if self._cache is not None and self._tunables().optimizations.cache:
            found = await self._cache.get_or_load(
                f"sentiment:{parsed.canonical}", lambda: self._ask(parsed, order)
            )
            verdict: Sentiment = found.value
            status = cache_status(found)
        else:
            verdict, status = await self._ask(parsed, order), CacheStatus.MISS
        return replace(verdict, cache_status=status, age_ms=age_ms(self._clock.now(), verdict.time))

    async def _ask(self, symbol: Symbol, order: list[AiProvider]) -> Sentiment:
        switches = self._tunables().optimizations
        ask_all = self._ask_all or not switches.single_source
        sources = [GuardedSentiment(p) for p in order]
        if switches.hedging and self._aggregate is not None:
            return await self._aggregate(sources, ask_all).get_sentiment(symbol)
        verdicts: list[Sentiment] = []
        said: list[tuple[str, Exception | None]] = []
        for source in sources:
            try:
                verdict = await source.get_sentiment(symbol)
            except Exception as e:
                said.append((source.name, e))
                continue
            if not ask_all:
                return verdict
            verdicts.append(verdict)
        if verdicts:  # the most confident; ties go to the earlier provider
            return max(verdicts, key=lambda v: v.confidence)
        raise failure_of(symbol, said)
