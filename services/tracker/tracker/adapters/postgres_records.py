"""PostgreSQL statements for calibrations, archive manifests and pruning, calibration
samples, and the analytics materialized views."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime

import asyncpg

from tracker.adapters.sql_common import Params
from tracker.adapters.sql_records import (
    CALIBRATION_COLUMNS,
    MANIFEST_COLUMNS,
    SAMPLE_SQL,
    analytics_sql,
    bucket_from_row,
    calibration_from_row,
    calibration_values,
    daily_from_row,
    manifest_from_row,
    manifest_values,
    manifests_sql,
    performance_from_row,
    sample_from_row,
)
from tracker.domain import Analytics, ArchiveManifest, Calibration, OutcomeSample

ANALYTICS_VIEWS = ("daily_signal_summary", "symbol_performance", "confidence_stats")
REFRESH_TIMEOUT = "300s"  # a refresh may outlast the per-statement budget of requests
_REFRESH_LOCK = "hashtext('argo.tracker.analytics_refresh:' || current_schema())"
_SAVE_MANIFEST = f"""
INSERT INTO archives ({MANIFEST_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
ON CONFLICT (day) DO UPDATE SET rows = EXCLUDED.rows, bytes = EXCLUDED.bytes,
    sha256 = EXCLUDED.sha256, location = EXCLUDED.location,
    compression = EXCLUDED.compression, csv_location = EXCLUDED.csv_location,
    csv_bytes = EXCLUDED.csv_bytes, archive_time = EXCLUDED.archive_time,
    pruned = archives.pruned OR EXCLUDED.pruned
"""


def _as_is(value: datetime) -> datetime:
    return value


def _day(value: date) -> date:
    return value


async def outcome_samples(pool: asyncpg.Pool, since: datetime) -> list[OutcomeSample]:
    rows = await pool.fetch(SAMPLE_SQL.format(since="$1"), since)
    return [sample_from_row(row, _as_is) for row in rows]


async def save_calibrations(pool: asyncpg.Pool, calibrations: Sequence[Calibration]) -> None:
    placeholders = ", ".join(f"${i}" for i in range(1, 11))
    sql = f"INSERT INTO calibrations ({CALIBRATION_COLUMNS}) VALUES ({placeholders})"
    async with pool.acquire() as conn, conn.transaction():
        await conn.execute("DELETE FROM calibrations")
        await conn.executemany(sql, [calibration_values(c, _as_is) for c in calibrations])


async def load_calibrations(pool: asyncpg.Pool) -> list[Calibration]:
    rows = await pool.fetch(f"SELECT {CALIBRATION_COLUMNS} FROM calibrations ORDER BY symbol")
    return [calibration_from_row(row, _as_is) for row in rows]


async def days_before(pool: asyncpg.Pool, cutoff: datetime) -> list[date]:
    rows = await pool.fetch(
        "SELECT DISTINCT (create_time AT TIME ZONE 'UTC')::date AS day FROM signals "
        "WHERE create_time < $1 ORDER BY day",
        cutoff,
    )
    return [row["day"] for row in rows]


async def delete_signals(
    pool: asyncpg.Pool, start: datetime, end: datetime, ids: Sequence[str]
) -> int:
    status = await pool.execute(
        "DELETE FROM signals WHERE signal_id = ANY($1::uuid[]) AND outcome <> 'OPEN' "
        "AND create_time >= $2 AND create_time < $3",
        list(ids),
        start,
        end,
    )
    return int(status.split()[-1])


async def save_manifest(pool: asyncpg.Pool, manifest: ArchiveManifest) -> None:
    await pool.execute(_SAVE_MANIFEST, *manifest_values(manifest, _day, _as_is))


async def list_manifests(
    pool: asyncpg.Pool, first: date | None, last: date | None, limit: int, pruned_only: bool
) -> list[ArchiveManifest]:
    params = Params(numbered=True)
    sql = manifests_sql(first, last, limit, pruned_only, params)
    rows = await pool.fetch(sql, *params.values)
    return [manifest_from_row(row, _day, _as_is) for row in rows]


async def analytics(pool: asyncpg.Pool, since: date, symbol: str | None) -> Analytics:
    queries = analytics_sql(since, symbol, numbered=True)
    async with pool.acquire() as conn, conn.transaction(readonly=True):
        daily, symbols, confidence = [await conn.fetch(sql, *values) for sql, values in queries]
        refreshed = await conn.fetchval("SELECT refresh_time FROM analytics_refresh")
    return Analytics(
        daily=tuple(daily_from_row(row, _day) for row in daily),
        symbols=tuple(performance_from_row(row, _as_is) for row in symbols),
        confidence=tuple(bucket_from_row(row) for row in confidence),
        refresh_time=refreshed,
    )


async def refresh_analytics(pool: asyncpg.Pool, refresh_time: datetime) -> bool:
    """REFRESH ... CONCURRENTLY every view (reads continue meanwhile); one replica at a
    time, the others skip (transaction-level advisory lock, tried not waited for)."""
    async with pool.acquire() as conn, conn.transaction():
        if not await conn.fetchval(f"SELECT pg_try_advisory_xact_lock({_REFRESH_LOCK})"):
            return False
        await conn.execute(f"SET LOCAL statement_timeout = '{REFRESH_TIMEOUT}'")
        for view in ANALYTICS_VIEWS:
            await conn.execute(f"REFRESH MATERIALIZED VIEW CONCURRENTLY {view}")
        await conn.execute(
            "INSERT INTO analytics_refresh (id, refresh_time) VALUES (true, $1) "
            "ON CONFLICT (id) DO UPDATE SET refresh_time = EXCLUDED.refresh_time",
            refresh_time,
        )
    return True
