"""Alpha Vantage time series and indicators (fixtures alphavantage/*), newest first.

Stock timestamps are naive US/Eastern (`2020-05-08 14:05:00`), crypto ones naive UTC.
`outputsize=compact` is the latest 100 points; `full` is capped at 5 000 intraday bars or
2 000 days here (the real service goes back 20+ years); DIGITAL_CURRENCY_DAILY gives
365 days. Indicators take `interval` daily or 1min/5min/15min/60min and are computed over
the latest 300 bars.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from aiohttp import web

from market_gateway.domain import AssetClass, Bar, Symbol, Timeframe
from tools.provider_sim.providers.base import ProviderBase
from tools.provider_sim.providers.indicators import macd, rsi
from tools.provider_sim.timefmt import NEW_YORK, new_york_naive

INTERVALS = {
    "1min": Timeframe.ONE_MINUTE,
    "5min": Timeframe.FIVE_MINUTES,
    "15min": Timeframe.FIFTEEN_MINUTES,
    "60min": Timeframe.ONE_HOUR,
}
_NAMES = {
    "BTC": "Bitcoin", "ETH": "Ethereum", "SOL": "Solana", "XRP": "XRP", "DOGE": "Dogecoin",
    "ADA": "Cardano", "USD": "United States Dollar", "EUR": "Euro", "USDT": "Tether",
    "USDC": "USD Coin",
}  # fmt: skip
_INDICATOR_BARS = 300


class InvalidCall(Exception):
    """Answered with Alpha Vantage's "Invalid API call" body."""


def fmt(value: float, digits: int = 4) -> str:
    return f"{value:.{digits}f}"


def currency_name(code: str) -> str:
    return _NAMES.get(code, code)


def _symbol(provider: ProviderBase, raw: str, asset: AssetClass) -> Symbol:
    symbol = provider.market.lookup(raw)
    if symbol is None or symbol.asset_class is not asset:
        raise InvalidCall
    return symbol


def _size(request: web.Request, full: int) -> tuple[int, str]:
    if request.query.get("outputsize", "compact") == "full":
        return full, "Full size"
    return 100, "Compact"


def _ohlcv(bar: Bar, digits: int, volume: str | int) -> dict[str, Any]:
    return {
        "1. open": fmt(bar.open, digits),
        "2. high": fmt(bar.high, digits),
        "3. low": fmt(bar.low, digits),
        "4. close": fmt(bar.close, digits),
        "5. volume": volume,
    }


async def _intraday_bars(
    provider: ProviderBase, request: web.Request, symbol: Symbol
) -> tuple[str, list[Bar], str]:
    interval = request.query.get("interval", "")
    if interval not in INTERVALS:
        raise InvalidCall
    count, label = _size(request, 5_000)
    market = provider.market
    bars = await market.last_bars(symbol, INTERVALS[interval], market.now(), count)
    return interval, list(reversed(bars)), label


async def intraday(provider: ProviderBase, request: web.Request) -> dict[str, Any]:
    symbol = _symbol(provider, request.query.get("symbol", ""), AssetClass.STOCK)
    interval, bars, label = await _intraday_bars(provider, request, symbol)
    stamps = [new_york_naive(bar.start_time) for bar in bars]
    meta = {
        "1. Information": f"Intraday ({interval}) open, high, low, close prices and volume",
        "2. Symbol": symbol.canonical,
        "3. Last Refreshed": stamps[0] if stamps else "",
        "4. Interval": interval,
        "5. Output Size": label,
        "6. Time Zone": "US/Eastern",
    }
    rows = {t: _ohlcv(b, 4, str(int(b.volume))) for t, b in zip(stamps, bars, strict=True)}
    return {"Meta Data": meta, f"Time Series ({interval})": rows}


