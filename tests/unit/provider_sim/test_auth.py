"""Auth is checked where each provider checks it, with that provider's error body."""

from __future__ import annotations

import httpx
import pytest

from tests.unit.provider_sim.shapes import recorded
from tools.provider_sim import ProviderSimulator

TRADE = "/v2/last/trade/AAPL"


@pytest.mark.asyncio
async def test_polygon_takes_the_query_key_or_a_bearer_header(
    sim: ProviderSimulator, client: httpx.AsyncClient
) -> None:
    url, key = sim.base_url("polygon") + TRADE, sim.api_key("polygon")
    assert (await client.get(url, params={"apiKey": key})).status_code == 200
    assert (await client.get(url, headers={"Authorization": f"Bearer {key}"})).status_code == 200
    missing = await client.get(url)
    wrong = await client.get(url, params={"apiKey": "nope"})
    assert missing.status_code == wrong.status_code == 401
    assert (
        missing.json().keys() == recorded("polygon/error-api-key-not-provided-issue219.json").keys()
    )
    assert missing.json()["error"] == "API Key was not provided"
    assert wrong.json()["error"] == "Unknown API Key"


@pytest.mark.asyncio
async def test_alpaca_needs_both_headers_except_for_crypto(
    sim: ProviderSimulator, client: httpx.AsyncClient
) -> None:
    stocks = sim.base_url("alpaca") + "/v2/stocks/trades/latest?symbols=AAPL"
    crypto = sim.base_url("alpaca") + "/v1beta3/crypto/us/latest/trades?symbols=BTC/USD"
    wrong = {"APCA-API-KEY-ID": sim.api_key("alpaca"), "APCA-API-SECRET-KEY": "nope"}
    assert (await client.get(stocks)).json() == {"message": "unauthorized."}
    refused = await client.get(stocks, headers=wrong)
    assert refused.status_code == 403
    assert refused.json() == recorded("alpaca/error-403-forbidden-trading-api-issue228.json")
    assert (await client.get(crypto)).status_code == 200
    assert (await client.get(crypto, headers=wrong)).status_code == 403


@pytest.mark.asyncio
async def test_alpha_vantage_answers_a_bad_key_with_http_200_and_an_error_message(
    sim: ProviderSimulator, client: httpx.AsyncClient
) -> None:
    url = sim.base_url("alphavantage") + "/query"
    response = await client.get(
        url, params={"function": "GLOBAL_QUOTE", "symbol": "AAPL", "apikey": "x"}
    )
    assert response.status_code == 200
    assert "apikey is invalid or missing" in response.json()["Error Message"]


@pytest.mark.asyncio
async def test_yahoo_needs_no_key(sim: ProviderSimulator, client: httpx.AsyncClient) -> None:
    response = await client.get(sim.base_url("yahoo") + "/v8/finance/chart/DELISTED")
    assert response.status_code == 404  # the chart's own answer: no auth stood in the way
    assert sim.counters.snapshot()["providers"]["yahoo"]["by_outcome"] == {"client_error": 1}


@pytest.mark.asyncio
@pytest.mark.parametrize(
    ("provider", "status", "field"),
    [("xai", 400, "error"), ("perplexity", 401, "error"), ("deepseek", 401, "error"),
     ("qwen", 401, "error"), ("glm", 401, "error")],
)  # fmt: skip
async def test_ai_providers_refuse_a_wrong_bearer_key_their_own_way(
    sim: ProviderSimulator, client: httpx.AsyncClient, provider: str, status: int, field: str
) -> None:
    url = sim.base_url(provider) + "/chat/completions"
    body = {"messages": [{"role": "user", "content": "AAPL?"}]}
    response = await client.post(url, json=body, headers={"Authorization": "Bearer wrong-key"})
    assert response.status_code == status
    assert field in response.json()
    if provider == "xai":
        assert set(response.json()) == set(
            recorded("xai/error-403-out-of-credits-code-masked-sub2api-issue4069.json")
        )
    counters = sim.counters.snapshot()["providers"][provider]
    assert counters["by_outcome"] == {"auth_error": 1}
