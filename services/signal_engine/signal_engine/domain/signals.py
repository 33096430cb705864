"""Forming a signal from its components; the skip rule; deduplication.

A signal has three kinds of input, cached and recomputed separately by the app:
the technical view (from the symbol's bars), the sentiment opinions (one per AI provider)
and the calibration; the quote sets entry, target and stop.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from signal_engine.domain import indicators as ind
from signal_engine.domain.calibration import Calibration
from signal_engine.domain.consensus import form_consensus
from signal_engine.domain.errors import InsufficientHistory
from signal_engine.domain.model import (
    Action,
    CacheStatus,
    Quote,
    Regime,
    Signal,
    SourceContribution,
    SourceOpinion,
)
from signal_engine.domain.opinions import MIN_BARS, detect_regime, technical_opinions
from signal_engine.domain.tunables import Tunables

# Target/stop distance from entry is kept between these fractions of the entry price, so a
# flat series still gets distinct levels and a wild one never a stop at or below zero.
_MIN_DISTANCE_FRACTION = 0.001
_MAX_DISTANCE_FRACTION = 0.5
_STALE_DATA_CONFIDENCE = 0.5  # a source fed from stale cache counts half


@dataclass(frozen=True, kw_only=True)
class SignalContext:
    """What the engine adds to the market data: identity, time, trace."""

    signal_id: str
    now: datetime
    trace_id: str = ""


@dataclass(frozen=True, kw_only=True)
class TechnicalView:
    """What the bars say: the indicator sources, the regime and one bar's typical range."""

    opinions: tuple[SourceOpinion, ...]
    regime: Regime
    atr: float | None
    volatility: float | None
    bars: int


def technical_view(
    values: ind.IndicatorValues,
    t: Tunables,
    *,
    data_age_ms: int = 0,
    provider: str = "",
    cache_status: CacheStatus = CacheStatus.UNSPECIFIED,
) -> TechnicalView:
    """The technical component; raise InsufficientHistory below MIN_BARS bars."""
    if values.bars < MIN_BARS:
        raise InsufficientHistory(f"{values.bars} bars, need at least {MIN_BARS}")
    opinions = technical_opinions(
        values, data_age_ms=data_age_ms, provider=provider, cache_status=cache_status
    )
    if cache_status in (CacheStatus.STALE, CacheStatus.STALE_ON_ERROR):
        opinions = [replace(o, confidence=o.confidence * _STALE_DATA_CONFIDENCE) for o in opinions]
    return TechnicalView(
        opinions=tuple(opinions),
        regime=detect_regime(values, t),
        atr=values.atr,
        volatility=values.volatility,
        bars=values.bars,
    )


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


def calibrate_lineage(
    lineage: Sequence[SourceContribution], raw: float, calibrated: float
) -> tuple[SourceContribution, ...]:
    """Rescale each share so the shares sum to `calibrated`: by calibrated/raw, or, when
    raw is 0, in proportion to the sources' weights."""
    if raw > 0.0:
        ratio = calibrated / raw
        return tuple(replace(p, contribution=p.raw_contribution * ratio) for p in lineage)
    return tuple(replace(p, contribution=calibrated * p.weight) for p in lineage)


def build_signal(
    quote: Quote,
    technical: TechnicalView,
    sentiment: Sequence[SourceOpinion],
    calibration: Calibration | None,
    ctx: SignalContext,
    t: Tunables,
) -> Signal:
    """The consensus signal for one symbol from its components."""
    consensus = form_consensus([*technical.opinions, *sentiment], technical.regime, t)
    entry = quote.price
    unit = technical.atr or 0.0
    if unit <= 0.0:
        unit = (technical.volatility or 0.0) * entry
    target, stop = price_levels(consensus.action, entry, unit, t)
    raw = consensus.raw_confidence
    lineage = consensus.lineage
    confidence = raw
    if calibration is not None:
        confidence = calibration.apply(raw)
        lineage = calibrate_lineage(lineage, raw, confidence)
    return Signal(
        signal_id=ctx.signal_id,
        symbol=quote.symbol,
        action=consensus.action,
        confidence=confidence,
        raw_confidence=raw,
        entry_price=entry,
        target_price=target,
        stop_price=stop,
        create_time=ctx.now,
        expire_time=ctx.now + timedelta(seconds=t.horizon_seconds),
        regime=technical.regime,
        lineage=lineage,
        trace_id=ctx.trace_id,
    )


def _moved_pct(price: float, reference: float) -> float:
    return abs(price - reference) / reference * 100.0


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
    return _moved_pct(price_now, last_signal.entry_price) < threshold_pct


def is_repeat(previous: Signal | None, candidate: Signal, t: Tunables) -> bool:
    """True when `candidate` says what the last published signal `previous` says (same
    action and regime, confidence within dedup_confidence_points, entry within
    skip_threshold_pct) and `previous` is live, fresh and younger than the dedup window."""
    if previous is None or previous.stale or candidate.create_time >= previous.expire_time:
        return False
    age = (candidate.create_time - previous.create_time).total_seconds()
    return (
        age < t.dedup_window_seconds
        and candidate.action is previous.action
        and candidate.regime is previous.regime
        and abs(candidate.confidence - previous.confidence) <= t.dedup_confidence_points
        and _moved_pct(candidate.entry_price, previous.entry_price) < t.skip_threshold_pct
    )
