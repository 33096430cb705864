"""Alpaca JSON -> domain values, and the provider's spelling of symbols.

Symbols: stocks as themselves ("AAPL", "BRK.B"), crypto as "BTC/USD"; answers are keyed by
that spelling and read back through the domain's `parse_symbol`. Times are RFC 3339 UTC
strings; daily bars are stamped 00:00 New York (older crypto ones 00:00 Chicago) and become
00:00 UTC of their New York date.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from market_gateway.adapters.alpaca.schemas import PROVIDER
from market_gateway.adapters.common.values import Wire, daily_start
from market_gateway.domain import (
    AssetClass,
    BadProviderData,
    Bar,
    InvalidSymbol,
    Quote,
    QuoteBatch,
    Symbol,
    Timeframe,
    Trade,
    parse_symbol,
)

WIRE = Wire(PROVIDER)
NEW_YORK = ZoneInfo("America/New_York")


def symbol_for(symbol: Symbol) -> str:
    """Alpaca spelling: "AAPL", "BRK.B", "BTC/USD"."""
    if symbol.asset_class is AssetClass.CRYPTO:
        return symbol.canonical.replace("-", "/")
    return symbol.canonical


def canonical(alpaca_symbol: str) -> str | None:
    """Canonical symbol of an answer's key; None for a key the domain cannot spell."""
    try:
        return parse_symbol(alpaca_symbol).canonical
    except InvalidSymbol:
        return None


def bar_from(row: Mapping[str, Any], timeframe: Timeframe, what: str = "bar") -> Bar:
    start = WIRE.rfc3339(row, "t", what)
    if timeframe is Timeframe.ONE_DAY:
        start = daily_start(start.astimezone(NEW_YORK).date())
    return Bar(
        start_time=start,
        open=WIRE.num(row, "o", what),
        high=WIRE.num(row, "h", what),
        low=WIRE.num(row, "l", what),
        close=WIRE.num(row, "c", what),
        volume=WIRE.num(row, "v", what),
        vwap=WIRE.opt_num(row, "vw", what) or 0.0,
        trade_count=int(WIRE.opt_num(row, "n", what) or 0),
    )


def trade_from(row: Mapping[str, Any], symbol: str) -> Trade:
    what = f"trade {symbol}"
    return Trade(
        symbol=symbol,
        price=WIRE.num(row, "p", what),
        size=WIRE.num(row, "s", what),
        time=WIRE.rfc3339(row, "t", what),
        provider=PROVIDER,
    )


def nbbo_from(row: Mapping[str, Any], symbol: str, now: datetime) -> Quote:
    """A quote row (bp/ap); the quote's price is the midpoint."""
    what = f"quote {symbol}"
    bid, ask = WIRE.num(row, "bp", what), WIRE.num(row, "ap", what)
    time = WIRE.rfc3339(row, "t", what)
    return WIRE.checked_quote(Quote(symbol, (bid + ask) / 2, bid, ask, 0.0, time, PROVIDER), now)


def next_page_token(data: Mapping[str, Any]) -> str | None:
    token = data.get("next_page_token")
    return token if isinstance(token, str) and token else None


def _keyed(body: object, key: str) -> tuple[dict[str, Any], str | None]:
    """The {symbol: value} map under `key` with canonical keys, and the page token."""
    data = WIRE.obj(body, key)
    mapping = WIRE.obj(data.get(key) or {}, key)
    keyed: dict[str, Any] = {}
    for alpaca_symbol, value in mapping.items():
        name = canonical(alpaca_symbol)
        if name is not None and value is not None:
            keyed[name] = value
    return keyed, next_page_token(data)


def parse_bars_page(body: object, timeframe: Timeframe) -> tuple[dict[str, list[Bar]], str | None]:
    """/v2/stocks/bars, /v1beta3/crypto/us/bars: {"bars": {sym: [...]}, "next_page_token"}."""
    keyed, token = _keyed(body, "bars")
    return {
        name: [bar_from(WIRE.obj(r, "bar"), timeframe) for r in WIRE.items(rows, f"bars {name}")]
        for name, rows in keyed.items()
    }, token


