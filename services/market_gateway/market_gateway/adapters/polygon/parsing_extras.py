"""Polygon endpoints beyond quotes and bars: grouped daily, open-close, trade and quote
history (v3, with next_url), the crypto book, indicators and market status."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime
from typing import Any

from market_gateway.adapters.common.values import daily_start
from market_gateway.adapters.polygon.parsing import WIRE, bar_from
from market_gateway.adapters.polygon.schemas import PROVIDER, MarketHoliday, MarketStatus
from market_gateway.domain import (
    Bar,
    IndicatorPoint,
    IndicatorSeries,
    InvalidSymbol,
    Quote,
    Timeframe,
    Trade,
    parse_symbol,
)


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


def _next_url(data: Mapping[str, Any]) -> str | None:
    value = data.get("next_url")
    return value if isinstance(value, str) and value else None
