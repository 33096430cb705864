"""Timing and outage accounting around every store call the use cases make."""

from __future__ import annotations

from collections.abc import Awaitable
from typing import TypeVar

import structlog

from tracker import telemetry
from tracker.domain import StorageUnavailable
from tracker.ports import Clock

log = structlog.get_logger(__name__)
T = TypeVar("T")


class StorageCalls:
    """Awaits store calls, timing them and counting unavailability."""

    def __init__(self, clock: Clock, slow_seconds: float = 0.25) -> None:
        self._clock = clock
        self.slow_seconds = slow_seconds

    async def __call__(self, operation: str, call: Awaitable[T]) -> T:
        started = self._clock.monotonic()
        try:
            return await call
        except StorageUnavailable as e:
            telemetry.STORAGE_UNAVAILABLE.labels(operation).inc()
            log.warning("storage_unavailable", operation=operation, error=str(e))
            raise
        finally:
            elapsed = self._clock.monotonic() - started
            telemetry.STORAGE_SECONDS.labels(operation).observe(elapsed)
            if elapsed >= self.slow_seconds:
                log.warning("storage_operation_slow", operation=operation, seconds=elapsed)
