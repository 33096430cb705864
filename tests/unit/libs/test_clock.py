from __future__ import annotations

from datetime import UTC, datetime

import pytest

from service_runtime.clock import FakeClock, SystemClock, parse_clock_start


def test_system_clock_starts_at_the_configured_instant() -> None:
    start = parse_clock_start("2026-11-17T10:00:00-05:00")
    now = SystemClock(start).now()
    assert now.tzinfo is UTC
    assert 0 <= (now - start).total_seconds() < 5


def test_parse_clock_start_requires_an_offset() -> None:
    with pytest.raises(ValueError, match="offset"):
        parse_clock_start("2026-11-17T10:00:00")


@pytest.mark.asyncio
async def test_fake_clock_moves_only_when_told() -> None:
    clock = FakeClock(datetime(2026, 11, 17, 15, tzinfo=UTC))
    before = clock.now()
    await clock.sleep(30)
    assert (clock.now() - before).total_seconds() == 30
    assert clock.monotonic() == 30
