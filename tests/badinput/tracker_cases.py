"""Requests of argo.tracker.v1.Tracker: valid signals, signals broken in one field (with the
path a rejection must name), and malformed queries, archive and analytics requests."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from google.protobuf.timestamp_pb2 import Timestamp
from hypothesis import strategies as st

from argo.marketdata.v1 import marketdata_pb2
from argo.signals.v1 import signals_pb2
from argo.tracker.v1 import tracker_pb2
from tests.unit.tracker.factories import T0, make_sell, make_signal
from tracker.grpc_api import mapping

from . import strategies as s

# The highest number each enum knows (read from the contract, so a new value is never
# drawn as "unknown").
ACTIONS = max(signals_pb2.Action.values())
OUTCOMES = max(tracker_pb2.Outcome.values())

SYMBOLS = ("AAPL", "TSLA", "BTC-USD")
MAX_BATCH = 1000
MAX_PAGE = 1000
MAX_DAYS = 3650
Case = tuple[Any, set[str]]
Mutation = Callable[[signals_pb2.Signal], None]


def valid_signal(seconds: int, symbol: str, sell: bool) -> signals_pb2.Signal:
    """A valid signal (ids are assigned by the test so each example's are fresh)."""
    build = make_sell if sell else make_signal
    created = T0 + timedelta(seconds=seconds)
    return mapping.signal_to_pb(build(symbol=symbol, create_time=created, signal_id=""))


valid_signals = st.builds(
    valid_signal, st.integers(0, 86_400), st.sampled_from(SYMBOLS), st.booleans()
)


def _set(name: str, value: Any) -> Mutation:
    return lambda pb: setattr(pb, name, value)


def _stamp(name: str, value: Timestamp | None) -> Mutation:
    def apply(pb: signals_pb2.Signal) -> None:
        if value is None:
            pb.ClearField(name)  # type: ignore[arg-type]
        else:
            getattr(pb, name).CopyFrom(value)

    return apply


def _lineage(index: int, name: str, value: Any) -> Mutation:
    return lambda pb: setattr(pb.lineage[index], name, value)


@st.composite
def signal_mutations(draw: st.DrawFn) -> tuple[Mutation, str]:
    """One certainly-invalid change to a valid signal, and the field path it breaks."""
    kind = draw(
        st.sampled_from(
            [
                "signal_id",
                "symbol",
                "action",
                "confidence",
                "raw_confidence",
                "entry_price",
                "target_price",
                "stop_price",
                "side",
                "create_time",
                "expire_time",
                "order",
                "regime",
                "trace_id",
                "lineage",
                "lineage_field",
            ]  # fmt: skip
        )
    )
    if kind == "signal_id":
        bad_id = draw(st.text(max_size=40).filter(lambda t: not _is_uuid(t)))
        return _set("signal_id", bad_id), "signal_id"
    if kind == "symbol":
        bad = draw(st.one_of(s.bad_symbols(("AAPL", "TSLA")), st.sampled_from(["aapl", "Tsla"])))
        return _set("symbol", bad), "symbol"
    if kind == "action":
        return _set("action", draw(s.bad_enum(ACTIONS))), "action"
    if kind in ("confidence", "raw_confidence"):
        return _set(kind, draw(s.outside(0.0, 100.0))), kind
    if kind.endswith("_price"):
        bad_price = draw(st.one_of(s.NON_FINITE, st.floats(max_value=0.0, allow_nan=False)))
        return _set(kind, bad_price), kind
    if kind == "side":  # BUY target below entry / SELL target above entry
        return (lambda pb: setattr(pb, "target_price", pb.stop_price)), "target_price"
    if kind in ("create_time", "expire_time"):
        return _stamp(kind, draw(st.one_of(st.none(), s.bad_timestamps()))), kind
    if kind == "order":
        gap = draw(st.integers(0, 10**6))
        return (lambda pb: setattr(pb.expire_time, "seconds", pb.create_time.seconds - gap)), (
            "expire_time"
        )
    if kind == "regime":
        return _set("regime", draw(st.integers(4, s.INT32[1]) | st.integers(s.INT32[0], -1))), (
            "regime"
        )
    if kind == "trace_id":
        bad_trace = draw(st.text(min_size=1, max_size=40).filter(lambda t: not _is_trace(t)))
        return _set("trace_id", bad_trace), "trace_id"
    if kind == "lineage":
        count = draw(st.integers(65, 80))
        return (lambda pb: pb.lineage.extend([pb.lineage[0]] * count)), "lineage"
    return draw(lineage_mutations())


@st.composite
def lineage_mutations(draw: st.DrawFn) -> tuple[Mutation, str]:
    index = draw(st.integers(0, 1))  # factories' signals carry two contributions
    name = draw(
        st.sampled_from(
            [
                "source",
                "provider",
                "direction",
                "confidence",
                "weight",
                "data_age_ms",
                "cache_status",
            ]  # fmt: skip
        )
    )
    value: Any
    with_control = st.tuples(st.text(max_size=10), st.sampled_from(s.CONTROL)).map("".join)
    if name == "source":
        value = draw(st.one_of(st.just(""), st.text(min_size=65, max_size=100), with_control))
    elif name == "provider":
        value = draw(st.one_of(st.text(min_size=65, max_size=100), with_control))
    elif name == "direction":
        value = draw(s.outside(-1.0, 1.0))
    elif name in ("confidence", "weight"):
        value = draw(s.outside(0.0, 1.0))
    elif name == "data_age_ms":
        value = draw(st.integers(s.INT64[0], -1))
    else:
        known = max(marketdata_pb2.CacheStatus.values())  # UNSPECIFIED (0) is allowed here
        value = draw(st.integers(known + 1, s.INT32[1]) | st.integers(s.INT32[0], -1))
    return _lineage(index, name, value), f"lineage[{index}].{name}"


def _is_uuid(text: str) -> bool:
    try:
        return str(uuid.UUID(text)) == text.lower()
    except ValueError:
        return False


def _is_trace(text: str) -> bool:
    return len(text) == 32 and all(c in "0123456789abcdef" for c in text)


Breakage = tuple[int, Mutation, str]


@st.composite
def broken_batches(draw: st.DrawFn) -> tuple[list[signals_pb2.Signal], list[Breakage]]:
    """1..6 valid signals and 1..3 breakages (index, mutation, path), one per signal; the
    test gives the signals fresh ids, then applies the mutations."""
    signals = draw(st.lists(valid_signals, min_size=1, max_size=6))
    broken = draw(st.sets(st.integers(0, len(signals) - 1), min_size=1, max_size=3))
    return signals, [(index, *draw(signal_mutations())) for index in sorted(broken)]


tracker_symbol = st.sampled_from(SYMBOLS)
bad_tracker_symbol = st.one_of(
    s.bad_symbols(("AAPL", "TSLA")), st.sampled_from(["aapl", "Btc-usd"])
)


@st.composite
def bad_query_requests(draw: st.DrawFn) -> Case:
    """QuerySignals with 1..3 of: bad symbols, enums, min_confidence, times, order, page."""
    request = tracker_pb2.QuerySignalsRequest()
    query = request.filter
    query.symbols.extend(draw(st.lists(tracker_symbol, max_size=2)))
    kinds = draw(
        st.sets(
            st.sampled_from(
                [
                    "symbols",
                    "actions",
                    "outcomes",
                    "min_confidence",
                    "start_time",
                    "end_time",
                    "order",
                    "page_size",
                    "page_token",
                ]  # fmt: skip
            ),
            min_size=1,
            max_size=3,
        )
    )
    expected: set[str] = set()
    if "symbols" in kinds:
        query.symbols.append(draw(bad_tracker_symbol))
        expected.add("filter.symbols")
    if "actions" in kinds:
        query.actions.extend([signals_pb2.ACTION_BUY, draw(s.bad_enum(ACTIONS))])  # type: ignore[list-item]  # any int: open enums
        expected.add("filter.actions")
    if "outcomes" in kinds:
        query.outcomes.append(draw(s.bad_enum(OUTCOMES)))  # type: ignore[arg-type]  # any int: open enums
        expected.add("filter.outcomes")
    if "min_confidence" in kinds:
        query.min_confidence = draw(s.outside(0.0, 100.0))
        expected.add("filter.min_confidence")
    for name in ("start_time", "end_time"):
        if name in kinds:
            getattr(query, name).CopyFrom(draw(s.bad_timestamps()))
            expected.add(f"filter.{name}")
    if "order" in kinds and not {"start_time", "end_time"} & kinds:
        start = draw(st.integers(s.MIN_SECONDS, s.MAX_SECONDS))
        query.start_time.seconds = start
        query.end_time.seconds = draw(st.integers(s.MIN_SECONDS, start))
        expected.add("filter.end_time")
    _bad_paging(draw, request, kinds, expected)
    return request, expected


def _bad_paging(draw: st.DrawFn, request: Any, kinds: set[str], expected: set[str]) -> None:
    """A page size out of range and/or a forged page token, as `kinds` asks."""
    if "page_size" in kinds:
        request.page_size = draw(
            st.integers(s.INT32[0], -1) | st.integers(MAX_PAGE + 1, s.INT32[1])
        )
        expected.add("page_size")
    if "page_token" in kinds:
        request.page_token = draw(s.bad_tokens())
        expected.add("page_token")


def bad_days_count() -> st.SearchStrategy[int]:
    return st.integers(s.INT32[0], -1) | st.integers(MAX_DAYS + 1, s.INT32[1])


@st.composite
def bad_window_requests(draw: st.DrawFn, message: Any) -> Case:
    """GetOutcomeStats / GetAnalytics: bad days and/or a bad symbol."""
    request = message(
        days=draw(st.integers(0, MAX_DAYS)), symbol=draw(tracker_symbol | st.just(""))
    )
    kinds = draw(st.sets(st.sampled_from(["days", "symbol"]), min_size=1))
    if "days" in kinds:
        request.days = draw(bad_days_count())
    if "symbol" in kinds:
        request.symbol = draw(bad_tracker_symbol.filter(lambda v: v != ""))
    return request, set(kinds)


@st.composite
def bad_list_archives_requests(draw: st.DrawFn) -> Case:
    request = tracker_pb2.ListArchivesRequest()
    kinds = draw(
        st.sets(
            st.sampled_from(["start_date", "end_date", "order", "page_size", "page_token"]),
            min_size=1,
            max_size=3,
        )
    )
    expected: set[str] = set()
    for name in ("start_date", "end_date"):
        if name in kinds:
            setattr(request, name, draw(s.bad_days()))
            expected.add(name)
    if "order" in kinds and not {"start_date", "end_date"} & kinds:
        start = draw(st.integers(2, 3_000_000))
        request.start_date = s.days(start)
        request.end_date = s.days(draw(st.integers(1, start - 1)))
        expected.add("end_date")
    _bad_paging(draw, request, kinds, expected)
    return request, expected


@st.composite
def query_requests(draw: st.DrawFn) -> tracker_pb2.QuerySignalsRequest:
    """Valid queries: any documented filter values, windows from year 1 to 9999."""
    request = tracker_pb2.QuerySignalsRequest(page_size=draw(st.integers(0, MAX_PAGE)))
    query = request.filter
    query.symbols.extend(draw(st.lists(tracker_symbol, max_size=3)))
    query.actions.extend(draw(st.lists(st.integers(1, 3), max_size=3)))  # type: ignore[arg-type]  # any int: open enums
    query.outcomes.extend(draw(st.lists(st.integers(1, 4), max_size=4)))  # type: ignore[arg-type]  # any int: open enums
    query.min_confidence = draw(st.floats(0.0, 100.0))
    start = draw(st.none() | st.integers(s.MIN_SECONDS, s.MAX_SECONDS - 1))
    if start is not None:
        query.start_time.seconds = start
    if draw(st.booleans()):
        low = s.MIN_SECONDS if start is None else start + 1
        query.end_time.seconds = draw(st.integers(low, s.MAX_SECONDS))
    return request


@st.composite
def extreme_signals(draw: st.DrawFn) -> signals_pb2.Signal:
    """Valid signals at the edges: confidence 0 or 100, tiny and huge prices, times from
    year 1 to 9999, contribution values at their bounds, the largest data age."""
    signal = draw(valid_signals)
    for name in ("confidence", "raw_confidence"):
        setattr(signal, name, draw(st.sampled_from([0.0, 100.0]) | st.floats(0.0, 100.0)))
    entry = draw(st.sampled_from([5e-324, 1e-9, 1e300]) | st.floats(1e-6, 1e12))
    low, high = entry / 2, entry * 2
    if signal.action == signals_pb2.ACTION_SELL:
        low, high = high, low
    signal.entry_price, signal.target_price, signal.stop_price = entry, high, low
    if not 0 < min(low, high) < entry < max(low, high):  # a denormal does not halve
        signal.action = signals_pb2.ACTION_HOLD
        signal.target_price = signal.stop_price = entry
    created = draw(st.integers(s.MIN_SECONDS, s.MAX_SECONDS - 1))
    signal.create_time.seconds = created
    signal.expire_time.seconds = draw(st.integers(created + 1, s.MAX_SECONDS))
    part = signal.lineage[0]
    part.direction = draw(st.sampled_from([-1.0, 1.0, 0.0]))
    part.confidence, part.weight = draw(st.sampled_from([0.0, 1.0])), 1.0
    part.data_age_ms = draw(st.sampled_from([0, s.INT64[1]]))
    part.source = draw(st.text(min_size=1, max_size=64).filter(lambda t: t.isprintable()))
    return signal
