"""Analytics views: served on request, refreshed on a schedule (PostgreSQL)."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta

import structlog

from tracker import telemetry
from tracker.app.storage import StorageCalls
from tracker.domain import Analytics, InvalidQuery, Violation, day_of, symbol_violation
from tracker.ports import AnalyticsSource, Clock

log = structlog.get_logger(__name__)

DEFAULT_DAYS = 30
MAX_DAYS = 3650


class AnalyticsService:
    def __init__(self, source: AnalyticsSource, clock: Clock, refresh_seconds: float) -> None:
        self._source = source
        self._clock = clock
        self.refresh_seconds = refresh_seconds
        self._storage = StorageCalls(clock)

    async def get(self, days: int, symbol: str | None) -> Analytics:
        violations: list[Violation] = []
        if not 0 <= days <= MAX_DAYS:
            violations.append(("days", f"must be within 0..{MAX_DAYS}"))
        if symbol is not None and (problem := symbol_violation(symbol)) is not None:
            violations.append(("symbol", problem))
        if violations:
            raise InvalidQuery(violations)
        now = self._clock.now()
        since = day_of(now) - timedelta(days=(days or DEFAULT_DAYS) - 1)
        found = await self._storage("analytics", self._source.analytics(since, symbol))
        return found if found.refresh_time is not None else _live(found, now)

    async def refresh(self) -> bool:
        refreshed = await self._storage(
            "refresh_analytics", self._source.refresh_analytics(self._clock.now())
        )
        telemetry.ANALYTICS_REFRESHES.labels("refreshed" if refreshed else "skipped").inc()
        return refreshed

    async def run(self) -> None:
        """Refresh every `refresh_seconds` until cancelled; failures wait for the next turn."""
        while True:
            try:
                if await self.refresh():
                    log.debug("analytics_refreshed")
            except Exception:
                telemetry.ANALYTICS_REFRESHES.labels("failed").inc()
                log.warning("analytics_refresh_failed", exc_info=True)
            await self._clock.sleep(self.refresh_seconds)


def _live(found: Analytics, now: datetime) -> Analytics:
    """Views computed on read (SQLite) are as fresh as the call."""
    return replace(found, refresh_time=now)
