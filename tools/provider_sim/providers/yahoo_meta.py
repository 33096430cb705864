"""The `meta` block of a Yahoo chart answer (fixtures yahoo/recorded-chart-*)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, tzinfo
from typing import Any

from market_gateway.domain import AssetClass, Bar, Symbol
from tools.provider_sim.market import MarketView
from tools.provider_sim.timefmt import NEW_YORK, epoch_s, from_epoch, local_midnight, local_time

VALID_RANGES = ["1d", "5d", "1mo", "3mo", "6mo", "1y", "2y", "5y", "10y", "ytd", "max"]
_NAMES = {
    "AAPL": "Apple Inc.", "MSFT": "Microsoft Corporation", "NVDA": "NVIDIA Corporation",
    "TSLA": "Tesla, Inc.", "AMZN": "Amazon.com, Inc.", "GOOGL": "Alphabet Inc.",
    "META": "Meta Platforms, Inc.", "AMD": "Advanced Micro Devices, Inc.",
    "SPY": "SPDR S&P 500 ETF Trust", "QQQ": "Invesco QQQ Trust, Series 1",
}  # fmt: skip


def _period(start: datetime, end: datetime, zone: tzinfo, name: str) -> dict[str, Any]:
    offset = start.astimezone(zone).utcoffset() or timedelta(0)
    return {
        "timezone": name,
        "start": epoch_s(start),
        "end": epoch_s(end),
        "gmtoffset": int(offset.total_seconds()),
    }


def trading_periods(symbol: Symbol, day: date) -> dict[str, Any]:
    if symbol.asset_class is AssetClass.CRYPTO:
        start = local_midnight(day, UTC)
        end = start + timedelta(days=1, seconds=-60)
        return {
            "pre": _period(start, start, UTC, "UTC"),
            "regular": _period(start, end, UTC, "UTC"),
            "post": _period(end, end, UTC, "UTC"),
        }
    name = local_time(day, 12, 0, NEW_YORK).astimezone(NEW_YORK).tzname() or "EST"
    times = [local_time(day, h, m, NEW_YORK) for h, m in ((4, 0), (9, 30), (16, 0), (20, 0))]
    return {
        "pre": _period(times[0], times[1], NEW_YORK, name),
        "regular": _period(times[1], times[2], NEW_YORK, name),
        "post": _period(times[2], times[3], NEW_YORK, name),
    }


async def chart_meta(
    market: MarketView,
    symbol: Symbol,
    interval: str,
    range_name: str,
    stamps: list[int],
    bars: list[Bar],
) -> dict[str, Any]:
    stock = symbol.asset_class is AssetClass.STOCK
    tick = await market.tick(symbol)
    today = market.trading_date(symbol, market.now())
    year = await market.daily_page(symbol, today - timedelta(days=365), today, 400)
    current = await market.today(symbol) or (year[-1] if year else None)
    first_day = market.trading_date(symbol, from_epoch(stamps[0])) if stamps else today
    before = await market.daily_page(
        symbol, first_day - timedelta(days=10), first_day - timedelta(days=1), 1, desc=True
    )
    zone_name = trading_periods(symbol, today)["regular"]["timezone"]
    base, _, quote = symbol.canonical.partition("-")
    name = _NAMES.get(symbol.canonical, symbol.canonical) if stock else f"{base} {quote}"
    meta: dict[str, Any] = {
        "currency": "USD" if stock else quote,
        "symbol": symbol.canonical,
        "exchangeName": "NMS" if stock else "CCC",
        "fullExchangeName": "NasdaqGS" if stock else "CCC",
        "instrumentType": "EQUITY" if stock else "CRYPTOCURRENCY",
        "firstTradeDate": 345479400 if stock else 1410912000,
        "regularMarketTime": epoch_s(tick.time),
        "hasPrePostMarketData": stock,
        "gmtoffset": trading_periods(symbol, today)["regular"]["gmtoffset"],
        "timezone": zone_name,
        "exchangeTimezoneName": "America/New_York" if stock else "UTC",
        "regularMarketPrice": tick.price,
        "fiftyTwoWeekHigh": max((d.bar.high for d in year), default=tick.price),
        "fiftyTwoWeekLow": min((d.bar.low for d in year), default=tick.price),
        "regularMarketDayHigh": current.bar.high if current else tick.price,
        "regularMarketDayLow": current.bar.low if current else tick.price,
        "regularMarketVolume": int(current.bar.volume) if current else 0,
        "longName": name,
        "shortName": name,
        "chartPreviousClose": before[0].bar.close
        if before
        else (bars[0].open if bars else tick.price),
        "priceHint": 2,
        "currentTradingPeriod": trading_periods(symbol, today),
        "dataGranularity": interval,
        "range": range_name,
        "validRanges": VALID_RANGES,
    }
    if interval != "1d":
        meta["previousClose"] = meta["chartPreviousClose"]
        meta["scale"] = 3
    return meta
