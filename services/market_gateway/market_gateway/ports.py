"""Ports: what the gateway's use cases need from the outside world.

Provider adapters (adapters/<provider>/...) implement `QuoteSource`, AI adapters
`SentimentSource`, WebSocket adapters `QuoteStream`; the exchange calendar implements
`MarketCalendar`; `resilience.TwoTierCache` implements `Cache`; tests pass fakes for all of
them through `bootstrap()`.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from datetime import datetime
from typing import Any, Protocol, runtime_checkable

from market_gateway.domain import (
    AssetClass,
    Bar,
    FeedEvent,
    Quote,
    Sentiment,
    Symbol,
    Timeframe,
    TradingSession,
)


class Clock(Protocol):
    def now(self) -> datetime:
        """The current instant, UTC-aware."""
        ...

    def monotonic(self) -> float:
        """Seconds from an arbitrary origin, for measuring durations."""
        ...

    async def sleep(self, seconds: float) -> None: ...


class QuoteSource(Protocol):
    """One market-data provider.

    Errors: raise `ProviderUnavailable` (with `retry_after` when a quota is the cause) when
    the provider cannot answer at all — or one of its classified subclasses `RateLimited`,
    `AuthFailed`, `BadProviderData`; leave a symbol out of `get_quotes`' answer when the
    provider does not know it (and, when the answer is a `QuoteBatch`, list the symbols
    whose data failed validation in its `rejected`); raise `UnknownSymbol` from `get_bars`
    when the provider does not know the symbol.
    """

    @property
    def name(self) -> str:
        """Short provider name used in answers and metrics, e.g. "synthetic"."""
        ...

    async def get_quotes(self, symbols: Sequence[Symbol]) -> dict[str, Quote]:
        """Latest quotes in one batched call, keyed by canonical symbol."""
        ...

    async def get_bars(
        self,
        symbol: Symbol,
        timeframe: Timeframe,
        start: datetime | None,
        end: datetime,
        limit: int,
    ) -> list[Bar]:
        """Completed bars oldest first.

        With `start`: the first `limit` bars starting in [start, end). Without: the most
        recent `limit` bars that ended by `end`. Intervals without trading are absent.
        """
        ...


@runtime_checkable
class MultiBarSource(Protocol):
    """A market-data provider that answers bars of many symbols in one call (Alpaca's
    `symbols=A,B,...`); a `QuoteSource` may offer it too."""

    async def get_bars_multi(
        self,
        symbols: Sequence[Symbol],
        timeframe: Timeframe,
        start: datetime | None,
        end: datetime,
        limit: int,
    ) -> dict[str, list[Bar]]:
        """Per canonical symbol, as `QuoteSource.get_bars` would answer for each."""
        ...


class SentimentSource(Protocol):
    """An AI opinion of a symbol (one provider, or several aggregated)."""

    @property
    def name(self) -> str: ...

    async def get_sentiment(self, symbol: Symbol) -> Sentiment:
        """Raises the classified `ProviderUnavailable` family; a reply that is not a
        usable verdict is `BadProviderData`."""
        ...


class QuoteStream(Protocol):
    """A provider's real-time feed (WebSocket) of trades, quotes and bars."""

    @property
    def name(self) -> str: ...

    def events(self, symbols: Sequence[Symbol]) -> AsyncIterator[FeedEvent]:
        """Follow `symbols` until the iterator is closed. Disconnects are survived: the
        stream reconnects with backoff, resubscribes, yields a `FeedGap` and then one
        `Backfilled` per symbol fetched over REST. Raises `AuthFailed` (or a
        non-retryable `ProviderUnavailable`) when the provider refuses for good."""
        ...


class MarketCalendar(Protocol):
    """Trading hours per asset class (pure computation, hence synchronous)."""

    def is_open(self, instant: datetime, asset_class: AssetClass) -> bool: ...

    def next_open(self, instant: datetime, asset_class: AssetClass) -> datetime:
        """`instant` itself when open, else the start of the next session."""
        ...

    def previous_close(self, instant: datetime, asset_class: AssetClass) -> datetime | None:
        """End of the last session that closed at or before `instant`; None if never
        (crypto never closes) or while a session is open."""
        ...

    def sessions(self, start: datetime, end: datetime) -> list[TradingSession]:
        """Stock sessions overlapping [start, end), oldest first."""
        ...


class CachedValue(Protocol):
    """A value found in (or loaded through) the cache."""

    @property
    def value(self) -> Any: ...

    @property
    def status(self) -> str:
        """ "hit" (fresh), "stale" (within its revalidation window), "stale_on_error" (kept
        past it because loading failed or was slow) or "miss" (just loaded)."""
        ...

    @property
    def age(self) -> float:
        """Seconds since the value was stored."""
        ...

    @property
    def tier(self) -> str:
        """Where it was found: "l1" (this process), "l2" (shared) or "origin" (loaded)."""
        ...


class Cache(Protocol):
    """Two tiers (in-process, then shared), TTLs from the gateway's policy, one load per key
    at a time, stale-while-revalidate and stale-if-error (see resilience.cache)."""

    async def get_or_load(
        self, key: str, loader: Callable[[], Awaitable[Any]], *, max_wait: float | None = None
    ) -> CachedValue:
        """`max_wait`: past it, a value within stale-if-error is served instead of waiting."""
        ...

    async def get(self, key: str) -> CachedValue | None: ...

    async def set(self, key: str, value: Any) -> None: ...
