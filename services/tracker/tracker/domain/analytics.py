"""Analytics rows: daily signal summary, symbol performance, confidence statistics."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from tracker.domain.model import Action

CONFIDENCE_BUCKET_WIDTH = 10.0


def _rate(wins: int, losses: int) -> float:
    decided = wins + losses
    return wins / decided if decided else 0.0


@dataclass(frozen=True, kw_only=True)
class DailySummary:
    day: date
    symbol: str
    action: Action
    signals: int
    avg_confidence: float
    open: int
    wins: int
    losses: int
    expired: int


@dataclass(frozen=True, kw_only=True)
class SymbolPerformance:
    symbol: str
    signals: int
    open: int
    wins: int
    losses: int
    expired: int
    total_pnl_percent: float
    pnl_samples: int
    last_signal_time: datetime | None

    @property
    def win_rate(self) -> float:
        return _rate(self.wins, self.losses)

    @property
    def avg_pnl_percent(self) -> float:
        return self.total_pnl_percent / self.pnl_samples if self.pnl_samples else 0.0


@dataclass(frozen=True, kw_only=True)
class ConfidenceBucket:
    symbol: str
    low: float
    high: float
    signals: int
    avg_confidence: float
    wins: int
    losses: int
    total_pnl_percent: float
    pnl_samples: int

    @property
    def win_rate(self) -> float:
        return _rate(self.wins, self.losses)

    @property
    def avg_pnl_percent(self) -> float:
        return self.total_pnl_percent / self.pnl_samples if self.pnl_samples else 0.0


@dataclass(frozen=True, kw_only=True)
class Analytics:
    daily: tuple[DailySummary, ...]
    symbols: tuple[SymbolPerformance, ...]
    confidence: tuple[ConfidenceBucket, ...]
    refresh_time: datetime | None  # None: computed live (SQLite)
