"""NyseSessions: the MarketCalendar port from exchange-calendars' "XNYS" (regular
sessions, holidays, early closes).

The session table is built lazily, in a child process (service_runtime/session_table.py:
exchange-calendars imports pandas, which would stay resident), on the first question, for
the year asked about and its neighbours; later questions are a binary search. If the table
cannot be built the market counts as open, so symbols are polled as often as in session
rather than starved.
"""

from __future__ import annotations

import asyncio
from bisect import bisect_right
from dataclasses import dataclass
from datetime import datetime

import structlog

from service_runtime import session_table

log = structlog.get_logger(__name__)


@dataclass(frozen=True)
class _Sessions:
    first_year: int
    last_year: int
    opens: list[int]  # epoch seconds, ascending
    closes: list[int]

    def covers(self, at: datetime) -> bool:
        return self.first_year <= at.year <= self.last_year

    def is_open(self, at: datetime) -> bool:
        instant = at.timestamp()
        i = bisect_right(self.opens, instant) - 1
        return i >= 0 and instant < self.closes[i]


def _build(first_year: int, last_year: int) -> _Sessions:
    """In this process (imports pandas, which then stays resident)."""
    opens, closes = session_table.build_in_process(first_year, last_year)
    return _Sessions(first_year, last_year, opens, closes)


async def _load_isolated(first_year: int, last_year: int) -> _Sessions:
    """From a child process (service_runtime/session_table.py); in a worker thread if that fails."""
    opens, closes = await session_table.load_isolated(first_year, last_year)
    return _Sessions(first_year, last_year, opens, closes)


class NyseSessions:
    def __init__(self) -> None:
        self._sessions: _Sessions | None = None
        self._lock = asyncio.Lock()
        self._broken = False

    async def stocks_open(self, at: datetime) -> bool:
        sessions = self._sessions
        if sessions is None or not sessions.covers(at):
            sessions = await self._load(at)
        return True if sessions is None else sessions.is_open(at)

    async def _load(self, at: datetime) -> _Sessions | None:
        async with self._lock:
            if self._sessions is not None and self._sessions.covers(at):
                return self._sessions
            if self._broken:
                return None
            try:
                self._sessions = await _load_isolated(at.year - 1, at.year + 2)
            except Exception as e:  # any failure of the library: poll as if in session
                self._broken = True
                log.error("nyse_calendar_unavailable", error=repr(e))
                return None
            log.info("nyse_calendar_built", first=at.year - 1, last=at.year + 2)
            return self._sessions
