"""Ports the tracker's use cases depend on; adapters implement them structurally.

One database adapter implements every store protocol below (`TrackerStore`); the use
cases each name only the part they need.
"""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import AbstractAsyncContextManager
from datetime import date, datetime
from typing import Protocol

from tracker.domain import (
    Analytics,
    ArchiveManifest,
    Calibration,
    CalibrationMethod,
    CalibrationPoint,
    Compression,
    LifecycleTier,
    OpenSignal,
    OutcomeResolution,
    OutcomeSample,
    OutcomeStats,
    PriceBar,
    PriceTick,
    Progress,
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
        unchanged; `accepted_ids` names the signals this call inserted."""
        ...

    async def query(
        self, query: SignalFilter, page_size: int, after: SignalCursor | None
    ) -> tuple[list[TrackedSignal], SignalCursor | None]:
        """At most `page_size` matching signals strictly older than `after`, newest first by
        (create_time DESC, signal_id DESC); the cursor is None on the last page."""
        ...

    async def known_ids(self, ids: Sequence[str]) -> set[str]:
        """Which of these signal ids the store holds."""
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


class OutcomeClaim(Protocol):
    """Open signals claimed for one evaluation, and the write that settles them."""

    @property
    def signals(self) -> Sequence[OpenSignal]: ...

    async def settle(
        self, resolutions: Sequence[OutcomeResolution], progress: Sequence[Progress]
    ) -> list[str]:
        """Write final outcomes (only onto still-OPEN rows) and the progress of the others;
        return the ids this call resolved."""
        ...


class OutcomeQueue(Protocol):
    def claim_open(
        self, due_before: datetime, limit: int, *, checked_at: datetime
    ) -> AbstractAsyncContextManager[OutcomeClaim]:
        """Claim up to `limit` OPEN signals last examined before `due_before`, least
        recently examined first; settling stamps them examined at `checked_at`.

        PostgreSQL locks the rows FOR UPDATE SKIP LOCKED in a transaction held until the
        context exits (commit; rollback on error), so replicas claim disjoint sets.
        """
        ...

    async def count_open(self) -> int: ...

    async def outcome_samples(self, since: datetime) -> list[OutcomeSample]:
        """WIN/LOSS outcomes of signals created at or after `since` (calibration data)."""
        ...


class CalibrationRepository(Protocol):
    async def save_calibrations(self, calibrations: Sequence[Calibration]) -> None:
        """Replace every stored calibration with these (one transaction)."""
        ...

    async def load_calibrations(self) -> list[Calibration]: ...


class ArchiveIndex(Protocol):
    async def days_before(self, cutoff: datetime) -> list[date]:
        """UTC days that still have hot rows created before `cutoff`, oldest first."""
        ...

    async def delete_signals(self, start: datetime, end: datetime, ids: Sequence[str]) -> int:
        """Delete resolved (non-OPEN) signals among `ids` created in [start, end)."""
        ...

    async def save_manifest(self, manifest: ArchiveManifest) -> None:
        """Insert or replace the day's manifest."""
        ...

    async def list_manifests(
        self,
        first: date | None,
        last: date | None,
        limit: int,
        *,
        pruned_only: bool = False,
    ) -> list[ArchiveManifest]:
        """Manifests of days in [first, last] (bounds inclusive, None for open), newest day
        first; only days pruned from the hot store when `pruned_only`."""
        ...


class AnalyticsSource(Protocol):
    async def analytics(self, since: date, symbol: str | None) -> Analytics: ...

    async def refresh_analytics(self, refresh_time: datetime) -> bool:
        """Refresh materialized views, recording `refresh_time`; False when nothing needs
        refreshing (plain views) or another replica is refreshing them now."""
        ...


class TrackerStore(
    SignalStore, OutcomeQueue, CalibrationRepository, ArchiveIndex, AnalyticsSource, Protocol
):
    """The tracker's database: every store protocol at once."""


class PriceSource(Protocol):
    """Market prices for outcome tracking. Raises PriceDataUnavailable when the source
    cannot answer at all; a symbol it cannot price is simply missing from the answer."""

    async def latest(self, symbols: Sequence[str]) -> dict[str, PriceTick]: ...

    async def bars(self, symbol: str, start: datetime, end: datetime) -> list[PriceBar]:
        """Completed one-minute bars starting in [start, end), oldest first."""
        ...


class CalibrationFitter(Protocol):
    async def fit(
        self, method: CalibrationMethod, raw_confidence: Sequence[float], won: Sequence[bool]
    ) -> tuple[CalibrationPoint, ...]:
        """Knots (ascending raw confidence 0..100) of the fitted mapping."""
        ...


class ObjectStore(Protocol):
    """Where archive objects live. Raises ArchiveUnavailable when unreachable."""

    def url(self, key: str) -> str:
        """The object's location for humans and manifests, e.g. s3://bucket/prefix/key."""
        ...

    async def put(self, key: str, data: bytes) -> None:
        """Write the whole object atomically (readers see the old or the new bytes)."""
        ...

    async def get(self, key: str) -> bytes | None:
        """The object's bytes; None when it does not exist."""
        ...

    async def apply_lifecycle(self, tiers: Sequence[LifecycleTier], prefix: str) -> bool:
        """Apply storage-class transitions to objects under `prefix`; False when the store
        has no storage classes (a local directory)."""
        ...

    async def aclose(self) -> None: ...


class ArchiveCodec(Protocol):
    async def encode(self, rows: Sequence[TrackedSignal], compression: Compression) -> bytes:
        """Parquet bytes of the rows."""
        ...

    async def decode(self, data: bytes) -> list[TrackedSignal]: ...

    async def encode_csv(self, rows: Sequence[TrackedSignal]) -> bytes: ...
