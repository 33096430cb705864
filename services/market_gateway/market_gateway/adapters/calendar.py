"""NYSE trading hours from exchange-calendars ("XNYS"); crypto never closes.

Building the calendar takes a noticeable fraction of a second and imports pandas, so
bootstrap calls `NyseCalendar.load()`, which computes the table in a child process
(service_runtime/session_table.py), never at import. Queries use the session table
as two sorted arrays of epoch seconds, so each lookup is a binary search.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Sequence
from datetime import UTC, datetime

from market_gateway.domain import AssetClass, TradingSession
from service_runtime import session_table

DEFAULT_FIRST_YEAR = 1995
DEFAULT_LAST_YEAR = 2045


class NyseCalendar:
    """Regular NYSE sessions, holidays and early closes; crypto is always open."""

    def __init__(self, opens: Sequence[int], closes: Sequence[int]) -> None:
        if len(opens) != len(closes):
            raise ValueError("opens and closes must have the same length")
        self._opens = list(opens)
        self._closes = list(closes)

    @classmethod
    def build(
        cls, first_year: int = DEFAULT_FIRST_YEAR, last_year: int = DEFAULT_LAST_YEAR
    ) -> NyseCalendar:
        """Load the XNYS session table for [first_year, last_year] in this process
        (slowish, and pandas stays resident)."""
        return cls(*session_table.build_in_process(first_year, last_year))

    @classmethod
    async def load(
        cls, first_year: int = DEFAULT_FIRST_YEAR, last_year: int = DEFAULT_LAST_YEAR
    ) -> NyseCalendar:
        """The same table computed in a child process (see service_runtime/session_table.py)."""
        return cls(*await session_table.load_isolated(first_year, last_year))

    def is_open(self, instant: datetime, asset_class: AssetClass) -> bool:
        if asset_class is AssetClass.CRYPTO:
            return True
        return self._session_index(_seconds(instant)) is not None

    def next_open(self, instant: datetime, asset_class: AssetClass) -> datetime:
        if self.is_open(instant, asset_class):
            return instant
        following = bisect_right(self._opens, _seconds(instant))
        if following >= len(self._opens):
            raise ValueError(f"{instant.isoformat()} is beyond the calendar's last session")
        return _instant(self._opens[following])

    def previous_close(self, instant: datetime, asset_class: AssetClass) -> datetime | None:
        if asset_class is AssetClass.CRYPTO or self.is_open(instant, asset_class):
            return None
        index = bisect_right(self._closes, _seconds(instant)) - 1
        return _instant(self._closes[index]) if index >= 0 else None

    def sessions(self, start: datetime, end: datetime) -> list[TradingSession]:
        first = bisect_right(self._closes, _seconds(start))  # first close after start
        last = bisect_left(self._opens, _seconds(end))  # opens before end
        return [
            TradingSession(_instant(self._opens[i]), _instant(self._closes[i]))
            for i in range(first, last)
        ]

    def _session_index(self, seconds: float) -> int | None:
        index = bisect_right(self._opens, seconds) - 1
        if index >= 0 and seconds < self._closes[index]:
            return index
        return None


def _seconds(instant: datetime) -> float:
    if instant.tzinfo is None:
        raise ValueError("calendar instants must be timezone-aware")
    return instant.timestamp()


def _instant(seconds: int) -> datetime:
    return datetime.fromtimestamp(seconds, tz=UTC)
