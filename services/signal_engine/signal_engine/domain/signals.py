"""Forming a signal from a quote and bars; the skip rule; per-symbol volatility."""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from signal_engine.domain import indicators as ind
from signal_engine.domain.consensus import (
    MIN_CLOSES,
    detect_regime,
    form_consensus,
    technical_opinions,
)
from signal_engine.domain.errors import InsufficientHistory
from signal_engine.domain.model import (
    Action,
    BarSeries,
    CacheStatus,
    Quote,
    Signal,
    SourceContribution,
)
from signal_engine.domain.tunables import Tunables

# Target/stop distance from entry is kept between these fractions of the entry price, so a
# flat series still gets distinct levels and a wild one never a stop at or below zero.
_MIN_DISTANCE_FRACTION = 0.001
_MAX_DISTANCE_FRACTION = 0.5
_STALE_DATA_CONFIDENCE = 0.5  # a source fed from stale cache counts half
EWMA_DECAY = 0.94  # RiskMetrics' lambda for the per-symbol volatility used to order work


@dataclass(frozen=True, kw_only=True)
class SignalContext:
    """What the engine adds to the market data: identity, time, trace."""

    signal_id: str
    now: datetime
    trace_id: str = ""


def price_levels(action: Action, entry: float, unit: float, t: Tunables) -> tuple[float, float]:
    """(target, stop) at ATR multiples from entry: BUY target>entry>stop, SELL the reverse."""
    if action is Action.HOLD:
        return entry, entry

    def distance(multiple: float) -> float:
        wanted = multiple * unit
        return min(max(wanted, entry * _MIN_DISTANCE_FRACTION), entry * _MAX_DISTANCE_FRACTION)

    up, down = distance(t.target_atr_multiple), distance(t.stop_atr_multiple)
    if action is Action.BUY:
        return entry + up, entry - down
    return entry - up, entry + down


def build_signal(quote: Quote, series: BarSeries, ctx: SignalContext, t: Tunables) -> Signal:
    """The consensus signal for one symbol; raise InsufficientHistory on too few bars."""
    closes = series.closes
    if len(closes) < MIN_CLOSES:
        raise InsufficientHistory(f"{len(closes)} bars, need at least {MIN_CLOSES}")
    opinions = technical_opinions(closes)
    regime = detect_regime(closes, t)
    if series.cache_status is CacheStatus.STALE:
        opinions = [replace(o, confidence=o.confidence * _STALE_DATA_CONFIDENCE) for o in opinions]
    consensus = form_consensus(opinions, regime, t)
    entry = quote.price
    unit = ind.atr(series.bars, 14) or 0.0
    if unit <= 0.0:
        unit = (ind.realised_volatility(closes) or 0.0) * entry
    target, stop = price_levels(consensus.action, entry, unit, t)
    lineage = tuple(
        SourceContribution(
            source=o.source,
            direction=o.direction,
            confidence=o.confidence,
            weight=w,
            data_age_ms=series.age_ms,
            provider=series.provider,
            cache_status=series.cache_status,
        )
        for o, w in zip(opinions, consensus.weights, strict=True)
    )
    confidence = round(consensus.raw_confidence, 4)
    return Signal(
        signal_id=ctx.signal_id,
        symbol=quote.symbol,
        action=consensus.action,
        confidence=confidence,  # no calibration in this build: calibrated == raw
        raw_confidence=confidence,
        entry_price=entry,
        target_price=target,
        stop_price=stop,
        create_time=ctx.now,
        expire_time=ctx.now + timedelta(seconds=t.horizon_seconds),
        regime=regime,
        lineage=lineage,
        trace_id=ctx.trace_id,
    )


def should_skip(
    last_signal: Signal | None,
    price_now: float,
    now: datetime,
    threshold_pct: float,
    inputs_changed: bool,
) -> bool:
    """True when the last signal still stands: price moved less than `threshold_pct`
    percent of its entry, it has not expired, it is not stale, and no other input changed."""
    if last_signal is None or inputs_changed or last_signal.stale:
        return False
    if now >= last_signal.expire_time:
        return False
    move_pct = abs(price_now - last_signal.entry_price) / last_signal.entry_price * 100.0
    return move_pct < threshold_pct


def update_ewma_variance(
    variance: float, previous_price: float | None, price: float, decay: float = EWMA_DECAY
) -> float:
    """Fold one log return into an exponentially weighted variance of returns."""
    if previous_price is None or previous_price <= 0.0 or price <= 0.0:
        return variance
    r = math.log(price / previous_price)
    return decay * variance + (1.0 - decay) * r * r
