"""An in-process simulator on free ports, a fake clock inside an NYSE session, and clients."""

from __future__ import annotations

import contextlib
import ssl
from collections.abc import AsyncIterator, Mapping
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
import pytest_asyncio

from market_gateway.adapters.calendar import NyseCalendar
from service_runtime.clock import FakeClock
from tools.provider_sim import ProviderSimulator, SimConfig
from tools.provider_sim.config import deep_merge

# Tuesday 2026-11-17 10:30 New York: the stock market is open.
SESSION_START = datetime(2026, 11, 17, 15, 30, tzinfo=UTC)
# No latency, no warming, and only the shared port (tests that need a provider's own port,
# e.g. to see a refused connection, ask for `listen.provider_ports: auto`).
NO_LATENCY: dict[str, Any] = {
    "defaults": {"latency": {"median_ms": 0}},
    "market": {"warm_days": 0},
    "listen": {"provider_ports": "none"},
}
OWN_PORTS: dict[str, Any] = {"listen": {"provider_ports": "auto"}}
_TLS = ssl.create_default_context()  # built once: each new client would load the CA file


def new_client() -> httpx.AsyncClient:
    return httpx.AsyncClient(timeout=10.0, verify=_TLS, trust_env=False)


@pytest.fixture(scope="session")
def calendar() -> NyseCalendar:
    return NyseCalendar.build(2020, 2030)


@contextlib.asynccontextmanager
async def running(
    calendar: NyseCalendar, config: Mapping[str, Any] | None = None, clock: Any = None
) -> AsyncIterator[ProviderSimulator]:
    """A simulator with no latency (plus `config`) on free ports."""
    merged = SimConfig.parse(deep_merge(NO_LATENCY, config or {}))
    sim = ProviderSimulator(
        merged, clock=clock or FakeClock(SESSION_START), calendar=calendar, port=0
    )
    async with sim:
        yield sim


@pytest_asyncio.fixture
async def sim(calendar: NyseCalendar) -> AsyncIterator[ProviderSimulator]:
    async with running(calendar) as started:
        yield started


@pytest_asyncio.fixture
async def client() -> AsyncIterator[httpx.AsyncClient]:
    async with new_client() as http:
        yield http
