"""Value objects of the signal engine: market data in, signals out.

Times are timezone-aware UTC datetimes; prices are USD floats; a signal's confidence is
0..100 while a source's confidence is 0..1.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum


class Action(StrEnum):
    BUY = "BUY"
    SELL = "SELL"
    HOLD = "HOLD"


class Regime(StrEnum):
    UNSPECIFIED = "UNSPECIFIED"  # too little history to tell
    TRENDING = "TRENDING"
    RANGING = "RANGING"
    VOLATILE = "VOLATILE"


class CacheStatus(StrEnum):
    UNSPECIFIED = "UNSPECIFIED"
    MISS = "MISS"
    HIT_LOCAL = "HIT_LOCAL"
    HIT_SHARED = "HIT_SHARED"
    STALE = "STALE"
    STREAM = "STREAM"
    STALE_ON_ERROR = "STALE_ON_ERROR"


class Timeframe(StrEnum):
    ONE_MINUTE = "1m"
    FIVE_MINUTES = "5m"
    FIFTEEN_MINUTES = "15m"
    ONE_HOUR = "1h"
    ONE_DAY = "1d"


@dataclass(frozen=True, kw_only=True)
class Quote:
    """Latest price of one symbol, with where it came from and how old it is."""

    symbol: str
    price: float
    time: datetime
    bid: float = 0.0
    ask: float = 0.0
    volume: float = 0.0
    provider: str = ""
    cache_status: CacheStatus = CacheStatus.UNSPECIFIED
    age_ms: int = 0


@dataclass(frozen=True, kw_only=True)
class Bar:
    """One OHLCV bar; `start_time` opens its interval."""

    start_time: datetime
    open: float
    high: float
    low: float
    close: float
    volume: float = 0.0


@dataclass(frozen=True, kw_only=True)
class BarSeries:
    """Bars of one symbol, oldest first, with their provenance (for a signal's lineage)."""

    symbol: str
    bars: tuple[Bar, ...]
    provider: str = ""
    cache_status: CacheStatus = CacheStatus.UNSPECIFIED
    age_ms: int = 0

    @property
    def closes(self) -> list[float]:
        return [bar.close for bar in self.bars]


@dataclass(frozen=True, kw_only=True)
class SentimentVerdict:
    """One AI provider's opinion of a symbol: score -1 (bearish) .. 1, confidence 0..1."""

    symbol: str
    provider: str
    score: float
    confidence: float
    time: datetime | None  # when the provider produced it; None: `age_ms` ago
    age_ms: int = 0
    cache_status: CacheStatus = CacheStatus.UNSPECIFIED
    rationale: str = ""


@dataclass(frozen=True, kw_only=True)
class SourceOpinion:
    """One source's vote: direction -1 (sell) .. 1 (buy), confidence 0..1, and where its
    input came from."""

    source: str
    direction: float
    confidence: float
    data_age_ms: int = 0
    provider: str = ""
    cache_status: CacheStatus = CacheStatus.UNSPECIFIED


@dataclass(frozen=True, kw_only=True)
class SourceContribution:
    """A source's part in a signal's consensus (the signal's lineage).

    `raw_contribution` is the source's share of the signal's raw_confidence and
    `contribution` its share of the (calibrated) confidence, both in confidence points:
    over one signal's lineage they sum to raw_confidence and confidence (consensus.py
    defines them). A negative share is a source that voted against the action.
    """

    source: str
    direction: float
    confidence: float
    weight: float  # 0..1; the weights of one signal sum to 1
    data_age_ms: int = 0
    provider: str = ""
    cache_status: CacheStatus = CacheStatus.UNSPECIFIED
    raw_contribution: float = 0.0
    contribution: float = 0.0


@dataclass(frozen=True, kw_only=True)
class Signal:
    """One trading recommendation for one symbol; validated on construction."""

    signal_id: str
    symbol: str
    action: Action
    confidence: float
    raw_confidence: float
    entry_price: float
    target_price: float
    stop_price: float
    create_time: datetime
    expire_time: datetime
    regime: Regime
    lineage: tuple[SourceContribution, ...] = ()
    trace_id: str = ""
    reused: bool = False
    stale: bool = False

    def __post_init__(self) -> None:
        for name in ("confidence", "raw_confidence"):
            value = getattr(self, name)
            if not (math.isfinite(value) and 0.0 <= value <= 100.0):
                raise ValueError(f"{name} must be within 0..100, got {value}")
        entry, target, stop = self.entry_price, self.target_price, self.stop_price
        for name, value in (("entry", entry), ("target", target), ("stop", stop)):
            if not (math.isfinite(value) and value > 0.0):
                raise ValueError(f"{name} price must be positive and finite, got {value}")
        ordered = {
            Action.BUY: target > entry > stop,
            Action.SELL: target < entry < stop,
            Action.HOLD: target == entry == stop,
        }[self.action]
        if not ordered:
            raise ValueError(f"{self.action} needs consistent levels, got {target}/{entry}/{stop}")
        if self.create_time.tzinfo is None or self.expire_time.tzinfo is None:
            raise ValueError("signal times must be timezone-aware")
        if self.expire_time <= self.create_time:
            raise ValueError("expire_time must be after create_time")


@dataclass(frozen=True)
class SymbolFailure:
    """Why no signal could be served for a symbol."""

    symbol: str
    message: str
