"""Fixtures: the engine built by bootstrap() over fakes and a FakeClock."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime

import pytest
import pytest_asyncio

from service_runtime.clock import FakeClock
from signal_engine.bootstrap import EngineWiring, bootstrap
from signal_engine.config import Settings, load_settings
from signal_engine.domain import Tunables

from .fakes import (
    FakeCalendar,
    FakeCalibrations,
    FakeMarketData,
    FakeOutbox,
    FakeOwnership,
    FakeSignalSink,
    SequentialIds,
)

START = datetime(2026, 11, 17, 15, 30, tzinfo=UTC)  # a Tuesday, 10:30 in New York
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
def calibrations() -> FakeCalibrations:
    return FakeCalibrations()


@pytest.fixture
def outbox() -> FakeOutbox:
    return FakeOutbox()


@pytest.fixture
def ownership() -> FakeOwnership:
    return FakeOwnership(SYMBOLS)


@pytest.fixture
def calendar() -> FakeCalendar:
    return FakeCalendar()


@pytest.fixture
def tunables() -> Tunables:
    """Defaults, except that no symbol counts as quiet (tests pace cycles by hand) and
    sentiment is awaited in the pass (test_sentiment_background.py covers the default)."""
    return Tunables(quiet_volatility_pct=0.0, sentiment_in_background=False)


@pytest.fixture
def ids() -> SequentialIds:
    return SequentialIds()


@pytest.fixture
def fakes(
    clock: FakeClock,
    market: FakeMarketData,
    sink: FakeSignalSink,
    calibrations: FakeCalibrations,
    outbox: FakeOutbox,
    ownership: FakeOwnership,
    calendar: FakeCalendar,
    ids: SequentialIds,
    tunables: Tunables,
) -> dict[str, object]:
    """Every port's fake, as keyword arguments for bootstrap()."""
    return {
        "clock": clock,
        "market": market,
        "sink": sink,
        "calibrations": calibrations,
        "outbox": outbox,
        "ownership": ownership,
        "calendar": calendar,
        "ids": ids,
        "tunables": tunables,
    }


@pytest_asyncio.fixture
async def wiring(settings: Settings, fakes: dict[str, object]) -> AsyncIterator[EngineWiring]:
    built = await bootstrap(settings, **fakes)  # type: ignore[arg-type]
    yield built
    await built.exit_stack.aclose()
