"""Polygon JSON -> domain values, and the provider's spelling of symbols.

Tickers: stocks as themselves ("AAPL", "BRK.B"); crypto as "X:BTCUSD" over REST and
"BTC-USD" pairs on the crypto WebSocket. Times: bars in epoch ms (daily bars at 00:00 New
York), trades/quotes in ns, crypto trades in ms — `Wire.epoch` tells them apart.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from market_gateway.adapters.common.values import Wire, daily_start
from market_gateway.adapters.polygon.schemas import PROVIDER
from market_gateway.domain import (
    AssetClass,
    BadProviderData,
    Bar,
    Quote,
    QuoteBatch,
    Symbol,
    Timeframe,
    Trade,
)

WIRE = Wire(PROVIDER)
NEW_YORK = ZoneInfo("America/New_York")


def ticker_for(symbol: Symbol) -> str:
    """REST spelling: "AAPL", "BRK.B", "X:BTCUSD"."""
    if symbol.asset_class is AssetClass.CRYPTO:
        return "X:" + symbol.canonical.replace("-", "")
    return symbol.canonical


def ws_ticker_for(symbol: Symbol) -> str:
    """WebSocket spelling: "AAPL" on stocks, "BTC-USD" on crypto."""
    return symbol.canonical


def bar_from(row: Mapping[str, Any], timeframe: Timeframe, what: str) -> Bar:
    start = WIRE.epoch(row, "t", what)
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


def parse_aggregates(body: object, timeframe: Timeframe) -> tuple[list[Bar], str | None]:
    """/v2/aggs/ticker/.../range/...: bars in the answer's order, and the next_url cursor."""
    data = WIRE.obj(body, "aggregates")
    rows = WIRE.items(data.get("results") or [], "aggregates.results")
    bars = [bar_from(WIRE.obj(r, "bar"), timeframe, "bar") for r in rows]
    next_url = data.get("next_url")
    return bars, next_url if isinstance(next_url, str) and next_url else None


def parse_prev_close(body: object) -> Bar:
    """/v2/aggs/ticker/{t}/prev: the previous session's daily bar."""
    bars, _ = parse_aggregates(body, Timeframe.ONE_DAY)
    if not bars:
        WIRE.fail("previous close has no results")
    return bars[0]


def snapshot_quote(row: Mapping[str, Any], canonical: str, now: datetime) -> Quote:
    """One ticker of a snapshot: last trade (else minute/day/previous close), NBBO, day volume."""
    what = f"snapshot {canonical}"
    trade = WIRE.obj(row.get("lastTrade") or {}, f"{what}.lastTrade")
    nbbo = WIRE.obj(row.get("lastQuote") or {}, f"{what}.lastQuote")
    day = WIRE.obj(row.get("day") or {}, f"{what}.day")
    price = WIRE.opt_num(trade, "p", what) or 0.0
    for fallback in ("min", "day", "prevDay"):
        if price > 0:
            break
        price = WIRE.opt_num(WIRE.obj(row.get(fallback) or {}, what), "c", what) or 0.0
    if "t" in trade:
        time = WIRE.epoch(trade, "t", f"{what}.lastTrade")
    elif "updated" in row:
        time = WIRE.epoch(row, "updated", what)
    else:
        WIRE.fail(f"{what} has neither lastTrade.t nor updated")
    quote = Quote(
        symbol=canonical,
        price=price,
        bid=WIRE.opt_num(nbbo, "p", what) or 0.0,
        ask=WIRE.opt_num(nbbo, "P", what) or 0.0,
        volume=WIRE.opt_num(day, "v", what) or 0.0,
        time=time,
        provider=PROVIDER,
    )
    return WIRE.checked_quote(quote, now)


def parse_snapshot_tickers(body: object, wanted: Mapping[str, str], now: datetime) -> QuoteBatch:
    """Multi-ticker snapshot; `wanted` maps Polygon ticker -> canonical symbol. Tickers we
    did not ask for are ignored; a ticker whose data is bad goes to `rejected`."""
    data = WIRE.obj(body, "snapshot")
    batch = QuoteBatch()
    for raw in WIRE.items(data.get("tickers") or [], "snapshot.tickers"):
        row = WIRE.obj(raw, "snapshot ticker")
        canonical = wanted.get(WIRE.text(row, "ticker", "snapshot ticker"))
        if canonical is None:
            continue
        try:
            batch[canonical] = snapshot_quote(row, canonical, now)
        except BadProviderData as e:
            batch.rejected[canonical] = e
    return batch


def parse_snapshot_ticker(body: object, canonical: str, now: datetime) -> Quote:
    """Single-ticker snapshot {"ticker": {...}}."""
    data = WIRE.obj(body, "snapshot")
    return snapshot_quote(WIRE.obj(data.get("ticker"), "snapshot.ticker"), canonical, now)


def parse_last_trade(body: object, canonical: str) -> Trade:
    """/v2/last/trade/{t}: price p, size s, SIP time t (ns)."""
    row = WIRE.obj(WIRE.obj(body, "last trade").get("results"), "last trade.results")
    return Trade(
        symbol=canonical,
        price=WIRE.num(row, "p", "last trade"),
        size=WIRE.num(row, "s", "last trade"),
        time=WIRE.epoch(row, "t", "last trade"),
        provider=PROVIDER,
    )


def parse_last_nbbo(body: object, canonical: str, now: datetime) -> Quote:
    """/v2/last/nbbo/{t}: bid p/s, ask P/S; the quote's price is the midpoint."""
    row = WIRE.obj(WIRE.obj(body, "last nbbo").get("results"), "last nbbo.results")
    bid, ask = WIRE.num(row, "p", "last nbbo"), WIRE.num(row, "P", "last nbbo")
    quote = Quote(canonical, (bid + ask) / 2, bid, ask, 0.0, WIRE.epoch(row, "t", "nbbo"), PROVIDER)
    return WIRE.checked_quote(quote, now)


def parse_last_crypto(body: object, canonical: str) -> Trade:
    """Legacy /v1/last/crypto/{from}/{to}: {"last": {price, size, timestamp (ms)}}."""
    row = WIRE.obj(WIRE.obj(body, "last crypto").get("last"), "last crypto.last")
    return Trade(
        symbol=canonical,
        price=WIRE.num(row, "price", "last crypto"),
        size=WIRE.num(row, "size", "last crypto"),
        time=WIRE.epoch(row, "timestamp", "last crypto"),
        provider=PROVIDER,
    )


def wanted_tickers(symbols: Sequence[Symbol]) -> dict[str, str]:
    """Polygon ticker -> canonical symbol for a request."""
    return {ticker_for(s): s.canonical for s in symbols}
