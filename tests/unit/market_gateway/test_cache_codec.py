"""The L2 (Redis) codec: every cached value round-trips; foreign payloads are refused."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from market_gateway.adapters.cache_codec import CacheCodec
from market_gateway.domain import (
    Bar,
    CachedBars,
    CacheStatus,
    Quote,
    Sentiment,
    Timeframe,
    TokenUsage,
)

AT = datetime(2026, 11, 17, 15, 30, 1, 250_000, tzinfo=UTC)
VALUES = [
    Quote("AAPL", 230.12, 230.1, 230.14, 1_234_567.0, AT, "polygon", CacheStatus.STREAM),
    CachedBars(
        "BTC-USD",
        Timeframe.FIVE_MINUTES,
        "alpaca",
        100,
        tuple(
            Bar(AT - timedelta(minutes=5 * i), 1.0 + i, 2.0 + i, 0.5, 1.5, 10.0, 1.2, 7)
            for i in range(3)
        ),
        AT,
    ),
    Sentiment(
        symbol="ETH-USD",
        score=-0.4,
        confidence=0.8,
        rationale="funding turned negative",
        provider="perplexity",
        model="sonar",
        time=AT,
        citations=("https://example.com/a",),
        usage=TokenUsage(120, 40, 10, 5),
        cost_usd=0.0012,
    ),
]


@pytest.mark.parametrize("value", VALUES, ids=["quote", "bars", "sentiment"])
def test_cached_values_round_trip(value: object) -> None:
    codec = CacheCodec()
    assert codec.loads(codec.dumps(value)) == value


@pytest.mark.parametrize("payload", [b'{"t":"nope"}', b'{"t":"quote"}', b"[1,2]"])
def test_payloads_it_did_not_write_are_refused(payload: bytes) -> None:
    with pytest.raises(ValueError):
        CacheCodec().loads(payload)


def test_values_it_does_not_know_are_not_cached() -> None:
    with pytest.raises(TypeError):
        CacheCodec().dumps({"a": 1})
