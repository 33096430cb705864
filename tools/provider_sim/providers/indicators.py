"""RSI (Wilder) and MACD over a price series, as Alpha Vantage computes them."""

from __future__ import annotations

from collections.abc import Sequence


def ema(values: Sequence[float], period: int) -> list[float]:
    """Exponential moving average seeded with the simple average of the first `period`."""
    if len(values) < period:
        return []
    alpha = 2.0 / (period + 1)
    current = sum(values[:period]) / period
    out = [current]
    for value in values[period:]:
        current = alpha * value + (1 - alpha) * current
        out.append(current)
    return out


def rsi(values: Sequence[float], period: int) -> list[float]:
    """RSI for values[period:] (one per value after the first `period` changes)."""
    if len(values) <= period:
        return []
    changes = [b - a for a, b in zip(values, values[1:], strict=False)]
    gain = sum(max(c, 0.0) for c in changes[:period]) / period
    loss = sum(max(-c, 0.0) for c in changes[:period]) / period
    out = [_rsi(gain, loss)]
    for change in changes[period:]:
        gain = (gain * (period - 1) + max(change, 0.0)) / period
        loss = (loss * (period - 1) + max(-change, 0.0)) / period
        out.append(_rsi(gain, loss))
    return out


def _rsi(gain: float, loss: float) -> float:
    if loss == 0:
        return 100.0 if gain > 0 else 50.0
    return 100.0 - 100.0 / (1.0 + gain / loss)


def macd(
    values: Sequence[float], fast: int, slow: int, signal: int
) -> list[tuple[float, float, float]]:
    """(MACD, signal, histogram) for the last values once every average is warmed up."""
    slow_ema = ema(values, slow)
    fast_ema = ema(values, fast)[slow - fast :]
    line = [f - s for f, s in zip(fast_ema, slow_ema, strict=True)]
    signal_line = ema(line, signal)
    line = line[signal - 1 :]
    return [(m, s, m - s) for m, s in zip(line, signal_line, strict=True)]
