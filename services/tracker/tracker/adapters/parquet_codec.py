"""ArchiveCodec on pyarrow: tracked signals <-> Parquet (and CSV) bytes.

One row per signal with its outcome; times are timestamp[us, UTC]; the lineage is its
JSON text (as stored in the database). Low-cardinality text columns are dictionary
encoded. Encoding and decoding run in a worker thread.
"""

from __future__ import annotations

import asyncio
import io
from collections.abc import Sequence
from typing import Any

import pyarrow as pa  # type: ignore[import-untyped]
import pyarrow.csv as pa_csv  # type: ignore[import-untyped]
import pyarrow.parquet as pq  # type: ignore[import-untyped]

from tracker.adapters.sql_common import lineage_from_json, lineage_to_json
from tracker.domain import (
    Action,
    ArchiveCorrupted,
    Compression,
    Outcome,
    Regime,
    Signal,
    TrackedSignal,
)

_TIME = pa.timestamp("us", tz="UTC")
SCHEMA = pa.schema(
    [
        ("signal_id", pa.string()),
        ("symbol", pa.string()),
        ("action", pa.string()),
        ("confidence", pa.float64()),
        ("raw_confidence", pa.float64()),
        ("entry_price", pa.float64()),
        ("target_price", pa.float64()),
        ("stop_price", pa.float64()),
        ("create_time", _TIME),
        ("expire_time", _TIME),
        ("regime", pa.string()),
        ("lineage", pa.string()),
        ("trace_id", pa.string()),
        ("outcome", pa.string()),
        ("exit_price", pa.float64()),
        ("exit_time", _TIME),
        ("pnl_percent", pa.float64()),
        ("record_time", _TIME),
        ("mark_price", pa.float64()),
        ("mark_time", _TIME),
    ]
)
_DICTIONARY_COLUMNS = ["symbol", "action", "regime", "outcome"]


def to_table(rows: Sequence[TrackedSignal]) -> pa.Table:
    columns: dict[str, list[Any]] = {name: [] for name in SCHEMA.names}
    for t in rows:
        s = t.signal
        values = (
            s.signal_id, s.symbol, s.action.value, s.confidence, s.raw_confidence,
            s.entry_price, s.target_price, s.stop_price, s.create_time, s.expire_time,
            s.regime.value, lineage_to_json(s.lineage), s.trace_id, t.outcome.value,
            t.exit_price, t.exit_time, t.pnl_percent, t.record_time, t.mark_price, t.mark_time,
        )  # fmt: skip
        for name, value in zip(SCHEMA.names, values, strict=True):
            columns[name].append(value)
    return pa.table(columns, schema=SCHEMA)


def from_table(table: pa.Table) -> list[TrackedSignal]:
    return [
        TrackedSignal(
            signal=Signal(
                signal_id=r["signal_id"],
                symbol=r["symbol"],
                action=Action(r["action"]),
                confidence=r["confidence"],
                raw_confidence=r["raw_confidence"],
                entry_price=r["entry_price"],
                target_price=r["target_price"],
                stop_price=r["stop_price"],
                create_time=r["create_time"],
                expire_time=r["expire_time"],
                regime=Regime(r["regime"]),
                lineage=lineage_from_json(r["lineage"]),
                trace_id=r["trace_id"],
            ),
            record_time=r["record_time"],
            outcome=Outcome(r["outcome"]),
            exit_price=r["exit_price"],
            exit_time=r["exit_time"],
            pnl_percent=r["pnl_percent"],
            mark_price=r["mark_price"],
            mark_time=r["mark_time"],
        )
        for r in table.cast(SCHEMA).to_pylist()
    ]


def encode_parquet(rows: Sequence[TrackedSignal], compression: Compression) -> bytes:
    sink = io.BytesIO()
    pq.write_table(
        to_table(rows),
        sink,
        compression=compression.value,
        use_dictionary=_DICTIONARY_COLUMNS,
        write_statistics=True,
    )
    return sink.getvalue()


def decode_parquet(data: bytes) -> list[TrackedSignal]:
    """Rows of a Parquet object; ArchiveCorrupted when it is not one of ours."""
    try:
        return from_table(pq.read_table(io.BytesIO(data), schema=SCHEMA))
    except (pa.ArrowException, ValueError, KeyError, TypeError) as e:
        raise ArchiveCorrupted(f"not a readable signals Parquet object: {e}") from e


def encode_csv(rows: Sequence[TrackedSignal]) -> bytes:
    sink = io.BytesIO()
    pa_csv.write_csv(to_table(rows), sink)
    return sink.getvalue()


class ParquetArchiveCodec:
    async def encode(self, rows: Sequence[TrackedSignal], compression: Compression) -> bytes:
        return await asyncio.to_thread(encode_parquet, rows, compression)

    async def decode(self, data: bytes) -> list[TrackedSignal]:
        return await asyncio.to_thread(decode_parquet, data)

    async def encode_csv(self, rows: Sequence[TrackedSignal]) -> bytes:
        return await asyncio.to_thread(encode_csv, rows)
