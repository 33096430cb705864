"""Request validation at the edge: what protobuf allows but the domain cannot represent.

Unknown or UNSPECIFIED enum values, missing or out-of-range timestamps, batch sizes and date
strings are checked here; business rules live in `tracker.domain` and are added to the same
list for RecordSignals, so a caller sees every problem of a batch in one answer.
"""

from __future__ import annotations

import re
from datetime import date

from google.protobuf.timestamp_pb2 import Timestamp

from argo.signals.v1 import signals_pb2
from argo.tracker.v1 import tracker_pb2
from tracker.domain import (
    MAX_BATCH_SIZE,
    ItemResult,
    RecordStatus,
    Signal,
    Violation,
    symbol_violation,
)
from tracker.domain.validation import UUID_RE
from tracker.grpc_api.mapping import (
    ACTION_FROM_PB,
    CACHE_STATUS_FROM_PB,
    OUTCOME_FROM_PB,
    REGIME_FROM_PB,
    signal_from_pb,
)

# Timestamp's documented range: 0001-01-01T00:00:00Z .. 9999-12-31T23:59:59.999999999Z.
_MIN_SECONDS = -62_135_596_800
_MAX_SECONDS = 253_402_300_799
_ACTIONS = "ACTION_BUY, ACTION_SELL or ACTION_HOLD"
_DAY_RE = re.compile(r"\d{4}-\d{2}-\d{2}")
# PostgreSQL text and jsonb cannot hold NUL (asyncpg raises UntranslatableCharacterError);
# no source or provider name needs a control character.
_CONTROL_RE = re.compile(r"[\x00-\x1f\x7f]")
MAX_PROVIDER_CHARS = 64


def timestamp_violation(ts: Timestamp) -> str | None:
    if not _MIN_SECONDS <= ts.seconds <= _MAX_SECONDS or not 0 <= ts.nanos <= 999_999_999:
        return "must be a valid timestamp between years 1 and 9999"
    return None


def record_request_violations(request: tracker_pb2.RecordSignalsRequest) -> list[Violation]:
    """Whole-request problems only; each signal is answered on its own (`record_item`)."""
    count = len(request.signals)
    if not 1 <= count <= MAX_BATCH_SIZE:
        return [("signals", f"must hold 1..{MAX_BATCH_SIZE} signals, got {count}")]
    return []


def record_item(pb: signals_pb2.Signal) -> Signal | ItemResult:
    """The domain signal, or a REJECTED result when the message cannot be one (unknown
    enum values, missing or out-of-range timestamps). Business rules are the app's."""
    structural = _signal_structure_violations(pb)
    if not structural:
        return signal_from_pb(pb)
    lowered = pb.signal_id.lower()
    return ItemResult(
        signal_id=lowered if UUID_RE.fullmatch(lowered) else pb.signal_id,
        status=RecordStatus.REJECTED,
        violations=tuple(structural),
    )


def _signal_structure_violations(pb: signals_pb2.Signal) -> list[Violation]:
    """Violations with paths relative to the signal ("action", "lineage[1].cache_status")."""
    found: list[Violation] = []
    if pb.action not in ACTION_FROM_PB:
        found.append(("action", f"must be {_ACTIONS}"))
    if pb.regime not in REGIME_FROM_PB:
        found.append(("regime", f"unknown value {pb.regime}"))
    for name in ("create_time", "expire_time"):
        if not pb.HasField(name):
            found.append((name, "is required"))
        elif (problem := timestamp_violation(getattr(pb, name))) is not None:
            found.append((name, problem))
    for j, part in enumerate(pb.lineage):
        if part.cache_status not in CACHE_STATUS_FROM_PB:
            found.append((f"lineage[{j}].cache_status", f"unknown value {part.cache_status}"))
        for name in ("source", "provider"):
            if _CONTROL_RE.search(getattr(part, name)):
                found.append((f"lineage[{j}].{name}", "must not contain control characters"))
        if len(part.provider) > MAX_PROVIDER_CHARS:
            found.append(
                (f"lineage[{j}].provider", f"must be at most {MAX_PROVIDER_CHARS} characters")
            )
    return found


def query_request_violations(request: tracker_pb2.QuerySignalsRequest) -> list[Violation]:
    """Structure only; the filter's rules and page_size are checked by the app."""
    query = request.filter
    found: list[Violation] = []
    for k, action in enumerate(query.actions):
        if action not in ACTION_FROM_PB:
            found.append((f"filter.actions[{k}]", f"must be {_ACTIONS}"))
    for k, outcome in enumerate(query.outcomes):
        if outcome not in OUTCOME_FROM_PB:
            found.append(
                (f"filter.outcomes[{k}]", "must be a known outcome other than UNSPECIFIED")
            )
    for name in ("start_time", "end_time"):
        if query.HasField(name) and (problem := timestamp_violation(getattr(query, name))):
            found.append((f"filter.{name}", problem))
    return found


def calibration_request_violations(
    request: tracker_pb2.GetCalibrationRequest,
) -> list[Violation]:
    if request.symbol and (problem := symbol_violation(request.symbol)) is not None:
        return [("symbol", problem)]
    return []


def parse_day(value: str) -> date | None:
    """A "YYYY-MM-DD" day, or None when malformed."""
    if not _DAY_RE.fullmatch(value):
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        return None


_DAY_PROBLEM = "must be a UTC day as YYYY-MM-DD, e.g. 2026-11-20"


def archive_request_violations(request: tracker_pb2.RunArchiveRequest) -> list[Violation]:
    day = parse_day(request.date)
    if day is None:
        return [("date", _DAY_PROBLEM)]
    if day == date.max:  # its end would be after year 9999: never over
        return [("date", f"{day} is not over yet (UTC)")]
    return []


def list_archives_violations(request: tracker_pb2.ListArchivesRequest) -> list[Violation]:
    """Structure only; page size and date order are checked by the app."""
    return [
        (name, _DAY_PROBLEM + " or empty")
        for name in ("start_date", "end_date")
        if getattr(request, name) and parse_day(getattr(request, name)) is None
    ]
