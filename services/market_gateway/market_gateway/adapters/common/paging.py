"""Window arithmetic shared by the REST adapters' bar fetching."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta
from urllib.parse import urlsplit

from market_gateway.domain import AssetClass, Bar, Timeframe

MAX_PAGES = 200  # a cursor that never ends is a provider bug, not a reason to loop forever


def lookback(timeframe: Timeframe, limit: int, asset_class: AssetClass) -> timedelta:
    """How far before `end` to ask so that `limit` completed bars are surely inside:
    crypto trades around the clock; stocks ~16 h a weekday (extended hours), daily bars
    skip weekends and holidays."""
    span = timeframe.width * (limit + 1)
    if asset_class is AssetClass.CRYPTO:
        return span + timedelta(days=1)
    if timeframe is Timeframe.ONE_DAY:
        return span * 1.5 + timedelta(days=10)
    return span * 5 + timedelta(days=5)


def completed_in_window(
    bars: Iterable[Bar], timeframe: Timeframe, start: datetime | None, end: datetime
) -> list[Bar]:
    """Bars that started at/after `start` and ended by `end` (so are complete)."""
    width = timeframe.width
    return [
        bar
        for bar in bars
        if (start is None or bar.start_time >= start) and bar.start_time + width <= end
    ]


def take(bars: list[Bar], limit: int, *, newest: bool) -> list[Bar]:
    """Sorted oldest first, de-duplicated by start; the newest or oldest `limit` of them."""
    unique = sorted({bar.start_time: bar for bar in bars}.values(), key=lambda b: b.start_time)
    return unique[-limit:] if newest else unique[:limit]


def relative_url(url: str) -> str:
    """Path and query of a provider's absolute cursor URL, so that it is fetched from our
    configured base URL (and its credentials never go to another host)."""
    parts = urlsplit(url)
    return parts.path + (f"?{parts.query}" if parts.query else "")
