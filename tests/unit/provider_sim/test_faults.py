"""Fault injection: seeded latency, 5xx, HTML pages, malformed and truncated bodies, slow
answers, and outages (503, reset, refused), switched at runtime."""

from __future__ import annotations

import json
import statistics

import httpx
import pytest

from market_gateway.adapters.calendar import NyseCalendar
from service_runtime.clock import FakeClock
from tests.unit.provider_sim.conftest import OWN_PORTS, SESSION_START, new_client, running
from tools.provider_sim import ProviderSimulator
from tools.provider_sim.config import Faults, Latency
from tools.provider_sim.faults import Fault, FaultInjector

TRADE = "/v2/last/trade/AAPL"


def test_latency_is_lognormal_with_the_configured_median_and_p99() -> None:
    injector, latency = FaultInjector(seed=3), Latency(median_ms=120, p99_ms=600)
    draws = sorted(injector.latency("polygon", latency) for _ in range(20_000))
    assert statistics.median(draws) == pytest.approx(0.120, rel=0.05)
    assert draws[int(0.99 * len(draws))] == pytest.approx(0.600, rel=0.1)
    injector.reset()
    again = [injector.latency("polygon", latency) for _ in range(5)]
    fresh, other = FaultInjector(seed=3), FaultInjector(seed=4)
    assert again == [fresh.latency("polygon", latency) for _ in range(5)]
    assert again != [other.latency("polygon", latency) for _ in range(5)]


def test_fault_rates_are_seeded_and_roughly_as_configured() -> None:
    faults = Faults(error_rate=0.1, malformed_rate=0.1)
    first, second = FaultInjector(seed=1), FaultInjector(seed=1)
    kinds = [first.draw("p", faults).fault for _ in range(5_000)]
    assert kinds == [second.draw("p", faults).fault for _ in range(5_000)]
    assert kinds.count(Fault.ERROR) == pytest.approx(500, rel=0.15)
    assert kinds.count(Fault.MALFORMED) == pytest.approx(450, rel=0.15)  # 10% of the other 90%


async def trade(
    client: httpx.AsyncClient, sim: ProviderSimulator, *, own_port: bool = True
) -> httpx.Response:
    base = sim.base_url("polygon") if own_port else f"http://127.0.0.1:{sim.port}/polygon"
    return await client.get(base + TRADE, params={"apiKey": sim.api_key("polygon")})


def _faults(**values: object) -> dict[str, object]:
    return {"providers": {"polygon": {"faults": values}}}


@pytest.mark.asyncio
async def test_error_html_and_malformed_answers(
    calendar: NyseCalendar, client: httpx.AsyncClient
) -> None:
    async with running(calendar, _faults(error_rate=1.0, error_statuses=[503])) as sim:
        error = await trade(client, sim)
    async with running(calendar, _faults(html_rate=1.0)) as sim:
        html = await trade(client, sim)
    async with running(calendar, _faults(malformed_rate=1.0)) as sim:
        malformed = await trade(client, sim)
        counters = sim.counters.snapshot()["providers"]["polygon"]
    assert error.status_code == 503 and error.json()["status"] == "ERROR"
    assert html.status_code == 502 and html.headers["Content-Type"].startswith("text/html")
    assert "<title>502 Bad Gateway</title>" in html.text
    assert malformed.status_code == 200
    with pytest.raises(json.JSONDecodeError):
        json.loads(malformed.text)
    assert malformed.text.startswith('{"results":')
    assert counters["by_outcome"] == {"fault": 1}


@pytest.mark.asyncio
async def test_truncated_body_breaks_off_mid_answer(
    calendar: NyseCalendar, client: httpx.AsyncClient
) -> None:
    async with running(calendar, _faults(truncated_rate=1.0)) as sim:
        with pytest.raises(httpx.RemoteProtocolError, match="incomplete|complete message body"):
            await trade(client, sim)


@pytest.mark.asyncio
async def test_slow_answers_wait_on_the_simulator_clock(
    calendar: NyseCalendar, client: httpx.AsyncClient
) -> None:
    clock = FakeClock(SESSION_START)
    async with running(calendar, _faults(slow_rate=1.0, slow_ms=4_000), clock) as sim:
        response = await trade(client, sim)
    assert response.status_code == 200
    assert (clock.now() - SESSION_START).total_seconds() == pytest.approx(4.0)


@pytest.mark.asyncio
async def test_outage_answers_503_or_resets_the_connection(
    calendar: NyseCalendar, client: httpx.AsyncClient
) -> None:
    async with running(calendar, _faults(down=True, outage_mode="503")) as sim:
        unavailable = await trade(client, sim)
        await sim.configure(_faults(outage_mode="reset"))
        with pytest.raises(httpx.RemoteProtocolError):
            await trade(client, sim)
        counters = sim.counters.snapshot()["providers"]["polygon"]
    assert unavailable.status_code == 503 and "<html>" in unavailable.text
    assert counters["by_outcome"] == {"outage": 2}


@pytest.mark.asyncio
async def test_refusing_outage_closes_the_providers_port_until_it_ends(
    calendar: NyseCalendar, client: httpx.AsyncClient
) -> None:
    async with running(calendar, OWN_PORTS) as sim:
        url = sim.base_url("polygon")
        assert (await trade(client, sim)).status_code == 200
        await sim.configure(_faults(down=True))
        with pytest.raises(httpx.ConnectError):
            async with new_client() as fresh:
                await trade(fresh, sim)
        with pytest.raises(httpx.RemoteProtocolError):  # the shared port resets instead
            await trade(client, sim, own_port=False)
        await sim.configure(_faults(down=None))
        back = await trade(client, sim)
        assert sim.base_url("polygon") == url and back.status_code == 200
        other = await client.get(sim.base_url("yahoo") + "/v8/finance/chart/DELISTED")
    assert other.status_code == 404  # other providers were never down


@pytest.mark.asyncio
async def test_outage_windows_follow_the_simulator_clock(
    calendar: NyseCalendar, client: httpx.AsyncClient
) -> None:
    clock = FakeClock(SESSION_START)
    window = {"start": 10, "end": "2026-11-17T15:30:20Z", "mode": "503"}
    async with running(calendar, _faults(outages=[window]), clock) as sim:
        before = await trade(client, sim)
        clock.advance(15)
        during = await trade(client, sim)
        clock.advance(5)
        after = await trade(client, sim)
    assert [before.status_code, during.status_code, after.status_code] == [200, 503, 200]


@pytest.mark.asyncio
async def test_faults_are_switched_at_runtime_through_the_admin_endpoint(
    sim: ProviderSimulator, client: httpx.AsyncClient
) -> None:
    admin = sim.admin_url + "/config"
    applied = await client.post(admin, json=_faults(error_rate=1.0, error_statuses=[500]))
    failing = await trade(client, sim)
    await client.post(admin, json=_faults(error_rate=None))
    healthy = await trade(client, sim)
    assert applied.json()["providers"]["polygon"]["faults"]["error_rate"] == 1.0
    assert (failing.status_code, healthy.status_code) == (500, 200)
