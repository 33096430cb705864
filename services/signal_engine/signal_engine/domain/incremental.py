"""Incremental indicators: per-symbol state updated from new bars only.

`IndicatorState.update(bars)` folds bars it has not seen yet (by start time) into running
EMAs, Wilder averages and bounded windows, so a cycle costs O(new bars), not O(history).
After any sequence of updates `values()` equals `indicators.indicator_values()` over every
bar folded in so far, float for float: each recurrence repeats the batch code's arithmetic
in the same order (a property test checks it).
"""

from __future__ import annotations

import math
import statistics
from collections import deque
from collections.abc import Iterable
from datetime import datetime

from signal_engine.domain import indicators as ind
from signal_engine.domain.model import Bar


class _Ema:
    """EMA seeded with the SMA of its first `period` inputs (as `indicators.ema_series`)."""

    def __init__(self, period: int) -> None:
        self._period = period
        self._alpha = 2.0 / (period + 1)
        self._seed: list[float] = []
        self.value: float | None = None

    def update(self, x: float) -> float | None:
        if self.value is not None:
            self.value = self.value + self._alpha * (x - self.value)
        else:
            self._seed.append(x)
            if len(self._seed) == self._period:
                self.value = math.fsum(self._seed) / self._period
                self._seed = []
        return self.value


class _Wilder:
    """Wilder's smoothing seeded with the plain mean of its first `period` inputs."""

    def __init__(self, period: int) -> None:
        self._period = period
        self._seed: list[float] = []
        self.value: float | None = None

    def update(self, x: float) -> None:
        if self.value is not None:
            self.value = (self.value * (self._period - 1) + x) / self._period
        else:
            self._seed.append(x)
            if len(self._seed) == self._period:
                self.value = math.fsum(self._seed) / self._period
                self._seed = []


class IndicatorState:
    """Running indicators of one symbol's bars of one timeframe."""

    def __init__(self) -> None:
        self.bars = 0
        self.last_bar_start: datetime | None = None
        self._last: Bar | None = None
        self._closes: deque[float] = deque(maxlen=ind.CLOSES_KEPT)
        self._returns: deque[float] = deque(maxlen=ind.VOLATILITY_WINDOW)
        self._ema_fast = _Ema(ind.EMA_FAST)
        self._macd_fast = _Ema(ind.MACD_FAST)
        self._macd_slow = _Ema(ind.MACD_SLOW)
        self._macd_signal = _Ema(ind.MACD_SIGNAL)
        self._macd_line: float | None = None
        self._gain = _Wilder(ind.RSI_PERIOD)
        self._loss = _Wilder(ind.RSI_PERIOD)
        self._atr = _Wilder(ind.ATR_PERIOD)

    def update(self, bars: Iterable[Bar]) -> int:
        """Fold in the bars newer than the last one held (oldest first); return how many."""
        added = 0
        for bar in bars:
            if self.last_bar_start is not None and bar.start_time <= self.last_bar_start:
                continue  # already folded in (an overlapping window)
            self._fold(bar)
            added += 1
        return added

    def _fold(self, bar: Bar) -> None:
        previous = self._last
        close = bar.close
        if previous is not None:
            before = previous.close
            diff = close - before
            self._gain.update(max(diff, 0.0))
            self._loss.update(max(-diff, 0.0))
            self._atr.update(max(bar.high - bar.low, abs(bar.high - before), abs(bar.low - before)))
            if before > 0 and close > 0:
                self._returns.append(math.log(close / before))
        self._ema_fast.update(close)
        fast, slow = self._macd_fast.update(close), self._macd_slow.update(close)
        if fast is not None and slow is not None:
            line = fast - slow
            if self._macd_signal.update(line) is not None:
                self._macd_line = line
        self._closes.append(close)
        self._last = bar
        self.last_bar_start = bar.start_time
        self.bars += 1

    def values(self) -> ind.IndicatorValues:
        """The snapshot at the last bar; raise ValueError before the first bar."""
        if self._last is None:
            raise ValueError("no bars folded in yet")
        closes = list(self._closes)
        returns = list(self._returns)
        return ind.IndicatorValues(
            bars=self.bars,
            last_close=self._last.close,
            ema_fast=self._ema_fast.value,
            sma_slow=ind.sma(closes, ind.SMA_SLOW),
            rsi=self._rsi(),
            macd_line=self._macd_line,
            macd_signal=self._macd_signal.value,
            momentum=ind.momentum(closes, ind.MOMENTUM_PERIOD),
            bollinger=ind.bollinger_position(closes, ind.BOLLINGER_PERIOD),
            atr=self._atr.value,
            volatility=_stdev(returns[-ind.VOLATILITY_WINDOW :]),
            volatility_recent=_stdev(returns[-ind.REGIME_WINDOW :]),
            efficiency=ind.efficiency_ratio(closes, ind.REGIME_WINDOW),
        )

    def _rsi(self) -> float | None:
        gain, loss = self._gain.value, self._loss.value
        if gain is None or loss is None:
            return None
        if loss == 0.0:
            return 100.0 if gain > 0.0 else 50.0
        return 100.0 - 100.0 / (1.0 + gain / loss)


def _stdev(returns: list[float]) -> float | None:
    return statistics.stdev(returns) if len(returns) >= 2 else None
