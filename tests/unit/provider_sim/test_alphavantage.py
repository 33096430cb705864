"""Alpha Vantage bodies have the recorded keys and types (numbers as strings)."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from service_runtime.clock import FakeClock
from tests.unit.provider_sim.shapes import recorded, shape_errors
from tools.provider_sim import ProviderSimulator

CASES = [
    ({"function": "GLOBAL_QUOTE", "symbol": "AAPL"}, "global-quote-IBM.json", ""),
    ({"function": "TIME_SERIES_INTRADAY", "symbol": "AAPL", "interval": "5min"},
     "time-series-intraday-5min-IBM.json", "$.Time Series (5min)"),
    ({"function": "TIME_SERIES_DAILY", "symbol": "AAPL"}, "time-series-daily-IBM.json",
     "$.Time Series (Daily)"),
    ({"function": "RSI", "symbol": "AAPL", "interval": "5min", "time_period": "10",
      "series_type": "open"}, "indicator-rsi-weekly.json", "$.Technical Analysis: RSI"),
    ({"function": "MACD", "symbol": "AAPL", "interval": "daily", "series_type": "close"},
     "indicator-macd-monthly-GOOGL.json", "$.Technical Analysis: MACD"),
    ({"function": "CRYPTO_INTRADAY", "symbol": "ETH", "market": "USD", "interval": "5min"},
     "crypto-intraday-5min-ETH-USD.json", "$.Time Series Crypto (5min)"),
    ({"function": "DIGITAL_CURRENCY_DAILY", "symbol": "BTC", "market": "EUR"},
     "crypto-digital-currency-daily-BTC-EUR.json", "$.Time Series (Digital Currency Daily)"),
    ({"function": "CURRENCY_EXCHANGE_RATE", "from_currency": "BTC", "to_currency": "USD"},
     "currency-exchange-rate-BTC-CNY.json", ""),
]  # fmt: skip


async def query(client: httpx.AsyncClient, sim: ProviderSimulator, **params: str) -> httpx.Response:
    """One call a second, within the free key's burst limit."""
    assert isinstance(sim.clock, FakeClock)
    sim.clock.advance(1.0)
    params.setdefault("apikey", sim.api_key("alphavantage"))
    return await client.get(sim.base_url("alphavantage") + "/query", params=params)


@pytest.mark.asyncio
@pytest.mark.parametrize(("params", "fixture", "keyed"), CASES)
async def test_bodies_have_the_recorded_shape(
    sim: ProviderSimulator,
    client: httpx.AsyncClient,
    params: dict[str, Any],
    fixture: str,
    keyed: str,
) -> None:
    response = await query(client, sim, **params)
    assert response.status_code == 200
    body = response.json()
    assert shape_errors(body, recorded(f"alphavantage/{fixture}"), keyed=frozenset({keyed})) == []


@pytest.mark.asyncio
async def test_series_are_newest_first_in_new_york_time(
    sim: ProviderSimulator, client: httpx.AsyncClient
) -> None:
    body = (
        await query(client, sim, function="TIME_SERIES_INTRADAY", symbol="AAPL", interval="5min")
    ).json()
    stamps = list(body["Time Series (5min)"])
    assert stamps[0] == "2026-11-17 10:25:00" == body["Meta Data"]["3. Last Refreshed"]  # 10:30:01
    assert stamps == sorted(stamps, reverse=True) and len(stamps) == 100


@pytest.mark.asyncio
async def test_unknown_symbols_and_functions_get_the_http_200_error_bodies(
    sim: ProviderSimulator, client: httpx.AsyncClient
) -> None:
    daily = await query(client, sim, function="TIME_SERIES_DAILY", symbol="ZZZZ")
    quote = await query(client, sim, function="GLOBAL_QUOTE", symbol="ZZZZ")
    unknown = await query(client, sim, function="NO_SUCH_THING")
    assert daily.status_code == quote.status_code == unknown.status_code == 200
    assert list(daily.json()) == ["Error Message"]
    assert "for TIME_SERIES_DAILY" in daily.json()["Error Message"]
    assert quote.json() == {"Global Quote": {}}
    assert list(unknown.json()) == ["Error Message"]
