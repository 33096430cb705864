"""bench.quote_encoding compares like with like: every case builds the same response."""

from __future__ import annotations

import pytest

from argo.marketdata.v1 import marketdata_pb2 as pb
from bench.quote_encoding import measure, seed_quotes
from market_gateway.grpc_api.mapping import quote_to_pb
from market_gateway.grpc_api.quote_encoding import QuotesEncoder


def test_the_encoder_s_response_is_the_message_per_quote_response() -> None:
    quotes = seed_quotes()
    assert (
        QuotesEncoder().response(quotes, [])
        == pb.GetQuotesResponse(quotes=[quote_to_pb(q) for q in quotes]).SerializeToString()
    )


def test_every_case_is_measured_per_response_and_per_quote() -> None:
    rows = measure(calls=20, rounds=1)
    assert [row["case"] for row in rows] == [
        "message per quote",
        "encoder, same served quotes",
        "encoder, new age",
        "encoder, every tick new",
    ]
    for row in rows:
        assert row["calls"] == 20
        assert row["us_per_quote"] * len(seed_quotes()) == pytest.approx(row["us_per_response"])
