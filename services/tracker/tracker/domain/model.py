"""Value objects: signals, their outcomes, query filters and outcome statistics.

Times are timezone-aware UTC datetimes with microsecond precision; prices are USD floats;
confidence is 0..100.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

MAX_BATCH_SIZE = 1000
MAX_PAGE_SIZE = 1000


class Action(StrEnum):
    BUY = "BUY"
    SELL = "SELL"
    HOLD = "HOLD"


class Regime(StrEnum):
    UNSPECIFIED = "UNSPECIFIED"
    TRENDING = "TRENDING"
    RANGING = "RANGING"
    VOLATILE = "VOLATILE"


class Outcome(StrEnum):
    OPEN = "OPEN"
    WIN = "WIN"
    LOSS = "LOSS"
    EXPIRED = "EXPIRED"


class CacheStatus(StrEnum):
    UNSPECIFIED = "UNSPECIFIED"
    MISS = "MISS"
    HIT_LOCAL = "HIT_LOCAL"
    HIT_SHARED = "HIT_SHARED"
    STALE = "STALE"
    STREAM = "STREAM"
    STALE_ON_ERROR = "STALE_ON_ERROR"


@dataclass(frozen=True, kw_only=True)
class SourceContribution:
    """One source's part in a signal's consensus (its lineage)."""

    source: str
    direction: float  # -1 (sell) .. 1 (buy)
    confidence: float  # 0..1
    weight: float  # 0..1
    data_age_ms: int
    provider: str = ""
    cache_status: CacheStatus = CacheStatus.UNSPECIFIED


@dataclass(frozen=True, kw_only=True)
class Signal:
    """One trading recommendation for one symbol, as formed by the engine."""

    signal_id: str  # canonical lowercase UUID
    symbol: str
    action: Action
    confidence: float
    raw_confidence: float
    entry_price: float
    target_price: float
    stop_price: float
    create_time: datetime
    expire_time: datetime
    regime: Regime = Regime.UNSPECIFIED
    lineage: tuple[SourceContribution, ...] = ()
    trace_id: str = ""
    # Transport flags of the engine's answer; the tracker does not persist them.
    reused: bool = False
    stale: bool = False


@dataclass(frozen=True, kw_only=True)
class TrackedSignal:
    """A stored signal with its outcome; exit fields are None while the signal is open.

    `mark_price`/`mark_time` are the last price the outcome tracker observed (None before
    its first observation); `archived` is True for a row read back from the archive.
    """

    signal: Signal
    record_time: datetime
    outcome: Outcome = Outcome.OPEN
    exit_price: float | None = None
    exit_time: datetime | None = None
    pnl_percent: float | None = None
    mark_price: float | None = None
    mark_time: datetime | None = None
    archived: bool = False

    @property
    def open_pnl_percent(self) -> float | None:
        """Unrealised P&L at the mark while open; None when resolved, HOLD or unmarked."""
        if self.outcome is not Outcome.OPEN or self.mark_price is None:
            return None
        return pnl_percent(self.signal.action, self.signal.entry_price, self.mark_price)


def pnl_percent(action: Action, entry: float, exit_price: float) -> float:
    """Profit of the position the action implies, in percent of entry (0 for HOLD)."""
    if action is Action.BUY:
        return (exit_price - entry) / entry * 100.0
    if action is Action.SELL:
        return (entry - exit_price) / entry * 100.0
    return 0.0


@dataclass(frozen=True, kw_only=True)
class OutcomeResolution:
    """The final outcome of one open signal."""

    signal_id: str
    outcome: Outcome
    exit_price: float
    exit_time: datetime
    pnl_percent: float


@dataclass(frozen=True)
class RecordResult:
    """What a store did with a batch: counts, and the ids this call inserted."""

    accepted: int
    duplicate: int
    accepted_ids: frozenset[str] = frozenset()


class RecordStatus(StrEnum):
    ACCEPTED = "ACCEPTED"
    DUPLICATE = "DUPLICATE"
    REJECTED = "REJECTED"


@dataclass(frozen=True, kw_only=True)
class ItemResult:
    """The answer for one signal of a RecordSignals batch."""

    signal_id: str
    status: RecordStatus
    violations: tuple[tuple[str, str], ...] = ()  # (field within the signal, description)

    @property
    def reason(self) -> str:
        return "; ".join(f"{field}: {text}" for field, text in self.violations)


@dataclass(frozen=True)
class BatchResult:
    """Per-item answers of a batch, in request order."""

    items: tuple[ItemResult, ...]

    def count(self, status: RecordStatus) -> int:
        return sum(1 for item in self.items if item.status is status)

    @property
    def accepted(self) -> int:
        return self.count(RecordStatus.ACCEPTED)

    @property
    def duplicate(self) -> int:
        return self.count(RecordStatus.DUPLICATE)

    @property
    def rejected(self) -> int:
        return self.count(RecordStatus.REJECTED)


SignalKey = tuple[datetime, str]
"""The newest-first ordering key of a stored signal: (create_time, signal_id)."""


@dataclass(frozen=True, kw_only=True)
class SignalFilter:
    """Narrows a query; empty collections and None do not filter."""

    symbols: frozenset[str] = frozenset()
    actions: frozenset[Action] = frozenset()
    outcomes: frozenset[Outcome] = frozenset()
    start_time: datetime | None = None  # inclusive
    end_time: datetime | None = None  # exclusive
    min_confidence: float = 0.0

    def matches(self, tracked: TrackedSignal, after: SignalKey | None = None) -> bool:
        """True when the row passes the filter (and is strictly older than `after`)."""
        s = tracked.signal
        return (
            (not self.symbols or s.symbol in self.symbols)
            and (not self.actions or s.action in self.actions)
            and (not self.outcomes or tracked.outcome in self.outcomes)
            and (self.start_time is None or s.create_time >= self.start_time)
            and (self.end_time is None or s.create_time < self.end_time)
            and s.confidence >= self.min_confidence
            and (after is None or (s.create_time, s.signal_id) < after)
        )

    def fingerprint(self) -> str:
        """A short digest that is equal for equal filters (order of members ignored)."""
        canonical = json.dumps(
            [
                sorted(self.symbols),
                sorted(self.actions),
                sorted(self.outcomes),
                self.start_time.isoformat() if self.start_time else None,
                self.end_time.isoformat() if self.end_time else None,
                self.min_confidence,
            ],
            separators=(",", ":"),
        )
        return hashlib.sha256(canonical.encode()).hexdigest()[:16]


@dataclass(frozen=True, kw_only=True)
class OutcomeStats:
    """Counts by outcome and P&L of resolved signals in a window."""

    total: int = 0
    open: int = 0
    wins: int = 0
    losses: int = 0
    expired: int = 0
    total_pnl_percent: float = 0.0
    pnl_samples: int = 0  # resolved signals that carry a P&L

    @property
    def win_rate(self) -> float:
        decided = self.wins + self.losses
        return self.wins / decided if decided else 0.0

    @property
    def avg_pnl_percent(self) -> float:
        return self.total_pnl_percent / self.pnl_samples if self.pnl_samples else 0.0
