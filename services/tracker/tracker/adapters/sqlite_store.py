"""TrackerStore on SQLite (aiosqlite): the default for local runs and single-replica installs.

One writer connection (writes serialised by an asyncio lock, each batch in one
`BEGIN IMMEDIATE` transaction) and one reader connection, so WAL lets queries run while a
batch is written. Times are stored as integer microseconds since the epoch (UTC).

SQLite is a single-process database: one tracker replica owns the file. Outcome claims
therefore take no row locks (sqlite_outcomes.py); the resolving UPDATE still requires
`outcome = 'OPEN'`, so a signal is never resolved twice even if two processes shared it.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from datetime import date, datetime
from pathlib import Path
from typing import Any, TypeVar

import aiosqlite
import structlog

from tracker.adapters import sqlite_records as records
from tracker.adapters.migrations.sqlite_runner import immediate_transaction
from tracker.adapters.sql_common import (
    INSERT_COLUMNS,
    NEWEST_FIRST,
    OUTCOME_STATS_COLUMNS,
    SELECT_COLUMNS,
    Params,
    lineage_to_json,
    stats_from_row,
    tracked_from_row,
    where_clause,
)
from tracker.adapters.sqlite_connection import DEFAULT_PATH, open_connections, translate_errors
from tracker.adapters.sqlite_outcomes import SqliteClaim, read_due
from tracker.adapters.sqlite_time import from_micros, to_micros
from tracker.domain import (
    Analytics,
    ArchiveManifest,
    Calibration,
    OutcomeResolution,
    OutcomeSample,
    OutcomeStats,
    RecordResult,
    Signal,
    SignalCursor,
    SignalFilter,
    StorageUnavailable,
    TrackedSignal,
)

log = structlog.get_logger(__name__)
T = TypeVar("T")

_INSERT = (
    f"INSERT INTO signals ({INSERT_COLUMNS}) "
    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (signal_id) DO NOTHING"
)


class SqliteSignalStore:
    backend = "sqlite"

    def __init__(self, path: str | Path = DEFAULT_PATH) -> None:
        self._path = str(path)
        self._writer: aiosqlite.Connection | None = None
        self._reader: aiosqlite.Connection | None = None
        self._open_lock = asyncio.Lock()
        self._closed = False
        self._ping_failing = False
        self._write_lock = asyncio.Lock()

    async def migrate(self) -> None:
        await self._connections()

    async def _connections(self) -> tuple[aiosqlite.Connection, aiosqlite.Connection]:
        if self._writer is None or self._reader is None:
            async with self._open_lock:
                if self._closed:
                    raise StorageUnavailable("the SQLite store is closed")
                if self._writer is None or self._reader is None:
                    with translate_errors():
                        self._writer, self._reader = await open_connections(self._path)
        return self._writer, self._reader

    async def record(self, signals: Sequence[Signal], *, record_time: datetime) -> RecordResult:
        record_micros = to_micros(record_time)
        first_seen = list({s.signal_id: s for s in reversed(signals)}.values())[::-1]

        async def insert(writer: aiosqlite.Connection) -> frozenset[str]:
            # Under BEGIN IMMEDIATE nobody else writes, so "not stored yet" stays true
            # until our INSERT; the first occurrence of an id in the batch is the one kept.
            stored = await records.existing_ids(writer, [s.signal_id for s in first_seen])
            new = [s for s in first_seen if s.signal_id not in stored]
            await writer.executemany(_INSERT, [_signal_row(s, record_micros) for s in new])
            return frozenset(s.signal_id for s in new)

        accepted = await self._write(insert)
        return RecordResult(
            accepted=len(accepted), duplicate=len(signals) - len(accepted), accepted_ids=accepted
        )

    async def query(
        self, query: SignalFilter, page_size: int, after: SignalCursor | None
    ) -> tuple[list[TrackedSignal], SignalCursor | None]:
        _, reader = await self._connections()
        params = Params(numbered=False)
        where = where_clause(query, after, params, to_micros)
        sql = f"SELECT {SELECT_COLUMNS} FROM signals {where} {NEWEST_FIRST} LIMIT ?"
        with translate_errors():
            async with reader.execute(sql, [*params.values, page_size + 1]) as cursor:
                rows = list(await cursor.fetchall())
        found = [tracked_from_row(row, from_micros) for row in rows[:page_size]]
        more = len(rows) > page_size
        return found, (SignalCursor.after(found[-1]) if more and found else None)

    async def known_ids(self, ids: Sequence[str]) -> set[str]:
        return await self._read(lambda reader: records.existing_ids(reader, list(ids)))

    async def outcome_stats(self, since: datetime, symbol: str | None) -> OutcomeStats:
        _, reader = await self._connections()
        params: list[Any] = [to_micros(since)]
        sql = f"SELECT {OUTCOME_STATS_COLUMNS} FROM signals WHERE create_time >= ?"
        if symbol is not None:
            sql += " AND symbol = ?"
            params.append(symbol)
        with translate_errors():
            async with reader.execute(sql, params) as cursor:
                row = await cursor.fetchone()
        assert row is not None  # an aggregate always yields one row
        return stats_from_row(row)

    async def resolve(self, resolution: OutcomeResolution) -> bool:
        async def update(writer: aiosqlite.Connection) -> list[str]:
            return await records.resolve_open(writer, [resolution], checked_at=None)

        return bool(await self._write(update))

    async def _write(self, operation: Callable[[aiosqlite.Connection], Awaitable[T]]) -> T:
        """Run `operation(writer)` in one immediate transaction, writes serialised."""
        writer, _ = await self._connections()
        async with self._write_lock:
            with translate_errors():
                async with immediate_transaction(writer):
                    return await operation(writer)

    async def _read(self, operation: Callable[[aiosqlite.Connection], Awaitable[T]]) -> T:
        _, reader = await self._connections()
        with translate_errors():
            return await operation(reader)

    @contextlib.asynccontextmanager
    async def claim_open(
        self, due_before: datetime, limit: int, *, checked_at: datetime
    ) -> AsyncIterator[SqliteClaim]:
        signals = await self._read(lambda reader: read_due(reader, due_before, limit))
        yield SqliteClaim(signals, self._write, checked_at)

    async def count_open(self) -> int:
        return await self._read(records.count_open)

    async def outcome_samples(self, since: datetime) -> list[OutcomeSample]:
        return await self._read(lambda reader: records.outcome_samples(reader, since))

    async def save_calibrations(self, calibrations: Sequence[Calibration]) -> None:
        await self._write(lambda writer: records.save_calibrations(writer, calibrations))

    async def load_calibrations(self) -> list[Calibration]:
        return await self._read(records.load_calibrations)

    async def days_before(self, cutoff: datetime) -> list[date]:
        return await self._read(lambda reader: records.days_before(reader, cutoff))

    async def delete_signals(self, start: datetime, end: datetime, ids: Sequence[str]) -> int:
        return await self._write(lambda writer: records.delete_signals(writer, start, end, ids))

    async def save_manifest(self, manifest: ArchiveManifest) -> None:
        await self._write(lambda writer: records.save_manifest(writer, manifest))

    async def list_manifests(
        self,
        first: date | None,
        last: date | None,
        limit: int,
        *,
        pruned_only: bool = False,
    ) -> list[ArchiveManifest]:
        return await self._read(
            lambda reader: records.list_manifests(reader, first, last, limit, pruned_only)
        )

    async def analytics(self, since: date, symbol: str | None) -> Analytics:
        return await self._read(lambda reader: records.analytics(reader, since, symbol))

    async def refresh_analytics(self, refresh_time: datetime) -> bool:
        return False  # plain views: always current

    async def ping(self) -> bool:
        try:
            _, reader = await self._connections()
            with translate_errors():
                async with reader.execute("SELECT 1") as cursor:
                    ok = await cursor.fetchone() is not None
        except StorageUnavailable as e:
            if not self._ping_failing:  # once per outage; readiness probes often
                log.warning("sqlite_ping_failed", error=str(e))
            self._ping_failing = True
            return False
        if self._ping_failing:
            log.info("sqlite_ping_recovered")
        self._ping_failing = False
        return ok

    async def aclose(self) -> None:
        self._closed = True
        writer, reader = self._writer, self._reader
        self._writer = self._reader = None
        if reader is not None and reader is not writer:
            await reader.close()
        if writer is not None:
            await writer.close()


def _signal_row(s: Signal, record_micros: int) -> tuple[Any, ...]:
    created = to_micros(s.create_time)
    return (
        s.signal_id,
        s.symbol,
        s.action.value,
        s.confidence,
        s.raw_confidence,
        s.entry_price,
        s.target_price,
        s.stop_price,
        created,
        to_micros(s.expire_time),
        s.regime.value,
        lineage_to_json(s.lineage),
        s.trace_id,
        record_micros,
        created,  # checked_through: nothing examined yet
        created,  # checked_at
    )
