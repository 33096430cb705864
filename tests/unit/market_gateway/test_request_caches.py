"""The per-request caches of GetQuotes' warm path give what the uncached code gives, keep
only small valid lists, and a caller cannot change what the next request gets."""

from __future__ import annotations

import pytest

from argo.marketdata.v1 import marketdata_pb2 as pb
from market_gateway.app import requests
from market_gateway.app.requests import MAX_CACHED_LIST, distinct, distinct_request
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
    assert validation.quotes_request(pb.GetQuotesRequest()) == [
        ("symbols", "at least one symbol is required")
    ]


def test_only_small_valid_lists_are_kept() -> None:
    """Lost if it failed: a client could fill the caches with what it chose to send
    (invalid lists, symbols padded to megabytes, 1,000-symbol lists)."""
    kept = validation._valid_list.cache_info().currsize
    padded = " " * 5000 + "AAPL"  # valid once stripped, but kept it would cost 5 kB
    for symbols in (
        ["A$PL"],
        [padded],
        ["AAPL"] * (MAX_CACHED_LIST + 1),
        ["NFLX", "ORCL", "IBM"],
    ):
        validation.quotes_request(pb.GetQuotesRequest(symbols=symbols))
    assert validation._valid_list.cache_info().currsize == kept + 1  # the last list only
    distinct_kept = requests._distinct_cached.cache_info().currsize
    parsed_kept = requests._parse_cached.cache_info().currsize
    assert list(distinct_request([padded])) == ["AAPL"]
    assert requests._distinct_cached.cache_info().currsize == distinct_kept
    assert requests._parse_cached.cache_info().currsize == parsed_kept


def test_distinct_request_is_distinct_and_shared() -> None:
    symbols = ["aapl", "BTC/USD", "AAPL"]
    found = distinct_request(symbols)
    assert found == distinct(symbols)
    assert list(found) == ["AAPL", "BTC-USD"] and found["AAPL"][1] == "aapl"
    assert distinct_request(tuple(symbols)) is found


def test_distinct_request_still_names_the_bad_symbol() -> None:
    with pytest.raises(InvalidSymbol) as caught:
        distinct_request(["AAPL", "A$PL"])
    assert caught.value.field == "symbols[1]"
    with pytest.raises(InvalidSymbol):  # errors are not cached away
        distinct_request(["AAPL", "A$PL"])
