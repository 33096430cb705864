"""Outcome-tracking claims on SQLite: read the due signals, settle in one write.

No row locks: SQLite serves one process (the single tracker replica that owns the file),
and within it one outcome loop. The resolving UPDATE requires `outcome = 'OPEN'`, so a
signal cannot be resolved twice regardless.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime
from typing import TypeVar

import aiosqlite

from tracker.adapters import sqlite_records as records
from tracker.adapters.sql_common import SELECT_COLUMNS, tracked_from_row
from tracker.adapters.sqlite_time import from_micros, to_micros
from tracker.domain import OpenSignal, OutcomeResolution, Progress

T = TypeVar("T")
Writer = Callable[[Callable[[aiosqlite.Connection], Awaitable[T]]], Awaitable[T]]

_DUE = (
    f"SELECT {SELECT_COLUMNS}, checked_through FROM signals "
    "WHERE outcome = 'OPEN' AND checked_at < ? ORDER BY checked_at LIMIT ?"
)
_PROGRESS = (
    "UPDATE signals SET checked_through = ?, mark_price = ?, mark_time = ?, checked_at = ? "
    "WHERE signal_id = ? AND outcome = 'OPEN'"
)


async def read_due(
    reader: aiosqlite.Connection, due_before: datetime, limit: int
) -> list[OpenSignal]:
    async with reader.execute(_DUE, (to_micros(due_before), limit)) as cursor:
        rows = list(await cursor.fetchall())
    found: list[OpenSignal] = []
    for row in rows:
        tracked = tracked_from_row(row, from_micros)
        found.append(
            OpenSignal(
                signal=tracked.signal,
                checked_through=from_micros(row["checked_through"]),
                mark_price=tracked.mark_price,
                mark_time=tracked.mark_time,
            )
        )
    return found


class SqliteClaim:
    def __init__(
        self, signals: list[OpenSignal], write: Writer[list[str]], checked_at: datetime
    ) -> None:
        self._signals = signals
        self._write = write
        self._checked_at = checked_at

    @property
    def signals(self) -> Sequence[OpenSignal]:
        return self._signals

    async def settle(
        self, resolutions: Sequence[OutcomeResolution], progress: Sequence[Progress]
    ) -> list[str]:
        checked_at = to_micros(self._checked_at)

        async def write(writer: aiosqlite.Connection) -> list[str]:
            resolved = await records.resolve_open(writer, resolutions, checked_at=checked_at)
            await writer.executemany(
                _PROGRESS,
                [
                    (
                        to_micros(p.checked_through),
                        p.mark_price,
                        to_micros(p.mark_time) if p.mark_time is not None else None,
                        checked_at,
                        p.signal_id,
                    )
                    for p in progress
                ],
            )
            return resolved

        return await self._write(write)
