"""Alpaca market data: parsing of the recorded bodies and the client over MockTransport."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx
import pytest

from market_gateway.adapters.alpaca import parsing
from market_gateway.adapters.alpaca.client import AlpacaClient, auth_headers
from market_gateway.adapters.alpaca.errors import check, ws_error
from market_gateway.adapters.common.http import RawResponse
from market_gateway.domain import (
    AuthFailed,
    ProviderUnavailable,
    RateLimited,
    Timeframe,
    parse_symbol,
)
from service_runtime.clock import FakeClock

from .conftest import NOW
from .support import Router, load, reply

KEY_ID, SECRET = "alpaca-key-id-1", "alpaca-secret-2"
META, BTC = parse_symbol("META"), parse_symbol("BTC-USD")


def client(router: Router, clock: FakeClock) -> AlpacaClient:
    http = httpx.AsyncClient(
        base_url="https://data.test",
        headers=auth_headers(KEY_ID, SECRET),
        transport=router.transport(),
    )
    return AlpacaClient(http, key_id=KEY_ID, secret_key=SECRET, clock=clock)


def test_crypto_is_spelled_with_a_slash_and_read_back_canonically() -> None:
    assert parsing.symbol_for(BTC) == "BTC/USD"
    assert parsing.canonical("BTC/USD") == "BTC-USD"
    assert parsing.symbol_for(parse_symbol("BRK.B")) == "BRK.B"


def test_daily_bars_start_at_utc_midnight_of_their_new_york_date() -> None:
    page, token = parsing.parse_bars_page(
        load("alpaca", "rest-stocks-bars-META-page1-next_page_token-gosdk.json"), Timeframe.ONE_DAY
    )
    assert token == "TUVUQXxEfDIwMjItMDYtMDlUMDQ6MDA6MDAuMDAwMDAwMDAwWg=="
    assert [b.start_time for b in page["META"]] == [
        datetime(2022, 6, 8, tzinfo=UTC),
        datetime(2022, 6, 9, tzinfo=UTC),
    ]


def test_intraday_bars_keep_their_instant() -> None:
    page, token = parsing.parse_bars_page(
        load("alpaca", "rest-stocks-bars-AMZN-15min-gosdk.json"), Timeframe.FIFTEEN_MINUTES
    )
    assert token is None
    assert page["AMZN"][0].start_time == datetime(2021, 10, 15, 16, tzinfo=UTC)
    assert page["AMZN"][0].trade_count == 5435


def test_stock_snapshot_is_a_top_level_map_and_crypto_is_wrapped() -> None:
    stocks = parsing.parse_snapshots(load("alpaca", "rest-stocks-get-snapshot-alpacapy.json"), NOW)
    aapl = stocks["AAPL"]
    assert (aapl.price, aapl.bid, aapl.ask, aapl.volume) == (161.1998, 161.19, 161.2, 31749988)
    assert aapl.time == datetime(2022, 3, 18, 14, 33, 58, 448432, tzinfo=UTC)
    crypto = parsing.parse_snapshots(
        load("alpaca", "rest-crypto-crypto-get-snapshot-alpacapy.json"), NOW
    )
    assert sorted(crypto) == ["BTC-USD", "ETH-USD"]
    assert crypto["BTC-USD"].price == 47537.64


def test_empty_answers_mean_unknown_symbols() -> None:
    assert parsing.parse_snapshots({}, NOW) == {}
    assert parsing.parse_snapshots({"AAPL": None}, NOW) == {}
    assert parsing.parse_latest_trades({"trades": {}}) == {}


def test_latest_quote_price_is_the_midpoint_and_a_future_one_is_rejected() -> None:
    body = load("alpaca", "rest-stocks-latest-quotes-multi-gosdk.json")
    body["quotes"]["GE"]["t"] = (NOW + timedelta(hours=1)).isoformat()
    batch = parsing.parse_latest_quotes(body, NOW)
    assert batch["F"].price == pytest.approx((15.01 + 15.07) / 2)
    assert "GE" not in batch and "future" in str(batch.rejected["GE"])


@pytest.mark.parametrize(
    ("status", "body", "error"),
    [
        (403, load("alpaca", "error-403-forbidden-trading-api-issue228.json"), AuthFailed),
        (422, load("alpaca", "error-422-invalid-timeframe-issue178.json"), ProviderUnavailable),
    ],
)
def test_error_bodies_are_classified_and_not_retryable(
    status: int, body: object, error: type[ProviderUnavailable]
) -> None:
    with pytest.raises(error) as caught:
        check(RawResponse(status, {}, body, ""), now=NOW, secrets=())
    assert not caught.value.retryable


def test_429_waits_for_the_documented_ratelimit_reset() -> None:
    reset = int((NOW + timedelta(seconds=30)).timestamp())
    headers = {
        "X-RateLimit-Limit": "200",
        "X-RateLimit-Remaining": "0",
        "X-RateLimit-Reset": str(reset),
    }
    raw = RawResponse(429, headers, {"message": "Rate limit exceeded"}, "")
    with pytest.raises(RateLimited) as caught:
        check(raw, now=NOW, secrets=())
    assert caught.value.retry_after == pytest.approx(30)


@pytest.mark.parametrize(
    ("code", "kind", "retryable"),
    [
        (402, AuthFailed, False),
        (409, AuthFailed, False),
        (405, ProviderUnavailable, False),
        (406, ProviderUnavailable, True),
        (407, ProviderUnavailable, True),
        (500, ProviderUnavailable, True),
    ],
)
def test_stream_error_codes(code: int, kind: type[ProviderUnavailable], retryable: bool) -> None:
    error = ws_error(code, "x")
    assert isinstance(error, kind) and error.retryable is retryable
    assert ws_error(403, "already authenticated") is None


@pytest.mark.asyncio
async def test_bars_follow_next_page_token_until_it_is_null(
    router: Router, clock: FakeClock
) -> None:
    router.add(
        "/v2/stocks/bars",
        reply(load("alpaca", "rest-stocks-bars-META-page1-next_page_token-gosdk.json")),
        reply(load("alpaca", "rest-stocks-bars-META-page2-next_page_token-gosdk.json")),
        reply(load("alpaca", "rest-stocks-get-bars-single-empty-response-alpacapy.json")),
    )
    start, end = datetime(2022, 6, 8, tzinfo=UTC), datetime(2022, 6, 20, tzinfo=UTC)
    bars = await client(router, clock).get_bars(META, Timeframe.ONE_DAY, start, end, 100)
    assert [b.start_time.day for b in bars] == [8, 9, 10, 13]
    tokens = [r.url.params.get("page_token") for r in router.requests]
    assert tokens == [
        None,
        "TUVUQXxEfDIwMjItMDYtMDlUMDQ6MDA6MDAuMDAwMDAwMDAwWg==",
        "TUVUQXxEfDIwMjItMDYtMTNUMDQ6MDA6MDAuMDAwMDAwMDAwWg==",
    ]
    first = router.requests[0]
    assert first.url.params["timeframe"] == "1Day" and first.url.params["feed"] == "iex"
    assert first.headers["APCA-API-KEY-ID"] == KEY_ID and SECRET not in str(first.url)


@pytest.mark.asyncio
async def test_multi_symbol_trades_continue_across_pages(router: Router, clock: FakeClock) -> None:
    router.add(
        "/v1beta3/crypto/us/trades",
        *(
            reply(load("alpaca", f"rest-crypto-trades-multi-page{n}-gosdk.json"))
            for n in ("1-BATUSD", "2-SUSHIUSD", "3-SUSHIUSD", "4-empty-end")
        ),
    )
    symbols = [parse_symbol("BAT/USD"), parse_symbol("SUSHI/USD")]
    start = datetime(2023, 1, 1, 20, tzinfo=UTC)
    trades = await client(router, clock).trade_history(symbols, start, start + timedelta(hours=1))
    assert (len(trades["BAT-USD"]), len(trades["SUSHI-USD"])) == (4, 8)
    assert len(router.requests) == 4
    assert router.requests[0].url.params["symbols"] == "BAT/USD,SUSHI/USD"
    assert "feed" not in router.requests[0].url.params  # crypto has no feed


@pytest.mark.asyncio
async def test_quotes_come_from_one_snapshot_call_per_asset_class(
    router: Router, clock: FakeClock
) -> None:
    router.json(
        "/v2/stocks/snapshots",
        load("alpaca", "rest-stocks-snapshots-multi-legacy-shape-gosdk.json"),
    )
    router.json(
        "/v1beta3/crypto/us/snapshots", load("alpaca", "rest-crypto-snapshots-multi-gosdk.json")
    )
    symbols = [parse_symbol(s) for s in ("AAPL", "MSFT", "ZZZZ", "BTC-USD", "LTC-USD")]
    batch = await client(router, clock).get_quotes(symbols)
    assert sorted(batch) == ["AAPL", "BTC-USD", "LTC-USD", "MSFT"]
    assert len(router.requests) == 2


@pytest.mark.asyncio
async def test_latest_trades_quotes_and_bars(router: Router, clock: FakeClock) -> None:
    router.json(
        "/v2/stocks/trades/latest", load("alpaca", "rest-stocks-latest-trades-multi-gosdk.json")
    )
    router.json(
        "/v1beta3/crypto/us/latest/quotes",
        load("alpaca", "rest-crypto-latest-quotes-multi-gosdk.json"),
    )
    router.json(
        "/v2/stocks/bars/latest", load("alpaca", "rest-stocks-latest-bars-multi-gosdk.json")
    )
    alpaca = client(router, clock)
    trades = await alpaca.latest_trades([parse_symbol("IBM"), parse_symbol("MSFT")])
    assert trades["MSFT"].price == 294.1
    quotes = await alpaca.latest_quotes([BTC, parse_symbol("LTC-USD")])
    assert quotes["LTC-USD"].bid == 105.98
    bars = await alpaca.latest_bars([parse_symbol("NIO"), parse_symbol("AAPL")])
    assert bars["NIO"].close == 35.6
