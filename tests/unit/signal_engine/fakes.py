"""Fakes behind the engine's ports: a scripted gateway, a recording tracker, an in-memory
outbox, settable ownership and market hours, ordered ids."""

from __future__ import annotations

import asyncio
import contextlib
import math
from collections.abc import AsyncIterator, Callable, Sequence
from datetime import datetime, timedelta

from signal_engine.domain import (
    Bar,
    BarSeries,
    CacheStatus,
    Calibration,
    CalibrationUnavailable,
    GatewayUnavailable,
    OutboxError,
    Quote,
    SentimentUnsupported,
    SentimentVerdict,
    Signal,
    SinkRejected,
    SinkUnavailable,
    Timeframe,
)
from signal_engine.ports import OutboxEntry, RecordReceipt

MINUTE = timedelta(minutes=1)


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


def bar_at(start: datetime, close: float) -> Bar:
    return Bar(
        start_time=start, open=close, high=close * 1.001, low=close * 0.999, close=close,
        volume=1000.0,
    )  # fmt: skip


def bars_from_closes(closes: Sequence[float], end: datetime) -> list[Bar]:
    """1-minute bars whose last one completes at `end`."""
    start = end - MINUTE * len(closes)
    return [bar_at(start + MINUTE * i, c) for i, c in enumerate(closes)]


class FakeMarketData:
    """Prices set by the test; each symbol's bars are a tape of 1-minute bars (default: a
    gentle wavy path of 120 bars completed by the clock's start) served like the gateway:
    only completed bars, the latest `limit`, or the first `limit` from `start`."""

    def __init__(self, clock_now: Callable[[], datetime], prices: dict[str, float]) -> None:
        self._now = clock_now
        self.prices = dict(prices)
        self.tapes: dict[str, list[Bar]] = {}
        self.quote_calls: list[list[str]] = []
        self.bars_calls: list[str] = []
        self.bars_starts: list[datetime | None] = []
        self.sentiment_calls: list[str] = []
        self.sentiment: dict[str, SentimentVerdict] = {}
        self.sentiment_unsupported = False
        self.quote_failure: Exception | None = None
        self.quote_errors: dict[str, str] = {}
        self.quote_status = CacheStatus.MISS  # how the gateway says it served the quotes
        self.bars_failures: dict[str, Exception] = {}
        self.on_quotes: Callable[[], None] | None = None
        self.block_quotes: asyncio.Event | None = None
        self.ready = True
        self.bars_in_flight = 0
        self.max_bars_in_flight = 0

    def set_closes(self, symbol: str, closes: Sequence[float]) -> None:
        """Replace the tape: these closes, the last bar completing now."""
        self.tapes[symbol] = bars_from_closes(closes, self._now())

    def extend(self, symbol: str, closes: Sequence[float]) -> None:
        """Append bars after the tape's last one (they complete as the clock advances)."""
        tape = self._tape(symbol)
        for close in closes:
            tape.append(bar_at(tape[-1].start_time + MINUTE, close))

    def _tape(self, symbol: str) -> list[Bar]:
        if symbol not in self.tapes:
            self.set_closes(symbol, wavy_closes(self.prices[symbol], count=120))
        return self.tapes[symbol]

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
                    cache_status=self.quote_status,
                )
            else:
                errors[symbol] = "unknown symbol"
        return quotes, errors

    async def get_bars(
        self, symbol: str, timeframe: Timeframe, limit: int, start: datetime | None = None
    ) -> BarSeries:
        assert timeframe is Timeframe.ONE_MINUTE
        self.bars_calls.append(symbol)
        self.bars_starts.append(start)
        self.bars_in_flight += 1
        self.max_bars_in_flight = max(self.max_bars_in_flight, self.bars_in_flight)
        await asyncio.sleep(0)  # let other symbols' fetches start
        self.bars_in_flight -= 1
        if symbol in self.bars_failures:
            raise self.bars_failures[symbol]
        done = [b for b in self._tape(symbol) if b.start_time + MINUTE <= self._now()]
        if start is None:
            chosen = done[-limit:]
        else:
            chosen = [b for b in done if b.start_time >= start][:limit]
        return BarSeries(
            symbol=symbol,
            bars=tuple(chosen),
            provider="synthetic",
            cache_status=CacheStatus.HIT_LOCAL,
            age_ms=250,
        )

    async def get_sentiment(self, symbol: str) -> SentimentVerdict:
        self.sentiment_calls.append(symbol)
        if self.sentiment_unsupported:
            raise SentimentUnsupported("market gateway GetSentiment: UNIMPLEMENTED")
        if symbol not in self.sentiment:
            raise GatewayUnavailable("market gateway GetSentiment: UNAVAILABLE: no provider")
        return self.sentiment[symbol]

    async def check_ready(self) -> bool:
        return self.ready


