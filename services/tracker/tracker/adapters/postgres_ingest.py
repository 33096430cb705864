"""Idempotent batch inserts into PostgreSQL, two ways (bench/tracker_ingest.py measures both).

- COPY: the batch is COPYed (binary) into a per-connection temporary table
  `signals_incoming` (ON COMMIT DELETE ROWS, created once when the pool opens the
  connection), then `INSERT INTO signals SELECT ... FROM signals_incoming ON CONFLICT
  (signal_id) DO NOTHING RETURNING signal_id`, all in one transaction.
- UNNEST: one `INSERT ... SELECT FROM unnest($1::uuid[], ...) ON CONFLICT DO NOTHING
  RETURNING signal_id` statement with one array parameter per column.

Both are atomic and both return exactly the ids that were new, so accepted/duplicate
counts stay exact even for an id repeated inside the batch. Outcome tracking starts at
the signal's creation (checked_through = checked_at = create_time).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from enum import StrEnum
from typing import Any

import asyncpg

from tracker.adapters.sql_common import INSERT_COLUMNS, SIGNAL_COLUMNS, lineage_to_json
from tracker.domain import Signal


class IngestMethod(StrEnum):
    COPY = "copy"
    UNNEST = "unnest"


INCOMING_TABLE = "signals_incoming"
INCOMING_COLUMNS = [*(c.strip() for c in SIGNAL_COLUMNS.split(",")), "record_time"]
CREATE_INCOMING = f"""
CREATE TEMPORARY TABLE IF NOT EXISTS {INCOMING_TABLE} (
    signal_id uuid, symbol text, action text, confidence double precision,
    raw_confidence double precision, entry_price double precision,
    target_price double precision, stop_price double precision, create_time timestamptz,
    expire_time timestamptz, regime text, lineage jsonb, trace_id text,
    record_time timestamptz
) ON COMMIT DELETE ROWS
"""
_FROM_INCOMING = f"""
INSERT INTO signals ({INSERT_COLUMNS})
SELECT {SIGNAL_COLUMNS}, record_time, create_time, create_time FROM {INCOMING_TABLE}
ON CONFLICT (signal_id) DO NOTHING
RETURNING signal_id
"""
_FROM_UNNEST = f"""
INSERT INTO signals ({INSERT_COLUMNS})
SELECT s.signal_id, s.symbol, s.action, s.confidence, s.raw_confidence, s.entry_price,
       s.target_price, s.stop_price, s.create_time, s.expire_time, s.regime,
       s.lineage::jsonb, s.trace_id, $14, s.create_time, s.create_time
FROM unnest($1::uuid[], $2::text[], $3::text[], $4::float8[], $5::float8[], $6::float8[],
            $7::float8[], $8::float8[], $9::timestamptz[], $10::timestamptz[], $11::text[],
            $12::text[], $13::text[])
     AS s({SIGNAL_COLUMNS})
ON CONFLICT (signal_id) DO NOTHING
RETURNING signal_id
"""


def signal_values(s: Signal) -> tuple[Any, ...]:
    return (
        s.signal_id,
        s.symbol,
        s.action.value,
        s.confidence,
        s.raw_confidence,
        s.entry_price,
        s.target_price,
        s.stop_price,
        s.create_time,
        s.expire_time,
        s.regime.value,
        lineage_to_json(s.lineage),
        s.trace_id,
    )


async def prepare_connection(conn: asyncpg.Connection) -> None:
    """Pool `init` hook: the COPY staging table, once per connection."""
    await conn.execute(CREATE_INCOMING)


async def insert_batch(
    conn: asyncpg.Connection,
    signals: Sequence[Signal],
    record_time: datetime,
    method: IngestMethod,
) -> frozenset[str]:
    """Insert idempotently; return the ids this call inserted."""
    if method is IngestMethod.COPY:
        records = [(*signal_values(s), record_time) for s in signals]
        async with conn.transaction():
            await conn.copy_records_to_table(
                INCOMING_TABLE, records=records, columns=INCOMING_COLUMNS
            )
            rows = await conn.fetch(_FROM_INCOMING)
    else:
        columns: list[list[Any]] = [[] for _ in range(13)]
        for s in signals:
            for column, value in zip(columns, signal_values(s), strict=True):
                column.append(value)
        rows = await conn.fetch(_FROM_UNNEST, *columns, record_time)
    return frozenset(str(row["signal_id"]) for row in rows)
