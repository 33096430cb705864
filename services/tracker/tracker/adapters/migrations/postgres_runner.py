"""Applies the PostgreSQL migrations on an asyncpg connection, one runner at a time."""

from __future__ import annotations

import contextlib

import asyncpg
import structlog

from tracker.adapters.migrations import load_migrations

log = structlog.get_logger(__name__)


async def apply_migrations(conn: asyncpg.Connection) -> None:
    """Apply pending migrations, each in its own transaction with its schema_migrations row.

    A session advisory lock keyed by the schema serialises concurrent runners (replicas
    starting together); the second one finds the versions recorded and applies nothing.
    """
    lock_key = "hashtext('argo.tracker.migrations:' || current_schema())"
    await conn.execute(f"SELECT pg_advisory_lock({lock_key})")
    try:
        await conn.execute(
            "CREATE TABLE IF NOT EXISTS schema_migrations (version integer PRIMARY KEY, "
            "name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())"
        )
        applied = {r["version"] for r in await conn.fetch("SELECT version FROM schema_migrations")}
        for migration in load_migrations("postgres"):
            if migration.version in applied:
                continue
            async with conn.transaction():
                await conn.execute(migration.sql)
                await conn.execute(
                    "INSERT INTO schema_migrations (version, name) VALUES ($1, $2)",
                    migration.version,
                    migration.name,
                )
            log.info("schema_migration_applied", backend="postgresql", version=migration.version)
    finally:
        # A lost connection releases the lock itself; don't mask the original error.
        with contextlib.suppress(asyncpg.PostgresError, asyncpg.InterfaceError, OSError):
            await conn.execute(f"SELECT pg_advisory_unlock({lock_key})")
