"""Fakes for market-gateway's ports (the calendar in tests is the real, pure NYSE table)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Sequence
from datetime import datetime, timedelta

from market_gateway.domain import (
    Bar,
    FeedEvent,
    ProviderUnavailable,
    Quote,
    Sentiment,
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
        self.bar_count = 3  # bars answered per get_bars (at most `limit`)
        self.journal: list[str] | None = None  # shared by several fakes: "+name" / "-name"

    @property
    def name(self) -> str:
        return self._name

    async def get_quotes(self, symbols: Sequence[Symbol]) -> dict[str, Quote]:
        self.quote_calls.append([s.canonical for s in symbols])
        if self.journal is not None:
            self.journal.append(f"+{self._name}")
        try:
            await self._behave()
        finally:
            if self.journal is not None:
                self.journal.append(f"-{self._name}")
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
        count = min(limit, self.bar_count)
        bars = [
            Bar(last_start - width * (count - 1 - i), price, price + 1, price - 1, price, 10.0)
            for i in range(count)
        ]
        return [b for b in bars if start is None or b.start_time >= start]

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


class FakeSentimentSource:
    """An AI provider with a fixed verdict per symbol (score and confidence)."""

    def __init__(
        self, clock: FakeClock, name: str, *, score: float = 0.3, confidence: float = 0.6
    ) -> None:
        self._clock = clock
        self._name = name
        self.score = score
        self.confidence = confidence
        self.calls: list[str] = []
        self.failure: Exception | None = None

    @property
    def name(self) -> str:
        return self._name

    async def get_sentiment(self, symbol: Symbol) -> Sentiment:
        self.calls.append(symbol.canonical)
        await asyncio.sleep(0)
        if self.failure is not None:
            raise self.failure
        return Sentiment(
            symbol=symbol.canonical,
            score=self.score,
            confidence=self.confidence,
            rationale=f"{self._name} thinks so",
            provider=self._name,
            model="fake-model",
            time=self._clock.now(),
            cost_usd=0.001,
        )


class FakeQuoteStream:
    """A provider feed the test drives: `push` events; `fail` ends it with an error."""

    def __init__(self, name: str) -> None:
        self._name = name
        self.subscriptions: list[list[str]] = []
        self._queue: asyncio.Queue[FeedEvent | Exception] = asyncio.Queue()

    @property
    def name(self) -> str:
        return self._name

    def push(self, *events: FeedEvent | Exception) -> None:
        for event in events:
            self._queue.put_nowait(event)

    async def events(self, symbols: Sequence[Symbol]) -> AsyncIterator[FeedEvent]:
        self.subscriptions.append([s.canonical for s in symbols])
        while True:
            event = await self._queue.get()
            if isinstance(event, Exception):
                raise event
            yield event
