"""Applies the SQLite migrations on an open aiosqlite connection."""

from __future__ import annotations

import contextlib
import sqlite3
from collections.abc import AsyncIterator

import aiosqlite
import structlog

from tracker.adapters.migrations import load_migrations

log = structlog.get_logger(__name__)


@contextlib.asynccontextmanager
async def immediate_transaction(db: aiosqlite.Connection) -> AsyncIterator[None]:
    """BEGIN IMMEDIATE ... COMMIT (ROLLBACK on any error or cancellation).

    IMMEDIATE takes the write lock up front, waiting under busy_timeout; a deferred
    transaction that reads first could instead fail at once with SQLITE_BUSY_SNAPSHOT when
    another connection writes in between.
    """
    await db.execute("BEGIN IMMEDIATE")
    try:
        yield
        await db.execute("COMMIT")
    except BaseException:
        with contextlib.suppress(sqlite3.Error):
            await db.execute("ROLLBACK")
        raise


async def apply_migrations(db: aiosqlite.Connection) -> None:
    """Apply pending migrations and record them, all in one immediate transaction, so
    concurrent runners (processes sharing one file) apply each version exactly once."""
    async with immediate_transaction(db):
        await db.execute(
            "CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, "
            "name TEXT NOT NULL, applied_at TEXT NOT NULL DEFAULT CURRENT_TIMESTAMP)"
        )
        async with db.execute("SELECT version FROM schema_migrations") as cursor:
            applied = {row[0] for row in await cursor.fetchall()}
        pending = [m for m in load_migrations("sqlite") if m.version not in applied]
        for migration in pending:
            for statement in split_statements(migration.sql):
                await db.execute(statement)
            await db.execute(
                "INSERT INTO schema_migrations (version, name) VALUES (?, ?)",
                (migration.version, migration.name),
            )
    for migration in pending:
        log.info("schema_migration_applied", backend="sqlite", version=migration.version)


def split_statements(script: str) -> list[str]:
    """Split a SQL script into statements (executescript() would commit our transaction)."""
    statements: list[str] = []
    buffer = ""
    for line in script.splitlines(keepends=True):
        buffer += line
        if sqlite3.complete_statement(buffer):
            statements.append(buffer.strip())
            buffer = ""
    leftover = [ln for ln in buffer.splitlines() if ln.strip() and not ln.strip().startswith("--")]
    if leftover:
        raise ValueError(f"incomplete SQL statement at the end of a migration: {leftover[0]!r}")
    return statements
