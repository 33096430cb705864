"""The per-request caches of GetQuotes' warm path give what the uncached code gives, and a
caller cannot change what the next request gets."""

from __future__ import annotations

import pytest

from argo.marketdata.v1 import marketdata_pb2 as pb
from market_gateway.app.requests import distinct, distinct_cached
from market_gateway.domain import InvalidSymbol
from market_gateway.grpc_api import validation


def test_violations_are_a_new_list_per_request() -> None:
    bad = pb.GetQuotesRequest(symbols=["AAPL", "A$PL", "AıPL"], max_age_ms=-1)
    first = validation.quotes_request(bad)
    assert [path for path, _ in first] == ["symbols[1]", "symbols[2]", "max_age_ms"]
    first.clear()
    again = validation.quotes_request(pb.GetQuotesRequest(symbols=["AAPL", "A$PL", "AıPL"]))
    assert [path for path, _ in again] == ["symbols[1]", "symbols[2]"]
    assert validation.quotes_request(pb.GetQuotesRequest(symbols=["AAPL", "BTC/USD"])) == []


def test_distinct_cached_is_distinct_and_shared() -> None:
    symbols = ("aapl", "BTC/USD", "AAPL")
    found = distinct_cached(symbols)
    assert found == distinct(list(symbols))
    assert list(found) == ["AAPL", "BTC-USD"] and found["AAPL"][1] == "aapl"
    assert distinct_cached(symbols) is found


def test_distinct_cached_still_names_the_bad_symbol() -> None:
    with pytest.raises(InvalidSymbol) as caught:
        distinct_cached(("AAPL", "A$PL"))
    assert caught.value.field == "symbols[1]"
    with pytest.raises(InvalidSymbol):  # errors are not cached away
        distinct_cached(("AAPL", "A$PL"))
