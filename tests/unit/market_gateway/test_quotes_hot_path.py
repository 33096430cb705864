"""GetQuotes' hot path: the encoder's bytes are exactly the serialized message-per-quote
mapping, and the per-request counters still count every quote."""

from __future__ import annotations

import math
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from prometheus_client import REGISTRY

from argo.marketdata.v1 import marketdata_pb2 as pb
from market_gateway.app import MarketGatewayApp
from market_gateway.domain import CacheStatus, ErrorReason, Quote, SymbolError
from market_gateway.grpc_api import mapping, quote_encoding
from market_gateway.grpc_api.quote_encoding import QuotesEncoder

NOW = datetime(2026, 11, 17, 15, 30, 1, 123456, tzinfo=UTC)


def test_the_templated_response_equals_one_message_per_quote() -> None:
    times = [
        datetime(2026, 11, 17, 15, 30, 1, 123456, tzinfo=UTC),
        datetime(1969, 12, 31, 23, 59, 59, 999999, tzinfo=UTC),  # before the epoch
    ]
    quotes = [
        Quote("AAPL", 230.5, 230.4, 230.6, 1e6, times[0], "polygon", CacheStatus.STREAM, 12),
        Quote("BTC-USD", 9e4, 8.99e4, 9.01e4, 12.5, times[1], "alpaca", CacheStatus.MISS, 0),
    ]
    errors = [SymbolError("NOPE", ErrorReason.UNKNOWN_SYMBOL, "unknown", 0)]
    encoder = QuotesEncoder()
    for _ in range(2):  # the first call makes the templates, the second uses them
        built = encoder.response(quotes, errors)
        assert built == expected_response(quotes, errors)
    parsed = pb.GetQuotesResponse.FromString(built)
    assert parsed.quotes[0].time.ToDatetime(tzinfo=UTC) == times[0]
    assert parsed.quotes[1].time.ToDatetime(tzinfo=UTC) == times[1]
    assert len(encoder) == 2


def test_a_tick_served_again_carries_its_new_status_and_age_not_the_template_s() -> None:
    tick = Quote("AAPL", 230.5, 230.4, 230.6, 1e6, NOW, "polygon", CacheStatus.STREAM, 12)
    encoder = QuotesEncoder()
    encoder.response([tick], [])
    again = replace(tick, cache_status=CacheStatus.HIT_SHARED, age_ms=0)
    built = encoder.response([again], [])
    assert built == expected_response([again], [])
    parsed = pb.GetQuotesResponse.FromString(built).quotes[0]
    assert (parsed.cache_status, parsed.age_ms) == (
        pb.CACHE_STATUS_HIT_SHARED,
        0,
    )


def test_a_tick_that_differs_in_any_field_is_not_served_from_another_s_template() -> None:
    tick = Quote("AAPL", 230.5, 230.4, 230.6, 1e6, NOW, "polygon", CacheStatus.STREAM, 12)
    variants = [
        replace(tick, symbol="MSFT"),
        replace(tick, price=230.55),
        replace(tick, bid=230.45),
        replace(tick, ask=230.65),
        replace(tick, volume=2e6),
        replace(tick, time=NOW + timedelta(microseconds=1)),
        replace(tick, provider="alpaca"),
    ]
    encoder = QuotesEncoder()
    for variant in variants:
        encoder.response([tick], [])
        assert encoder.response([variant], []) == expected_response([variant], [])
    assert len(encoder) == 2  # a symbol's new tick replaces its last one


def test_zero_and_negative_zero_are_never_served_for_each_other() -> None:
    """Lost if it failed: 0.0 == -0.0, so a template made for one matched the other, and
    the response carried the other's encoding."""
    tick = Quote("BTC-USD", 9e4, 0.0, 9.01e4, 0.0, NOW, "alpaca", CacheStatus.STREAM, 3)
    negative = replace(tick, bid=-0.0, volume=-0.0)
    encoder = QuotesEncoder()
    for first, second in ((tick, negative), (negative, tick)):
        encoder.response([first], [])
        built = encoder.response([second], [])
        assert built == expected_response([second], [])
        parsed = pb.GetQuotesResponse.FromString(built).quotes[0]
        assert math.copysign(1.0, parsed.bid) == math.copysign(1.0, second.bid)


