"""Alpha Vantage: parsing of the recorded bodies, its HTTP-200 throttle bodies, the client."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx
import pytest

from market_gateway.adapters.alphavantage import parsing
from market_gateway.adapters.alphavantage.client import AlphaVantageClient
from market_gateway.adapters.alphavantage.errors import check
from market_gateway.adapters.common.http import RawResponse
from market_gateway.domain import (
    AuthFailed,
    RateLimited,
    Timeframe,
    UnknownSymbol,
    parse_symbol,
)
from service_runtime.clock import FakeClock

from .conftest import NOW
from .support import Router, load, reply

KEY = "AVKEY0123456789"
IBM, BTC = parse_symbol("IBM"), parse_symbol("BTC-USD")


def client(router: Router, clock: FakeClock) -> AlphaVantageClient:
    http = httpx.AsyncClient(base_url="https://av.test", transport=router.transport())
    return AlphaVantageClient(http, api_key=KEY, clock=clock)


def raw(body: object, status: int = 200) -> RawResponse:
    return RawResponse(status, {}, body, "")


def test_note_is_a_per_minute_rate_limit() -> None:
    body = load("alphavantage", "note-rate-limit-5-per-minute-500-per-day-finance-quote-pr104.json")
    with pytest.raises(RateLimited) as caught:
        check(raw(body), now=NOW, secrets=())
    assert caught.value.retry_after == 60


def test_information_about_the_daily_limit_pauses_until_the_next_day() -> None:
    body = load("alphavantage", "information-free-key-limit-25-per-day-beanprice-issue124.json")
    with pytest.raises(RateLimited) as caught:
        check(raw(body), now=NOW, secrets=())
    next_midnight = datetime(2026, 11, 18, tzinfo=UTC)
    assert caught.value.retry_after == pytest.approx((next_midnight - NOW).total_seconds())


def test_information_that_is_not_about_limits_is_an_auth_failure() -> None:
    body = {"Information": f"The apikey {KEY} is invalid or missing."}
    with pytest.raises(AuthFailed) as caught:
        check(raw(body), now=NOW, secrets=(KEY,))
    assert KEY not in str(caught.value)


def test_error_message_means_unknown_symbol_for_a_symbol_request() -> None:
    body = load("alphavantage", "error-message-invalid-api-call-FX_DAILY-issue289.json")
    with pytest.raises(UnknownSymbol):
        check(raw(body), now=NOW, secrets=(), symbol="ZZZZ")


def test_premium_sample_data_is_never_data() -> None:
    body = load("alphavantage", "realtime-bulk-quotes-premium-sample.json")
    with pytest.raises(AuthFailed, match="premium"):
        check(raw(body), now=NOW, secrets=())


def test_global_quote_time_is_the_close_of_its_trading_day() -> None:
    quote = parsing.parse_global_quote(load("alphavantage", "global-quote-IBM.json"), "IBM", NOW)
    assert quote is not None
    assert (quote.price, quote.volume) == (121.74, 2528814)
    assert quote.time == datetime(2020, 5, 8, 20, tzinfo=UTC)  # 16:00 EDT
    assert parsing.parse_global_quote({"Global Quote": {}}, "ZZZZ", NOW) is None


def test_global_quote_for_today_is_stamped_now_not_at_the_future_close() -> None:
    body = load("alphavantage", "global-quote-IBM.json")
    body["Global Quote"]["07. latest trading day"] = NOW.date().isoformat()
    quote = parsing.parse_global_quote(body, "IBM", NOW)
    assert quote is not None and quote.time == NOW


def test_crypto_exchange_rate_has_bid_and_ask() -> None:
    body = load("alphavantage", "currency-exchange-rate-BTC-CNY.json")
    quote = parsing.parse_exchange_rate(body, "BTC-CNY", NOW)
    assert (quote.price, quote.bid, quote.ask) == (62423.68125, 62423.68125, 62423.751885)
    assert quote.time == datetime(2020, 5, 3, 20, 32, 20, tzinfo=UTC)


def test_intraday_series_in_us_eastern_become_utc_oldest_first() -> None:
    body = load("alphavantage", "time-series-intraday-5min-IBM.json")
    bars = parsing.parse_time_series(body, Timeframe.FIVE_MINUTES)
    assert [b.start_time for b in bars] == [
        datetime(2020, 5, 8, 18, 0, tzinfo=UTC),
        datetime(2020, 5, 8, 18, 5, tzinfo=UTC),
    ]
    assert bars[-1].close == 121.74


def test_crypto_series_are_utc_and_have_numeric_volume() -> None:
    body = load("alphavantage", "crypto-intraday-5min-ETH-USD.json")
    bars = parsing.parse_time_series(body, Timeframe.FIVE_MINUTES)
    assert bars[-1].start_time == datetime(2025, 8, 24, 15, 40, tzinfo=UTC)
    assert bars[-1].volume == 636
    daily = parsing.parse_time_series(
        load("alphavantage", "crypto-digital-currency-daily-BTC-EUR.json"), Timeframe.ONE_DAY
    )
    assert daily[-1].start_time == datetime(2025, 8, 24, tzinfo=UTC)


def test_adjusted_daily_series_reads_close_not_adjusted_close() -> None:
    bars = parsing.parse_time_series(
        load("alphavantage", "time-series-daily-adjusted.json"), Timeframe.ONE_DAY
    )
    assert bars[-1].close == 121.805 and bars[-1].volume == 2542577


def test_rsi_and_macd() -> None:
    rsi = parsing.parse_indicator(load("alphavantage", "indicator-rsi-weekly.json"), "X", "RSI")
    assert [p.value for p in rsi.points] == [0.9118, 0.912]
    macd = parsing.parse_indicator(
        load("alphavantage", "indicator-macd-monthly-GOOGL.json"), "GOOGL", "MACD"
    )
    assert (macd.points[-1].value, macd.points[-1].signal, macd.points[-1].histogram) == (
        76.7618,
        75.7378,
        1.0241,
    )


@pytest.mark.asyncio
async def test_quotes_call_once_per_symbol_and_leave_unknown_ones_out(
    router: Router, clock: FakeClock
) -> None:
    answers = {
        "IBM": load("alphavantage", "global-quote-IBM.json"),
        "ZZZZ": {"Global Quote": {}},
    }

    def respond(request: httpx.Request) -> httpx.Response:
        params = request.url.params
        if params["function"] == "CURRENCY_EXCHANGE_RATE":
            body = load("alphavantage", "currency-exchange-rate-BTC-CNY.json")
            return httpx.Response(200, json=body)
        return httpx.Response(200, json=answers[params["symbol"]])

    router.add("/query", respond)
    batch = await client(router, clock).get_quotes([IBM, parse_symbol("ZZZZ"), BTC])
    assert sorted(batch) == ["BTC-USD", "IBM"]
    assert len(router.requests) == 3
    assert all(r.url.params["apikey"] == KEY for r in router.requests)


@pytest.mark.asyncio
async def test_a_note_fails_the_batch_as_rate_limited(router: Router, clock: FakeClock) -> None:
    router.add(
        "/query",
        reply(
            load(
                "alphavantage", "note-rate-limit-5-per-minute-500-per-day-finance-quote-pr104.json"
            )
        ),
    )
    with pytest.raises(RateLimited) as caught:
        await client(router, clock).get_quotes([IBM])
    assert KEY not in str(caught.value)


@pytest.mark.asyncio
async def test_bars_choose_function_interval_and_output_size(
    router: Router, clock: FakeClock
) -> None:
    router.add("/query", reply(load("alphavantage", "time-series-daily-IBM.json")))
    end = datetime(2020, 5, 9, tzinfo=UTC)
    bars = await client(router, clock).get_bars(IBM, Timeframe.ONE_DAY, None, end, 1)
    assert [b.start_time for b in bars] == [datetime(2020, 5, 8, tzinfo=UTC)]
    params = router.requests[0].url.params
    assert (params["function"], params["outputsize"]) == ("TIME_SERIES_DAILY", "compact")
    router.routes["/query"] = [reply(load("alphavantage", "crypto-intraday-5min-ETH-USD.json"))]
    eth = parse_symbol("ETH-USD")
    start = datetime(2025, 8, 24, 15, 35, tzinfo=UTC)
    bars = await client(router, clock).get_bars(
        eth, Timeframe.FIVE_MINUTES, start, start + timedelta(minutes=9), 100
    )
    assert [b.start_time for b in bars] == [start]  # 15:40 has not ended by 15:44
    params = router.requests[1].url.params
    assert (params["function"], params["symbol"], params["market"], params["interval"]) == (
        "CRYPTO_INTRADAY",
        "ETH",
        "USD",
        "5min",
    )


@pytest.mark.asyncio
async def test_rsi_request(router: Router, clock: FakeClock) -> None:
    router.add("/query", reply(load("alphavantage", "indicator-rsi-weekly.json")))
    series = await client(router, clock).rsi(IBM, Timeframe.ONE_DAY, period=10)
    assert series.name == "rsi" and len(series.points) == 2
    params = router.requests[0].url.params
    assert (params["function"], params["time_period"], params["interval"]) == ("RSI", "10", "daily")
