"""Request validation: every problem as (field path, description), e.g. ("symbols[2]", ...)."""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache

from google.protobuf.timestamp_pb2 import Timestamp

from argo.marketdata.v1 import marketdata_pb2 as pb
from market_gateway.app import MAX_BARS, MAX_SYMBOLS
from market_gateway.app.requests import cacheable
from market_gateway.app.requests import parse_symbol_cached as parse_symbol
from market_gateway.domain import InvalidResumeToken, InvalidSymbol
from market_gateway.grpc_api.mapping import TIMEFRAME_FROM_PB
from market_gateway.streaming import decode_resume_token
from service_runtime.grpc_errors import FieldViolation

MAX_REPORTED_SYMBOLS = 10  # keeps the error trailer small when many symbols are bad
# Sequences are uint64 on the wire and the next event adds one: a token carrying more
# (never issued) would overflow the mapping of that event.
MAX_SEQUENCE = 2**63 - 1


def quotes_request(request: pb.GetQuotesRequest) -> list[FieldViolation]:
    symbols = request.symbols
    known = symbols and cacheable(symbols) and _known_valid(tuple(symbols))
    violations = [] if known else _symbols(symbols)
    if request.max_age_ms < 0:
        violations.append(("max_age_ms", f"must be >= 0, got {request.max_age_ms}"))
    return violations


def bars_request(request: pb.GetBarsRequest) -> list[FieldViolation]:
    violations = _symbol("symbol", request.symbol)
    if request.timeframe == pb.TIMEFRAME_UNSPECIFIED:
        violations.append(("timeframe", "is required"))
    elif request.timeframe not in TIMEFRAME_FROM_PB:
        violations.append(("timeframe", f"unknown value {request.timeframe}"))
    if not 0 <= request.limit <= MAX_BARS:
        violations.append(("limit", f"must be 0..{MAX_BARS}, got {request.limit}"))
    bounds: list[tuple[str, Timestamp]] = []
    if request.HasField("start_time"):
        bounds.append(("start_time", request.start_time))
    if request.HasField("end_time"):
        bounds.append(("end_time", request.end_time))
    bad_times = [(name, problem) for name, stamp in bounds if (problem := _timestamp(stamp))]
    violations.extend(bad_times)
    if not bad_times and len(bounds) == 2:
        start, end = request.start_time.ToDatetime(), request.end_time.ToDatetime()
        if start >= end:
            violations.append(("end_time", "must be after start_time"))
    return violations


def sentiment_request(request: pb.GetSentimentRequest) -> list[FieldViolation]:
    return _symbol("symbol", request.symbol)


def stream_request(request: pb.StreamQuotesRequest) -> list[FieldViolation]:
    violations = _symbols(request.symbols)
    if request.resume_token:
        try:
            point = decode_resume_token(request.resume_token)
        except InvalidResumeToken as e:
            violations.append(("resume_token", e.reason))
        else:
            if any(sequence > MAX_SEQUENCE for sequence in point.sequences.values()):
                violations.append(("resume_token", "has a sequence out of range"))
    return violations


def _known_valid(symbols: tuple[str, ...]) -> bool:
    """Whether every symbol of the list is valid, remembered for valid lists only: callers
    send the same lists again and again (GetQuotes' warm path showed the per-symbol
    checks), and a client's invalid lists are never kept."""
    try:
        return _valid_list(symbols)
    except _InvalidList:
        return False


class _InvalidList(Exception):
    pass


@lru_cache(maxsize=256)
def _valid_list(symbols: tuple[str, ...]) -> bool:
    if _symbols(symbols):
        raise _InvalidList  # lru_cache keeps no exceptions
    return True


def _symbols(symbols: Sequence[str]) -> list[FieldViolation]:
    if not symbols:
        return [("symbols", "at least one symbol is required")]
    if len(symbols) > MAX_SYMBOLS:
        return [("symbols", f"at most {MAX_SYMBOLS} symbols, got {len(symbols)}")]
    violations: list[FieldViolation] = []
    for index, symbol in enumerate(symbols):
        if (problem := _symbol_problem(symbol)) is not None:  # the path only when needed
            violations.append((f"symbols[{index}]", problem))
            if len(violations) >= MAX_REPORTED_SYMBOLS:
                break
    return violations


def _symbol(path: str, symbol: str) -> list[FieldViolation]:
    problem = _symbol_problem(symbol)
    return [] if problem is None else [(path, problem)]


def _symbol_problem(symbol: str) -> str | None:
    if not symbol.isascii():  # "AıAPL".upper() would be the valid "AIAPL"
        return "must be ASCII, e.g. AAPL or BTC-USD"
    try:
        parse_symbol(symbol)
    except InvalidSymbol as e:
        return e.reason
    return None


def _timestamp(stamp: Timestamp) -> str | None:
    try:
        stamp.ToDatetime()
    except (ValueError, OverflowError):
        return "is not a valid timestamp"
    return None
