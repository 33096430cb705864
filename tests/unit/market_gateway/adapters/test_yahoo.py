"""Yahoo chart v8: parsing of the recorded exchanges and the client over MockTransport."""

from __future__ import annotations

import copy
from datetime import UTC, datetime

import httpx
import pytest

from market_gateway.adapters.common.http import RawResponse
from market_gateway.adapters.yahoo import parsing
from market_gateway.adapters.yahoo.client import YahooClient
from market_gateway.adapters.yahoo.errors import check
from market_gateway.domain import (
    BadProviderData,
    ProviderUnavailable,
    RateLimited,
    Timeframe,
    UnknownSymbol,
    parse_symbol,
)
from service_runtime.clock import FakeClock

from .conftest import NOW
from .support import Router, load

AAPL_WINDOW = "recorded-chart-AAPL-2020-08-31-to-2020-11-07.json"


def client(router: Router, clock: FakeClock) -> YahooClient:
    http = httpx.AsyncClient(base_url="https://yahoo.test", transport=router.transport())
    return YahooClient(http, clock=clock)


def result_of(name: str) -> dict:
    return load("yahoo", name)["chart"]["result"][0]


def test_share_classes_are_spelled_with_a_dash() -> None:
    assert parsing.yahoo_symbol(parse_symbol("BRK.B")) == "BRK-B"
    assert parsing.yahoo_symbol(parse_symbol("X:BTCUSD")) == "BTC-USD"


def test_quote_comes_from_meta() -> None:
    quote = parsing.parse_quote(result_of("recorded-chart-AAPL.json"), "AAPL", NOW)
    assert (quote.price, quote.volume, quote.bid) == (220.003, 5800260, 0.0)
    assert quote.time == datetime(2025, 3, 24, 13, 51, 33, tzinfo=UTC)


def test_daily_bars_become_utc_midnight_of_the_exchange_date() -> None:
    bars = parsing.parse_bars(
        result_of("recorded-chart-AAPL-2020-01-01-to-2020-01-03.json"), Timeframe.ONE_DAY
    )
    assert [b.start_time for b in bars] == [datetime(2020, 1, 2, tzinfo=UTC)]
    assert bars[0].close == pytest.approx(75.0875015)
    berlin = parsing.parse_bars(
        result_of("recorded-chart-WSU.DE-2023-08-04-to-2023-08-09.json"), Timeframe.ONE_DAY
    )
    assert [b.start_time.day for b in berlin] == [4, 7, 8]


def test_null_points_are_skipped_not_zeroed() -> None:
    result = copy.deepcopy(result_of(AAPL_WINDOW))
    full = parsing.parse_bars(result, Timeframe.ONE_DAY)
    result["indicators"]["quote"][0]["close"][3] = None
    result["indicators"]["quote"][0]["volume"][5] = None
    gappy = parsing.parse_bars(result, Timeframe.ONE_DAY)
    assert len(gappy) == len(full) - 1
    assert full[3].start_time not in {b.start_time for b in gappy}
    assert gappy[4].volume == 0.0 and gappy[4].close == full[5].close


def test_an_empty_window_has_no_bars() -> None:
    name = "recorded-chart-AAPL-2025-02-01-to-2025-02-02-includePrePost-false-interval-1m.json"
    assert parsing.parse_bars(result_of(name), Timeframe.ONE_MINUTE) == []


def test_ragged_series_are_bad_data() -> None:
    result = copy.deepcopy(result_of(AAPL_WINDOW))
    result["indicators"]["quote"][0]["open"].pop()
    with pytest.raises(BadProviderData, match="length"):
        parsing.parse_bars(result, Timeframe.ONE_DAY)


@pytest.mark.parametrize("status", [200, 404])
def test_not_found_is_unknown_symbol(status: int) -> None:
    body = load("yahoo", "body-chart-error-not-found-unknown-symbol.json")
    with pytest.raises(UnknownSymbol):
        check(RawResponse(status, {}, body, ""), now=NOW, symbol="ZZZZ")


def test_429_text_body_is_rate_limited() -> None:
    raw = RawResponse(429, {"Retry-After": "5"}, None, "Too Many Requests")
    with pytest.raises(RateLimited) as caught:
        check(raw, now=NOW, symbol="AAPL")
    assert caught.value.retry_after == 5


def test_other_chart_errors_are_not_retryable() -> None:
    body = {"chart": {"result": None, "error": {"code": "Bad Request", "description": "x"}}}
    with pytest.raises(ProviderUnavailable) as caught:
        check(RawResponse(400, {}, body, ""), now=NOW, symbol="AAPL")
    assert not caught.value.retryable


@pytest.mark.asyncio
async def test_quotes_one_chart_per_symbol_unknown_left_out(
    router: Router, clock: FakeClock
) -> None:
    router.json("/v8/finance/chart/AAPL", load("yahoo", "recorded-chart-AAPL.json"))
    router.json(
        "/v8/finance/chart/BTC-USD",
        load("yahoo", "recorded-chart-BTC-USD-2020-01-01-to-2020-01-03.json"),
    )
    router.json(
        "/v8/finance/chart/ZZZZ",
        load("yahoo", "body-chart-error-not-found-unknown-symbol.json"),
        status=404,
    )
    symbols = [parse_symbol(s) for s in ("AAPL", "BTC-USD", "ZZZZ")]
    batch = await client(router, clock).get_quotes(symbols)
    assert sorted(batch) == ["AAPL", "BTC-USD"] and not batch.rejected
    assert batch["BTC-USD"].price == 97208.17


@pytest.mark.asyncio
async def test_bars_request_a_window_and_keep_the_latest(router: Router, clock: FakeClock) -> None:
    router.json("/v8/finance/chart/AAPL", load("yahoo", AAPL_WINDOW))
    end = datetime(2020, 11, 7, tzinfo=UTC)
    bars = await client(router, clock).get_bars(
        parse_symbol("AAPL"), Timeframe.ONE_DAY, None, end, 5
    )
    assert len(bars) == 5 and bars[-1].start_time == datetime(2020, 11, 6, tzinfo=UTC)
    params = router.requests[0].url.params
    assert (params["interval"], params["period2"]) == ("1d", str(int(end.timestamp())))
