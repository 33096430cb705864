"""SignalStore on SQLite (aiosqlite): the default for local runs and single-replica installs.

One writer connection (writes serialised by an asyncio lock, each batch in one
`BEGIN IMMEDIATE` transaction) and one reader connection, so WAL lets queries run while a
batch is written. Times are stored as integer microseconds since the epoch (UTC).
"""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import aiosqlite
import structlog

from tracker.adapters.migrations.sqlite_runner import apply_migrations, immediate_transaction
from tracker.adapters.sql_common import (
    NEWEST_FIRST,
    OUTCOME_STATS_COLUMNS,
    SELECT_COLUMNS,
    SIGNAL_COLUMNS,
    Params,
    lineage_to_json,
    stats_from_row,
    tracked_from_row,
    where_clause,
)
from tracker.domain import (
    OutcomeResolution,
    OutcomeStats,
    RecordResult,
    Signal,
    SignalCursor,
    SignalFilter,
    StorageUnavailable,
    TrackedSignal,
)

log = structlog.get_logger(__name__)

DEFAULT_PATH = Path("var/tracker.db")
PRAGMAS = (
    "PRAGMA busy_timeout=5000",
    "PRAGMA journal_mode=WAL",
    "PRAGMA synchronous=NORMAL",
    "PRAGMA cache_size=-64000",
    "PRAGMA temp_store=MEMORY",
    "PRAGMA mmap_size=268435456",
)
# Primary result codes that mean "the database cannot serve now", not "our SQL is wrong":
# BUSY, LOCKED, NOMEM, READONLY, IOERR, FULL, CANTOPEN, PROTOCOL.
_UNAVAILABLE_CODES = frozenset({5, 6, 7, 8, 10, 13, 14, 15})
_SQLITE_BUSY = 5
_OPEN_ATTEMPTS = 14
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_INSERT = (
    f"INSERT INTO signals ({SIGNAL_COLUMNS}, record_time) "
    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (signal_id) DO NOTHING"
)


def to_micros(instant: datetime) -> int:
    delta = instant - _EPOCH
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds


def from_micros(micros: int) -> datetime:
    return _EPOCH + timedelta(microseconds=micros)


@contextlib.contextmanager
def _translate_errors() -> Iterator[None]:
    """The one choke point turning sqlite3 failures into StorageUnavailable (or not)."""
    try:
        yield
    except sqlite3.OperationalError as e:
        if (getattr(e, "sqlite_errorcode", 0) & 0xFF) in _UNAVAILABLE_CODES:
            raise StorageUnavailable(f"SQLite is unavailable: {e}") from e
        raise
    except OSError as e:
        raise StorageUnavailable(f"SQLite database file is unavailable: {e}") from e


class SqliteSignalStore:
    backend = "sqlite"

    def __init__(self, path: str | Path = DEFAULT_PATH) -> None:
        self._path = str(path)
        self._in_memory = self._path == ":memory:"
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
                    with _translate_errors():
                        self._writer, self._reader = await self._open_with_retry()
        return self._writer, self._reader

    async def _open_with_retry(self) -> tuple[aiosqlite.Connection, aiosqlite.Connection]:
        """Open, switch to WAL and migrate. While another connection is creating the file
        or its WAL index, SQLite answers BUSY without honouring busy_timeout, so retry
        briefly (about 1 s in all) before reporting the database unavailable."""
        for attempt in range(1, _OPEN_ATTEMPTS + 1):
            try:
                return await self._open()
            except sqlite3.OperationalError as e:
                busy = (getattr(e, "sqlite_errorcode", 0) & 0xFF) == _SQLITE_BUSY
                if not busy or attempt == _OPEN_ATTEMPTS:
                    raise
            await asyncio.sleep(0.01 * attempt)
        raise AssertionError("unreachable")  # pragma: no cover

    async def _open(self) -> tuple[aiosqlite.Connection, aiosqlite.Connection]:
        writer = await self._connect()
        try:
            await apply_migrations(writer)
            reader = writer if self._in_memory else await self._connect()
        except BaseException:
            await writer.close()
            raise
        return writer, reader

    async def _connect(self) -> aiosqlite.Connection:
        if not self._in_memory:
            Path(self._path).parent.mkdir(parents=True, exist_ok=True)
        db = await aiosqlite.connect(self._path, isolation_level=None)
        try:
            for pragma in PRAGMAS:
                await db.execute(pragma)
        except BaseException:
            await db.close()
            raise
        db.row_factory = sqlite3.Row
        return db

    async def record(self, signals: Sequence[Signal], *, record_time: datetime) -> RecordResult:
        writer, _ = await self._connections()
        rows = [_signal_row(s, to_micros(record_time)) for s in signals]
        async with self._write_lock:
            with _translate_errors():
                async with immediate_transaction(writer):
                    cursor = await writer.executemany(_INSERT, rows)
                    accepted = cursor.rowcount
        return RecordResult(accepted=accepted, duplicate=len(rows) - accepted)

    async def query(
        self, query: SignalFilter, page_size: int, after: SignalCursor | None
    ) -> tuple[list[TrackedSignal], SignalCursor | None]:
        _, reader = await self._connections()
        params = Params(numbered=False)
        where = where_clause(query, after, params, to_micros)
        sql = f"SELECT {SELECT_COLUMNS} FROM signals {where} {NEWEST_FIRST} LIMIT ?"
        with _translate_errors():
            async with reader.execute(sql, [*params.values, page_size + 1]) as cursor:
                rows = list(await cursor.fetchall())
        found = [tracked_from_row(row, from_micros) for row in rows[:page_size]]
        more = len(rows) > page_size
        return found, (SignalCursor.after(found[-1]) if more and found else None)

    async def outcome_stats(self, since: datetime, symbol: str | None) -> OutcomeStats:
        _, reader = await self._connections()
        params: list[Any] = [to_micros(since)]
        sql = f"SELECT {OUTCOME_STATS_COLUMNS} FROM signals WHERE create_time >= ?"
        if symbol is not None:
            sql += " AND symbol = ?"
            params.append(symbol)
        with _translate_errors():
            async with reader.execute(sql, params) as cursor:
                row = await cursor.fetchone()
        assert row is not None  # an aggregate always yields one row
        return stats_from_row(row)

    async def resolve(self, resolution: OutcomeResolution) -> bool:
        writer, _ = await self._connections()
        r = resolution
        sql = (
            "UPDATE signals SET outcome = ?, exit_price = ?, exit_time = ?, pnl_percent = ? "
            "WHERE signal_id = ? AND outcome = 'OPEN'"
        )
        values = (r.outcome.value, r.exit_price, to_micros(r.exit_time), r.pnl_percent)
        async with self._write_lock:
            with _translate_errors():
                async with immediate_transaction(writer):
                    cursor = await writer.execute(sql, (*values, r.signal_id))
        return cursor.rowcount == 1

    async def ping(self) -> bool:
        try:
            _, reader = await self._connections()
            with _translate_errors():
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
    return (
        s.signal_id,
        s.symbol,
        s.action.value,
        s.confidence,
        s.raw_confidence,
        s.entry_price,
        s.target_price,
        s.stop_price,
        to_micros(s.create_time),
        to_micros(s.expire_time),
        s.regime.value,
        lineage_to_json(s.lineage),
        s.trace_id,
        record_micros,
    )
