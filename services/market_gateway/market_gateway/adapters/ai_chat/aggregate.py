"""Several AI providers as one `SentimentSource`: asked in parallel, one answer kept.

Modes: `first_good` returns the first usable verdict and cancels the other calls;
`most_confident` waits for all (up to `timeout_seconds`) and keeps the highest confidence,
ties going to the earlier configured provider. When nobody answers usably the error says
why per provider; if every one was rate limited it is `RateLimited` with the soonest retry.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from enum import Enum

from market_gateway.domain import ProviderUnavailable, RateLimited, Sentiment, Symbol
from market_gateway.ports import SentimentSource
from resilience.errors import NoGoodAnswer
from resilience.hedging import race

AGGREGATE_NAME = "ai"


class SentimentMode(Enum):
    FIRST_GOOD = "first_good"
    MOST_CONFIDENT = "most_confident"


class SentimentAggregator:
    def __init__(
        self,
        sources: Sequence[SentimentSource],
        *,
        mode: SentimentMode = SentimentMode.FIRST_GOOD,
        timeout_seconds: float = 20.0,
    ) -> None:
        if not sources:
            raise ValueError("at least one sentiment source is required")
        self._sources = list(sources)
        self.mode = mode
        self._timeout = timeout_seconds

    @property
    def name(self) -> str:
        return AGGREGATE_NAME

    @property
    def sources(self) -> list[SentimentSource]:
        return list(self._sources)

    @property
    def providers(self) -> list[str]:
        return [source.name for source in self._sources]

    async def get_sentiment(self, symbol: Symbol) -> Sentiment:
        if self.mode is SentimentMode.FIRST_GOOD:
            return await self._first_good(symbol)
        return await self._most_confident(symbol)

    async def _first_good(self, symbol: Symbol) -> Sentiment:
        def attempt(source: SentimentSource) -> Callable[[], Awaitable[Sentiment]]:
            async def ask() -> Sentiment:
                try:
                    return await source.get_sentiment(symbol)
                except Exception as e:
                    raise _Failed(source.name, e) from e

            return ask

        try:
            async with asyncio.timeout(self._timeout):
                return await race([attempt(s) for s in self._sources], name="ai_sentiment")
        except NoGoodAnswer as e:
            failed = [f for f in e.errors if isinstance(f, _Failed)]
            raise _combined([(f.provider, f.error) for f in failed]) from None
        except TimeoutError:
            raise ProviderUnavailable(
                f"no AI provider answered within {self._timeout:g}s", provider=AGGREGATE_NAME
            ) from None

    async def _most_confident(self, symbol: Symbol) -> Sentiment:
        tasks = [asyncio.ensure_future(s.get_sentiment(symbol)) for s in self._sources]
        try:
            await asyncio.wait(tasks, timeout=self._timeout)
        finally:
            for task in tasks:
                task.cancel()  # no-op for finished ones
        await asyncio.gather(*tasks, return_exceptions=True)  # let the cancelled ones end
        best: Sentiment | None = None
        failures: list[tuple[str, BaseException]] = []
        for name, task in zip(self.providers, tasks, strict=True):
            if task.cancelled():
                failures.append((name, TimeoutError(f"no answer within {self._timeout:g}s")))
            elif task.exception() is not None:
                failures.append((name, task.exception() or Exception()))
            elif best is None or task.result().confidence > best.confidence:
                best = task.result()
        if best is None:
            raise _combined(failures)
        return best


class _Failed(Exception):
    """One provider's failure inside a race, tagged with the provider's name."""

    def __init__(self, provider: str, error: Exception) -> None:
        super().__init__(provider)
        self.provider = provider
        self.error = error


def _combined(failures: list[tuple[str, BaseException]]) -> ProviderUnavailable:
    reasons = "; ".join(f"{name}: {error}" for name, error in failures) or "no answer"
    message = f"no AI provider gave a usable verdict ({reasons})"
    waits = [e.retry_after for _, e in failures if isinstance(e, RateLimited)]
    if failures and len(waits) == len(failures):
        return RateLimited(message, retry_after=min(waits), provider=AGGREGATE_NAME)
    retryable = any(getattr(e, "retryable", True) for _, e in failures)
    return ProviderUnavailable(message, provider=AGGREGATE_NAME, retryable=retryable)
