"""Ports: what the gateway's use cases need from the outside world.

Provider adapters (adapters/<provider>/...) implement `QuoteSource`; the exchange calendar
implements `MarketCalendar`; tests pass fakes for all of them through `bootstrap()`.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Protocol

from market_gateway.domain import AssetClass, Bar, Quote, Symbol, Timeframe, TradingSession


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
    the provider cannot answer at all; leave a symbol out of `get_quotes`' answer when the
    provider does not know it; raise `UnknownSymbol` from `get_bars` for the same reason.
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
