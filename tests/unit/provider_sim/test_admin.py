"""Counters (one batched call = one upstream call), reset, config and env endpoints."""

from __future__ import annotations

import httpx
import pytest

from market_gateway.adapters.calendar import NyseCalendar
from tests.unit.provider_sim.conftest import OWN_PORTS, running
from tools.provider_sim import ProviderSimulator
from tools.provider_sim.urls import BASE_PATHS

SIX = "AAPL,NVDA,TSLA,MSFT,AMZN,META"


@pytest.mark.asyncio
async def test_a_batched_snapshot_counts_as_one_call_carrying_six_symbols(
    sim: ProviderSimulator, client: httpx.AsyncClient
) -> None:
    url = sim.base_url("polygon") + "/v2/snapshot/locale/us/markets/stocks/tickers"
    for _ in range(3):
        await client.get(url, params={"tickers": SIX, "apiKey": sim.api_key("polygon")})
    await client.get(sim.base_url("yahoo") + "/v8/finance/chart/DELISTED")
    counters = (await client.get(sim.admin_url + "/counters")).json()
    polygon = counters["providers"]["polygon"]
    assert counters["total"]["calls"] == 4
    assert (polygon["calls"], polygon["symbols"]) == (3, 18)
    endpoint = polygon["endpoints"]["/v2/snapshot/locale/us/markets/stocks/tickers"]
    assert endpoint == {"calls": 3, "symbols": 18, "by_status": {"200": 3}, "by_outcome": {"ok": 3}}
    assert counters["since"] == "2026-11-17T15:30:00+00:00"


@pytest.mark.asyncio
async def test_alpha_vantage_calls_are_counted_by_function(
    sim: ProviderSimulator, client: httpx.AsyncClient
) -> None:
    params = {"function": "global_quote", "symbol": "AAPL", "apikey": sim.api_key("alphavantage")}
    await client.get(sim.base_url("alphavantage") + "/query", params=params)
    endpoints = sim.counters.snapshot()["providers"]["alphavantage"]["endpoints"]
    assert list(endpoints) == ["query:GLOBAL_QUOTE"]


@pytest.mark.asyncio
async def test_reset_starts_counters_and_quotas_over(
    sim: ProviderSimulator, client: httpx.AsyncClient
) -> None:
    await sim.configure({"providers": {"polygon": {"quotas": [{"limit": 1, "seconds": 60}]}}})
    trade = sim.base_url("polygon") + "/v2/last/trade/AAPL?apiKey=" + sim.api_key("polygon")
    statuses = [(await client.get(trade)).status_code for _ in range(2)]
    reset = await client.post(sim.admin_url + "/reset")
    after = await client.get(trade)
    counters = (await client.get(sim.admin_url + "/counters")).json()
    assert statuses == [200, 429] and reset.status_code == 200 and after.status_code == 200
    assert counters["total"] == {
        "calls": 1,
        "symbols": 1,
        "by_status": {"200": 1},
        "by_outcome": {"ok": 1},
    }


@pytest.mark.asyncio
async def test_config_endpoint_applies_patches_and_names_bad_keys(
    sim: ProviderSimulator, client: httpx.AsyncClient
) -> None:
    admin = sim.admin_url + "/config"
    good = await client.post(admin, json={"providers": {"xai": {"latency": {"median_ms": 5}}}})
    bad = await client.post(admin, json={"providers": {"xai": {"faults": {"error_rate": 7}}}})
    unknown = await client.post(admin, json={"providers": {"nobody": {}}})
    not_json = await client.post(admin, content=b"[1, 2")
    current = (await client.get(admin)).json()
    assert good.status_code == 200 and good.json()["providers"]["xai"]["latency"]["median_ms"] == 5
    assert bad.status_code == 400 and "providers.xai.faults" in bad.json()["error"]
    assert unknown.status_code == 400 and "providers.nobody" in unknown.json()["error"]
    assert not_json.status_code == 400
    assert current["providers"]["xai"]["latency"]["median_ms"] == 5
    assert current["providers"]["xai"]["faults"]["error_rate"] == 0.0


@pytest.mark.asyncio
async def test_env_points_every_provider_variable_at_its_own_port(
    calendar: NyseCalendar, client: httpx.AsyncClient
) -> None:
    async with running(calendar, OWN_PORTS) as sim:
        env = (await client.get(sim.admin_url + "/env")).json()
        health = await client.get(sim.admin_url + "/health")
        assert env == sim.env()
        for provider, path in BASE_PATHS.items():
            url = env[f"{provider.upper()}_BASE_URL"]
            assert url == sim.base_url(provider) and url.endswith(path)
            assert url.startswith("http://127.0.0.1:") and f":{sim.port}/" not in url
    assert (
        env["POLYGON_WS_URL"]
        == sim.ws_url("polygon")
        == env["POLYGON_BASE_URL"].replace("http", "ws")
    )
    assert env["ALPACA_API_KEY_ID"] == "sim-alpaca-key-id" and "YAHOO_API_KEY" not in env
    assert health.json() == {"status": "ok", "warm": True}  # warm_days 0 in these tests
