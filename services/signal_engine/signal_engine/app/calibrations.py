"""Cached per-symbol calibrations from the tracker, refreshed every
`calibration_refresh_seconds` (sooner after a failed fetch).

No calibration (none fitted, or a tracker without calibration) means calibrated == raw.
When the tracker cannot answer, the cached calibration stays in use.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

import structlog

from signal_engine.domain import Calibration, CalibrationUnavailable, Tunables
from signal_engine.ports import CalibrationSource, Clock
from signal_engine.telemetry import CALIBRATION_FETCHES, UPSTREAM_CALLS

log = structlog.get_logger(__name__)

RETRY_AFTER_FAILURE = timedelta(seconds=60)


@dataclass
class _Cached:
    calibration: Calibration | None
    next_refresh: datetime


class CalibrationBook:
    def __init__(self, source: CalibrationSource, clock: Clock) -> None:
        self._source = source
        self._clock = clock
        self._cached: dict[str, _Cached] = {}
        self._tracker_down = False

    def get(self, symbol: str) -> Calibration | None:
        cached = self._cached.get(symbol)
        return cached.calibration if cached else None

    async def refresh(self, symbols: Sequence[str], t: Tunables) -> int:
        """Fetch the calibrations that are missing or due; return the calls made."""
        now = self._clock.now()
        due = [s for s in symbols if (c := self._cached.get(s)) is None or now >= c.next_refresh]
        if not due:
            return 0
        gate = asyncio.Semaphore(t.max_concurrency)
        every = timedelta(seconds=t.calibration_refresh_seconds)

        async def one(symbol: str) -> None:
            async with gate:
                UPSTREAM_CALLS.labels(method="GetCalibration").inc()
                try:
                    found = await self._source.get_calibration(symbol)
                except CalibrationUnavailable as e:
                    self._failed(symbol, now, str(e))
                    return
            self._cached[symbol] = _Cached(found, now + every)
            CALIBRATION_FETCHES.labels(result="found" if found else "none").inc()
            if self._tracker_down:
                self._tracker_down = False
                log.info("calibration_source_recovered")

        await asyncio.gather(*(one(s) for s in due))
        return len(due)

    def _failed(self, symbol: str, now: datetime, error: str) -> None:
        CALIBRATION_FETCHES.labels(result="unavailable").inc()
        previous = self._cached.get(symbol)
        kept = previous.calibration if previous else None
        self._cached[symbol] = _Cached(kept, now + RETRY_AFTER_FAILURE)
        if not self._tracker_down:
            self._tracker_down = True
            log.warning("calibration_unavailable", error=error, kept_cached=kept is not None)
