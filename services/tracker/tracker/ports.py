"""Ports the tracker's use cases depend on; adapters implement them structurally."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Protocol

from tracker.domain import (
    OutcomeResolution,
    OutcomeStats,
    RecordResult,
    Signal,
    SignalCursor,
    SignalFilter,
    TrackedSignal,
)


class Clock(Protocol):
    def now(self) -> datetime:
        """The current instant, timezone-aware UTC."""
        ...

    def monotonic(self) -> float: ...

    async def sleep(self, seconds: float) -> None: ...


class SignalStore(Protocol):
    """Durable signal storage. Every method raises StorageUnavailable when the database
    cannot be reached (retryable); other exceptions are bugs."""

    @property
    def backend(self) -> str:
        """ "sqlite", "postgresql", or a fake's name; reported by the health endpoint."""
        ...

    async def migrate(self) -> None:
        """Connect and apply pending schema migrations; safe to call repeatedly and from
        several replicas at once. Other methods do this themselves on first use."""
        ...

    async def record(self, signals: Sequence[Signal], *, record_time: datetime) -> RecordResult:
        """Insert the batch in one transaction, all or nothing. A signal whose signal_id is
        already stored (or appeared earlier in the batch) counts as a duplicate and is left
        unchanged."""
        ...

    async def query(
        self, query: SignalFilter, page_size: int, after: SignalCursor | None
    ) -> tuple[list[TrackedSignal], SignalCursor | None]:
        """At most `page_size` matching signals strictly older than `after`, newest first by
        (create_time DESC, signal_id DESC); the cursor is None on the last page."""
        ...

    async def outcome_stats(self, since: datetime, symbol: str | None) -> OutcomeStats:
        """Outcome counts and P&L of signals created at or after `since`."""
        ...

    async def resolve(self, resolution: OutcomeResolution) -> bool:
        """Set the outcome of an OPEN signal; False when it is unknown or already final."""
        ...

    async def ping(self) -> bool:
        """True when the database answers (and the schema is migrated); never raises."""
        ...

    async def aclose(self) -> None: ...
