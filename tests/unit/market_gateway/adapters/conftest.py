"""Fixtures for adapter tests: a FakeClock in a NYSE session, and clients over MockTransport."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from service_runtime.clock import FakeClock

from .support import Router

# Tuesday 2026-11-17 10:30 New York.
NOW = datetime(2026, 11, 17, 15, 30, tzinfo=UTC)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(NOW)


@pytest.fixture
def router() -> Router:
    return Router()
