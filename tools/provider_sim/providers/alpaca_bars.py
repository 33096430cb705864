"""Alpaca multi-symbol historical bars with `next_page_token` paging.

`limit` (1..10 000, default 1 000) counts bars across all symbols; symbols are served in
alphabetical order, so a page can end inside one symbol and the next continue it or move on
to the next symbol; a page that fills up exactly while symbols remain still carries a token
(the next page may then be empty, as recorded). `start` defaults to 00:00 New York today,
`end` (inclusive) to now.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING, Any

from aiohttp import web

from market_gateway.domain import AssetClass, Symbol, Timeframe
from tools.provider_sim.providers.alpaca_shapes import (
    TIMEFRAMES,
    bar_json,
    daily_stamp,
    page_token,
    read_page_token,
    symbol_text,
)
from tools.provider_sim.providers.base import count_symbols, json_response, split_symbols
from tools.provider_sim.timefmt import CHICAGO, NEW_YORK, local_midnight, parse_rfc3339

if TYPE_CHECKING:
    from tools.provider_sim.providers.alpaca import Alpaca

DEFAULT_LIMIT, MAX_LIMIT = 1_000, 10_000
_TICK = timedelta(microseconds=1)
Row = tuple[datetime, dict[str, Any]]


async def historical_bars(
    provider: Alpaca, request: web.Request, asset: AssetClass
) -> web.Response:
    query = request.query
    raw = split_symbols(query.get("symbols"))
    count_symbols(request, len(raw))
    if not raw:
        return provider.error(400, 40010001, "symbols is required")
    timeframe = TIMEFRAMES.get(query.get("timeframe", ""))
    if timeframe is None:
        return provider.error(422, 42210000, "invalid timeframe")
    try:
        limit = int(query.get("limit", DEFAULT_LIMIT))
        now = provider.market.now()
        start = parse_rfc3339(query["start"]) if "start" in query else _today_start(now)
        end = parse_rfc3339(query["end"]) if "end" in query else now
        after = read_page_token(query["page_token"]) if "page_token" in query else None
    except ValueError as e:
        return provider.error(422, 42210000, f"invalid request: {e}")
    sort = query.get("sort", "asc")
    if not 1 <= limit <= MAX_LIMIT or sort not in ("asc", "desc"):
        return provider.error(422, 42210000, "invalid limit or sort")
    symbols = sorted(
        {s for s in map(provider.market.lookup, raw) if s is not None and s.asset_class is asset},
        key=symbol_text,
    )
    bars: dict[str, list[dict[str, Any]]] = {}
    token: str | None = None
    total = 0
    for index, symbol in enumerate(symbols):
        text = symbol_text(symbol)
        if after is not None and text < after[0]:
            continue
        low, high = start, end
        if after is not None and text == after[0]:
            low, high = (after[1] + _TICK, end) if sort == "asc" else (start, after[1] - _TICK)
        rows = await _rows(provider, symbol, timeframe, low, high, limit - total + 1, sort)
        taken = rows[: limit - total]
        if taken:
            bars[text] = [bar for _, bar in taken]
            total += len(taken)
        if len(rows) > len(taken) or (total == limit and index + 1 < len(symbols)):
            token = page_token(symbol, timeframe, taken[-1][0] if taken else low - _TICK)
            break
    return json_response({"bars": bars, "next_page_token": token})


def _today_start(now: datetime) -> datetime:
    return local_midnight(now.astimezone(NEW_YORK).date(), NEW_YORK)


async def _rows(
    provider: Alpaca,
    symbol: Symbol,
    timeframe: Timeframe,
    low: datetime,
    high: datetime,
    wanted: int,
    sort: str,
) -> list[Row]:
    """Bars stamped in [low, high] (inclusive), in `sort` order, at most `wanted`."""
    market = provider.market
    if high < low:
        return []
    if timeframe is Timeframe.ONE_DAY:
        zone = CHICAGO if symbol.asset_class is AssetClass.CRYPTO else NEW_YORK
        first: date = low.astimezone(zone).date()
        if local_midnight(first, zone) < low:
            first += timedelta(days=1)
        last = high.astimezone(zone).date()
        found = await market.daily_page(symbol, first, last, wanted, desc=sort == "desc")
        stamps = [daily_stamp(symbol, d) for d in found]
        return [(t, bar_json(d.bar, t)) for t, d in zip(stamps, found, strict=True)]
    if sort == "asc":
        bars = await market.bars(symbol, timeframe, low, high + _TICK, wanted)
    else:
        bars = await market.bars_desc(symbol, timeframe, low, high + _TICK, wanted)
    return [(bar.start_time, bar_json(bar)) for bar in bars]
