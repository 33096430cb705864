"""The weighted consensus that turns sources' opinions into an action and a confidence,
with every source's exact share of that confidence (the signal's lineage).

For opinions i with direction d_i (-1..1) and confidence c_i (0..1):

    b_i = weight_of(source_i) * regime multiplier     base weight
    e_i = b_i * c_i,  E = sum(e_i),  B = sum(b_i)        effective weight
    w_i = e_i / E                                        normalised weight, sum(w_i) = 1
    S   = sum(w_i * d_i)                                 score, -1..1
    action = BUY if S >= buy_threshold, SELL if S <= -sell_threshold, else HOLD
    q = E / B   (how much of the configured weight had confident data)
    f = volatile_confidence_factor in a VOLATILE regime, else 1

The strength of the action is affine in S, so it splits exactly into per-source terms:

    BUY   s_i = 0.5 + 0.5 * ( d_i - t) / (1 - t)       t = buy_threshold  (s_i = 1 if t = 1)
    SELL  s_i = 0.5 + 0.5 * (-d_i - t) / (1 - t)       t = sell_threshold
    HOLD  s_i = 1 - 0.5 * sign(S) * d_i / t            t = buy_threshold if S >= 0 else sell

    raw_contribution_i = 100 * f * q * w_i * s_i
    raw_confidence     = sum(raw_contribution_i)        0..100

so BUY/SELL confidence runs from 50*f*q at the threshold to 100*f*q for a unanimous
full-strength vote, HOLD's from 100*f*q at S = 0 to 50*f*q at a threshold. A source voting
against the action has a negative share. With no effective weight (E = 0) the action is
HOLD with confidence 0 and every share 0. Calibration (signals.py) rescales the shares so
they sum to the calibrated confidence.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from signal_engine.domain.model import Action, Regime, SourceContribution, SourceOpinion
from signal_engine.domain.tunables import Tunables

_TREND_SOURCES = frozenset({"ma_crossover", "macd", "momentum"})
_REVERSION_SOURCES = frozenset({"rsi", "bollinger"})
_REGIME_MULTIPLIERS = {
    Regime.TRENDING: {"trend": 1.5, "reversion": 0.5},
    Regime.RANGING: {"trend": 0.75, "reversion": 1.5},
}


@dataclass(frozen=True)
class Consensus:
    action: Action
    score: float  # weighted mean direction, -1..1
    raw_confidence: float  # 0..100, the sum of the lineage's raw contributions
    lineage: tuple[SourceContribution, ...]  # one per opinion, in order


def regime_multiplier(regime: Regime, source: str) -> float:
    table = _REGIME_MULTIPLIERS.get(regime)
    if table is None:
        return 1.0
    if source in _TREND_SOURCES:
        return table["trend"]
    if source in _REVERSION_SOURCES:
        return table["reversion"]
    return 1.0  # AI sentiment is not a price pattern: the regime leaves it alone


def _strengths(
    action: Action, score: float, opinions: Sequence[SourceOpinion], t: Tunables
) -> list[float]:
    if action is Action.HOLD:
        sign = 1.0 if score >= 0.0 else -1.0
        threshold = t.buy_threshold if score >= 0.0 else t.sell_threshold
        return [1.0 - 0.5 * sign * o.direction / threshold for o in opinions]
    sign = 1.0 if action is Action.BUY else -1.0
    threshold = t.buy_threshold if action is Action.BUY else t.sell_threshold
    if threshold >= 1.0:
        return [1.0 for _ in opinions]
    return [0.5 + 0.5 * (sign * o.direction - threshold) / (1.0 - threshold) for o in opinions]


def _lineage(
    opinions: Sequence[SourceOpinion], weights: Sequence[float], shares: Sequence[float]
) -> tuple[SourceContribution, ...]:
    return tuple(
        SourceContribution(
            source=o.source,
            direction=o.direction,
            confidence=o.confidence,
            weight=w,
            data_age_ms=o.data_age_ms,
            provider=o.provider,
            cache_status=o.cache_status,
            raw_contribution=share,
            contribution=share,
        )
        for o, w, share in zip(opinions, weights, shares, strict=True)
    )


def form_consensus(opinions: Sequence[SourceOpinion], regime: Regime, t: Tunables) -> Consensus:
    """Weighted consensus -> action, confidence 0..100 and lineage (module docstring)."""
    base = [t.weight_of(o.source) * regime_multiplier(regime, o.source) for o in opinions]
    effective = [b * o.confidence for b, o in zip(base, opinions, strict=True)]
    total_base, total = math.fsum(base), math.fsum(effective)
    if total <= 0.0:
        even = [1.0 / len(opinions) for _ in opinions]
        return Consensus(Action.HOLD, 0.0, 0.0, _lineage(opinions, even, [0.0] * len(opinions)))
    weights = [e / total for e in effective]
    votes = zip(weights, opinions, strict=True)
    score = max(-1.0, min(1.0, math.fsum(w * o.direction for w, o in votes)))
    if score >= t.buy_threshold:
        action = Action.BUY
    elif score <= -t.sell_threshold:
        action = Action.SELL
    else:
        action = Action.HOLD
    factor = t.volatile_confidence_factor if regime is Regime.VOLATILE else 1.0
    scale = 100.0 * factor * (total / total_base)
    strengths = _strengths(action, score, opinions, t)
    shares = [scale * w * s for w, s in zip(weights, strengths, strict=True)]
    raw = max(0.0, min(100.0, math.fsum(shares)))
    return Consensus(action, score, raw, _lineage(opinions, weights, shares))
