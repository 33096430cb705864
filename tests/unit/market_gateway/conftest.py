"""Fixtures: market-gateway built by bootstrap() over fakes, a FakeClock and the NYSE table."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime

import pytest
import pytest_asyncio

from market_gateway.adapters.calendar import NyseCalendar
from market_gateway.app import MarketGatewayApp
from market_gateway.bootstrap import GatewayWiring, bootstrap
from market_gateway.config import Settings, Tunables, load_settings, parse_tunables
from service_runtime.clock import FakeClock

from .fakes import FakeQuoteSource

# Tuesday 2026-11-17 10:30 in New York: the NYSE is in its regular session.
IN_SESSION = datetime(2026, 11, 17, 15, 30, tzinfo=UTC)
PRICES = {"AAPL": 230.0, "MSFT": 420.0, "BTC-USD": 90_000.0, "ETH-USD": 3_200.0}


@pytest.fixture(scope="session")
def nyse() -> NyseCalendar:
    return NyseCalendar.build()


@pytest.fixture
def settings() -> Settings:
    return load_settings({})


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(IN_SESSION)


@pytest.fixture
def source(clock: FakeClock) -> FakeQuoteSource:
    return FakeQuoteSource(clock, PRICES)


def unit_tunables(**raw: object) -> Tunables:
    """Defaults, except that micro-batches go out at once: the window would advance the
    FakeClock (and so every quote's time) by its length."""
    return parse_tunables({"batching": {"window_seconds": 0}, **raw})


@pytest_asyncio.fixture
async def wiring(
    settings: Settings, clock: FakeClock, source: FakeQuoteSource, nyse: NyseCalendar
) -> AsyncIterator[GatewayWiring]:
    wired = await bootstrap(
        settings, clock=clock, source=source, calendar=nyse, tunables=unit_tunables()
    )
    yield wired
    await wired.exit_stack.aclose()


@pytest.fixture
def app(wiring: GatewayWiring) -> MarketGatewayApp:
    return wiring.app
