"""Technical indicators over a close-price series (oldest first): the batch reference.

Pure functions; each returns None when the series is too short for it, never a made-up
value. `indicator_values(bars)` is the whole snapshot the engine uses, computed in one pass
over every bar; `incremental.IndicatorState` maintains the same snapshot bar by bar and is
tested to give identical floats.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Sequence
from dataclasses import dataclass

from signal_engine.domain.model import Bar


def sma(values: Sequence[float], period: int) -> float | None:
    """Simple moving average of the last `period` values."""
    if period < 1 or len(values) < period:
        return None
    return math.fsum(values[-period:]) / period


def ema_series(values: Sequence[float], period: int) -> list[float]:
    """EMA seeded with the SMA of the first `period` values; aligned to values[period-1:]."""
    if period < 1 or len(values) < period:
        return []
    alpha = 2.0 / (period + 1)
    out = [math.fsum(values[:period]) / period]
    for value in values[period:]:
        out.append(out[-1] + alpha * (value - out[-1]))
    return out


def ema(values: Sequence[float], period: int) -> float | None:
    series = ema_series(values, period)
    return series[-1] if series else None


def rsi(closes: Sequence[float], period: int = 14) -> float | None:
    """Wilder's RSI, 0..100: averages seeded with plain means, then Wilder-smoothed."""
    if period < 1 or len(closes) < period + 1:
        return None
    diffs = [b - a for a, b in zip(closes, closes[1:], strict=False)]
    avg_gain = math.fsum(max(d, 0.0) for d in diffs[:period]) / period
    avg_loss = math.fsum(max(-d, 0.0) for d in diffs[:period]) / period
    for d in diffs[period:]:
        avg_gain = (avg_gain * (period - 1) + max(d, 0.0)) / period
        avg_loss = (avg_loss * (period - 1) + max(-d, 0.0)) / period
    if avg_loss == 0.0:
        return 100.0 if avg_gain > 0.0 else 50.0
    return 100.0 - 100.0 / (1.0 + avg_gain / avg_loss)


def macd(
    closes: Sequence[float], fast: int = 12, slow: int = 26, signal: int = 9
) -> tuple[float, float, float] | None:
    """(MACD line, signal line, histogram) at the last close."""
    fast_series = ema_series(closes, fast)
    slow_series = ema_series(closes, slow)
    if not slow_series:
        return None
    offset = slow - fast  # fast_series starts `offset` values earlier
    line = [f - s for f, s in zip(fast_series[offset:], slow_series, strict=True)]
    signal_series = ema_series(line, signal)
    if not signal_series:
        return None
    return line[-1], signal_series[-1], line[-1] - signal_series[-1]


def momentum(closes: Sequence[float], period: int = 10) -> float | None:
    """Rate of change over `period` bars as a fraction (0.01 = +1%)."""
    if period < 1 or len(closes) < period + 1 or closes[-1 - period] <= 0.0:
        return None
    return closes[-1] / closes[-1 - period] - 1.0


def log_returns(values: Sequence[float]) -> list[float]:
    return [math.log(b / a) for a, b in zip(values, values[1:], strict=False) if a > 0 and b > 0]


def realised_volatility(closes: Sequence[float], window: int | None = None) -> float | None:
    """Sample standard deviation of per-bar log returns (0.01 = 1% per bar)."""
    returns = log_returns(closes)
    if window is not None:
        returns = returns[-window:]
    if len(returns) < 2:
        return None
    return statistics.stdev(returns)


def atr(bars: Sequence[Bar], period: int = 14) -> float | None:
    """Wilder's Average True Range in price units."""
    if period < 1 or len(bars) < period + 1:
        return None
    ranges = [
        max(bar.high - bar.low, abs(bar.high - prev.close), abs(bar.low - prev.close))
        for prev, bar in zip(bars, bars[1:], strict=False)
    ]
    value = math.fsum(ranges[:period]) / period
    for true_range in ranges[period:]:
        value = (value * (period - 1) + true_range) / period
    return value


def bollinger_position(
    closes: Sequence[float], period: int = 20, width: float = 2.0
) -> float | None:
    """Where the last close sits in its Bollinger band: (close - SMA) / (width * pstdev),
    so -1 / +1 are the lower / upper band; 0 when the window is flat."""
    if period < 2 or len(closes) < period:
        return None
    window = closes[-period:]
    deviation = statistics.pstdev(window)
    if deviation == 0.0:
        return 0.0
    return (closes[-1] - math.fsum(window) / period) / (width * deviation)


def efficiency_ratio(closes: Sequence[float], window: int = 20) -> float | None:
    """Kaufman's efficiency ratio, 0 (pure noise) .. 1 (straight line), over `window` bars."""
    if window < 1 or len(closes) < window + 1:
        return None
    recent = closes[-window - 1 :]
    path = math.fsum(abs(b - a) for a, b in zip(recent, recent[1:], strict=False))
    if path == 0.0:
        return 0.0
    return abs(recent[-1] - recent[0]) / path


# The engine's indicator set (periods fixed; weights and thresholds are tunables).
EMA_FAST = 9
SMA_SLOW = 21
RSI_PERIOD = 14
MACD_FAST, MACD_SLOW, MACD_SIGNAL = 12, 26, 9
MOMENTUM_PERIOD = 10
BOLLINGER_PERIOD = 20
ATR_PERIOD = 14
VOLATILITY_WINDOW = 60  # log returns behind the "overall" realised volatility
REGIME_WINDOW = 20  # returns / closes behind the recent volatility and efficiency ratio
CLOSES_KEPT = VOLATILITY_WINDOW + 1  # the longest window over closes


@dataclass(frozen=True, kw_only=True)
class IndicatorValues:
    """Every indicator at the last bar; None where the history is still too short."""

    bars: int
    last_close: float
    ema_fast: float | None
    sma_slow: float | None
    rsi: float | None
    macd_line: float | None
    macd_signal: float | None
    momentum: float | None
    bollinger: float | None
    atr: float | None
    volatility: float | None  # sample stdev of the last VOLATILITY_WINDOW log returns
    volatility_recent: float | None  # ... of the last REGIME_WINDOW
    efficiency: float | None

    @property
    def macd_histogram(self) -> float | None:
        if self.macd_line is None or self.macd_signal is None:
            return None
        return self.macd_line - self.macd_signal


def indicator_values(bars: Sequence[Bar]) -> IndicatorValues:
    """The snapshot over all of `bars` at once (the batch computation)."""
    if not bars:
        raise ValueError("indicator_values needs at least one bar")
    closes = [bar.close for bar in bars]
    macd_now = macd(closes, MACD_FAST, MACD_SLOW, MACD_SIGNAL)
    return IndicatorValues(
        bars=len(bars),
        last_close=closes[-1],
        ema_fast=ema(closes, EMA_FAST),
        sma_slow=sma(closes, SMA_SLOW),
        rsi=rsi(closes, RSI_PERIOD),
        macd_line=macd_now[0] if macd_now else None,
        macd_signal=macd_now[1] if macd_now else None,
        momentum=momentum(closes, MOMENTUM_PERIOD),
        bollinger=bollinger_position(closes, BOLLINGER_PERIOD),
        atr=atr(bars, ATR_PERIOD),
        volatility=realised_volatility(closes, VOLATILITY_WINDOW),
        volatility_recent=realised_volatility(closes, REGIME_WINDOW),
        efficiency=efficiency_ratio(closes, REGIME_WINDOW),
    )
