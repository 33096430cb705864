"""Polygon / Massive REST: parsing of the recorded bodies and the client over MockTransport."""

from __future__ import annotations

import copy
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from market_gateway.adapters.common.http import RawResponse
from market_gateway.adapters.polygon import parsing, parsing_extras
from market_gateway.adapters.polygon.client import PolygonClient, auth_headers
from market_gateway.adapters.polygon.errors import check
from market_gateway.domain import (
    AuthFailed,
    BadProviderData,
    ProviderUnavailable,
    RateLimited,
    Timeframe,
    UnknownSymbol,
    parse_symbol,
)
from service_runtime.clock import FakeClock

from .conftest import NOW
from .support import Router, failing, load, reply

KEY = "pg-secret-key-123"
AAPL, BTC = parse_symbol("AAPL"), parse_symbol("BTC-USD")


def client(router: Router, clock: FakeClock) -> PolygonClient:
    http = httpx.AsyncClient(
        base_url="https://api.test", headers=auth_headers(KEY), transport=router.transport()
    )
    return PolygonClient(http, api_key=KEY, clock=clock)


def test_tickers_are_spelled_for_polygon_and_read_back_canonically() -> None:
    assert parsing.ticker_for(BTC) == "X:BTCUSD"
    assert parsing.ticker_for(parse_symbol("brk-b")) == "BRK.B"
    assert parse_symbol("X:BTCUSD") == BTC


def test_daily_aggregates_start_at_utc_midnight_of_their_new_york_date() -> None:
    body = load("polygon", "rest-aggs-AAPL-range-1-day-2005-04-01-2005-04-04.json")
    bars, next_url = parsing.parse_aggregates(body, Timeframe.ONE_DAY)
    assert next_url is None
    assert [b.start_time for b in bars] == [
        datetime(2005, 4, 1, tzinfo=UTC),
        datetime(2005, 4, 4, tzinfo=UTC),
    ]
    assert (bars[0].open, bars[0].close, bars[0].trade_count) == (1.5032, 1.4604, 82132)


def test_intraday_aggregates_keep_their_epoch_ms_instant() -> None:
    body = load("polygon", "spec-rest-aggs-crypto-range.json")
    bars, _ = parsing.parse_aggregates(body, Timeframe.ONE_HOUR)
    assert bars[0].start_time == datetime(2020, 6, 1, 4, tzinfo=UTC)


def test_snapshot_uses_last_trade_nbbo_and_day_volume() -> None:
    body = load("polygon", "rest-snapshot-stocks-ticker-AAPL.json")
    quote = parsing.parse_snapshot_ticker(body, "AAPL", NOW)
    assert (quote.price, quote.bid, quote.ask, quote.volume) == (159.99, 159.98, 159.99, 68840127)
    assert quote.time == datetime(2022, 4, 29, 17, 5, 48, 294080, tzinfo=UTC)  # ns truncated


def test_crypto_snapshot_has_ms_trade_times_and_no_nbbo() -> None:
    body = load("polygon", "spec-rest-snapshot-crypto-ticker.json")
    quote = parsing.parse_snapshot_ticker(body, "BTC-USD", NOW)
    assert (quote.price, quote.bid, quote.ask) == (16242.31, 0.0, 0.0)
    assert quote.time == datetime(2020, 11, 13, 19, 3, 50, 780000, tzinfo=UTC)


def test_snapshot_quote_from_the_future_or_without_price_is_rejected_per_symbol() -> None:
    body = copy.deepcopy(load("polygon", "rest-snapshot-stocks-tickers.json"))
    row = body["tickers"][0]
    future = copy.deepcopy(row)
    future["ticker"] = "MSFT"
    future["lastTrade"]["t"] = int((NOW + timedelta(minutes=5)).timestamp() * 1e9)
    no_price = copy.deepcopy(row)
    no_price["ticker"] = "TSLA"
    for part in ("lastTrade", "min", "day", "prevDay"):
        no_price[part]["p" if part == "lastTrade" else "c"] = 0
    body["tickers"] += [future, no_price]
    wanted = {row["ticker"]: row["ticker"], "MSFT": "MSFT", "TSLA": "TSLA"}
    batch = parsing.parse_snapshot_tickers(body, wanted, NOW)
    assert list(batch) == [row["ticker"]]
    assert "future" in str(batch.rejected["MSFT"])
    assert "price" in str(batch.rejected["TSLA"])
    assert isinstance(batch.rejected["MSFT"], BadProviderData)


