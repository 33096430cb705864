"""SqliteOutbox: the Outbox port in one SQLite file (WAL journal, synchronous=FULL).

Each append is one transaction whose commit fsyncs the write-ahead log, so a signal the
engine published survives a crash of the process or of the machine. Entries are read
oldest first by their autoincrement id and deleted once the tracker acknowledged them;
entries the tracker rejected move to a `rejected` table (the newest REJECTED_KEPT kept).
A lock file (flock) keeps a second engine process from sharing the directory.
See docs/decisions/0005-engine-durable-outbox.md.
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import os
import sqlite3
from collections.abc import AsyncIterator, Sequence
from pathlib import Path

import aiosqlite
import structlog

from signal_engine.adapters.outbox.codec import decode_signal, encode_signal
from signal_engine.domain import OutboxError, OutboxLocked, Signal
from signal_engine.ports import OutboxEntry

log = structlog.get_logger(__name__)

OUTBOX_FILE = "outbox.sqlite3"
LOCK_FILE = "outbox.lock"
REJECTED_KEPT = 10_000
_SCHEMA = """
CREATE TABLE IF NOT EXISTS outbox (
    entry_id INTEGER PRIMARY KEY AUTOINCREMENT,
    signal_id TEXT NOT NULL UNIQUE,
    symbol TEXT NOT NULL,
    created_at TEXT NOT NULL,
    payload TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS rejected (
    entry_id INTEGER PRIMARY KEY,
    signal_id TEXT NOT NULL,
    payload TEXT NOT NULL,
    reason TEXT NOT NULL
);
"""


def _prepare_directory(directory: Path) -> int:
    """Create the directory and take its lock; return the lock file's descriptor."""
    directory.mkdir(parents=True, exist_ok=True)
    fd = os.open(directory / LOCK_FILE, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(fd)
        raise OutboxLocked(f"another engine process uses the outbox in {directory}") from None
    return fd


class SqliteOutbox:
    def __init__(self, db: aiosqlite.Connection, lock_fd: int, capacity: int, depth: int) -> None:
        self._db = db
        self._lock_fd = lock_fd
        self._capacity = capacity
        self._depth = depth

    @classmethod
    async def open(cls, directory: Path, *, capacity: int) -> SqliteOutbox:
        """Open (creating) the outbox in `directory`; raise OutboxError / OutboxLocked."""
        try:
            lock_fd = await asyncio.to_thread(_prepare_directory, directory)
        except OSError as e:
            raise OutboxError(f"cannot use outbox directory {directory}: {e}") from e
        try:
            db = await aiosqlite.connect(directory / OUTBOX_FILE, isolation_level=None)
            await db.execute("PRAGMA journal_mode=WAL")
            await db.execute("PRAGMA synchronous=FULL")
            await db.execute("PRAGMA busy_timeout=5000")
            await db.executescript(_SCHEMA)
            async with db.execute("SELECT COUNT(*) FROM outbox") as cursor:
                row = await cursor.fetchone()
        except sqlite3.Error as e:
            os.close(lock_fd)
            raise OutboxError(f"cannot open the outbox in {directory}: {e}") from e
        depth = int(row[0]) if row else 0
        if depth:
            log.info("outbox_restored", depth=depth, directory=str(directory))
        return cls(db, lock_fd, capacity, depth)

    @property
    def depth(self) -> int:
        return self._depth

    @property
    def capacity(self) -> int:
        return self._capacity

    async def append(self, signals: Sequence[Signal]) -> list[OutboxEntry]:
        taken = list(signals[: max(0, self._capacity - self._depth)])
        if not taken:
            return []
        rows = [(s.signal_id, s.symbol, s.create_time.isoformat(), encode_signal(s)) for s in taken]
        marks = ",".join("?" * len(taken))
        async with self._transaction():
            before = self._db.total_changes
            await self._db.executemany(
                "INSERT OR IGNORE INTO outbox (signal_id, symbol, created_at, payload)"
                " VALUES (?, ?, ?, ?)",
                rows,
            )
            inserted = self._db.total_changes - before
            async with self._db.execute(
                f"SELECT signal_id, entry_id FROM outbox WHERE signal_id IN ({marks})",
                [s.signal_id for s in taken],
            ) as cursor:
                ids = {signal_id: int(entry_id) for signal_id, entry_id in await cursor.fetchall()}
        self._depth += inserted
        return [OutboxEntry(ids[s.signal_id], s) for s in taken if s.signal_id in ids]

    async def peek(self, limit: int) -> list[OutboxEntry]:
        try:
            async with self._db.execute(
                "SELECT entry_id, payload FROM outbox ORDER BY entry_id LIMIT ?", (limit,)
            ) as cursor:
                rows = list(await cursor.fetchall())
        except sqlite3.Error as e:
            raise OutboxError(f"outbox read failed: {e}") from e
        entries: list[OutboxEntry] = []
        for entry_id, payload in rows:
            try:
                entries.append(OutboxEntry(int(entry_id), decode_signal(payload)))
            except ValueError as e:
                await self.reject(int(entry_id), str(e))
        return entries

    async def remove(self, entry_ids: Sequence[int]) -> None:
        if not entry_ids:
            return
        marks = ",".join("?" * len(entry_ids))
        async with self._transaction():
            cursor = await self._db.execute(
                f"DELETE FROM outbox WHERE entry_id IN ({marks})", list(entry_ids)
            )
        self._depth -= max(0, cursor.rowcount)

    async def reject(self, entry_id: int, reason: str) -> None:
        async with self._transaction():
            await self._db.execute(
                "INSERT OR REPLACE INTO rejected (entry_id, signal_id, payload, reason)"
                " SELECT entry_id, signal_id, payload, ? FROM outbox WHERE entry_id = ?",
                (reason, entry_id),
            )
            cursor = await self._db.execute("DELETE FROM outbox WHERE entry_id = ?", (entry_id,))
            await self._db.execute(
                "DELETE FROM rejected WHERE entry_id <="
                " (SELECT entry_id FROM rejected ORDER BY entry_id DESC LIMIT 1 OFFSET ?)",
                (REJECTED_KEPT,),
            )
        self._depth -= max(0, cursor.rowcount)

    async def rejected_count(self) -> int:
        async with self._db.execute("SELECT COUNT(*) FROM rejected") as cursor:
            row = await cursor.fetchone()
        return int(row[0]) if row else 0

    async def aclose(self) -> None:
        with contextlib.suppress(sqlite3.Error, ValueError):
            await self._db.close()
        with contextlib.suppress(OSError):
            fcntl.flock(self._lock_fd, fcntl.LOCK_UN)
            os.close(self._lock_fd)

    @contextlib.asynccontextmanager
    async def _transaction(self) -> AsyncIterator[None]:
        try:
            await self._db.execute("BEGIN IMMEDIATE")
            try:
                yield
            except BaseException:
                await self._db.execute("ROLLBACK")
                raise
            await self._db.execute("COMMIT")
        except sqlite3.Error as e:
            raise OutboxError(f"outbox write failed: {e}") from e
