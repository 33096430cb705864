"""QuerySignals across the hot store and the archive.

Days pruned from the hot store are read back from their archive objects and merged into
the page by the same newest-first key (create_time, signal_id), so one keyset cursor
pages through both. A hot row wins over an archived copy of the same signal (it may have
been resolved since it was archived). The archive is only read when it can contribute to
the page: a full hot page whose oldest row is newer than every pruned day needs nothing
from it.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import date, datetime, timedelta
from typing import Protocol

from tracker.domain import (
    SignalCursor,
    SignalFilter,
    TrackedSignal,
    day_bounds,
    day_of,
)
from tracker.ports import SignalStore

_DAYS_PER_LOOKUP = 32


class ArchivedRows(Protocol):
    async def pruned_days(self, first: date | None, last: date | None, limit: int) -> list[date]:
        """Days in [first, last] whose rows were pruned from the hot store, newest first."""
        ...

    async def day_rows(self, day: date) -> list[TrackedSignal]:
        """Every archived row of the day (verified against its manifest)."""
        ...


async def merge_archived(
    archive: ArchivedRows,
    store: SignalStore,
    query: SignalFilter,
    size: int,
    after: SignalCursor | None,
    hot_rows: list[TrackedSignal],
    hot_cursor: SignalCursor | None,
) -> tuple[list[TrackedSignal], SignalCursor | None]:
    """The page of `size` rows over hot + archive, and its continuation cursor."""
    key = (after.create_time, after.signal_id) if after else None
    if query.end_time is not None and query.end_time.replace(tzinfo=None) == datetime.min:
        return hot_rows, hot_cursor  # ends before the first instant: no archived day is in it
    last = _last_day(query, after)
    first = day_of(query.start_time) if query.start_time else None
    collected: list[TrackedSignal] = []
    async for day in _days(archive, first, last):
        # This day (and every older one) sorts after a full hot page: it only matters for
        # whether a next page exists, which more hot rows already say.
        after_page = len(hot_rows) == size and hot_rows[-1].signal.create_time >= day_bounds(day)[1]
        if after_page and hot_cursor is not None:
            break
        rows = [r for r in await archive.day_rows(day) if query.matches(r, key)]
        collected.extend(rows)
        if len(collected) > size or (after_page and collected):
            break
    if not collected:
        return hot_rows, hot_cursor
    in_hot = await store.known_ids([r.signal.signal_id for r in collected])
    merged = hot_rows + [r for r in collected if r.signal.signal_id not in in_hot]
    merged.sort(key=lambda t: (t.signal.create_time, t.signal.signal_id), reverse=True)
    page = merged[:size]
    more = hot_cursor is not None or len(merged) > size
    return page, (SignalCursor.after(page[-1]) if more and page else None)


def _last_day(query: SignalFilter, after: SignalCursor | None) -> date | None:
    bounds = []
    if query.end_time is not None:
        bounds.append(day_of(query.end_time - timedelta(microseconds=1)))
    if after is not None:
        bounds.append(day_of(after.create_time))
    return min(bounds) if bounds else None


async def _days(
    archive: ArchivedRows, first: date | None, last: date | None
) -> AsyncIterator[date]:
    """Pruned days in [first, last], newest first, looked up a few at a time."""
    while True:
        days = await archive.pruned_days(first, last, _DAYS_PER_LOOKUP)
        for day in days:
            yield day
        if len(days) < _DAYS_PER_LOOKUP:
            return
        last = days[-1] - timedelta(days=1)
