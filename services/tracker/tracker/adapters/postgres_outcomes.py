"""Outcome-tracking claims on PostgreSQL: a transaction holding row locks per batch.

`claim` selects due OPEN signals `FOR UPDATE SKIP LOCKED` inside a transaction that stays
open while the tracker fetches prices and evaluates them; another replica's claim skips
the locked rows, so replicas work on disjoint sets and each signal is resolved once. The
resolving UPDATE also requires `outcome = 'OPEN'`, so even a row that was somehow claimed
twice cannot be resolved twice. Progress of unresolved signals is written in the same
transaction. A crashed replica's connection drops and its locks go with it.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Sequence
from datetime import datetime

import asyncpg

from tracker.adapters.sql_common import SELECT_COLUMNS, tracked_from_row
from tracker.domain import OpenSignal, OutcomeResolution, Progress

_CLAIM = f"""
SELECT {SELECT_COLUMNS}, checked_through FROM signals
WHERE outcome = 'OPEN' AND checked_at < $1
ORDER BY checked_at
LIMIT $2
FOR UPDATE SKIP LOCKED
"""
_RESOLVE = """
UPDATE signals AS s
SET outcome = u.outcome, exit_price = u.exit_price, exit_time = u.exit_time,
    pnl_percent = u.pnl_percent, checked_at = $6
FROM unnest($1::uuid[], $2::text[], $3::float8[], $4::timestamptz[], $5::float8[])
     AS u(signal_id, outcome, exit_price, exit_time, pnl_percent)
WHERE s.signal_id = u.signal_id AND s.outcome = 'OPEN'
RETURNING s.signal_id
"""
_PROGRESS = """
UPDATE signals AS s
SET checked_through = u.checked_through, mark_price = u.mark_price, mark_time = u.mark_time,
    checked_at = $5
FROM unnest($1::uuid[], $2::timestamptz[], $3::float8[], $4::timestamptz[])
     AS u(signal_id, checked_through, mark_price, mark_time)
WHERE s.signal_id = u.signal_id AND s.outcome = 'OPEN'
"""


class PostgresClaim:
    def __init__(
        self, conn: asyncpg.Connection, signals: list[OpenSignal], checked_at: datetime
    ) -> None:
        self._conn = conn
        self._signals = signals
        self._checked_at = checked_at

    @property
    def signals(self) -> Sequence[OpenSignal]:
        return self._signals

    async def settle(
        self, resolutions: Sequence[OutcomeResolution], progress: Sequence[Progress]
    ) -> list[str]:
        resolved: list[str] = []
        if resolutions:
            rows = await self._conn.fetch(
                _RESOLVE,
                [r.signal_id for r in resolutions],
                [r.outcome.value for r in resolutions],
                [r.exit_price for r in resolutions],
                [r.exit_time for r in resolutions],
                [r.pnl_percent for r in resolutions],
                self._checked_at,
            )
            resolved = [str(row["signal_id"]) for row in rows]
        if progress:
            await self._conn.execute(
                _PROGRESS,
                [p.signal_id for p in progress],
                [p.checked_through for p in progress],
                [p.mark_price for p in progress],
                [p.mark_time for p in progress],
                self._checked_at,
            )
        return resolved


@contextlib.asynccontextmanager
async def claim(
    pool: asyncpg.Pool, due_before: datetime, limit: int, checked_at: datetime
) -> AsyncIterator[PostgresClaim]:
    """Yield a claim whose transaction commits when the block ends (rolls back on error)."""
    async with pool.acquire() as conn, conn.transaction():
        rows = await conn.fetch(_CLAIM, due_before, limit)
        signals = [
            OpenSignal(
                signal=tracked.signal,
                checked_through=row["checked_through"],
                mark_price=tracked.mark_price,
                mark_time=tracked.mark_time,
            )
            for row in rows
            for tracked in (tracked_from_row(row, _as_is),)
        ]
        yield PostgresClaim(conn, signals, checked_at)


def _as_is(instant: datetime) -> datetime:
    return instant
