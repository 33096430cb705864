"""Real quotas: fixed windows, 429 with Retry-After and X-RateLimit-*, Alpha Vantage's
HTTP-200 notes, Yahoo's plain 429 and GLM's concurrency cap; the gateway's own pushback
parsers understand every one of them."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta

import httpx
import pytest

from market_gateway.adapters.calendar import NyseCalendar
from resilience.pushback import parse_alpha_vantage_note, parse_response
from service_runtime.clock import FakeClock
from tests.unit.provider_sim.conftest import SESSION_START, running
from tools.provider_sim.config import QuotaWindow
from tools.provider_sim.quotas import QuotaBook

SECOND, MINUTE = QuotaWindow(limit=2, seconds=1), QuotaWindow(limit=3, seconds=60)


def test_a_call_counts_in_every_window_and_the_fullest_one_refuses() -> None:
    book, now = QuotaBook(), 1_800_000_000.0
    assert [book.take("p", (SECOND, MINUTE), now).allowed for _ in range(3)] == [True, True, False]
    assert book.take("p", (SECOND, MINUTE), now + 1).allowed  # third call of the minute
    refused = book.take("p", (SECOND, MINUTE), now + 2)
    assert (refused.allowed, refused.window, refused.retry_after) == (False, MINUTE, 58.0)
    assert refused.headers() == {
        "X-RateLimit-Limit": "3",
        "X-RateLimit-Remaining": "0",
        "X-RateLimit-Reset": str(int(now) + 60),
        "Retry-After": "58",
    }
    book.reset()
    assert book.take("p", (SECOND, MINUTE), now + 2).remaining == 1


def test_concurrency_cap_counts_calls_in_flight() -> None:
    book = QuotaBook()
    assert book.enter("glm", 1) and not book.enter("glm", 1)
    book.leave("glm")
    assert book.enter("glm", 1) and book.enter("other", None)


def _minute(limit: int) -> dict[str, object]:
    return {"quotas": [{"limit": limit, "seconds": 60}]}


@pytest.mark.asyncio
async def test_polygon_429_tells_when_to_come_back(
    calendar: NyseCalendar, client: httpx.AsyncClient
) -> None:
    clock = FakeClock(SESSION_START)
    async with running(calendar, {"providers": {"polygon": _minute(2)}}, clock) as sim:
        url = sim.base_url("polygon") + "/v2/last/trade/AAPL"
        params = {"apiKey": sim.api_key("polygon")}
        statuses = [(await client.get(url, params=params)).status_code for _ in range(2)]
        refused = await client.get(url, params=params)
        clock.advance(59.9)
        still = await client.get(url, params=params)
        clock.advance(0.1)  # the next minute window
        again = await client.get(url, params=params)
    assert statuses == [200, 200] and refused.status_code == still.status_code == 429
    assert again.status_code == 200
    assert refused.json()["error"].startswith("You've exceeded the maximum requests per minute")
    assert refused.headers["Retry-After"] == "60"
    assert refused.headers["X-RateLimit-Remaining"] == "0"
    pushback = parse_response(429, refused.headers, SESSION_START)
    assert pushback is not None and pushback.until == SESSION_START + timedelta(seconds=60)
    assert sim.counters.snapshot()["providers"]["polygon"]["by_status"] == {"200": 3, "429": 2}


@pytest.mark.asyncio
async def test_alpaca_reports_its_budget_on_every_answer(
    calendar: NyseCalendar, client: httpx.AsyncClient
) -> None:
    async with running(calendar, {"providers": {"alpaca": _minute(1)}}) as sim:
        config = sim.config.provider("alpaca")
        headers = {"APCA-API-KEY-ID": config.api_key, "APCA-API-SECRET-KEY": config.secret_key}
        url = sim.base_url("alpaca") + "/v2/stocks/trades/latest?symbols=AAPL"
        ok, refused = [await client.get(url, headers=headers) for _ in range(2)]
    assert (ok.headers["X-RateLimit-Limit"], ok.headers["X-RateLimit-Remaining"]) == ("1", "0")
    assert "Retry-After" not in ok.headers
    assert refused.status_code == 429 and refused.json()["code"] == 42910000


@pytest.mark.asyncio
@pytest.mark.parametrize(
    ("quotas", "key", "pause"),
    [
        ([{"limit": 1, "seconds": 1}], "Information", timedelta(seconds=1)),
        (
            [{"limit": 1, "seconds": 60}, {"limit": 500, "seconds": 86400}],
            "Note",
            timedelta(minutes=1),
        ),
        ([{"limit": 1, "seconds": 86400}], "Information", timedelta(hours=8, minutes=30)),
    ],
)
async def test_alpha_vantage_throttles_with_http_200_bodies(
    calendar: NyseCalendar,
    client: httpx.AsyncClient,
    quotas: list[dict[str, int]],
    key: str,
    pause: timedelta,
) -> None:
    config = {"providers": {"alphavantage": {"quotas": quotas}}}
    async with running(calendar, config) as sim:
        params = {
            "function": "GLOBAL_QUOTE",
            "symbol": "AAPL",
            "apikey": sim.api_key("alphavantage"),
        }
        url = sim.base_url("alphavantage") + "/query"
        first, throttled = [await client.get(url, params=params) for _ in range(2)]
        counters = sim.counters.snapshot()["providers"]["alphavantage"]
    assert "Global Quote" in first.json()
    assert throttled.status_code == 200 and list(throttled.json()) == [key]
    assert counters["by_outcome"] == {"ok": 1, "rate_limited": 1}
    pushback = parse_alpha_vantage_note(throttled.json(), SESSION_START)
    assert pushback is not None and pushback.until - SESSION_START == pause


@pytest.mark.asyncio
async def test_yahoo_429_is_plain_text(calendar: NyseCalendar, client: httpx.AsyncClient) -> None:
    async with running(calendar, {"providers": {"yahoo": _minute(1)}}) as sim:
        url = sim.base_url("yahoo") + "/v8/finance/chart/DELISTED"  # cheap; quotas come first
        first, refused = [await client.get(url) for _ in range(2)]
    assert first.status_code == 404
    assert refused.status_code == 429 and refused.text.startswith("Too Many Requests")


class HeldClock(FakeClock):
    """Latency sleeps wait until released, so a call stays in flight as long as we like."""

    def __init__(self, start: datetime) -> None:
        super().__init__(start)
        self.sleeping = asyncio.Event()
        self.release = asyncio.Event()

    async def sleep(self, seconds: float) -> None:
        self.sleeping.set()
        await self.release.wait()


@pytest.mark.asyncio
async def test_glm_refuses_calls_over_its_concurrency_limit(
    calendar: NyseCalendar, client: httpx.AsyncClient
) -> None:
    clock = HeldClock(SESSION_START)
    config = {"providers": {"glm": {"max_concurrency": 1, "latency": {"median_ms": 1}}}}
    async with running(calendar, config, clock) as sim:
        url = sim.base_url("glm") + "/chat/completions"
        call = {
            "json": {"messages": [{"role": "user", "content": "AAPL"}]},
            "headers": {"Authorization": f"Bearer {sim.api_key('glm')}"},
        }
        first = asyncio.create_task(client.post(url, **call))  # type: ignore[arg-type]
        await clock.sleeping.wait()
        refused = await client.post(url, **call)  # type: ignore[arg-type]
        clock.release.set()
        assert (await first).status_code == 200
    assert refused.status_code == 429 and refused.json()["error"]["code"] == "1302"
