"""Alpaca REST bodies have the recorded keys and types; page tokens walk every bar once."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.unit.provider_sim.shapes import recorded, shape_errors
from tools.provider_sim import ProviderSimulator

CRYPTO = "/v1beta3/crypto/us"
START = "start=2026-11-02T00:00:00Z"
CASES = [
    (f"/v2/stocks/bars?symbols=AAPL,MSFT&timeframe=1Day&{START}",
     "alpaca/rest-stocks-multi-bars-AAPL-NIO-gosdk.json", "$.bars"),
    (f"/v2/stocks/bars?symbols=AAPL&timeframe=1Day&{START}&limit=2",
     "alpaca/rest-stocks-bars-META-page1-next_page_token-gosdk.json", "$.bars"),
    ("/v2/stocks/bars/latest?symbols=AAPL,MSFT",
     "alpaca/rest-stocks-latest-bars-multi-gosdk.json", "$.bars"),
    ("/v2/stocks/trades/latest?symbols=AAPL,MSFT",
     "alpaca/rest-stocks-latest-trades-multi-gosdk.json", "$.trades"),
    ("/v2/stocks/quotes/latest?symbols=AAPL,MSFT",
     "alpaca/rest-stocks-latest-quotes-multi-gosdk.json", "$.quotes"),
    ("/v2/stocks/snapshots?symbols=AAPL,MSFT",
     "alpaca/rest-stocks-get-snapshot-alpacapy.json", "$"),
    (f"{CRYPTO}/bars?symbols=BTC/USD,ETH/USD&timeframe=1Hour&start=2026-11-17T00:00:00Z",
     "alpaca/rest-crypto-multi-bars-gosdk.json", "$.bars"),
    (f"{CRYPTO}/latest/trades?symbols=BTC/USD,ETH/USD",
     "alpaca/rest-crypto-latest-trades-multi-gosdk.json", "$.trades"),
    (f"{CRYPTO}/latest/quotes?symbols=BTC/USD,ETH/USD",
     "alpaca/rest-crypto-latest-quotes-multi-gosdk.json", "$.quotes"),
    (f"{CRYPTO}/latest/bars?symbols=BTC/USD", "alpaca/rest-crypto-latest-bars-multi-gosdk.json",
     "$.bars"),
    (f"{CRYPTO}/snapshots?symbols=BTC/USD,ETH/USD", "alpaca/rest-crypto-snapshots-multi-gosdk.json",
     "$.snapshots"),
]  # fmt: skip


async def get(client: httpx.AsyncClient, sim: ProviderSimulator, path: str) -> httpx.Response:
    config = sim.config.provider("alpaca")
    headers = {"APCA-API-KEY-ID": config.api_key, "APCA-API-SECRET-KEY": config.secret_key}
    return await client.get(sim.base_url("alpaca") + path, headers=headers)


@pytest.mark.asyncio
@pytest.mark.parametrize(("path", "fixture", "keyed"), CASES)
async def test_rest_bodies_have_the_recorded_shape(
    sim: ProviderSimulator, client: httpx.AsyncClient, path: str, fixture: str, keyed: str
) -> None:
    response = await get(client, sim, path)
    assert response.status_code == 200, response.text
    # a keyed map (by symbol) must not be empty: shape_errors reports that too
    assert shape_errors(response.json(), recorded(fixture), keyed=frozenset({keyed})) == []


@pytest.mark.asyncio
async def test_daily_bars_are_stamped_at_midnight_new_york_and_chicago(
    sim: ProviderSimulator, client: httpx.AsyncClient
) -> None:
    stocks = (await get(client, sim, f"/v2/stocks/bars?symbols=AAPL&timeframe=1Day&{START}")).json()
    crypto = await get(client, sim, f"{CRYPTO}/bars?symbols=BTC/USD&timeframe=1Day&{START}")
    assert stocks["bars"]["AAPL"][0]["t"] == "2026-11-02T05:00:00Z"
    assert crypto.json()["bars"]["BTC/USD"][0]["t"] == "2026-11-02T06:00:00Z"


@pytest.mark.asyncio
async def test_unknown_symbols_get_the_recorded_empty_answers(
    sim: ProviderSimulator, client: httpx.AsyncClient
) -> None:
    bars = await get(client, sim, "/v2/stocks/bars?symbols=ZZZZ&timeframe=1Day")
    trades = await get(client, sim, "/v2/stocks/trades/latest?symbols=ZZZZ")
    snapshots = await get(client, sim, "/v2/stocks/snapshots?symbols=AAPL,INVALID")
    assert bars.json() == recorded("alpaca/rest-stocks-get-bars-multi-empty-response-alpacapy.json")
    assert trades.json() == recorded(
        "alpaca/rest-stocks-get-latest-trade-multi-not-found-alpacapy.json"
    )
    assert snapshots.json()["INVALID"] is None


@pytest.mark.asyncio
async def test_bad_timeframe_is_the_recorded_422(
    sim: ProviderSimulator, client: httpx.AsyncClient
) -> None:
    response = await get(client, sim, "/v2/stocks/bars?symbols=AAPL&timeframe=7Min")
    assert response.status_code == 422
    assert response.json() == recorded("alpaca/error-422-invalid-timeframe-issue178.json")


@pytest.mark.asyncio
@pytest.mark.parametrize("sort", ["asc", "desc"])
async def test_page_tokens_walk_every_bar_of_every_symbol_once(
    sim: ProviderSimulator, client: httpx.AsyncClient, sort: str
) -> None:
    path = f"/v2/stocks/bars?symbols=NVDA,AAPL,MSFT&timeframe=1Hour&{START}&sort={sort}"
    whole = (await get(client, sim, path + "&limit=10000")).json()
    assert whole["next_page_token"] is None
    seen: dict[str, list[Any]] = {}
    token, pages = None, 0
    while True:
        page = (
            await get(client, sim, path + "&limit=9" + (f"&page_token={token}" if token else ""))
        ).json()
        pages += 1
        assert sum(len(bars) for bars in page["bars"].values()) <= 9
        for symbol, bars in page["bars"].items():
            seen.setdefault(symbol, []).extend(bars)
        token = page["next_page_token"]
        if token is None:
            break
    assert seen == whole["bars"]
    assert list(seen) == ["AAPL", "MSFT", "NVDA"]
    assert pages == -(-sum(len(b) for b in seen.values()) // 9)
