"""Fixtures: the engine built by bootstrap() over fakes and a FakeClock."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime

import pytest
import pytest_asyncio

from service_runtime.clock import FakeClock
from signal_engine.bootstrap import EngineWiring, bootstrap
from signal_engine.config import Settings, load_settings

from .fakes import FakeMarketData, FakeSignalSink, SequentialIds

START = datetime(2026, 11, 17, 15, 30, tzinfo=UTC)
SYMBOLS = ("AAPL", "NVDA", "TSLA", "MSFT", "BTC-USD", "ETH-USD")
PRICES = {
    "AAPL": 190.0,
    "NVDA": 480.0,
    "TSLA": 240.0,
    "MSFT": 370.0,
    "BTC-USD": 64000.0,
    "ETH-USD": 3400.0,
}


@pytest.fixture
def settings() -> Settings:
    return load_settings({"SYMBOLS": ",".join(SYMBOLS), "CYCLE_SECONDS": "5"})


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(START)


@pytest.fixture
def market(clock: FakeClock) -> FakeMarketData:
    return FakeMarketData(clock.now, PRICES)


@pytest.fixture
def sink() -> FakeSignalSink:
    return FakeSignalSink()


@pytest.fixture
def ids() -> SequentialIds:
    return SequentialIds()


@pytest_asyncio.fixture
async def wiring(
    settings: Settings,
    clock: FakeClock,
    market: FakeMarketData,
    sink: FakeSignalSink,
    ids: SequentialIds,
) -> AsyncIterator[EngineWiring]:
    built = await bootstrap(settings, clock=clock, market=market, sink=sink, ids=ids)
    yield built
    await built.exit_stack.aclose()
