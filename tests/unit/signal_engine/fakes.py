"""Fakes behind the engine's ports: scripted market data, a recording sink, ordered ids."""

from __future__ import annotations

import asyncio
import math
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta

from signal_engine.domain import (
    Bar,
    BarSeries,
    CacheStatus,
    Quote,
    Signal,
    SinkRejected,
    SinkUnavailable,
    Timeframe,
)


def wavy_closes(
    base: float, *, drift: float = 0.0, noise: float = 0.001, count: int = 100
) -> list[float]:
    """A deterministic, noisy price path: `drift` log-return per bar plus a wiggle."""
    closes: list[float] = []
    price = base
    for i in range(count):
        price *= math.exp(drift + noise * math.sin(i * 2.3) + 0.5 * noise * math.cos(i * 5.1))
        closes.append(price)
    return closes


def bars_from_closes(closes: Sequence[float], end: datetime) -> tuple[Bar, ...]:
    start = end - timedelta(minutes=len(closes))
    return tuple(
        Bar(
            start_time=start + timedelta(minutes=i),
            open=c,
            high=c * 1.001,
            low=c * 0.999,
            close=c,
            volume=1000.0,
        )
        for i, c in enumerate(closes)
    )


class FakeMarketData:
    """Prices set by the test; bars from `closes[symbol]` (default: a gentle wavy path)."""

    def __init__(self, clock_now: Callable[[], datetime], prices: dict[str, float]) -> None:
        self._now = clock_now
        self.prices = dict(prices)
        self.closes: dict[str, list[float]] = {}
        self.quote_calls: list[list[str]] = []
        self.bars_calls: list[str] = []
        self.quote_failure: Exception | None = None
        self.quote_errors: dict[str, str] = {}
        self.bars_failures: dict[str, Exception] = {}
        self.on_quotes: Callable[[], None] | None = None
        self.block_quotes: asyncio.Event | None = None
        self.ready = True
        self.bars_in_flight = 0
        self.max_bars_in_flight = 0

    async def get_quotes(self, symbols: Sequence[str]) -> tuple[dict[str, Quote], dict[str, str]]:
        self.quote_calls.append(list(symbols))
        if self.on_quotes is not None:
            self.on_quotes()
        if self.block_quotes is not None:
            await self.block_quotes.wait()
        if self.quote_failure is not None:
            raise self.quote_failure
        quotes: dict[str, Quote] = {}
        errors: dict[str, str] = {}
        for symbol in symbols:
            if symbol in self.quote_errors:
                errors[symbol] = self.quote_errors[symbol]
            elif symbol in self.prices:
                quotes[symbol] = Quote(
                    symbol=symbol,
                    price=self.prices[symbol],
                    time=self._now(),
                    provider="synthetic",
                    cache_status=CacheStatus.MISS,
                )
            else:
                errors[symbol] = "unknown symbol"
        return quotes, errors

    async def get_bars(self, symbol: str, timeframe: Timeframe, limit: int) -> BarSeries:
        assert timeframe is Timeframe.ONE_MINUTE
        self.bars_calls.append(symbol)
        self.bars_in_flight += 1
        self.max_bars_in_flight = max(self.max_bars_in_flight, self.bars_in_flight)
        await asyncio.sleep(0)  # let other symbols' fetches start
        self.bars_in_flight -= 1
        if symbol in self.bars_failures:
            raise self.bars_failures[symbol]
        closes = self.closes.get(symbol) or wavy_closes(self.prices[symbol])
        return BarSeries(
            symbol=symbol,
            bars=bars_from_closes(closes[-limit:], self._now()),
            provider="synthetic",
            cache_status=CacheStatus.HIT_LOCAL,
            age_ms=250,
        )

    async def check_ready(self) -> bool:
        return self.ready


class FakeSignalSink:
    """Records every signal of every successful call; can be down or reject signals."""

    def __init__(self) -> None:
        self.recorded: list[Signal] = []
        self.calls = 0
        self.failures_left = 0
        self.rejected_ids: set[str] = set()

    async def record(self, signals: Sequence[Signal]) -> tuple[int, int]:
        self.calls += 1
        if self.failures_left > 0:
            self.failures_left -= 1
            raise SinkUnavailable("tracker RecordSignals: UNAVAILABLE: connection refused")
        if any(s.signal_id in self.rejected_ids for s in signals):
            raise SinkRejected("tracker RecordSignals: INVALID_ARGUMENT: bad signal")
        known = {s.signal_id for s in self.recorded}
        fresh = [s for s in signals if s.signal_id not in known]
        self.recorded.extend(fresh)
        return len(fresh), len(signals) - len(fresh)


class SequentialIds:
    """UUID-shaped ids in creation order: ...-000000000001, ...-000000000002, ..."""

    def __init__(self) -> None:
        self.count = 0

    def new_id(self) -> str:
        self.count += 1
        return f"00000000-0000-4000-8000-{self.count:012d}"
