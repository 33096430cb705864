"""Time for every policy: an injected `Clock`, never the system clock read directly.

Hand-written (tiny): the `Clock` Protocol matches `service_runtime.clock.SystemClock` /
`FakeClock` (and each service's own `ports.Clock`), so services pass the clock they already
have and tests pass a fake. Deadlines are absolute instants on the clock's *monotonic* scale
(`clock.monotonic() + seconds`), which is what a gRPC `context.time_remaining()` converts to.
Limiter and cache timestamps that other replicas must understand use wall time
(`clock.now().timestamp()`, epoch seconds) instead.
"""

from __future__ import annotations

import math
from datetime import datetime
from typing import Protocol

from resilience.errors import DeadlineExceeded
from service_runtime.clock import SystemClock


class Clock(Protocol):
    """What the policies need from a clock (UTC-aware `now`, `monotonic`, `sleep`)."""

    def now(self) -> datetime: ...

    def monotonic(self) -> float: ...

    async def sleep(self, seconds: float) -> None: ...


def system_clock() -> Clock:
    """The real clock, used when a policy is built without one."""
    return SystemClock()


def epoch(clock: Clock) -> float:
    """Wall time in epoch seconds: the time base shared with other replicas (and Redis)."""
    return clock.now().timestamp()


def deadline_after(clock: Clock, seconds: float | None) -> float | None:
    """An absolute monotonic deadline `seconds` from now (None stays None: no deadline)."""
    return None if seconds is None else clock.monotonic() + seconds


def remaining(clock: Clock, deadline: float | None) -> float:
    """Seconds left before `deadline` (may be negative); infinity when there is none."""
    return math.inf if deadline is None else deadline - clock.monotonic()


def check_deadline(clock: Clock, deadline: float | None, what: str) -> None:
    """Raise `DeadlineExceeded` when `deadline` has already passed (before starting `what`)."""
    if deadline is not None and clock.monotonic() >= deadline:
        raise DeadlineExceeded(what)
