"""Yahoo chart bodies have the recorded keys and types; null gaps; the Not Found body."""

from __future__ import annotations

import httpx
import pytest

from market_gateway.adapters.calendar import NyseCalendar
from tests.unit.provider_sim.conftest import running
from tests.unit.provider_sim.shapes import recorded, shape_errors
from tools.provider_sim import ProviderSimulator

NO_GAPS = {"providers": {"yahoo": {"null_gap_rate": 0}}}
MON, SAT = 1794200000, 1794366000  # 2026-11-09 04:53 UTC (Monday), 2026-11-16 03:00 UTC
CASES = [
    (f"AAPL?interval=1d&period1={MON}&period2={SAT}",
     "recorded-chart-AAPL-2020-08-31-to-2020-11-07.json"),
    (f"BTC-USD?interval=1d&period1={MON}&period2={SAT}",
     "recorded-chart-BTC-USD-2020-01-01-to-2020-01-03.json"),
    ("AAPL?interval=1d&range=5d", "recorded-chart-AAPL.json"),
    # Saturday to Sunday, 1-minute bars: no trading, no timestamps
    ("AAPL?interval=1m&period1=1794441600&period2=1794528000",
     "recorded-chart-AAPL-2025-02-01-to-2025-02-02-includePrePost-false-interval-1m.json"),
]  # fmt: skip


@pytest.mark.asyncio
@pytest.mark.parametrize(("path", "fixture"), CASES)
async def test_charts_have_the_recorded_shape(
    calendar: NyseCalendar, client: httpx.AsyncClient, path: str, fixture: str
) -> None:
    async with running(calendar, NO_GAPS) as sim:
        response = await client.get(f"{sim.base_url('yahoo')}/v8/finance/chart/{path}")
    assert response.status_code == 200
    errors = shape_errors(
        response.json(), recorded(f"yahoo/{fixture}"), optional=frozenset({"events"})
    )
    assert errors == []


@pytest.mark.asyncio
async def test_daily_bars_are_stamped_at_the_open_and_quote_is_in_meta(
    sim: ProviderSimulator, client: httpx.AsyncClient
) -> None:
    body = (
        await client.get(f"{sim.base_url('yahoo')}/v8/finance/chart/AAPL?interval=1d&range=5d")
    ).json()
    result = body["chart"]["result"][0]
    assert result["timestamp"][-1] == 1794925800  # 2026-11-17 09:30 New York
    assert result["meta"]["regularMarketPrice"] == 229.57


@pytest.mark.asyncio
async def test_null_gaps_blank_whole_bars_deterministically(
    calendar: NyseCalendar, client: httpx.AsyncClient
) -> None:
    config = {"providers": {"yahoo": {"null_gap_rate": 0.3}}}
    bodies = []
    for _ in range(2):
        async with running(calendar, config) as sim:
            url = f"{sim.base_url('yahoo')}/v8/finance/chart/AAPL?interval=5m&range=1d"
            bodies.append((await client.get(url)).json())
    assert bodies[0] == bodies[1]
    quote = bodies[0]["chart"]["result"][0]["indicators"]["quote"][0]
    gaps = [i for i, close in enumerate(quote["close"]) if close is None]
    assert 0 < len(gaps) < len(quote["close"])
    for column in ("open", "high", "low", "volume"):
        assert [i for i, v in enumerate(quote[column]) if v is None] == gaps


@pytest.mark.asyncio
async def test_unknown_symbol_is_the_recorded_not_found(
    sim: ProviderSimulator, client: httpx.AsyncClient
) -> None:
    response = await client.get(f"{sim.base_url('yahoo')}/v8/finance/chart/DELISTED")
    assert response.status_code == 404
    assert response.json() == recorded("yahoo/body-chart-error-not-found-unknown-symbol.json")
