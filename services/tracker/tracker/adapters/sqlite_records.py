"""SQLite statements beyond inserts and queries: resolutions, calibrations, archive
manifests and pruning, calibration samples, analytics views. Each function takes the
connection it runs on; the store decides which (reader, or writer inside a transaction)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from typing import Any

import aiosqlite

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
from tracker.adapters.sqlite_time import from_day, from_micros, to_day, to_micros
from tracker.domain import (
    Analytics,
    ArchiveManifest,
    Calibration,
    OutcomeResolution,
    OutcomeSample,
)

_CHUNK = 500  # values per "IN (...)", well under SQLite's variable limit
_RESOLVE = (
    "UPDATE signals SET outcome = ?, exit_price = ?, exit_time = ?, pnl_percent = ?, "
    "checked_at = COALESCE(?, checked_at) WHERE signal_id = ? AND outcome = 'OPEN'"
)


async def _fetchall(db: aiosqlite.Connection, sql: str, params: Sequence[Any] = ()) -> list[Any]:
    async with db.execute(sql, params) as cursor:
        return list(await cursor.fetchall())


async def existing_ids(db: aiosqlite.Connection, ids: Sequence[str]) -> set[str]:
    found: set[str] = set()
    for i in range(0, len(ids), _CHUNK):
        chunk = ids[i : i + _CHUNK]
        marks = ", ".join("?" for _ in chunk)
        rows = await _fetchall(
            db, f"SELECT signal_id FROM signals WHERE signal_id IN ({marks})", chunk
        )
        found.update(row[0] for row in rows)
    return found


async def resolve_open(
    db: aiosqlite.Connection, resolutions: Sequence[OutcomeResolution], *, checked_at: int | None
) -> list[str]:
    """Resolve still-OPEN signals; the ids actually resolved."""
    resolved: list[str] = []
    for r in resolutions:
        values = (r.outcome.value, r.exit_price, to_micros(r.exit_time), r.pnl_percent)
        cursor = await db.execute(_RESOLVE, (*values, checked_at, r.signal_id))
        if cursor.rowcount == 1:
            resolved.append(r.signal_id)
    return resolved


async def count_open(db: aiosqlite.Connection) -> int:
    rows = await _fetchall(db, "SELECT count(*) FROM signals WHERE outcome = 'OPEN'")
    return int(rows[0][0])


async def outcome_samples(db: aiosqlite.Connection, since: datetime) -> list[OutcomeSample]:
    rows = await _fetchall(db, SAMPLE_SQL.format(since="?"), (to_micros(since),))
    return [sample_from_row(row, from_micros) for row in rows]


async def save_calibrations(db: aiosqlite.Connection, calibrations: Sequence[Calibration]) -> None:
    await db.execute("DELETE FROM calibrations")
    marks = ", ".join("?" for _ in range(10))
    await db.executemany(
        f"INSERT INTO calibrations ({CALIBRATION_COLUMNS}) VALUES ({marks})",
        [calibration_values(c, to_micros) for c in calibrations],
    )


async def load_calibrations(db: aiosqlite.Connection) -> list[Calibration]:
    rows = await _fetchall(db, f"SELECT {CALIBRATION_COLUMNS} FROM calibrations ORDER BY symbol")
    return [calibration_from_row(row, from_micros) for row in rows]


async def days_before(db: aiosqlite.Connection, cutoff: datetime) -> list[date]:
    rows = await _fetchall(
        db,
        "SELECT DISTINCT date(create_time / 1000000, 'unixepoch') AS day FROM signals "
        "WHERE create_time < ? ORDER BY day",
        (to_micros(cutoff),),
    )
    return [from_day(row[0]) for row in rows]


async def delete_signals(
    db: aiosqlite.Connection, start: datetime, end: datetime, ids: Sequence[str]
) -> int:
    deleted = 0
    for i in range(0, len(ids), _CHUNK):
        chunk = list(ids[i : i + _CHUNK])
        marks = ", ".join("?" for _ in chunk)
        cursor = await db.execute(
            f"DELETE FROM signals WHERE signal_id IN ({marks}) AND outcome <> 'OPEN' "
            "AND create_time >= ? AND create_time < ?",
            (*chunk, to_micros(start), to_micros(end)),
        )
        deleted += cursor.rowcount
    return deleted


async def save_manifest(db: aiosqlite.Connection, manifest: ArchiveManifest) -> None:
    marks = ", ".join("?" for _ in range(10))
    await db.execute(
        f"INSERT INTO archives ({MANIFEST_COLUMNS}) VALUES ({marks}) "
        "ON CONFLICT (day) DO UPDATE SET rows = excluded.rows, bytes = excluded.bytes, "
        "sha256 = excluded.sha256, location = excluded.location, "
        "compression = excluded.compression, csv_location = excluded.csv_location, "
        "csv_bytes = excluded.csv_bytes, archive_time = excluded.archive_time, "
        "pruned = archives.pruned OR excluded.pruned",
        manifest_values(manifest, to_day, to_micros),
    )


async def list_manifests(
    db: aiosqlite.Connection,
    first: date | None,
    last: date | None,
    limit: int,
    pruned_only: bool,
) -> list[ArchiveManifest]:
    params = Params(numbered=False)
    bounds = [to_day(d) if d is not None else None for d in (first, last)]
    sql = manifests_sql(bounds[0], bounds[1], limit, pruned_only, params)
    rows = await _fetchall(db, sql, params.values)
    return [manifest_from_row(row, from_day, from_micros) for row in rows]


async def analytics(db: aiosqlite.Connection, since: date, symbol: str | None) -> Analytics:
    queries = analytics_sql(to_day(since), symbol, numbered=False)
    daily, symbols, confidence = [await _fetchall(db, sql, values) for sql, values in queries]
    return Analytics(
        daily=tuple(daily_from_row(row, from_day) for row in daily),
        symbols=tuple(performance_from_row(row, from_micros) for row in symbols),
        confidence=tuple(bucket_from_row(row) for row in confidence),
        refresh_time=None,
    )
