"""Yahoo chart JSON -> domain values, and Yahoo's spelling of symbols.

Symbols: share classes with a dash ("BRK-B"), crypto pairs as "BTC-USD". The quote is the
chart's `meta` (regularMarketPrice at regularMarketTime; no bid/ask). Bars: `timestamp`
(epoch s) with parallel open/high/low/close/volume lists in which any entry may be null —
such points are skipped; an empty window has no `timestamp` and `quote: [{}]`. Daily bars
become 00:00 UTC of their date in the exchange's time zone.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from market_gateway.adapters.common.values import Wire, daily_start, from_epoch
from market_gateway.adapters.yahoo.schemas import PROVIDER
from market_gateway.domain import AssetClass, Bar, Quote, Symbol, Timeframe

WIRE = Wire(PROVIDER)
_COLUMNS = ("open", "high", "low", "close")


def yahoo_symbol(symbol: Symbol) -> str:
    if symbol.asset_class is AssetClass.CRYPTO:
        return symbol.canonical
    return symbol.canonical.replace(".", "-")


def parse_quote(result: Mapping[str, Any], canonical: str, now: datetime) -> Quote:
    meta = WIRE.obj(result.get("meta"), "chart.meta")
    quote = Quote(
        symbol=canonical,
        price=WIRE.num(meta, "regularMarketPrice", "chart.meta"),
        bid=0.0,
        ask=0.0,
        volume=WIRE.opt_num(meta, "regularMarketVolume", "chart.meta") or 0.0,
        time=WIRE.epoch(meta, "regularMarketTime", "chart.meta"),
        provider=PROVIDER,
    )
    return WIRE.checked_quote(quote, now)


def parse_bars(result: Mapping[str, Any], timeframe: Timeframe) -> list[Bar]:
    """Bars oldest first; points with a null price are left out (Yahoo's gaps)."""
    stamps = WIRE.items(result.get("timestamp") or [], "chart.timestamp")
    indicators = WIRE.obj(result.get("indicators") or {}, "chart.indicators")
    quotes = WIRE.items(indicators.get("quote") or [{}], "chart.indicators.quote")
    series = WIRE.obj(quotes[0] if quotes else {}, "chart.indicators.quote[0]")
    if not stamps:
        return []
    columns = {name: WIRE.items(series.get(name), f"quote.{name}") for name in _COLUMNS}
    volumes = WIRE.items(series.get("volume") or [None] * len(stamps), "quote.volume")
    if any(len(values) != len(stamps) for values in (*columns.values(), volumes)):
        WIRE.fail("chart series and timestamps differ in length")
    zone = _exchange_zone(result)
    bars = []
    for i, stamp in enumerate(stamps):
        prices = [columns[name][i] for name in _COLUMNS]
        if any(p is None for p in prices):
            continue
        start = from_epoch(WIRE.number(stamp, f"timestamp[{i}]"))
        if timeframe is Timeframe.ONE_DAY:
            start = daily_start(start.astimezone(zone).date())
        o, h, low, c = (WIRE.number(p, f"price[{i}]") for p in prices)
        volume = volumes[i]
        bars.append(Bar(start, o, h, low, c, 0.0 if volume is None else WIRE.number(volume, "v")))
    bars.sort(key=lambda b: b.start_time)
    return bars


def _exchange_zone(result: Mapping[str, Any]) -> ZoneInfo:
    meta = WIRE.obj(result.get("meta") or {}, "chart.meta")
    name = meta.get("exchangeTimezoneName")
    try:
        return ZoneInfo(name) if isinstance(name, str) and name else ZoneInfo("UTC")
    except (ZoneInfoNotFoundError, ValueError):
        WIRE.fail(f"unknown exchange time zone {str(name)[:40]!r}")
