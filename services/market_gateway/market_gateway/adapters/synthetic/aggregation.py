"""Bars and day summaries aggregated from a DayPath (numpy, vectorised per day).

A bar covers grid points [j*s, (j+1)*s] (s steps per bar): open is the first point, close the
last, high/low the extremes of all of them. Quotes interpolate linearly between grid points,
so every quote inside a bar lies within that bar's low..high.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from market_gateway.adapters.synthetic.paths import (
    STEP_SECONDS,
    STEPS_PER_DAY,
    BoolArray,
    DayPath,
    FloatArray,
    round_prices,
    round_volumes,
)
from market_gateway.domain import AssetClass, Timeframe


@dataclass(frozen=True, slots=True)
class DaySummary:
    """One day relative to its opening log price (so it does not depend on earlier days)."""

    total: float  # closing minus opening log price
    high: float  # highest log price minus opening log price
    low: float
    volume: float
    vwap: float  # log of (VWAP / opening price); 0 when nothing traded
    active_end: float  # seconds after day start when the last trading step ended; 0 if none


@dataclass(frozen=True, slots=True)
class BarArrays:
    """Bars of one day (only intervals with trading), in columns."""

    start: FloatArray  # epoch seconds
    ready: FloatArray  # epoch seconds when the bar's last trading step ended
    open: FloatArray
    high: FloatArray
    low: FloatArray
    close: FloatArray
    volume: FloatArray
    vwap: FloatArray
    trades: FloatArray

    def __len__(self) -> int:
        return len(self.start)

    def select(self, keep: BoolArray) -> BarArrays:
        return BarArrays(*(column[keep] for column in self._columns()))

    def _columns(self) -> tuple[FloatArray, ...]:
        return (
            self.start, self.ready, self.open, self.high, self.low,
            self.close, self.volume, self.vwap, self.trades,
        )  # fmt: skip


def summarise(path: DayPath) -> DaySummary:
    bars = _aggregate(path, STEPS_PER_DAY)
    return DaySummary(
        total=path.total,
        high=float(bars.high[0]),
        low=float(bars.low[0]),
        volume=float(bars.volume[0]),
        vwap=float(bars.vwap[0]),
        active_end=float(bars.ready[0]),
    )


def day_bars(
    path: DayPath,
    day_start: float,
    start_log: float,
    timeframe: Timeframe,
    asset_class: AssetClass,
    trade_size: float,
) -> BarArrays:
    """Intraday bars of one day in prices, dropping intervals without trading."""
    raw = _aggregate(path, timeframe.value // STEP_SECONDS)
    traded = raw.ready > 0
    raw = raw.select(traded)
    return _to_prices(raw, day_start, start_log, asset_class, trade_size)


def summary_bar(
    summary: DaySummary,
    day_start: float,
    start_log: float,
    asset_class: AssetClass,
    trade_size: float,
) -> BarArrays:
    """The one-day bar (empty when the day had no trading)."""
    column = np.array
    raw = BarArrays(
        start=column([0.0]),
        ready=column([summary.active_end]),
        open=column([0.0]),
        high=column([summary.high]),
        low=column([summary.low]),
        close=column([summary.total]),
        volume=column([summary.volume]),
        vwap=column([summary.vwap]),
        trades=column([0.0]),
    )
    raw = raw.select(raw.ready > 0)
    return _to_prices(raw, day_start, start_log, asset_class, trade_size)


def _aggregate(path: DayPath, steps: int) -> BarArrays:
    """Bars in log terms relative to the day's opening price; times relative to day start."""
    points = path.log_rel
    count = STEPS_PER_DAY // steps
    closes = points[steps::steps]
    body = points[:-1].reshape(count, steps)
    high = np.maximum(body.max(axis=1), closes)
    low = np.minimum(body.min(axis=1), closes)
    step_volume = np.diff(path.cum_volume)
    volume = step_volume.reshape(count, steps).sum(axis=1)
    mid_price = np.exp((points[:-1] + points[1:]) / 2.0)
    notional = (mid_price * step_volume).reshape(count, steps).sum(axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        vwap = np.where(volume > 0, np.log(notional / np.where(volume > 0, volume, 1.0)), 0.0)
    open_steps = path.open_steps.reshape(count, steps)
    last_open = steps - 1 - np.argmax(open_steps[:, ::-1], axis=1)
    traded = open_steps.any(axis=1)
    bar_start = np.arange(count, dtype=np.float64) * steps * STEP_SECONDS
    ready = np.where(traded, bar_start + (last_open + 1) * STEP_SECONDS, 0.0)
    zeros = np.zeros(count)
    return BarArrays(
        bar_start, ready, body[:, 0].copy(), high, low, closes.copy(), volume, vwap, zeros
    )


def _to_prices(
    raw: BarArrays,
    day_start: float,
    start_log: float,
    asset_class: AssetClass,
    trade_size: float,
) -> BarArrays:
    def price(log_rel: FloatArray) -> FloatArray:
        return round_prices(np.exp(start_log + log_rel), asset_class)

    vwap = np.where(raw.volume > 0, price(raw.vwap), 0.0)
    trades = np.where(raw.volume > 0, np.maximum(np.rint(raw.volume / trade_size), 1.0), 0.0)
    return BarArrays(
        start=raw.start + day_start,
        ready=raw.ready + day_start,
        open=price(raw.open),
        high=price(raw.high),
        low=price(raw.low),
        close=price(raw.close),
        volume=round_volumes(raw.volume, asset_class),
        vwap=vwap,
        trades=trades,
    )
