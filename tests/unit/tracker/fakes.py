"""In-memory fakes of the tracker's ports (they pass the storage contract suite too)."""

from __future__ import annotations

import asyncio
import math
from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime

from tracker.domain import (
    Outcome,
    OutcomeResolution,
    OutcomeStats,
    RecordResult,
    Signal,
    SignalCursor,
    SignalFilter,
    StorageUnavailable,
    TrackedSignal,
)


class FakeSignalStore:
    """A SignalStore in a dict. Set `unavailable` to make every call fail as a lost
    database would, `error` to raise that exception instead (a bug), or `blocked` to make
    calls wait until it is set."""

    backend = "memory"

    def __init__(self) -> None:
        self.rows: dict[str, TrackedSignal] = {}
        self.unavailable = False
        self.error: Exception | None = None
        self.blocked: asyncio.Event | None = None
        self.migrations = 0
        self.closed = False

    async def _enter(self) -> None:
        if self.blocked is not None:
            await self.blocked.wait()
        if self.error is not None:
            raise self.error
        if self.unavailable:
            raise StorageUnavailable("fake database is down")

    async def migrate(self) -> None:
        await self._enter()
        self.migrations += 1

    async def record(self, signals: Sequence[Signal], *, record_time: datetime) -> RecordResult:
        await self._enter()
        if any(not math.isfinite(s.confidence) for s in signals):
            raise ValueError("confidence must be finite")  # as a database constraint would
        accepted = 0
        for signal in signals:
            if signal.signal_id not in self.rows:
                self.rows[signal.signal_id] = TrackedSignal(signal=signal, record_time=record_time)
                accepted += 1
        return RecordResult(accepted=accepted, duplicate=len(signals) - accepted)

    async def query(
        self, query: SignalFilter, page_size: int, after: SignalCursor | None
    ) -> tuple[list[TrackedSignal], SignalCursor | None]:
        await self._enter()
        matching = sorted(
            (t for t in self.rows.values() if _matches(t, query, after)),
            key=lambda t: (t.signal.create_time, t.signal.signal_id),
            reverse=True,
        )
        page = matching[:page_size]
        more = len(matching) > page_size
        return page, (SignalCursor.after(page[-1]) if more and page else None)

    async def outcome_stats(self, since: datetime, symbol: str | None) -> OutcomeStats:
        await self._enter()
        rows = [
            t
            for t in self.rows.values()
            if t.signal.create_time >= since and (symbol is None or t.signal.symbol == symbol)
        ]
        resolved = [t for t in rows if t.outcome is not Outcome.OPEN and t.pnl_percent is not None]
        return OutcomeStats(
            total=len(rows),
            open=sum(t.outcome is Outcome.OPEN for t in rows),
            wins=sum(t.outcome is Outcome.WIN for t in rows),
            losses=sum(t.outcome is Outcome.LOSS for t in rows),
            expired=sum(t.outcome is Outcome.EXPIRED for t in rows),
            total_pnl_percent=sum(t.pnl_percent or 0.0 for t in resolved),
            pnl_samples=len(resolved),
        )

    async def resolve(self, resolution: OutcomeResolution) -> bool:
        await self._enter()
        current = self.rows.get(resolution.signal_id)
        if current is None or current.outcome is not Outcome.OPEN:
            return False
        self.rows[resolution.signal_id] = replace(
            current,
            outcome=resolution.outcome,
            exit_price=resolution.exit_price,
            exit_time=resolution.exit_time,
            pnl_percent=resolution.pnl_percent,
        )
        return True

    async def ping(self) -> bool:
        return not self.unavailable

    async def aclose(self) -> None:
        self.closed = True


def _matches(t: TrackedSignal, q: SignalFilter, after: SignalCursor | None) -> bool:
    s = t.signal
    return (
        (not q.symbols or s.symbol in q.symbols)
        and (not q.actions or s.action in q.actions)
        and (not q.outcomes or t.outcome in q.outcomes)
        and (q.start_time is None or s.create_time >= q.start_time)
        and (q.end_time is None or s.create_time < q.end_time)
        and s.confidence >= q.min_confidence
        and (after is None or (s.create_time, s.signal_id) < (after.create_time, after.signal_id))
    )
