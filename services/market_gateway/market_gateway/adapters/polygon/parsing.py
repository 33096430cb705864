"""Polygon JSON -> domain values, and the provider's spelling of symbols.

Tickers: stocks as themselves ("AAPL", "BRK.B"); crypto as "X:BTCUSD" over REST and
"BTC-USD" pairs on the crypto WebSocket. Times: bars in epoch ms (daily bars at 00:00 New
York), trades/quotes in ns, crypto trades in ms — `Wire.epoch` tells them apart.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from market_gateway.adapters.common.values import Wire, daily_start
from market_gateway.adapters.polygon.schemas import PROVIDER, MarketHoliday, MarketStatus
from market_gateway.domain import (
    AssetClass,
    BadProviderData,
    Bar,
    IndicatorPoint,
    IndicatorSeries,
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


def parse_grouped_daily(body: object) -> dict[str, Bar]:
    """/v2/aggs/grouped/...: daily bars of the whole market keyed by canonical symbol;
    tickers the domain cannot spell (warrants, units...) are left out."""
    data = WIRE.obj(body, "grouped daily")
    bars: dict[str, Bar] = {}
    for raw in WIRE.items(data.get("results") or [], "grouped daily.results"):
        row = WIRE.obj(raw, "grouped bar")
        try:
            symbol = parse_symbol(WIRE.text(row, "T", "grouped bar"))
        except InvalidSymbol:
            continue
        bars[symbol.canonical] = bar_from(row, Timeframe.ONE_DAY, "grouped bar")
    return bars


def parse_daily_open_close(body: object) -> Bar:
    """/v1/open-close/{t}/{date}: one session's OHLCV."""
    data = WIRE.obj(body, "open-close")
    try:
        day = date.fromisoformat(WIRE.text(data, "from", "open-close"))
    except ValueError:
        WIRE.fail("open-close.from is not a date")
    return Bar(
        start_time=daily_start(day),
        open=WIRE.num(data, "open", "open-close"),
        high=WIRE.num(data, "high", "open-close"),
        low=WIRE.num(data, "low", "open-close"),
        close=WIRE.num(data, "close", "open-close"),
        volume=WIRE.num(data, "volume", "open-close"),
    )


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


def parse_v3_trades(body: object, canonical: str) -> tuple[list[Trade], str | None]:
    """/v3/trades/{t}: trades (newest first as sent) and the next_url cursor."""
    data = WIRE.obj(body, "trades")
    trades = [
        Trade(
            canonical,
            WIRE.num(row, "price", "trade"),
            WIRE.num(row, "size", "trade"),
            WIRE.epoch(row, "sip_timestamp", "trade"),
            PROVIDER,
        )
        for row in (WIRE.obj(r, "trade") for r in WIRE.items(data.get("results") or [], "trades"))
    ]
    return trades, _next_url(data)


def parse_v3_quotes(body: object, canonical: str, now: datetime) -> tuple[list[Quote], str | None]:
    """/v3/quotes/{t}: NBBO history (price = midpoint) and the next_url cursor."""
    data = WIRE.obj(body, "quotes")
    quotes: list[Quote] = []
    for raw in WIRE.items(data.get("results") or [], "quotes.results"):
        row = WIRE.obj(raw, "quote")
        bid, ask = WIRE.num(row, "bid_price", "quote"), WIRE.num(row, "ask_price", "quote")
        time = WIRE.epoch(row, "sip_timestamp", "quote")
        quotes.append(
            WIRE.checked_quote(
                Quote(canonical, (bid + ask) / 2, bid, ask, 0.0, time, PROVIDER), now
            )
        )
    return quotes, _next_url(data)


def parse_book(body: object, canonical: str, now: datetime) -> Quote:
    """Crypto L2 book snapshot: best bid (highest) and best ask (lowest); price = midpoint."""
    data = WIRE.obj(WIRE.obj(body, "book").get("data"), "book.data")
    bids = [WIRE.num(WIRE.obj(b, "bid"), "p", "bid") for b in WIRE.items(data.get("bids"), "bids")]
    asks = [WIRE.num(WIRE.obj(a, "ask"), "p", "ask") for a in WIRE.items(data.get("asks"), "asks")]
    if not bids or not asks:
        WIRE.fail("book has an empty side")
    bid, ask = max(bids), min(asks)
    time = WIRE.epoch(data, "updated", "book")
    return WIRE.checked_quote(Quote(canonical, (bid + ask) / 2, bid, ask, 0.0, time, PROVIDER), now)


def parse_indicator(body: object, canonical: str, name: str) -> IndicatorSeries:
    """/v1/indicators/{name}/{t}: values newest first -> a series oldest first."""
    results = WIRE.obj(WIRE.obj(body, "indicator").get("results"), "indicator.results")
    points = []
    for raw in WIRE.items(results.get("values") or [], "indicator.values"):
        row = WIRE.obj(raw, "indicator value")
        points.append(
            IndicatorPoint(
                time=WIRE.epoch(row, "timestamp", "indicator value"),
                value=WIRE.num(row, "value", "indicator value"),
                signal=WIRE.opt_num(row, "signal", "indicator value"),
                histogram=WIRE.opt_num(row, "histogram", "indicator value"),
            )
        )
    points.sort(key=lambda p: p.time)
    return IndicatorSeries(canonical, name, tuple(points), PROVIDER)


def parse_market_status(body: object) -> MarketStatus:
    data = WIRE.obj(body, "market status")
    try:
        server_time = datetime.fromisoformat(WIRE.text(data, "serverTime", "market status"))
    except ValueError:
        WIRE.fail("market status.serverTime is not ISO 8601")
    exchanges = WIRE.obj(data.get("exchanges") or {}, "market status.exchanges")
    currencies = WIRE.obj(data.get("currencies") or {}, "market status.currencies")
    return MarketStatus(
        market=WIRE.text(data, "market", "market status"),
        server_time=server_time,
        exchanges={str(k): str(v) for k, v in exchanges.items()},
        crypto_open=currencies.get("crypto") == "open",
    )


def parse_upcoming_holidays(body: object) -> list[MarketHoliday]:
    holidays = []
    for raw in WIRE.items(body, "upcoming"):
        row = WIRE.obj(raw, "holiday")
        try:
            day = date.fromisoformat(WIRE.text(row, "date", "holiday"))
            opens = datetime.fromisoformat(row["open"]) if "open" in row else None
            closes = datetime.fromisoformat(row["close"]) if "close" in row else None
        except (ValueError, TypeError):
            WIRE.fail("holiday has a malformed date or time")
        holidays.append(
            MarketHoliday(
                exchange=WIRE.text(row, "exchange", "holiday"),
                name=WIRE.text(row, "name", "holiday"),
                day=day,
                status=WIRE.text(row, "status", "holiday"),
                open=opens,
                close=closes,
            )
        )
    return holidays


def wanted_tickers(symbols: Sequence[Symbol]) -> dict[str, str]:
    """Polygon ticker -> canonical symbol for a request."""
    return {ticker_for(s): s.canonical for s in symbols}


def _next_url(data: Mapping[str, Any]) -> str | None:
    value = data.get("next_url")
    return value if isinstance(value, str) and value else None