async def _daily_bars(provider: ProviderBase, symbol: Symbol, count: int) -> list[tuple[str, Bar]]:
    market = provider.market
    today = market.trading_date(symbol, market.now())
    first = today - timedelta(days=count * 7 // 4 + 10)
    found = await market.daily_page(symbol, first, today, count, desc=True)
    return [(d.day.isoformat(), d.bar) for d in found]


async def daily(provider: ProviderBase, request: web.Request) -> dict[str, Any]:
    symbol = _symbol(provider, request.query.get("symbol", ""), AssetClass.STOCK)
    count, label = _size(request, 2_000)
    rows = await _daily_bars(provider, symbol, count)
    meta = {
        "1. Information": "Daily Prices (open, high, low, close) and Volumes",
        "2. Symbol": symbol.canonical,
        "3. Last Refreshed": rows[0][0] if rows else "",
        "4. Output Size": label,
        "5. Time Zone": "US/Eastern",
    }
    body = {day: _ohlcv(bar, 4, str(int(bar.volume))) for day, bar in rows}
    return {"Meta Data": meta, "Time Series (Daily)": body}


async def _indicator_input(
    provider: ProviderBase, request: web.Request
) -> tuple[Symbol, str, list[str], list[float]]:
    query = request.query
    symbol = _symbol(provider, query.get("symbol", ""), AssetClass.STOCK)
    interval, series_type = query.get("interval", ""), query.get("series_type", "close")
    if series_type not in ("close", "open", "high", "low"):
        raise InvalidCall
    if interval == "daily":
        rows = list(reversed(await _daily_bars(provider, symbol, _INDICATOR_BARS)))
    elif interval in INTERVALS:
        market = provider.market
        bars = await market.last_bars(symbol, INTERVALS[interval], market.now(), _INDICATOR_BARS)
        rows = [
            (bar.start_time.astimezone(NEW_YORK).strftime("%Y-%m-%d %H:%M"), bar) for bar in bars
        ]
    else:
        raise InvalidCall
    return symbol, interval, [t for t, _ in rows], [getattr(b, series_type) for _, b in rows]


def _int(request: web.Request, key: str, default: int) -> int:
    try:
        value = int(request.query.get(key, default))
    except ValueError:
        raise InvalidCall from None
    if not 1 <= value <= 500:
        raise InvalidCall
    return value


def _meta(symbol: Symbol, indicator: str, interval: str, stamps: list[str]) -> dict[str, Any]:
    return {
        "1: Symbol": symbol.canonical,
        "2: Indicator": indicator,
        "3: Last Refreshed": stamps[-1] if stamps else "",
        "4: Interval": interval,
    }


async def rsi_series(provider: ProviderBase, request: web.Request) -> dict[str, Any]:
    period = _int(request, "time_period", 14)
    symbol, interval, stamps, values = await _indicator_input(provider, request)
    points = rsi(values, period)
    meta = _meta(symbol, "Relative Strength Index (RSI)", interval, stamps)
    meta.update(
        {"5: Time Period": period, "6: Series Type": request.query.get("series_type", "close")}
    )
    meta["7: Time Zone"] = "US/Eastern"
    pairs = zip(reversed(stamps[-len(points) :] if points else []), reversed(points), strict=True)
    return {"Meta Data": meta, "Technical Analysis: RSI": {t: {"RSI": fmt(v)} for t, v in pairs}}


async def macd_series(provider: ProviderBase, request: web.Request) -> dict[str, Any]:
    fast, slow = _int(request, "fastperiod", 12), _int(request, "slowperiod", 26)
    signal = _int(request, "signalperiod", 9)
    if fast >= slow:
        raise InvalidCall
    symbol, interval, stamps, values = await _indicator_input(provider, request)
    points = macd(values, fast, slow, signal)
    meta = _meta(symbol, "Moving Average Convergence/Divergence (MACD)", interval, stamps)
    meta.update({"5.1: Fast Period": fast, "5.2: Slow Period": slow, "5.3: Signal Period": signal})
    meta["6: Series Type"] = request.query.get("series_type", "close")
    meta["7: Time Zone"] = "US/Eastern"
    pairs = zip(reversed(stamps[-len(points) :] if points else []), reversed(points), strict=True)
    body = {
        t: {"MACD_Signal": fmt(s), "MACD": fmt(m), "MACD_Hist": fmt(h)} for t, (m, s, h) in pairs
    }
    return {"Meta Data": meta, "Technical Analysis: MACD": body}


def _crypto_meta(info: str, base: str, market: str, refreshed: str) -> dict[str, Any]:
    return {
        "1. Information": info,
        "2. Digital Currency Code": base,
        "3. Digital Currency Name": currency_name(base),
        "4. Market Code": market,
        "5. Market Name": currency_name(market),
        "6. Last Refreshed": refreshed,
    }


async def crypto_intraday(provider: ProviderBase, request: web.Request) -> dict[str, Any]:
    base, market = request.query.get("symbol", "").upper(), request.query.get("market", "").upper()
    symbol = _symbol(provider, f"{base}-{market}", AssetClass.CRYPTO)
    interval, bars, label = await _intraday_bars(provider, request, symbol)
    stamps = [bar.start_time.strftime("%Y-%m-%d %H:%M:%S") for bar in bars]
    meta = _crypto_meta(
        f"Crypto Intraday ({interval}) Time Series", base, market, stamps[0] if stamps else ""
    )
    meta.update({"7. Interval": interval, "8. Output Size": label, "9. Time Zone": "UTC"})
    rows = {t: _ohlcv(b, 5, int(b.volume)) for t, b in zip(stamps, bars, strict=True)}
    return {"Meta Data": meta, f"Time Series Crypto ({interval})": rows}


async def crypto_daily(provider: ProviderBase, request: web.Request) -> dict[str, Any]:
    base, market = request.query.get("symbol", "").upper(), request.query.get("market", "").upper()
    symbol = _symbol(provider, f"{base}-{market}", AssetClass.CRYPTO)
    rows = await _daily_bars(provider, symbol, 365)
    refreshed = f"{rows[0][0]} 00:00:00" if rows else ""
    meta = _crypto_meta("Daily Prices and Volumes for Digital Currency", base, market, refreshed)
    meta["7. Time Zone"] = "UTC"
    body = {day: _ohlcv(bar, 8, fmt(bar.volume, 8)) for day, bar in rows}
    return {"Meta Data": meta, "Time Series (Digital Currency Daily)": body}
