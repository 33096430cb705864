"""Clocks: the one place the suite reads the time.

Every service takes a `Clock` (see each service's ports.py) instead of calling
`datetime.now()`. `SystemClock` can start at a fixed instant (`ARGO_CLOCK_START`) and then
advance in real time, so demos and benchmarks run inside an NYSE session on any day.
`FakeClock` is advanced by hand in tests; nothing sleeps.
"""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime, timedelta


def parse_clock_start(value: str) -> datetime:
    """Parse an ISO-8601 instant with an explicit offset, e.g. 2026-11-17T10:00:00-05:00."""
    instant = datetime.fromisoformat(value.strip())
    if instant.tzinfo is None:
        raise ValueError("needs an explicit UTC offset, e.g. 2026-11-17T10:00:00-05:00")
    return instant.astimezone(UTC)


class SystemClock:
    """Wall-clock time, optionally shifted so that process start reads as `start`."""

    def __init__(self, start: datetime | None = None) -> None:
        self._offset = timedelta(0)
        if start is not None:
            self._offset = start.astimezone(UTC) - datetime.now(UTC)

    def now(self) -> datetime:
        return datetime.now(UTC) + self._offset

    def monotonic(self) -> float:
        return time.monotonic()

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(seconds)


class FakeClock:
    """A clock that moves only when told to; `sleep` advances it instantly."""

    def __init__(self, start: datetime) -> None:
        self._now = start.astimezone(UTC)
        self._mono = 0.0

    def now(self) -> datetime:
        return self._now

    def monotonic(self) -> float:
        return self._mono

    def advance(self, seconds: float) -> None:
        self._now += timedelta(seconds=seconds)
        self._mono += seconds

    def set(self, instant: datetime) -> None:
        delta = (instant.astimezone(UTC) - self._now).total_seconds()
        self.advance(delta)

    async def sleep(self, seconds: float) -> None:
        self.advance(seconds)
        await asyncio.sleep(0)