def test_last_trade_nbbo_and_crypto_last() -> None:
    trade = parsing.parse_last_trade(load("polygon", "rest-last-trade-AAPL.json"), "AAPL")
    assert (trade.price, trade.size) == (166.25, 2)
    nbbo = parsing.parse_last_nbbo(load("polygon", "rest-last-nbbo-AAPL.json"), "AAPL", NOW)
    assert (nbbo.bid, nbbo.ask, nbbo.price) == (155.65, 155.66, pytest.approx(155.655))
    crypto = parsing.parse_last_crypto(
        load("polygon", "rest-v1-last-crypto-BTC-USD.json"), "BTC-USD"
    )
    assert crypto.price == 39976.89682331
    assert crypto.time == datetime(2022, 4, 28, 21, 13, 29, 688000, tzinfo=UTC)


def test_indicators_come_back_oldest_first_with_macd_lines() -> None:
    macd = parsing_extras.parse_indicator(
        load("polygon", "rest-indicator-macd-SPY.json"), "SPY", "macd"
    )
    times = [p.time for p in macd.points]
    assert times == sorted(times)
    assert macd.points[-1].signal == pytest.approx(49.504484615884834)
    rsi = parsing_extras.parse_indicator(
        load("polygon", "rest-indicator-rsi-AAPL.json"), "AAPL", "rsi"
    )
    assert rsi.points[-1].histogram is None and rsi.points[-1].value == pytest.approx(172.4656875)


def test_upcoming_holidays_include_the_early_close_hours() -> None:
    holidays = parsing_extras.parse_upcoming_holidays(
        load("polygon", "rest-marketstatus-upcoming.json")
    )
    early = [h for h in holidays if h.status == "early-close"]
    assert early and early[0].close == datetime(2022, 11, 25, 18, tzinfo=UTC)


@pytest.mark.parametrize(
    ("name", "status", "error"),
    [
        ("error-403-not-authorized-not-entitled-maybe152.json", 403, AuthFailed),
        ("error-403-not-authorized-plan-timeframe-issue313.json", 403, AuthFailed),
        ("error-api-key-not-provided-issue219.json", 401, AuthFailed),
    ],
)
def test_error_bodies_are_classified(name: str, status: int, error: type[Exception]) -> None:
    raw = RawResponse(status, {}, load("polygon", name), "")
    with pytest.raises(error) as caught:
        check(raw, now=NOW, secrets=(KEY,))
    assert caught.value.retryable is False  # type: ignore[attr-defined]


def test_429_with_retry_after_is_rate_limited_for_that_long() -> None:
    body = {"status": "ERROR", "error": "You've exceeded the maximum requests per minute"}
    raw = RawResponse(429, {"retry-after": "12"}, body, "")
    with pytest.raises(RateLimited) as caught:
        check(raw, now=NOW, secrets=())
    assert caught.value.retry_after == 12 and caught.value.is_retryable


def test_a_key_echoed_in_an_error_is_masked() -> None:
    raw = RawResponse(401, {}, {"status": "ERROR", "error": f"Unknown API Key {KEY}"}, "")
    with pytest.raises(AuthFailed) as caught:
        check(raw, now=NOW, secrets=(KEY,))
    assert KEY not in str(caught.value)


@pytest.mark.asyncio
async def test_quotes_are_batched_one_snapshot_call_per_asset_class(
    router: Router, clock: FakeClock
) -> None:
    stocks = load("polygon", "rest-snapshot-stocks-tickers.json")
    crypto = load("polygon", "spec-rest-snapshot-crypto-tickers.json")
    router.json("/v2/snapshot/locale/us/markets/stocks/tickers", stocks)
    router.json("/v2/snapshot/locale/global/markets/crypto/tickers", crypto)
    symbols = [parse_symbol(s) for s in ("BCAT", "AAPL", "FSN-USD")]
    batch = await client(router, clock).get_quotes(symbols)
    assert sorted(batch) == ["BCAT", "FSN-USD"]  # AAPL not in the answer: unknown
    assert batch["FSN-USD"].price == 0.293
    by_path = {r.url.path: r for r in router.requests}
    assert len(router.requests) == 2
    assert (
        by_path["/v2/snapshot/locale/us/markets/stocks/tickers"].url.params["tickers"]
        == "BCAT,AAPL"
    )
    assert (
        by_path["/v2/snapshot/locale/global/markets/crypto/tickers"].url.params["tickers"]
        == "X:FSNUSD"
    )
    assert all(r.headers["authorization"] == f"Bearer {KEY}" for r in router.requests)
    assert all("apiKey" not in str(r.url) for r in router.requests)


