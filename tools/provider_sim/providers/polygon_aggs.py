"""Polygon aggregates `/v2/aggs/ticker/{t}/range/{m}/{timespan}/{from}/{to}` with paging.

`from`/`to` are dates (New York) or epoch milliseconds, both inclusive. When more bars match
than `limit`, the answer carries `next_url`: the same path with the boundary moved to the
first bar not returned and a `cursor` (base64 of `limit=..&sort=..&adjusted=..`), like the
real one; the client adds its key again.
"""

from __future__ import annotations

import base64
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl, urlencode

from aiohttp import web

from market_gateway.domain import Symbol, Timeframe
from tools.provider_sim.providers.base import json_response
from tools.provider_sim.providers.polygon_shapes import bar_json, daily_stamp_ms
from tools.provider_sim.timefmt import NEW_YORK, epoch_ms, from_epoch, local_midnight

if TYPE_CHECKING:
    from tools.provider_sim.providers.polygon import Polygon

TIMEFRAMES = {
    (1, "minute"): Timeframe.ONE_MINUTE,
    (5, "minute"): Timeframe.FIVE_MINUTES,
    (15, "minute"): Timeframe.FIFTEEN_MINUTES,
    (60, "minute"): Timeframe.ONE_HOUR,
    (1, "hour"): Timeframe.ONE_HOUR,
    (1, "day"): Timeframe.ONE_DAY,
}
DEFAULT_LIMIT, MAX_LIMIT = 5_000, 50_000
Row = tuple[int, dict[str, Any]]  # (stamp ms, bar json)


async def aggregates(provider: Polygon, request: web.Request) -> web.Response:
    info = request.match_info
    params = dict(request.query)
    if "cursor" in params:
        try:
            params.update(parse_qsl(base64.urlsafe_b64decode(params["cursor"] + "==").decode()))
        except ValueError:
            return provider.error(400, "Could not parse the cursor parameter.")
    try:
        timeframe = TIMEFRAMES[(int(info["multiplier"]), info["timespan"])]
        limit = int(params.get("limit", DEFAULT_LIMIT))
        start, end = _instant(info["from"], end=False), _instant(info["to"], end=True)
    except (KeyError, ValueError):
        return provider.error(400, "Could not parse the multiplier, timespan, from, to or limit.")
    sort = params.get("sort", "asc")
    if not 1 <= limit <= MAX_LIMIT or sort not in ("asc", "desc"):
        return provider.error(400, "limit must be 1..50000 and sort asc or desc.")
    symbol = provider.market.lookup(info["ticker"])
    rows: list[Row] = []
    if symbol is not None and start < end:
        if timeframe is Timeframe.ONE_DAY:
            rows = await _daily(provider, symbol, start, end, limit + 1, sort == "desc")
        else:
            rows = await _intraday(provider, symbol, timeframe, start, end, limit + 1, sort)
    adjusted = params.get("adjusted", "true") != "false"
    page = rows[:limit]
    body: dict[str, Any] = {
        "ticker": info["ticker"],
        "queryCount": len(page),
        "resultsCount": len(page),
        "adjusted": adjusted,
        "results": [bar for _, bar in page],
        "status": "OK",
        "request_id": provider.request_id(),
        "count": len(page),
    }
    if not page:
        del body["results"]
    if len(rows) > limit:
        cursor = urlencode({"limit": limit, "sort": sort, "adjusted": str(adjusted).lower()})
        token = base64.urlsafe_b64encode(cursor.encode()).decode().rstrip("=")
        boundary = str(rows[limit][0])
        first, last = (boundary, info["to"]) if sort == "asc" else (info["from"], boundary)
        path = f"/v2/aggs/ticker/{info['ticker']}/range/{info['multiplier']}/{info['timespan']}"
        body["next_url"] = (
            f"{request.url.origin()}{provider.base_path}{path}/{first}/{last}?cursor={token}"
        )
    return json_response(body)


def _instant(text: str, *, end: bool) -> datetime:
    """A boundary: a New York date (whole day) or epoch ms; `end` gives the exclusive end."""
    if text.isdigit():
        return from_epoch(int(text) / 1000.0 + (0.001 if end else 0.0))
    day = date.fromisoformat(text)
    return local_midnight(day + timedelta(days=1) if end else day, NEW_YORK)


async def _intraday(
    provider: Polygon,
    symbol: Symbol,
    timeframe: Timeframe,
    start: datetime,
    end: datetime,
    wanted: int,
    sort: str,
) -> list[Row]:
    market = provider.market
    if sort == "asc":
        bars = await market.bars(symbol, timeframe, start, end, wanted)
    else:
        bars = await market.bars_desc(symbol, timeframe, start, end, wanted)
    return [(epoch_ms(bar.start_time), bar_json(bar)) for bar in bars]


async def _daily(
    provider: Polygon, symbol: Symbol, start: datetime, end: datetime, wanted: int, desc: bool
) -> list[Row]:
    first = start.astimezone(NEW_YORK).date()
    last = (end - timedelta(milliseconds=1)).astimezone(NEW_YORK).date()
    found = await provider.market.daily_page(symbol, first, last, wanted, desc=desc)
    return [(daily_stamp_ms(d), bar_json(d.bar, daily_stamp_ms(d))) for d in found]