def test_a_tick_with_zeros_is_served_from_its_template(monkeypatch: pytest.MonkeyPatch) -> None:
    """Crypto ticks carry no volume: they too are encoded once, not on every request."""
    built: list[Quote] = []

    def counting(quote: Quote) -> pb.Quote:
        built.append(quote)
        return mapping.quote_to_pb(quote)

    monkeypatch.setattr(quote_encoding, "quote_to_pb", counting)
    tick = Quote("BTC-USD", 9e4, 8.99e4, 9.01e4, 0.0, NOW, "polygon", CacheStatus.STREAM, 3)
    encoder = QuotesEncoder()
    for age in (3, 40, 90):
        served_again = replace(tick, age_ms=age)
        assert encoder.response([served_again], []) == expected_response([served_again], [])
    assert len(built) == 1
    encoder.response([replace(tick, volume=-0.0)], [])
    assert len(built) == 2  # the other zero is another tick


def test_a_served_copy_is_encoded_once_and_any_other_copy_again(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The fragment is reused only for the very copy it was made for."""
    encodes: list[Quote] = []
    encode = QuotesEncoder._encode

    def counting(self: QuotesEncoder, encoded: object, quote: Quote) -> object:
        encodes.append(quote)
        return encode(self, encoded, quote)  # type: ignore[arg-type]

    monkeypatch.setattr(QuotesEncoder, "_encode", counting)
    tick = Quote("AAPL", 230.5, 230.4, 230.6, 1e6, NOW, "polygon", CacheStatus.STREAM, 3)
    encoder = QuotesEncoder()
    first = encoder.response([tick], [])
    assert encoder.response([tick], []) == first == expected_response([tick], [])
    assert encodes == [tick]
    for age in (3, 500, 20_000, 0, 3):  # one-, two- and three-byte varints, the default
        copy = replace(tick, age_ms=age)
        assert encoder.response([copy], []) == expected_response([copy], [])
    assert len(encodes) == 6  # an equal copy is another object: encoded again


def test_a_quote_longer_than_127_bytes_gets_a_multi_byte_length() -> None:
    tick = Quote("AAPL", 230.5, 230.4, 230.6, 1e6, NOW, "p" * 200, CacheStatus.STREAM, 3)
    others = [replace(tick, symbol="MSFT", provider="polygon")]
    built = QuotesEncoder().response([tick, *others], [])
    assert built == expected_response([tick, *others], [])


@pytest.mark.parametrize("value", [1, 127, 128, 300, 16_383, 16_384, 2**31, 2**63 - 1])
def test_varints_are_encoded_as_protobuf_encodes_them(value: int) -> None:
    encoded = pb.Quote(age_ms=value).SerializeToString()  # age_ms = 9: a one-byte tag
    assert quote_encoding._varint(value) == encoded[1:]
    assert quote_encoding._varint(0) == b"\x00"  # (protobuf writes no field for 0)


def test_the_encoder_forgets_every_symbol_when_full_and_stays_correct() -> None:
    ticks = [
        Quote(symbol, 200.0, 199.0, 201.0, 1e6, NOW, "polygon", CacheStatus.STREAM, 1)
        for symbol in ("AAPL", "MSFT", "NVDA", "TSLA", "AAPL", "AMD", "META")
    ]
    encoder = QuotesEncoder(max_symbols=3)
    sizes = []
    for tick in ticks:
        assert encoder.response([tick], []) == expected_response([tick], [])
        sizes.append(len(encoder))
    # AAPL, MSFT, NVDA; TSLA clears; AAPL; AMD; META clears
    assert sizes == [1, 2, 3, 1, 2, 3, 1]
    with pytest.raises(ValueError, match="max_symbols"):
        QuotesEncoder(max_symbols=0)


def expected_response(quotes: list[Quote], errors: list[SymbolError]) -> bytes:
    """What protobuf makes of one `quote_to_pb` per quote: the encoder must match it byte
    for byte (fields in number order, quotes before errors)."""
    return pb.GetQuotesResponse(
        quotes=[mapping.quote_to_pb(q) for q in quotes],
        errors=[mapping.symbol_error_to_pb(e) for e in errors],
    ).SerializeToString()


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
