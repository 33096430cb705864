"""Ports: what the engine needs from the outside world, as typing.Protocols.

Adapters (gRPC clients of the market gateway and the tracker, the SQLite outbox, Redis
leases, the NYSE calendar) and the tests' fakes implement them structurally.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol

from signal_engine.domain import (
    BarSeries,
    Calibration,
    Quote,
    SentimentVerdict,
    Signal,
    Timeframe,
)


class Clock(Protocol):
    def now(self) -> datetime:
        """Current time, timezone-aware UTC."""
        ...

    def monotonic(self) -> float:
        """Seconds from an arbitrary origin, for durations."""
        ...

    async def sleep(self, seconds: float) -> None: ...


class MarketData(Protocol):
    async def get_quotes(self, symbols: Sequence[str]) -> tuple[dict[str, Quote], dict[str, str]]:
        """One batched call: quotes and per-symbol error messages, both keyed by the
        symbol as requested. Raises GatewayUnavailable / GatewayError when the call fails."""
        ...

    async def get_bars(
        self, symbol: str, timeframe: Timeframe, limit: int, start: datetime | None = None
    ) -> BarSeries:
        """Completed bars oldest first: the most recent `limit`, or with `start` the first
        `limit` starting at or after it. Raises GatewayError subclasses."""
        ...

    async def get_sentiment(self, symbol: str) -> SentimentVerdict:
        """One AI provider's current verdict. Raises SentimentUnsupported when the gateway
        has no sentiment providers, GatewayError subclasses otherwise."""
        ...

    async def check_ready(self) -> bool:
        """True when the gateway is reachable now; returns promptly."""
        ...


@dataclass(frozen=True)
class RecordReceipt:
    """The tracker's answer to one batch: counts, and the signals it refused as invalid
    (signal_id -> reason); every other signal of the batch is durably stored."""

    accepted: int
    duplicate: int
    rejected: Mapping[str, str] = field(default_factory=dict)


class SignalSink(Protocol):
    async def record(self, signals: Sequence[Signal]) -> RecordReceipt:
        """Store signals idempotently, answering per signal. Raises SinkUnavailable
        (nothing acknowledged: retry later) or SinkRejected (the whole batch refused as
        invalid, from a tracker that validates all or nothing)."""
        ...


class CalibrationSource(Protocol):
    async def get_calibration(self, symbol: str) -> Calibration | None:
        """The tracker's calibration for `symbol`; None when none is fitted (or the tracker
        does not calibrate). Raises CalibrationUnavailable when it cannot say now."""
        ...


class IdGenerator(Protocol):
    def new_id(self) -> str:
        """A new globally unique signal id (lowercase UUID)."""
        ...


@dataclass(frozen=True)
class OutboxEntry:
    """A signal waiting in the outbox; `entry_id` orders entries (oldest first)."""

    entry_id: int
    signal: Signal


class Outbox(Protocol):
    """Signals waiting for the tracker, durable across restarts of the engine."""

    @property
    def depth(self) -> int:
        """Entries waiting (not yet removed or rejected)."""
        ...

    @property
    def capacity(self) -> int: ...

    async def append(self, signals: Sequence[Signal]) -> list[OutboxEntry]:
        """Store signals durably, oldest first, as many as fit under the capacity (the
        rest are refused); return the entries now waiting for them (a signal id already
        waiting keeps its entry). Raises OutboxError when the store cannot be written."""
        ...

    async def peek(self, limit: int) -> list[OutboxEntry]:
        """The oldest `limit` waiting entries."""
        ...

    async def remove(self, entry_ids: Sequence[int]) -> None:
        """Forget entries the tracker acknowledged."""
        ...

    async def reject(self, entry_id: int, reason: str) -> None:
        """Move an entry the tracker refused as invalid aside (kept for inspection)."""
        ...


class Ownership(Protocol):
    """Which of the configured symbols this replica may process now."""

    @property
    def replica_id(self) -> str: ...

    def owned(self) -> frozenset[str]:
        """The symbols whose lease this replica holds and trusts now."""
        ...

    def claim(self) -> AbstractAsyncContextManager[frozenset[str]]:
        """The symbols owned now, held for one cycle: none of them is handed to another
        replica before the context exits."""
        ...

    async def keep(self) -> None:
        """Background loop: heartbeat, acquire, renew and hand over leases (forever)."""
        ...

    async def release(self) -> None:
        """Shutdown: give every lease up so other replicas take over at once."""
        ...


class MarketCalendar(Protocol):
    async def stocks_open(self, at: datetime) -> bool:
        """True while the NYSE regular session is open at `at`."""
        ...
