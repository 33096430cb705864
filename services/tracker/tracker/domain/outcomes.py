"""Outcome rules: follow one open signal along a price path to WIN, LOSS or EXPIRED.

The path is what the tracker saw since its last check: completed bars (oldest first) and
the latest quote. Rules (docs/decisions/0011-tracker-outcome-tracking.md):

- A BUY wins when the price reaches its target and loses when it reaches its stop; a
  SELL mirrors that. A bar that opens beyond a level (a gap) exits at the bar's open;
  a bar whose range touches a level exits at the level. A bar touching both levels
  cannot say which came first, so it counts as a LOSS at the stop (the pessimistic
  reading, as backtesters do).
- A bar that began before the last check (or before the signal was formed) is skipped:
  part of its range may predate the signal.
- The latest quote is one more observation; beyond a level it exits at the level.
- At expiry an unresolved BUY/SELL is EXPIRED at the last price seen up to the expiry
  (marked to market; the entry price when nothing traded since).
- HOLD is scored on direction at expiry only: WIN when the price is within the hold
  band (percent of entry) of its entry, LOSS when it left the band. Its P&L is 0.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from tracker.domain.model import Action, Outcome, OutcomeResolution, Signal, pnl_percent


@dataclass(frozen=True, kw_only=True)
class PriceBar:
    """One completed OHLC bar covering [start_time, end_time)."""

    start_time: datetime
    end_time: datetime
    open: float
    high: float
    low: float
    close: float


@dataclass(frozen=True)
class PriceTick:
    """One observed price."""

    price: float
    time: datetime


@dataclass(frozen=True, kw_only=True)
class OpenSignal:
    """An open signal with the tracker's progress along its path."""

    signal: Signal
    checked_through: datetime  # the path before this instant has been examined
    mark_price: float | None = None
    mark_time: datetime | None = None


@dataclass(frozen=True, kw_only=True)
class Progress:
    """How far an unresolved signal has been followed, and its latest mark."""

    signal_id: str
    checked_through: datetime
    mark_price: float | None
    mark_time: datetime | None


@dataclass(frozen=True)
class Evaluation:
    """Either a final resolution or the progress made on a still-open signal."""

    resolution: OutcomeResolution | None
    progress: Progress | None


def evaluate(
    tracked: OpenSignal,
    bars: Sequence[PriceBar],
    tick: PriceTick | None,
    now: datetime,
    *,
    hold_band_pct: float,
) -> Evaluation:
    """Advance the signal along the bars and the tick observed up to `now`."""
    signal = tracked.signal
    horizon_end = min(now, signal.expire_time)
    checked = tracked.checked_through
    mark = (
        PriceTick(tracked.mark_price, tracked.mark_time)
        if tracked.mark_price is not None and tracked.mark_time is not None
        else None
    )
    for bar in sorted(bars, key=lambda b: b.start_time):
        if bar.start_time < checked:
            continue
        if bar.end_time > horizon_end:
            break
        if signal.action is not Action.HOLD:
            hit = _bar_exit(signal, bar)
            if hit is not None:
                return _resolved(signal, hit[0], hit[1], hit[2])
        checked = bar.end_time
        mark = PriceTick(bar.close, bar.end_time)
    if tick is not None and checked <= tick.time < horizon_end:
        if signal.action is not Action.HOLD:
            touched = _tick_exit(signal, tick)
            if touched is not None:
                return _resolved(signal, touched[0], touched[1], tick.time)
        if mark is None or tick.time >= mark.time:
            mark = tick
    if now >= signal.expire_time:
        price = mark.price if mark is not None else signal.entry_price
        return _resolved(signal, _expiry_outcome(signal, price, hold_band_pct), price, None)
    return Evaluation(
        None,
        Progress(
            signal_id=signal.signal_id,
            checked_through=checked,
            mark_price=mark.price if mark else None,
            mark_time=mark.time if mark else None,
        ),
    )


def _bar_exit(signal: Signal, bar: PriceBar) -> tuple[Outcome, float, datetime] | None:
    target, stop = signal.target_price, signal.stop_price
    if signal.action is Action.BUY:
        gap_win, gap_loss = bar.open >= target, bar.open <= stop
        touch_win, touch_loss = bar.high >= target, bar.low <= stop
    else:
        gap_win, gap_loss = bar.open <= target, bar.open >= stop
        touch_win, touch_loss = bar.low <= target, bar.high >= stop
    if gap_win:
        return Outcome.WIN, bar.open, bar.start_time
    if gap_loss:
        return Outcome.LOSS, bar.open, bar.start_time
    if touch_loss:  # also when both levels are inside the bar: assume the worse came first
        return Outcome.LOSS, stop, bar.end_time
    if touch_win:
        return Outcome.WIN, target, bar.end_time
    return None


def _tick_exit(signal: Signal, tick: PriceTick) -> tuple[Outcome, float] | None:
    beyond_target = (
        tick.price >= signal.target_price
        if signal.action is Action.BUY
        else tick.price <= signal.target_price
    )
    beyond_stop = (
        tick.price <= signal.stop_price
        if signal.action is Action.BUY
        else tick.price >= signal.stop_price
    )
    if beyond_stop:
        return Outcome.LOSS, signal.stop_price
    if beyond_target:
        return Outcome.WIN, signal.target_price
    return None


def _expiry_outcome(signal: Signal, price: float, hold_band_pct: float) -> Outcome:
    if signal.action is not Action.HOLD:
        return Outcome.EXPIRED
    move_pct = abs(price - signal.entry_price) / signal.entry_price * 100.0
    return Outcome.WIN if move_pct <= hold_band_pct else Outcome.LOSS


def _resolved(
    signal: Signal, outcome: Outcome, price: float, exit_time: datetime | None
) -> Evaluation:
    return Evaluation(
        OutcomeResolution(
            signal_id=signal.signal_id,
            outcome=outcome,
            exit_price=price,
            exit_time=exit_time if exit_time is not None else signal.expire_time,
            pnl_percent=pnl_percent(signal.action, signal.entry_price, price),
        ),
        None,
    )
