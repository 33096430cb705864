"""Fixtures for the resilience unit tests: fake time only, nothing sleeps."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from service_runtime.clock import FakeClock

START = datetime(2026, 3, 2, 15, 0, tzinfo=UTC)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(START)