class FakeSignalSink:
    """Records every signal of every successful call; can be down or reject signals."""

    def __init__(self) -> None:
        self.recorded: list[Signal] = []
        self.calls = 0
        self.batch_sizes: list[int] = []
        self.failures_left = 0
        self.down = False
        self.rejected_ids: set[str] = set()  # the whole batch fails (all-or-nothing tracker)
        self.invalid_ids: set[str] = set()  # refused one by one in the answer
        self.duplicates = 0
        self.lose_ack_once = False  # store the batch, then fail as if the answer was lost
        self.block: asyncio.Event | None = None  # calls wait for it

    async def record(self, signals: Sequence[Signal]) -> RecordReceipt:
        self.calls += 1
        if self.block is not None:
            await self.block.wait()
        if self.down or self.failures_left > 0:
            self.failures_left = max(0, self.failures_left - 1)
            raise SinkUnavailable("tracker RecordSignals: UNAVAILABLE: connection refused")
        if any(s.signal_id in self.rejected_ids for s in signals):
            raise SinkRejected("tracker RecordSignals: INVALID_ARGUMENT: bad signal")
        self.batch_sizes.append(len(signals))
        invalid = {s.signal_id: "confidence: must be within 0..100" for s in signals
                   if s.signal_id in self.invalid_ids}  # fmt: skip
        valid = [s for s in signals if s.signal_id not in invalid]
        known = {s.signal_id for s in self.recorded}
        fresh = [s for s in valid if s.signal_id not in known]
        self.recorded.extend(fresh)
        self.duplicates += len(valid) - len(fresh)
        if self.lose_ack_once:
            self.lose_ack_once = False
            raise SinkUnavailable("tracker RecordSignals: DEADLINE_EXCEEDED")
        return RecordReceipt(len(fresh), len(valid) - len(fresh), invalid)


class FakeCalibrations:
    """Calibrations by symbol; `down` makes every call CalibrationUnavailable."""

    def __init__(self) -> None:
        self.by_symbol: dict[str, Calibration] = {}
        self.calls: list[str] = []
        self.down = False

    async def get_calibration(self, symbol: str) -> Calibration | None:
        self.calls.append(symbol)
        if self.down:
            raise CalibrationUnavailable("tracker GetCalibration: UNAVAILABLE")
        return self.by_symbol.get(symbol)


class FakeOutbox:
    """The Outbox port in memory; `rows` survive a simulated restart when shared."""

    def __init__(self, capacity: int = 10_000, rows: dict[int, Signal] | None = None) -> None:
        self.rows: dict[int, Signal] = rows if rows is not None else {}
        self.rejected: dict[int, tuple[Signal, str]] = {}
        self._capacity = capacity
        self._next = max(self.rows, default=0) + 1
        self.broken = False

    @property
    def depth(self) -> int:
        return len(self.rows)

    @property
    def capacity(self) -> int:
        return self._capacity

    async def append(self, signals: Sequence[Signal]) -> list[OutboxEntry]:
        if self.broken:
            raise OutboxError("outbox write failed: disk I/O error")
        taken = list(signals[: max(0, self._capacity - self.depth)])
        waiting = {s.signal_id: i for i, s in self.rows.items()}
        entries: list[OutboxEntry] = []
        for signal in taken:
            if signal.signal_id not in waiting:
                waiting[signal.signal_id] = self._next
                self.rows[self._next] = signal
                self._next += 1
            entries.append(OutboxEntry(waiting[signal.signal_id], signal))
        return entries

    async def peek(self, limit: int) -> list[OutboxEntry]:
        return [OutboxEntry(i, s) for i, s in sorted(self.rows.items())[:limit]]

    async def remove(self, entry_ids: Sequence[int]) -> None:
        for entry_id in entry_ids:
            self.rows.pop(entry_id, None)

    async def reject(self, entry_id: int, reason: str) -> None:
        self.rejected[entry_id] = (self.rows.pop(entry_id), reason)


class FakeOwnership:
    """Owns `symbols` (settable); `claims` counts cycles that claimed."""

    def __init__(self, symbols: Sequence[str], replica_id: str = "replica-a") -> None:
        self.symbols = frozenset(symbols)
        self._replica_id = replica_id
        self.claims = 0
        self.released = False

    @property
    def replica_id(self) -> str:
        return self._replica_id

    def owned(self) -> frozenset[str]:
        return self.symbols

    @contextlib.asynccontextmanager
    async def claim(self) -> AsyncIterator[frozenset[str]]:
        self.claims += 1
        yield self.symbols

    async def keep(self) -> None:
        return None

    async def release(self) -> None:
        self.released = True


class FakeCalendar:
    def __init__(self, open_: bool = True) -> None:
        self.open = open_
        self.asked: list[datetime] = []

    async def stocks_open(self, at: datetime) -> bool:
        self.asked.append(at)
        return self.open


class SequentialIds:
    """UUID-shaped ids in creation order: ...-000000000001, ...-000000000002, ..."""

    def __init__(self) -> None:
        self.count = 0

    def new_id(self) -> str:
        self.count += 1
        return f"00000000-0000-4000-8000-{self.count:012d}"
