"""Opening the SQLite store's connections (pragmas, WAL, migrations) and the one place
where sqlite3 failures become StorageUnavailable."""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import aiosqlite

from tracker.adapters.migrations.sqlite_runner import apply_migrations
from tracker.domain import StorageUnavailable

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


@contextlib.contextmanager
def translate_errors() -> Iterator[None]:
    """The one choke point turning sqlite3 failures into StorageUnavailable (or not)."""
    try:
        yield
    except sqlite3.OperationalError as e:
        if (getattr(e, "sqlite_errorcode", 0) & 0xFF) in _UNAVAILABLE_CODES:
            raise StorageUnavailable(f"SQLite is unavailable: {e}") from e
        raise
    except OSError as e:
        raise StorageUnavailable(f"SQLite database file is unavailable: {e}") from e


async def open_connections(path: str) -> tuple[aiosqlite.Connection, aiosqlite.Connection]:
    """(writer, reader), migrated. While another connection is creating the file or its
    WAL index, SQLite answers BUSY without honouring busy_timeout, so retry briefly (about
    1 s in all) before reporting the database unavailable. In memory, one connection."""
    for attempt in range(1, _OPEN_ATTEMPTS + 1):
        try:
            return await _open(path)
        except sqlite3.OperationalError as e:
            busy = (getattr(e, "sqlite_errorcode", 0) & 0xFF) == _SQLITE_BUSY
            if not busy or attempt == _OPEN_ATTEMPTS:
                raise
        await asyncio.sleep(0.01 * attempt)
    raise AssertionError("unreachable")  # pragma: no cover


async def _open(path: str) -> tuple[aiosqlite.Connection, aiosqlite.Connection]:
    writer = await _connect(path)
    try:
        await apply_migrations(writer)
        reader = writer if path == ":memory:" else await _connect(path)
    except BaseException:
        await writer.close()
        raise
    return writer, reader


async def _connect(path: str) -> aiosqlite.Connection:
    if path != ":memory:":
        Path(path).parent.mkdir(parents=True, exist_ok=True)
    db = await aiosqlite.connect(path, isolation_level=None)
    try:
        for pragma in PRAGMAS:
            await db.execute(pragma)
    except BaseException:
        await db.close()
        raise
    db.row_factory = sqlite3.Row
    return db
