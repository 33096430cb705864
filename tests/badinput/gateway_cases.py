"""Requests of argo.marketdata.v1.MarketGateway: valid ones, and malformed ones paired with
the fields a rejection must name."""

from __future__ import annotations

from typing import Any

from google.protobuf.timestamp_pb2 import Timestamp
from hypothesis import strategies as st

from argo.marketdata.v1 import marketdata_pb2 as pb
from tests.unit.market_gateway.conftest import IN_SESSION

from . import strategies as s

KNOWN = ("AAPL", "MSFT", "BTC-USD", "ETH-USD")  # priced by the unit tests' FakeQuoteSource
NOW_SECONDS = int(IN_SESSION.timestamp())
MAX_BARS = 5000
TIMEFRAMES = max(pb.Timeframe.values())  # the highest one the contract knows
Case = tuple[Any, set[str]]

valid_symbol = s.symbol_spellings(KNOWN)
valid_symbols = st.lists(valid_symbol, min_size=1, max_size=8)


@st.composite
def quotes_requests(draw: st.DrawFn) -> pb.GetQuotesRequest:
    return pb.GetQuotesRequest(symbols=draw(valid_symbols), max_age_ms=draw(st.integers(0, 10**9)))


@st.composite
def bad_symbol_lists(draw: st.DrawFn, field: str = "symbols") -> tuple[list[str], set[str]]:
    """A list with 1..3 bad symbols at drawn places, no symbols, or too many."""
    kind = draw(st.sampled_from(["bad", "empty", "too_many"]))
    if kind == "empty":
        return [], {field}
    if kind == "too_many":
        return [draw(valid_symbol)] * draw(st.integers(1001, 1100)), {field}
    symbols = draw(valid_symbols)
    bad = draw(st.lists(s.bad_symbols(), min_size=1, max_size=3))
    for value in bad:
        symbols.insert(draw(st.integers(0, len(symbols))), value)
    return symbols, {f"{field}[{i}]" for i, v in enumerate(symbols) if v in bad}


@st.composite
def bad_quotes_requests(draw: st.DrawFn) -> Case:
    request = draw(quotes_requests())
    expected: set[str] = set()
    if draw(st.booleans()):
        request.max_age_ms = draw(st.integers(s.INT64[0], -1))
        expected.add("max_age_ms")
    if not expected or draw(st.booleans()):
        symbols, fields = draw(bad_symbol_lists())
        del request.symbols[:]
        request.symbols.extend(symbols)
        expected |= fields
    return request, expected


def _stamp(seconds: int) -> Timestamp:
    return Timestamp(seconds=seconds)


@st.composite
def bars_requests(draw: st.DrawFn) -> pb.GetBarsRequest:
    request = pb.GetBarsRequest(
        symbol=draw(valid_symbol),
        timeframe=draw(st.integers(1, TIMEFRAMES)),  # type: ignore[arg-type]  # any int: open enums
        limit=draw(st.integers(0, 300)),
    )
    if draw(st.booleans()):
        start = draw(st.integers(NOW_SECONDS - 30 * 86_400, NOW_SECONDS - 60))
        request.start_time.CopyFrom(_stamp(start))
        if draw(st.booleans()):
            request.end_time.CopyFrom(_stamp(draw(st.integers(start + 1, NOW_SECONDS))))
    return request


@st.composite
def bad_bars_requests(draw: st.DrawFn) -> Case:
    request = draw(bars_requests())
    mutations = draw(
        st.sets(
            st.sampled_from(["symbol", "timeframe", "limit", "start", "end", "order"]),
            min_size=1,
            max_size=3,
        )
    )
    expected: set[str] = set()
    if "symbol" in mutations:
        request.symbol = draw(s.bad_symbols())
        expected.add("symbol")
    if "timeframe" in mutations:
        request.timeframe = draw(s.bad_enum(TIMEFRAMES))  # type: ignore[assignment]
        expected.add("timeframe")
    if "limit" in mutations:
        request.limit = draw(
            st.one_of(st.integers(s.INT32[0], -1), st.integers(MAX_BARS + 1, s.INT32[1]))
        )
        expected.add("limit")
    if "order" in mutations and not {"start", "end"} & mutations:
        start = draw(st.integers(s.MIN_SECONDS, s.MAX_SECONDS))
        request.start_time.CopyFrom(_stamp(start))
        request.end_time.CopyFrom(_stamp(draw(st.integers(s.MIN_SECONDS, start))))
        expected.add("end_time")
    for name, key in (("start_time", "start"), ("end_time", "end")):
        if key in mutations:
            getattr(request, name).CopyFrom(draw(s.bad_timestamps()))
            expected.add(name)
    return request, expected


@st.composite
def any_bars_requests(draw: st.DrawFn) -> pb.GetBarsRequest:
    """Every field anything a client can send (valid or not)."""
    request = pb.GetBarsRequest(
        symbol=draw(st.one_of(valid_symbol, s.bad_symbols(), st.text(max_size=40))),
        timeframe=draw(st.integers(*s.INT32)),  # type: ignore[arg-type]  # any int: open enums
        limit=draw(st.one_of(st.integers(*s.INT32), st.integers(0, MAX_BARS))),
    )
    for name in ("start_time", "end_time"):
        if draw(st.booleans()):
            getattr(request, name).CopyFrom(draw(s.any_timestamps()))
    return request


@st.composite
def bad_sentiment_requests(draw: st.DrawFn) -> Case:
    return pb.GetSentimentRequest(symbol=draw(s.bad_symbols())), {"symbol"}


@st.composite
def stream_requests(draw: st.DrawFn) -> pb.StreamQuotesRequest:
    return pb.StreamQuotesRequest(symbols=draw(valid_symbols))


@st.composite
def bad_stream_requests(draw: st.DrawFn) -> Case:
    request = draw(stream_requests())
    expected: set[str] = set()
    if draw(st.booleans()):
        request.resume_token = draw(s.bad_tokens())
        expected.add("resume_token")
    if not expected or draw(st.booleans()):
        symbols, fields = draw(bad_symbol_lists())
        del request.symbols[:]
        request.symbols.extend(symbols)
        expected |= fields
    return request, expected


@st.composite
def crafted_resume_tokens(draw: st.DrawFn) -> str:
    """Tokens shaped like ours, with any stream id and any sequence values."""
    sequences = draw(
        st.dictionaries(
            st.one_of(st.sampled_from(KNOWN), st.text(max_size=10)),
            st.one_of(
                st.integers(),
                st.integers(2**63, 2**80),
                st.floats(allow_nan=False, allow_infinity=False),
                st.booleans(),
                st.none(),
            ),
            max_size=4,
        )
    )
    payload = {"stream": draw(st.one_of(st.text(max_size=20), st.integers())), "seq": sequences}
    return s.json_token(payload)
