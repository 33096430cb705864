"""SQL and row conversions both adapters share for calibrations, archive manifests,
calibration samples and the analytics views. Values always travel as bound parameters."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import date, datetime
from typing import Any

from tracker.adapters.sql_common import Params, Row
from tracker.domain import (
    CONFIDENCE_BUCKET_WIDTH,
    Action,
    ArchiveManifest,
    Calibration,
    CalibrationMethod,
    CalibrationPoint,
    Compression,
    ConfidenceBucket,
    DailySummary,
    OutcomeSample,
    SymbolPerformance,
)

CALIBRATION_COLUMNS = (
    "symbol, method, points, sample_size, held_out_size, brier_before, brier_after, "
    "ece_before, ece_after, fit_time"
)
MANIFEST_COLUMNS = (
    "day, rows, bytes, sha256, location, compression, csv_location, csv_bytes, archive_time, pruned"
)
SAMPLE_SQL = (
    "SELECT symbol, raw_confidence, outcome, create_time FROM signals "
    "WHERE outcome IN ('WIN', 'LOSS') AND create_time >= {since}"
)


def points_to_json(points: tuple[CalibrationPoint, ...]) -> str:
    return json.dumps([[p.raw_confidence, p.probability] for p in points], separators=(",", ":"))


def calibration_values(c: Calibration, encode_time: Callable[[datetime], Any]) -> tuple[Any, ...]:
    return (
        c.symbol,
        c.method.value,
        points_to_json(c.points),
        c.sample_size,
        c.held_out_size,
        c.brier_before,
        c.brier_after,
        c.ece_before,
        c.ece_after,
        encode_time(c.fit_time),
    )


def calibration_from_row(row: Row, decode_time: Callable[[Any], datetime]) -> Calibration:
    return Calibration(
        symbol=row["symbol"],
        method=CalibrationMethod(row["method"]),
        points=tuple(CalibrationPoint(float(x), float(y)) for x, y in json.loads(row["points"])),
        sample_size=int(row["sample_size"]),
        held_out_size=int(row["held_out_size"]),
        brier_before=float(row["brier_before"]),
        brier_after=float(row["brier_after"]),
        ece_before=float(row["ece_before"]),
        ece_after=float(row["ece_after"]),
        fit_time=decode_time(row["fit_time"]),
    )


def sample_from_row(row: Row, decode_time: Callable[[Any], datetime]) -> OutcomeSample:
    return OutcomeSample(
        symbol=row["symbol"],
        raw_confidence=float(row["raw_confidence"]),
        won=row["outcome"] == "WIN",
        create_time=decode_time(row["create_time"]),
    )


def manifest_values(
    m: ArchiveManifest,
    encode_day: Callable[[date], Any],
    encode_time: Callable[[datetime], Any],
) -> tuple[Any, ...]:
    return (
        encode_day(m.day),
        m.rows,
        m.bytes,
        m.sha256,
        m.location,
        m.compression.value,
        m.csv_location,
        m.csv_bytes,
        encode_time(m.archive_time),
        m.pruned,
    )


def manifest_from_row(
    row: Row, decode_day: Callable[[Any], date], decode_time: Callable[[Any], datetime]
) -> ArchiveManifest:
    return ArchiveManifest(
        day=decode_day(row["day"]),
        rows=int(row["rows"]),
        bytes=int(row["bytes"]),
        sha256=row["sha256"],
        location=row["location"],
        compression=Compression(row["compression"]),
        csv_location=row["csv_location"],
        csv_bytes=int(row["csv_bytes"]),
        archive_time=decode_time(row["archive_time"]),
        pruned=bool(row["pruned"]),
    )


def manifests_sql(first: Any, last: Any, limit: int, pruned_only: bool, params: Params) -> str:
    """SELECT of manifests, newest day first; day bounds arrive encoded for the dialect."""
    terms: list[str] = []
    if first is not None:
        terms.append(f"day >= {params.add(first)}")
    if last is not None:
        terms.append(f"day <= {params.add(last)}")
    if pruned_only:
        terms.append(f"pruned = {params.add(True)}")
    where = f"WHERE {' AND '.join(terms)}" if terms else ""
    limit_placeholder = params.add(limit)
    return (
        f"SELECT {MANIFEST_COLUMNS} FROM archives {where} "
        f"ORDER BY day DESC LIMIT {limit_placeholder}"
    )


def analytics_sql(
    since: Any, symbol: str | None, *, numbered: bool
) -> tuple[tuple[str, list[Any]], ...]:
    """(SQL, values) of the daily, symbols and confidence SELECTs over the analytics views."""
    daily_params = Params(numbered=numbered)
    daily_terms = [f"day >= {daily_params.add(since)}"]
    if symbol is not None:
        daily_terms.append(f"symbol = {daily_params.add(symbol)}")
    daily = (
        "SELECT day, symbol, action, signals, avg_confidence, open, wins, losses, expired "
        f"FROM daily_signal_summary WHERE {' AND '.join(daily_terms)} "
        "ORDER BY day DESC, symbol, action"
    )
    symbol_params = Params(numbered=numbered)
    symbol_filter = f"WHERE symbol = {symbol_params.add(symbol)}" if symbol is not None else ""
    symbols = (
        "SELECT symbol, signals, open, wins, losses, expired, total_pnl_percent, pnl_samples, "
        f"last_signal_time FROM symbol_performance {symbol_filter} ORDER BY symbol"
    )
    confidence = (
        "SELECT symbol, bucket, signals, avg_confidence, wins, losses, total_pnl_percent, "
        f"pnl_samples FROM confidence_stats {symbol_filter} ORDER BY symbol, bucket"
    )
    return (
        (daily, daily_params.values),
        (symbols, symbol_params.values),
        (confidence, symbol_params.values),
    )


def daily_from_row(row: Row, decode_day: Callable[[Any], date]) -> DailySummary:
    return DailySummary(
        day=decode_day(row["day"]),
        symbol=row["symbol"],
        action=Action(row["action"]),
        signals=int(row["signals"]),
        avg_confidence=float(row["avg_confidence"]),
        open=int(row["open"]),
        wins=int(row["wins"]),
        losses=int(row["losses"]),
        expired=int(row["expired"]),
    )


def performance_from_row(row: Row, decode_time: Callable[[Any], datetime]) -> SymbolPerformance:
    last = row["last_signal_time"]
    return SymbolPerformance(
        symbol=row["symbol"],
        signals=int(row["signals"]),
        open=int(row["open"]),
        wins=int(row["wins"]),
        losses=int(row["losses"]),
        expired=int(row["expired"]),
        total_pnl_percent=float(row["total_pnl_percent"]),
        pnl_samples=int(row["pnl_samples"]),
        last_signal_time=decode_time(last) if last is not None else None,
    )


def bucket_from_row(row: Row) -> ConfidenceBucket:
    low = int(row["bucket"]) * CONFIDENCE_BUCKET_WIDTH
    return ConfidenceBucket(
        symbol=row["symbol"],
        low=low,
        high=low + CONFIDENCE_BUCKET_WIDTH,
        signals=int(row["signals"]),
        avg_confidence=float(row["avg_confidence"]),
        wins=int(row["wins"]),
        losses=int(row["losses"]),
        total_pnl_percent=float(row["total_pnl_percent"]),
        pnl_samples=int(row["pnl_samples"]),
    )
