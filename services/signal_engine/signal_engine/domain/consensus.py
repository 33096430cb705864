"""Sources, regime and the weighted consensus that turns them into an action.

Each indicator family is a source voting a direction -1..1 (tanh of a volatility-normalised
strength, so the same rule fits a $5 stock and BTC) with a confidence 0..1 (how much
history backs it). The regime shifts weight between trend followers and the mean-reverting
RSI; the score is the weighted mean direction, and thresholds on it pick the action.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from signal_engine.domain import indicators as ind
from signal_engine.domain.model import Action, Regime, SourceOpinion
from signal_engine.domain.tunables import Tunables

MIN_CLOSES = 15  # RSI(14) and ATR(14) need 15 bars; sources needing more are left out
_REGIME_WINDOW = 20
_TREND_SOURCES = frozenset({"ma_crossover", "macd", "momentum"})
_REGIME_MULTIPLIERS = {
    Regime.TRENDING: {"trend": 1.5, "reversion": 0.5},
    Regime.RANGING: {"trend": 0.75, "reversion": 1.5},
}


def _sufficiency(count: int, needed: int) -> float:
    return min(1.0, count / (2.0 * needed))


def technical_opinions(closes: Sequence[float]) -> list[SourceOpinion]:
    """One opinion per indicator family that has enough history."""
    price = closes[-1]
    vol = ind.realised_volatility(closes) or 0.0
    unit = max(vol * price, price * 1e-6)  # one bar's typical move, in price units
    n = len(closes)
    found: list[SourceOpinion] = []
    fast, slow = ind.ema(closes, 9), ind.sma(closes, 21)
    if fast is not None and slow is not None:
        direction = math.tanh((fast - slow) / unit / 2.0)
        found.append(
            SourceOpinion(
                source="ma_crossover", direction=direction, confidence=_sufficiency(n, 21)
            )
        )
    rsi = ind.rsi(closes, 14)
    if rsi is not None:
        direction = max(-1.0, min(1.0, (50.0 - rsi) / 30.0))
        found.append(
            SourceOpinion(source="rsi", direction=direction, confidence=_sufficiency(n, 15))
        )
    macd = ind.macd(closes)
    if macd is not None:
        direction = math.tanh(2.0 * macd[2] / unit)
        found.append(
            SourceOpinion(source="macd", direction=direction, confidence=_sufficiency(n, 34))
        )
    roc = ind.momentum(closes, 10)
    if roc is not None:
        z = roc / max(vol * math.sqrt(10.0), 1e-9)
        found.append(
            SourceOpinion(
                source="momentum", direction=math.tanh(z / 2.0), confidence=_sufficiency(n, 11)
            )
        )
    return found


def detect_regime(closes: Sequence[float], t: Tunables) -> Regime:
    """VOLATILE (high or expanding volatility), TRENDING (efficient path) or RANGING."""
    if len(closes) < _REGIME_WINDOW + 1:
        return Regime.UNSPECIFIED
    recent = ind.realised_volatility(closes, _REGIME_WINDOW) or 0.0
    overall = ind.realised_volatility(closes) or 0.0
    if recent * 100.0 >= t.volatile_bar_pct or (
        overall > 0.0 and recent >= t.volatile_expansion * overall
    ):
        return Regime.VOLATILE
    efficiency = ind.efficiency_ratio(closes, _REGIME_WINDOW) or 0.0
    return Regime.TRENDING if efficiency >= t.trend_efficiency else Regime.RANGING


@dataclass(frozen=True)
class Consensus:
    action: Action
    score: float  # weighted mean direction, -1..1
    raw_confidence: float  # 0..100
    weights: tuple[float, ...]  # normalised weight of each opinion, in order; sum 1


def _regime_multiplier(regime: Regime, source: str) -> float:
    table = _REGIME_MULTIPLIERS.get(regime)
    if table is None:
        return 1.0
    return table["trend"] if source in _TREND_SOURCES else table["reversion"]


def form_consensus(opinions: Sequence[SourceOpinion], regime: Regime, t: Tunables) -> Consensus:
    """Weighted consensus -> action, with a confidence 0..100.

    Confidence of BUY/SELL runs from 50 at the threshold to 100 at a unanimous full-strength
    vote; of HOLD from 100 at a neutral score to 50 at a threshold. It is scaled by how much
    of the configured weight had confident data, and damped in a VOLATILE regime.
    """
    base = [t.weights.get(o.source, 0.0) * _regime_multiplier(regime, o.source) for o in opinions]
    effective = [b * o.confidence for b, o in zip(base, opinions, strict=True)]
    total_base, total = math.fsum(base), math.fsum(effective)
    if total <= 0.0:
        even = tuple(1.0 / len(opinions) for _ in opinions) if opinions else ()
        return Consensus(Action.HOLD, 0.0, 0.0, even)
    weights = tuple(e / total for e in effective)
    score = math.fsum(w * o.direction for w, o in zip(weights, opinions, strict=True))
    score = max(-1.0, min(1.0, score))
    if score >= t.buy_threshold:
        action, strength = Action.BUY, _beyond(score, t.buy_threshold)
    elif score <= -t.sell_threshold:
        action, strength = Action.SELL, _beyond(-score, t.sell_threshold)
    else:
        action = Action.HOLD
        threshold = t.buy_threshold if score >= 0.0 else t.sell_threshold
        strength = 1.0 - 0.5 * abs(score) / threshold
    quality = total / total_base
    factor = t.volatile_confidence_factor if regime is Regime.VOLATILE else 1.0
    confidence = max(0.0, min(100.0, 100.0 * strength * quality * factor))
    return Consensus(action, score, confidence, weights)


def _beyond(magnitude: float, threshold: float) -> float:
    """0.5 at the threshold rising linearly to 1.0 at magnitude 1."""
    if threshold >= 1.0:
        return 1.0
    return 0.5 + 0.5 * min(1.0, (magnitude - threshold) / (1.0 - threshold))
