"""Sources: each indicator family and each AI sentiment provider votes a direction -1..1
with a confidence 0..1; plus the regime the indicators describe.

Technical directions are tanh of a volatility-normalised strength, so one rule fits a $5
stock and BTC; their confidence is how much history backs them. A sentiment verdict votes
its score with the provider's own confidence, one source per provider.
"""

from __future__ import annotations

import math
from datetime import datetime

from signal_engine.domain import indicators as ind
from signal_engine.domain.model import (
    CacheStatus,
    Regime,
    SentimentVerdict,
    SourceOpinion,
)
from signal_engine.domain.tunables import Tunables, sentiment_source

MIN_BARS = ind.RSI_PERIOD + 1  # RSI(14) and ATR(14) need 15 bars; others join as history grows


def _sufficiency(count: int, needed: int) -> float:
    return min(1.0, count / (2.0 * needed))


def _clamp(value: float) -> float:
    return max(-1.0, min(1.0, value))


def technical_opinions(
    v: ind.IndicatorValues,
    *,
    data_age_ms: int = 0,
    provider: str = "",
    cache_status: CacheStatus = CacheStatus.UNSPECIFIED,
) -> list[SourceOpinion]:
    """One opinion per indicator family that has enough history."""
    price, n = v.last_close, v.bars
    vol = v.volatility or 0.0
    unit = max(vol * price, price * 1e-6)  # one bar's typical move, in price units
    votes: list[tuple[str, float, int]] = []  # (source, direction, bars it needs)
    if v.ema_fast is not None and v.sma_slow is not None:
        votes.append(("ma_crossover", math.tanh((v.ema_fast - v.sma_slow) / unit / 2.0), 21))
    if v.rsi is not None:
        votes.append(("rsi", _clamp((50.0 - v.rsi) / 30.0), 15))
    if (histogram := v.macd_histogram) is not None:
        votes.append(("macd", math.tanh(2.0 * histogram / unit), 34))
    if v.momentum is not None:
        z = v.momentum / max(vol * math.sqrt(ind.MOMENTUM_PERIOD), 1e-9)
        votes.append(("momentum", math.tanh(z / 2.0), ind.MOMENTUM_PERIOD + 1))
    if v.bollinger is not None:
        votes.append(("bollinger", -_clamp(v.bollinger), ind.BOLLINGER_PERIOD))
    return [
        SourceOpinion(
            source=source,
            direction=direction,
            confidence=_sufficiency(n, needed),
            data_age_ms=data_age_ms,
            provider=provider,
            cache_status=cache_status,
        )
        for source, direction, needed in votes
    ]


def sentiment_opinion(verdict: SentimentVerdict, now: datetime) -> SourceOpinion:
    """A provider's verdict as a source named "sentiment:<provider>"."""
    produced = verdict.time or now
    age_ms = max(0, int((now - produced).total_seconds() * 1000)) + (
        0 if verdict.time else verdict.age_ms
    )
    return SourceOpinion(
        source=sentiment_source(verdict.provider),
        direction=_clamp(verdict.score),
        confidence=max(0.0, min(1.0, verdict.confidence)),
        data_age_ms=age_ms,
        provider=verdict.provider,
        cache_status=verdict.cache_status,
    )


def detect_regime(v: ind.IndicatorValues, t: Tunables) -> Regime:
    """VOLATILE (high or expanding volatility), TRENDING (efficient path) or RANGING."""
    if v.bars < ind.REGIME_WINDOW + 1:
        return Regime.UNSPECIFIED
    recent = v.volatility_recent or 0.0
    overall = v.volatility or 0.0
    if recent * 100.0 >= t.volatile_bar_pct or (
        overall > 0.0 and recent >= t.volatile_expansion * overall
    ):
        return Regime.VOLATILE
    efficiency = v.efficiency or 0.0
    return Regime.TRENDING if efficiency >= t.trend_efficiency else Regime.RANGING
