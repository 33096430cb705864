"""SQL pieces both storage adapters share: the column list, filter clauses, lineage JSON.

Only SQL structure is assembled here; every value travels as a bound parameter.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime
from typing import Any, Protocol

from tracker.domain import (
    Action,
    CacheStatus,
    Outcome,
    OutcomeStats,
    Regime,
    Signal,
    SignalCursor,
    SignalFilter,
    SourceContribution,
    TrackedSignal,
)

SIGNAL_COLUMNS = (
    "signal_id, symbol, action, confidence, raw_confidence, entry_price, target_price, "
    "stop_price, create_time, expire_time, regime, lineage, trace_id"
)
SELECT_COLUMNS = (
    f"{SIGNAL_COLUMNS}, outcome, exit_price, exit_time, pnl_percent, record_time, "
    "mark_price, mark_time"
)
# Outcome tracking starts at the signal's creation: nothing examined yet.
INSERT_COLUMNS = f"{SIGNAL_COLUMNS}, record_time, checked_through, checked_at"
NEWEST_FIRST = "ORDER BY create_time DESC, signal_id DESC"


class Row(Protocol):
    """A result row readable by column name (sqlite3.Row, asyncpg.Record)."""

    def __getitem__(self, key: str, /) -> Any: ...


class Params:
    """Collects bound values and returns the dialect's placeholder for each."""

    def __init__(self, *, numbered: bool) -> None:
        self.values: list[Any] = []
        self._numbered = numbered

    def add(self, value: Any) -> str:
        self.values.append(value)
        return f"${len(self.values)}" if self._numbered else "?"


def where_clause(
    query: SignalFilter,
    after: SignalCursor | None,
    params: Params,
    encode_time: Callable[[datetime], Any],
) -> str:
    """`WHERE ...` for the filter and keyset cursor (empty string when nothing filters)."""
    terms: list[str] = []
    for column, members in (
        ("symbol", sorted(query.symbols)),
        ("action", sorted(a.value for a in query.actions)),
        ("outcome", sorted(o.value for o in query.outcomes)),
    ):
        if members:
            terms.append(f"{column} IN ({', '.join(params.add(m) for m in members)})")
    if query.start_time is not None:
        terms.append(f"create_time >= {params.add(encode_time(query.start_time))}")
    if query.end_time is not None:
        terms.append(f"create_time < {params.add(encode_time(query.end_time))}")
    if query.min_confidence > 0:
        terms.append(f"confidence >= {params.add(query.min_confidence)}")
    if after is not None:
        time_ph = params.add(encode_time(after.create_time))
        terms.append(f"(create_time, signal_id) < ({time_ph}, {params.add(after.signal_id)})")
    return f"WHERE {' AND '.join(terms)}" if terms else ""


_COMPACT_JSON = json.JSONEncoder(separators=(",", ":"))


def lineage_to_json(lineage: tuple[SourceContribution, ...]) -> str:
    return _COMPACT_JSON.encode(
        [
            {
                "source": c.source,
                "direction": c.direction,
                "confidence": c.confidence,
                "weight": c.weight,
                "data_age_ms": c.data_age_ms,
                "provider": c.provider,
                "cache_status": c.cache_status.value,
            }
            for c in lineage
        ]
    )


def lineage_from_json(text: str) -> tuple[SourceContribution, ...]:
    return tuple(
        SourceContribution(
            source=item["source"],
            direction=float(item["direction"]),
            confidence=float(item["confidence"]),
            weight=float(item["weight"]),
            data_age_ms=int(item["data_age_ms"]),
            provider=item.get("provider", ""),
            cache_status=CacheStatus(item.get("cache_status", "UNSPECIFIED")),
        )
        for item in json.loads(text)
    )


def tracked_from_row(row: Row, decode_time: Callable[[Any], datetime]) -> TrackedSignal:
    """A stored row (columns of SELECT_COLUMNS) as a domain TrackedSignal."""
    exit_time, mark_time = row["exit_time"], row["mark_time"]
    signal = Signal(
        signal_id=str(row["signal_id"]),
        symbol=row["symbol"],
        action=Action(row["action"]),
        confidence=row["confidence"],
        raw_confidence=row["raw_confidence"],
        entry_price=row["entry_price"],
        target_price=row["target_price"],
        stop_price=row["stop_price"],
        create_time=decode_time(row["create_time"]),
        expire_time=decode_time(row["expire_time"]),
        regime=Regime(row["regime"]),
        lineage=lineage_from_json(row["lineage"]),
        trace_id=row["trace_id"],
    )
    return TrackedSignal(
        signal=signal,
        record_time=decode_time(row["record_time"]),
        outcome=Outcome(row["outcome"]),
        exit_price=row["exit_price"],
        exit_time=decode_time(exit_time) if exit_time is not None else None,
        pnl_percent=row["pnl_percent"],
        mark_price=row["mark_price"],
        mark_time=decode_time(mark_time) if mark_time is not None else None,
    )


OUTCOME_STATS_COLUMNS = """
    COUNT(*) AS total,
    COALESCE(SUM(CASE WHEN outcome = 'OPEN' THEN 1 ELSE 0 END), 0) AS open,
    COALESCE(SUM(CASE WHEN outcome = 'WIN' THEN 1 ELSE 0 END), 0) AS wins,
    COALESCE(SUM(CASE WHEN outcome = 'LOSS' THEN 1 ELSE 0 END), 0) AS losses,
    COALESCE(SUM(CASE WHEN outcome = 'EXPIRED' THEN 1 ELSE 0 END), 0) AS expired,
    COALESCE(SUM(CASE WHEN outcome <> 'OPEN' THEN pnl_percent END), 0) AS total_pnl_percent,
    COUNT(CASE WHEN outcome <> 'OPEN' THEN pnl_percent END) AS pnl_samples
"""


def stats_from_row(row: Row) -> OutcomeStats:
    """A row of OUTCOME_STATS_COLUMNS as OutcomeStats."""
    return OutcomeStats(
        total=int(row["total"]),
        open=int(row["open"]),
        wins=int(row["wins"]),
        losses=int(row["losses"]),
        expired=int(row["expired"]),
        total_pnl_percent=float(row["total_pnl_percent"]),
        pnl_samples=int(row["pnl_samples"]),
    )
