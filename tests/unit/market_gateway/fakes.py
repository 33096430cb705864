"""Fakes for market-gateway's ports (the calendar in tests is the real, pure NYSE table)."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from datetime import datetime, timedelta

from market_gateway.domain import (
    Bar,
    ProviderUnavailable,
    Quote,
    Symbol,
    Timeframe,
    UnknownSymbol,
)
from service_runtime.clock import FakeClock


class FakeQuoteSource:
    """Serves whatever prices the test sets; knows only those symbols."""

    def __init__(self, clock: FakeClock, prices: dict[str, float], *, name: str = "fake") -> None:
        self._clock = clock
        self._name = name
        self.prices = dict(prices)
        self.quote_calls: list[list[str]] = []
        self.bar_calls: list[tuple[str, Timeframe, datetime | None, datetime, int]] = []
        self.failure: Exception | None = None
        self.latency_seconds = 0.0
        self.overrides: dict[str, Quote] = {}  # symbol -> quote to return verbatim
        self.hang = asyncio.Event()  # set hanging=True to block until released
        self.hanging = False

    @property
    def name(self) -> str:
        return self._name

    async def get_quotes(self, symbols: Sequence[Symbol]) -> dict[str, Quote]:
        self.quote_calls.append([s.canonical for s in symbols])
        await self._behave()
        now = self._clock.now()
        answer: dict[str, Quote] = {}
        for symbol in symbols:
            key = symbol.canonical
            if key in self.overrides:
                answer[key] = self.overrides[key]
            elif key in self.prices:
                price = self.prices[key]
                answer[key] = Quote(key, price, price - 0.01, price + 0.01, 1000.0, now, self._name)
        return answer

    async def get_bars(
        self,
        symbol: Symbol,
        timeframe: Timeframe,
        start: datetime | None,
        end: datetime,
        limit: int,
    ) -> list[Bar]:
        self.bar_calls.append((symbol.canonical, timeframe, start, end, limit))
        await self._behave()
        if symbol.canonical not in self.prices:
            raise UnknownSymbol(symbol.canonical)
        price = self.prices[symbol.canonical]
        width = timeframe.width
        last_start = (
            datetime.fromtimestamp(
                end.timestamp() // timeframe.value * timeframe.value, tz=end.tzinfo
            )
            - width
        )
        count = min(limit, 3)
        return [
            Bar(last_start - width * (count - 1 - i), price, price + 1, price - 1, price, 10.0)
            for i in range(count)
        ]

    async def _behave(self) -> None:
        if self.latency_seconds:
            await self._clock.sleep(self.latency_seconds)
        if self.hanging:
            await self.hang.wait()
        if self.failure is not None:
            raise self.failure


def unavailable(retry_after: float | None = None) -> ProviderUnavailable:
    return ProviderUnavailable("fake provider is down", retry_after=retry_after)


class SteppedClock(FakeClock):
    """A FakeClock whose sleep waits until the test lets it pass (`release`)."""

    def __init__(self, start: datetime) -> None:
        super().__init__(start)
        self._permits = asyncio.Semaphore(0)
        self.sleepers = 0

    def release(self, count: int = 1) -> None:
        for _ in range(count):
            self._permits.release()

    async def sleep(self, seconds: float) -> None:
        self.sleepers += 1
        try:
            await self._permits.acquire()
        finally:
            self.sleepers -= 1
        self.advance(seconds)


def minutes(count: float) -> timedelta:
    return timedelta(minutes=count)
