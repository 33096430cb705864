"""GetQuotes' hot path: the in-place response equals the message-per-quote mapping, and the
per-request counters still count every quote."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from prometheus_client import REGISTRY

from argo.marketdata.v1 import marketdata_pb2 as pb
from market_gateway.app import MarketGatewayApp
from market_gateway.domain import CacheStatus, ErrorReason, Quote, SymbolError
from market_gateway.grpc_api import mapping


def test_the_in_place_response_equals_one_message_per_quote() -> None:
    times = [
        datetime(2026, 11, 17, 15, 30, 1, 123456, tzinfo=UTC),
        datetime(1969, 12, 31, 23, 59, 59, 999999, tzinfo=UTC),  # before the epoch
    ]
    quotes = [
        Quote("AAPL", 230.5, 230.4, 230.6, 1e6, times[0], "polygon", CacheStatus.STREAM, 12),
        Quote("BTC-USD", 9e4, 8.99e4, 9.01e4, 0.0, times[1], "alpaca", CacheStatus.MISS, 0),
    ]
    errors = [SymbolError("NOPE", ErrorReason.UNKNOWN_SYMBOL, "unknown", 0)]
    expected = pb.GetQuotesResponse(
        quotes=[mapping.quote_to_pb(q) for q in quotes],
        errors=[mapping.symbol_error_to_pb(e) for e in errors],
    )
    built = mapping.quotes_response_to_pb(quotes, errors)
    assert built == expected
    assert built.quotes[0].time.ToDatetime(tzinfo=UTC) == times[0]
    assert built.quotes[1].time.ToDatetime(tzinfo=UTC) == times[1]


def served(status: str) -> float:
    name = "argo_market_gateway_quotes_served_total"
    return REGISTRY.get_sample_value(name, {"cache_status": status}) or 0.0


def hits() -> float:
    return REGISTRY.get_sample_value("argo_cache_hits_total", {"cache": "quotes"}) or 0.0


@pytest.mark.asyncio
async def test_counters_count_every_quote_of_a_request(app: MarketGatewayApp) -> None:
    symbols = ["AAPL", "MSFT", "BTC-USD"]
    miss, local, hit = served("miss"), served("hit_local"), hits()
    await app.get_quotes(symbols)
    assert served("miss") == miss + 3
    await app.get_quotes(symbols)
    assert served("hit_local") == local + 3 and hits() == hit + 3
    assert (app.quotes.hits, app.quotes.misses) == (3, 3)