@pytest.mark.asyncio
async def test_bars_follow_next_url_on_the_configured_host(
    router: Router, clock: FakeClock
) -> None:
    first = load("polygon", "spec-rest-aggs-stocks-range-with-next_url.json")
    second = copy.deepcopy(first)
    del second["next_url"]
    for i, bar in enumerate(second["results"]):
        bar["t"] = 1578286800000 + i * 86_400_000  # 2020-01-06, 2020-01-07 (00:00 New York)
    router.add("/v2/aggs/ticker/AAPL/range/1/day/1577750400000/1578614400000", reply(first))
    router.add("/v2/aggs/ticker/AAPL/range/1/day/1578114000000/2020-01-10", reply(second))
    start, end = datetime(2020, 1, 1, tzinfo=UTC), datetime(2020, 1, 10, tzinfo=UTC)
    bars = await client(router, clock).get_bars(AAPL, Timeframe.ONE_DAY, start, end, 10)
    assert [b.start_time.day for b in bars] == [2, 3, 6, 7]
    assert router.requests[1].url.host == "api.test"
    assert router.requests[1].url.params["cursor"] == "bGltaXQ9MiZzb3J0PWFzYw"


@pytest.mark.asyncio
async def test_latest_bars_ask_newest_first_and_drop_the_bar_in_progress(clock: FakeClock) -> None:
    now_ms = int(NOW.timestamp() * 1000)
    rows = [
        {"t": now_ms - k * 60_000, "o": 1, "h": 2, "l": 0.5, "c": 1.5, "v": 10} for k in range(4)
    ]
    seen: list[httpx.Request] = []

    def respond(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json={"status": "OK", "results": rows})

    http = httpx.AsyncClient(base_url="https://api.test", transport=httpx.MockTransport(respond))
    bars = await PolygonClient(http, api_key=KEY, clock=clock).get_bars(
        AAPL, Timeframe.ONE_MINUTE, None, NOW, 2
    )
    assert [b.start_time for b in bars] == [NOW - timedelta(minutes=2), NOW - timedelta(minutes=1)]
    assert seen[0].url.params["sort"] == "desc"


@pytest.mark.asyncio
async def test_quote_history_pages_through_the_recorded_cursor(
    router: Router, clock: FakeClock
) -> None:
    router.json("/v3/quotes/AAPL", load("polygon", "rest-v3-quotes-AAPL-page1.json"))
    router.add("/v3/quotes/AAPL", reply(load("polygon", "rest-v3-quotes-AAPL-page2-cursor.json")))
    start = datetime(2022, 5, 10, tzinfo=UTC)
    quotes = await client(router, clock).quote_history(AAPL, start, start + timedelta(days=1))
    assert len(quotes) == 20 and len(router.requests) == 2
    assert [q.time for q in quotes] == sorted(q.time for q in quotes)
    assert "cursor" in router.requests[1].url.params


@pytest.mark.asyncio
async def test_unknown_ticker_404_is_unknown_symbol(router: Router, clock: FakeClock) -> None:
    router.json(
        "/v2/last/trade/ZZZZ", {"status": "NOT_FOUND", "message": "Data not found."}, status=404
    )
    with pytest.raises(UnknownSymbol):
        await client(router, clock).last_trade(parse_symbol("ZZZZ"))


@pytest.mark.asyncio
async def test_transport_failures_are_retryable_and_do_not_show_the_url(
    router: Router, clock: FakeClock
) -> None:
    router.add("/v2/aggs/ticker/AAPL/prev", failing(httpx.ConnectError))
    with pytest.raises(ProviderUnavailable) as caught:
        await client(router, clock).previous_close(AAPL)
    assert caught.value.retryable and "api.test" not in str(caught.value)
    router.routes["/v2/aggs/ticker/AAPL/prev"] = [reply("<html>bad gateway</html>", status=200)]
    with pytest.raises(BadProviderData) as bad:
        await client(router, clock).previous_close(AAPL)
    assert bad.value.retryable
