"""Polygon REST bodies have the recorded keys and types; paging and prices are right."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from market_gateway.adapters.calendar import NyseCalendar
from market_gateway.adapters.synthetic.market import SyntheticMarket
from market_gateway.domain import parse_symbol
from service_runtime.clock import FakeClock
from tests.unit.provider_sim.conftest import SESSION_START
from tests.unit.provider_sim.shapes import recorded, shape_errors
from tools.provider_sim import ProviderSimulator

SNAPSHOT = "/v2/snapshot/locale/us/markets/stocks/tickers"
CASES = [
    (f"{SNAPSHOT}?tickers=AAPL,MSFT", "polygon/rest-snapshot-stocks-tickers.json"),
    (f"{SNAPSHOT}/AAPL", "polygon/rest-snapshot-stocks-ticker-AAPL.json"),
    (
        "/v2/snapshot/locale/global/markets/crypto/tickers/X:BTCUSD",
        "polygon/spec-rest-snapshot-crypto-ticker.json",
    ),
    (
        "/v2/aggs/ticker/AAPL/range/1/day/2026-11-02/2026-11-13",
        "polygon/rest-aggs-AAPL-range-1-day-2005-04-01-2005-04-04.json",
    ),
    (
        "/v2/aggs/ticker/X:BTCUSD/range/1/day/2026-11-02/2026-11-13",
        "polygon/spec-rest-aggs-crypto-range.json",
    ),
    (
        "/v2/aggs/ticker/AAPL/range/1/day/2026-11-02/2026-11-13?limit=2",
        "polygon/spec-rest-aggs-stocks-range-with-next_url.json",
    ),
    ("/v2/aggs/ticker/AAPL/prev", "polygon/rest-prev-close-AAPL.json"),
    ("/v2/aggs/ticker/X:BTCUSD/prev", "polygon/spec-rest-prev-close-crypto.json"),
    ("/v2/last/trade/AAPL", "polygon/rest-last-trade-AAPL.json"),
    ("/v2/last/nbbo/AAPL", "polygon/rest-last-nbbo-AAPL.json"),
    ("/v1/last/crypto/BTC/USD", "polygon/rest-v1-last-crypto-BTC-USD.json"),
]


async def get(client: httpx.AsyncClient, sim: ProviderSimulator, path: str) -> httpx.Response:
    sep = "&" if "?" in path else "?"
    return await client.get(f"{sim.base_url('polygon')}{path}{sep}apiKey={sim.api_key('polygon')}")


@pytest.mark.asyncio
@pytest.mark.parametrize(("path", "fixture"), CASES)
async def test_rest_bodies_have_the_recorded_shape(
    sim: ProviderSimulator, client: httpx.AsyncClient, path: str, fixture: str
) -> None:
    response = await get(client, sim, path)
    assert response.status_code == 200, response.text
    errors = shape_errors(
        response.json(), recorded(fixture), optional=frozenset({"fmv"}), nullable=frozenset({"c"})
    )
    assert errors == []


@pytest.mark.asyncio
async def test_snapshot_batches_many_tickers_and_leaves_out_unknown_ones(
    sim: ProviderSimulator, client: httpx.AsyncClient
) -> None:
    body = (await get(client, sim, f"{SNAPSHOT}?tickers=AAPL,ZZZZ,NVDA,BTC-USD")).json()
    assert [t["ticker"] for t in body["tickers"]] == ["AAPL", "NVDA"]
    assert body["count"] == 2


@pytest.mark.asyncio
async def test_aggregates_page_through_next_url_without_gaps_or_repeats(
    sim: ProviderSimulator, client: httpx.AsyncClient
) -> None:
    for sort in ("asc", "desc"):
        path = f"/v2/aggs/ticker/AAPL/range/15/minute/2026-11-16/2026-11-17?limit=7&sort={sort}"
        whole = (await get(client, sim, path.replace("limit=7", "limit=500"))).json()["results"]
        pages: list[dict[str, Any]] = []
        body = (await get(client, sim, path)).json()
        while True:
            pages += body["results"]
            if "next_url" not in body:
                break
            assert "apiKey" not in body["next_url"]
            auth = {"Authorization": f"Bearer {sim.api_key('polygon')}"}
            body = (await client.get(body["next_url"], headers=auth)).json()
        assert [bar["t"] for bar in pages] == [bar["t"] for bar in whole]
        assert len(whole) == 26 + 4  # Monday 09:30-16:00, Tuesday 09:30-10:30


@pytest.mark.asyncio
async def test_unknown_tickers_get_polygons_not_found_and_empty_results(
    sim: ProviderSimulator, client: httpx.AsyncClient
) -> None:
    missing = await get(client, sim, "/v2/last/trade/ZZZZ")
    assert missing.status_code == 404
    assert missing.json()["status"] == "NOT_FOUND"
    empty = (
        await get(client, sim, "/v2/aggs/ticker/ZZZZ/range/1/day/2026-11-02/2026-11-13")
    ).json()
    assert empty["resultsCount"] == 0 and "results" not in empty


@pytest.mark.asyncio
async def test_prices_are_the_gateways_synthetic_prices(
    sim: ProviderSimulator, client: httpx.AsyncClient, calendar: NyseCalendar
) -> None:
    clock = FakeClock(SESSION_START)
    market = SyntheticMarket(clock=clock, calendar=calendar, seed=42, anchor=SESSION_START.date())
    expected = (await market.get_quotes([parse_symbol("AAPL")]))["AAPL"]
    trade = (await get(client, sim, "/v2/last/trade/AAPL")).json()["results"]
    nbbo = (await get(client, sim, "/v2/last/nbbo/AAPL")).json()["results"]
    assert (trade["p"], nbbo["p"], nbbo["P"]) == (expected.price, expected.bid, expected.ask)
    assert trade["t"] == int(SESSION_START.timestamp()) * 10**9