def parse_latest_bars(body: object) -> dict[str, Bar]:
    """…/bars/latest: {"bars": {sym: {...}}} (1-minute bars)."""
    keyed, _ = _keyed(body, "bars")
    return {n: bar_from(WIRE.obj(r, "bar"), Timeframe.ONE_MINUTE) for n, r in keyed.items()}


def parse_trades_page(body: object) -> tuple[dict[str, list[Trade]], str | None]:
    keyed, token = _keyed(body, "trades")
    return {
        name: [trade_from(WIRE.obj(r, "trade"), name) for r in WIRE.items(rows, "trades")]
        for name, rows in keyed.items()
    }, token


def parse_latest_trades(body: object) -> dict[str, Trade]:
    keyed, _ = _keyed(body, "trades")
    return {name: trade_from(WIRE.obj(row, "trade"), name) for name, row in keyed.items()}


def parse_quotes_page(body: object, now: datetime) -> tuple[dict[str, list[Quote]], str | None]:
    keyed, token = _keyed(body, "quotes")
    return {
        name: [nbbo_from(WIRE.obj(r, "quote"), name, now) for r in WIRE.items(rows, "quotes")]
        for name, rows in keyed.items()
    }, token


def parse_latest_quotes(body: object, now: datetime) -> QuoteBatch:
    keyed, _ = _keyed(body, "quotes")
    batch = QuoteBatch()
    for name, row in keyed.items():
        try:
            batch[name] = nbbo_from(WIRE.obj(row, "quote"), name, now)
        except BadProviderData as e:
            batch.rejected[name] = e
    return batch


def snapshot_quote(row: Mapping[str, Any], symbol: str, now: datetime) -> Quote:
    """Last trade (else minute/daily/previous bar close), latest bid/ask, daily volume."""
    what = f"snapshot {symbol}"
    trade = WIRE.obj(row.get("latestTrade") or {}, f"{what}.latestTrade")
    nbbo = WIRE.obj(row.get("latestQuote") or {}, f"{what}.latestQuote")
    daily = WIRE.obj(row.get("dailyBar") or {}, f"{what}.dailyBar")
    price = WIRE.opt_num(trade, "p", what) or 0.0
    for fallback in ("minuteBar", "dailyBar", "prevDailyBar"):
        if price > 0:
            break
        price = WIRE.opt_num(WIRE.obj(row.get(fallback) or {}, what), "c", what) or 0.0
    timed = next((part for part in (trade, nbbo, daily) if part.get("t")), None)
    if timed is None:
        WIRE.fail(f"{what} has no time")
    quote = Quote(
        symbol=symbol,
        price=price,
        bid=WIRE.opt_num(nbbo, "bp", what) or 0.0,
        ask=WIRE.opt_num(nbbo, "ap", what) or 0.0,
        volume=WIRE.opt_num(daily, "v", what) or 0.0,
        time=WIRE.rfc3339(timed, "t", what),
        provider=PROVIDER,
    )
    return WIRE.checked_quote(quote, now)


def parse_snapshots(body: object, now: datetime) -> QuoteBatch:
    """Stock snapshots are a top-level {sym: snapshot|null}; crypto ones are wrapped in
    {"snapshots": {...}}. Null (unknown symbol) entries are left out."""
    data = WIRE.obj(body, "snapshots")
    if "snapshots" in data and isinstance(data["snapshots"], Mapping):
        data = data["snapshots"]
    batch = QuoteBatch()
    for alpaca_symbol, row in data.items():
        name = canonical(alpaca_symbol)
        if name is None or row is None:
            continue
        try:
            batch[name] = snapshot_quote(WIRE.obj(row, f"snapshot {name}"), name, now)
        except BadProviderData as e:
            batch.rejected[name] = e
    return batch
