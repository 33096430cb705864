"""Fixtures for the tracker's unit tests: a fake clock and fakes of every port."""

from __future__ import annotations

import pytest

from service_runtime.clock import FakeClock

from .factories import T0
from .fakes import FakeObjectStore, FakePriceSource, FakeSignalStore


@pytest.fixture
def clock() -> FakeClock:
    # The engine's signals were formed at T0; the tracker looks at them an hour later.
    return FakeClock(T0.replace(hour=16))


@pytest.fixture
def fake_store() -> FakeSignalStore:
    return FakeSignalStore()


@pytest.fixture
def fake_prices() -> FakePriceSource:
    return FakePriceSource()


@pytest.fixture
def fake_objects() -> FakeObjectStore:
    return FakeObjectStore()
