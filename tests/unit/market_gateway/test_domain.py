"""Symbol normalisation and quote validation (pure domain)."""

from __future__ import annotations

import math
import re
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from market_gateway.domain import (
    AssetClass,
    BadProviderData,
    InvalidSymbol,
    Quote,
    parse_symbol,
    validate_quote,
)

STOCK, CRYPTO = AssetClass.STOCK, AssetClass.CRYPTO
CANONICAL = re.compile(r"[A-Z]{1,5}(\.[A-Z])?|[A-Z0-9]{2,10}-(USD|USDT|USDC|EUR)")


@pytest.mark.parametrize(
    ("raw", "canonical", "asset_class"),
    [
        ("AAPL", "AAPL", STOCK),
        ("aapl", "AAPL", STOCK),
        ("  msft\t", "MSFT", STOCK),
        ("F", "F", STOCK),
        ("brk.b", "BRK.B", STOCK),
        ("BRK-B", "BRK.B", STOCK),
        ("BTC-USD", "BTC-USD", CRYPTO),
        ("btc-usd", "BTC-USD", CRYPTO),
        ("BTC/USD", "BTC-USD", CRYPTO),
        ("X:BTCUSD", "BTC-USD", CRYPTO),
        ("x:btc-usd", "BTC-USD", CRYPTO),
        ("BTCUSD", "BTC-USD", CRYPTO),
        ("ethusdt", "ETH-USDT", CRYPTO),
        ("SOLUSDC", "SOL-USDC", CRYPTO),
        ("ETHEUR", "ETH-EUR", CRYPTO),
        ("btc/eur", "BTC-EUR", CRYPTO),
        ("1INCHUSD", "1INCH-USD", CRYPTO),
        ("DOGE-USDT", "DOGE-USDT", CRYPTO),
    ],
)
def test_accepted_spellings_normalise_to_canonical(
    raw: str, canonical: str, asset_class: AssetClass
) -> None:
    symbol = parse_symbol(raw)
    assert (symbol.canonical, symbol.asset_class) == (canonical, asset_class)
    assert str(symbol) == canonical


@pytest.mark.parametrize(
    "raw",
    [
        "",
        "   ",
        "AAPL$",
        "TOOLONG",  # seven letters and no known quote currency
        "BTC-XYZ",
        "BTC--USD",
        "USD-USD",
        "X:AAPL",
        "X:",
        "BRK/B",
        "12345",
        "ÄPPL",
        "A" * 33,
        "BTC-USD-X",
        "-USD",
    ],
)
def test_garbage_is_rejected_with_invalid_symbol(raw: str) -> None:
    with pytest.raises(InvalidSymbol) as caught:
        parse_symbol(raw)
    assert caught.value.symbol == raw and caught.value.reason


def test_four_letter_ticker_ending_in_usd_stays_a_stock() -> None:
    assert parse_symbol("BUSD") == parse_symbol("busd")
    assert parse_symbol("BUSD").asset_class is STOCK


@given(st.text(max_size=40))
def test_any_text_parses_to_a_canonical_symbol_or_raises_invalid_symbol(raw: str) -> None:
    try:
        symbol = parse_symbol(raw)
    except InvalidSymbol as e:
        assert e.symbol == raw
        return
    assert CANONICAL.fullmatch(symbol.canonical)
    assert parse_symbol(symbol.canonical) == symbol  # canonical text is a fixed point


@given(
    st.sampled_from(["BTC", "ETH", "SOL", "1INCH"]),
    st.sampled_from(["USD", "USDT", "USDC", "EUR"]),
    st.sampled_from(["{b}-{q}", "{b}/{q}", "X:{b}{q}", "{b}{q}", "x:{b}-{q}"]),
)
def test_every_crypto_spelling_gives_the_same_pair(base: str, quote: str, form: str) -> None:
    spelled = form.format(b=base, q=quote)
    assert parse_symbol(spelled.lower()).canonical == f"{base}-{quote}"


NOW = datetime(2026, 11, 17, 15, 30, tzinfo=UTC)
SKEW = timedelta(seconds=2)


def quote(**changes: object) -> Quote:
    fields: dict[str, object] = dict(
        symbol="AAPL", price=230.0, bid=229.99, ask=230.01, volume=10.0, time=NOW,
        provider="fake",
    )  # fmt: skip
    fields.update(changes)
    return Quote(**fields)  # type: ignore[arg-type]


def test_a_sound_quote_passes_including_small_clock_skew() -> None:
    ok = quote(time=NOW + timedelta(seconds=1))
    assert validate_quote(ok, NOW, max_skew=SKEW) is ok


@pytest.mark.parametrize(
    ("changes", "mentions"),
    [
        ({"price": math.nan}, "price"),
        ({"price": math.inf}, "price"),
        ({"price": 0.0}, "price"),
        ({"price": -1.0}, "price"),
        ({"bid": -0.5}, "bid"),
        ({"ask": math.nan}, "ask"),
        ({"volume": -1.0}, "volume"),
        ({"time": NOW + timedelta(seconds=30)}, "future"),
        ({"time": datetime(2026, 11, 17, 15, 30)}, "UTC offset"),
    ],
)
def test_bad_provider_data_is_rejected(changes: dict[str, object], mentions: str) -> None:
    with pytest.raises(BadProviderData, match=mentions):
        validate_quote(quote(**changes), NOW, max_skew=SKEW)
