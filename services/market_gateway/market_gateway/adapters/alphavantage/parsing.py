"""Alpha Vantage JSON -> domain values.

Every number is a string ("122.6700"); keys carry ordinal prefixes ("1. open", "05. price",
"1: Symbol"). Times are naive strings in the zone the "Meta Data" names ("US/Eastern" for
stocks, "UTC" for crypto). Intraday stamps are read as the bar's start; a daily date
becomes 00:00 UTC of that date. Symbols: stocks as themselves, crypto as base + market
("BTC", "USD") in separate parameters.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import UTC, date, datetime, time
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from market_gateway.adapters.alphavantage.schemas import PROVIDER, MarketState, SymbolMatch
from market_gateway.adapters.common.values import Wire, daily_start
from market_gateway.domain import (
    AssetClass,
    Bar,
    IndicatorPoint,
    IndicatorSeries,
    Quote,
    Symbol,
    Timeframe,
)

WIRE = Wire(PROVIDER)
NEW_YORK = ZoneInfo("America/New_York")
_ORDINAL = re.compile(r"^\s*\d+[a-z]?(?:\.\d+)?[.:]\s*")
_SESSION_CLOSE = time(16, 0)


def plain(key: str) -> str:
    """Key without its ordinal: "05. price" -> "price", "1: Symbol" -> "symbol"."""
    return _ORDINAL.sub("", key).strip().lower()


def plain_keys(data: Mapping[str, Any]) -> dict[str, Any]:
    return {plain(k): v for k, v in data.items()}


def stock_symbol(symbol: Symbol) -> str:
    return symbol.canonical


def crypto_pair(symbol: Symbol) -> tuple[str, str]:
    """("BTC", "USD") for BTC-USD."""
    base, _, market = symbol.canonical.partition("-")
    return base, market


def _zone(meta: Mapping[str, Any]) -> ZoneInfo:
    name = next((str(v) for k, v in plain_keys(meta).items() if k.endswith("time zone")), "")
    try:
        return ZoneInfo(name) if name else NEW_YORK
    except (ZoneInfoNotFoundError, ValueError):
        WIRE.fail(f"unknown time zone {name[:40]!r}")


def _stamp(text: str, zone: ZoneInfo, timeframe: Timeframe) -> datetime:
    try:
        if timeframe is Timeframe.ONE_DAY:
            return daily_start(date.fromisoformat(text[:10]))
        return datetime.fromisoformat(text).replace(tzinfo=zone).astimezone(UTC)
    except ValueError:
        WIRE.fail(f"time {text[:30]!r} is not a date/time")


def _series_key(body: Mapping[str, Any], prefix: str) -> str:
    key = next((k for k in body if k.startswith(prefix)), None)
    if key is None:
        WIRE.fail(f"answer has no {prefix!r} section")
    return key


def _column(row: Mapping[str, Any], name: str, what: str) -> float:
    for key, value in plain_keys(row).items():
        if key == name or key.startswith(name + " ("):
            return WIRE.number(value, f"{what}.{name}")
    WIRE.fail(f"{what} has no {name!r}")


def parse_time_series(body: Mapping[str, Any], timeframe: Timeframe) -> list[Bar]:
    """Any "Time Series ..." answer (stock/crypto, intraday/daily), oldest bar first."""
    zone = _zone(WIRE.obj(body.get("Meta Data") or {}, "Meta Data"))
    series = WIRE.obj(body[_series_key(body, "Time Series")], "time series")
    bars = []
    for stamp, raw in series.items():
        row = WIRE.obj(raw, f"bar {stamp}")
        bars.append(
            Bar(
                start_time=_stamp(stamp, zone, timeframe),
                open=_column(row, "open", "bar"),
                high=_column(row, "high", "bar"),
                low=_column(row, "low", "bar"),
                close=_column(row, "close", "bar"),
                volume=_column(row, "volume", "bar"),
            )
        )
    bars.sort(key=lambda b: b.start_time)
    return bars


def parse_global_quote(body: Mapping[str, Any], canonical: str, now: datetime) -> Quote | None:
    """GLOBAL_QUOTE; None when the provider answers `{"Global Quote": {}}` (unknown symbol).
    The time is the session close of "latest trading day" (or now, while it is open)."""
    row = plain_keys(WIRE.obj(body.get("Global Quote"), "Global Quote"))
    if not row:
        return None
    try:
        day = date.fromisoformat(str(row.get("latest trading day")))
    except ValueError:
        WIRE.fail("Global Quote has no latest trading day")
    close = datetime.combine(day, _SESSION_CLOSE, NEW_YORK)
    quote = Quote(
        symbol=canonical,
        price=WIRE.num(row, "price", "Global Quote"),
        bid=0.0,
        ask=0.0,
        volume=WIRE.num(row, "volume", "Global Quote"),
        time=min(close, now),
        provider=PROVIDER,
    )
    return WIRE.checked_quote(quote, now)


def parse_exchange_rate(body: Mapping[str, Any], canonical: str, now: datetime) -> Quote:
    """CURRENCY_EXCHANGE_RATE (crypto quotes): rate, bid, ask, refreshed time in its zone."""
    row = plain_keys(WIRE.obj(body.get("Realtime Currency Exchange Rate"), "exchange rate"))
    zone = _zone(row)
    try:
        refreshed = datetime.fromisoformat(str(row.get("last refreshed"))).replace(tzinfo=zone)
    except ValueError:
        WIRE.fail("exchange rate has no last refreshed time")
    quote = Quote(
        symbol=canonical,
        price=WIRE.num(row, "exchange rate", "exchange rate"),
        bid=WIRE.opt_num(row, "bid price", "exchange rate") or 0.0,
        ask=WIRE.opt_num(row, "ask price", "exchange rate") or 0.0,
        volume=0.0,
        time=refreshed,
        provider=PROVIDER,
    )
    return WIRE.checked_quote(quote, now)


def parse_indicator(body: Mapping[str, Any], canonical: str, name: str) -> IndicatorSeries:
    """The "Technical Analysis: RSI" section {stamp: {"RSI": "..."}}, oldest point first;
    MACD rows also carry MACD_Signal and MACD_Hist."""
    zone = _zone(WIRE.obj(body.get("Meta Data") or {}, "Meta Data"))
    rows = WIRE.obj(body[_series_key(body, "Technical Analysis")], "technical analysis")
    upper = name.upper()
    points = []
    for stamp, raw in rows.items():
        row = WIRE.obj(raw, f"indicator {stamp}")
        timeframe = Timeframe.ONE_DAY if len(stamp) == 10 else Timeframe.ONE_MINUTE
        value = row.get(upper, next(iter(row.values()), None))
        points.append(
            IndicatorPoint(
                time=_stamp(stamp, zone, timeframe),
                value=WIRE.number(value, f"indicator {stamp}"),
                signal=WIRE.opt_num(row, f"{upper}_Signal", "indicator"),
                histogram=WIRE.opt_num(row, f"{upper}_Hist", "indicator"),
            )
        )
    points.sort(key=lambda p: p.time)
    return IndicatorSeries(canonical, name.lower(), tuple(points), PROVIDER)


def parse_market_status(body: Mapping[str, Any]) -> list[MarketState]:
    markets = WIRE.items(body.get("markets"), "markets")
    return [
        MarketState(
            market_type=WIRE.text(row, "market_type", "market"),
            region=WIRE.text(row, "region", "market"),
            local_open=WIRE.text(row, "local_open", "market"),
            local_close=WIRE.text(row, "local_close", "market"),
            is_open=row.get("current_status") == "open",
        )
        for row in (WIRE.obj(m, "market") for m in markets)
    ]


def parse_symbol_search(body: Mapping[str, Any]) -> list[SymbolMatch]:
    matches = []
    for raw in WIRE.items(body.get("bestMatches"), "bestMatches"):
        row = plain_keys(WIRE.obj(raw, "match"))
        matches.append(
            SymbolMatch(
                symbol=WIRE.text(row, "symbol", "match"),
                name=WIRE.text(row, "name", "match"),
                region=WIRE.text(row, "region", "match"),
                currency=WIRE.text(row, "currency", "match"),
                match_score=WIRE.num(row, "matchscore", "match"),
            )
        )
    return matches


def is_crypto(symbol: Symbol) -> bool:
    return symbol.asset_class is AssetClass.CRYPTO
