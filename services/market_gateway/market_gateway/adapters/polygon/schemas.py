"""Polygon / Massive wire facts: paths, timespans, and the typed values of endpoints
that have no domain counterpart (market status). Shapes are in provider-formats.md §1."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from market_gateway.domain import Timeframe

PROVIDER = "polygon"
MAX_AGGREGATE_LIMIT = 50_000

STOCK_SNAPSHOT_PATH = "/v2/snapshot/locale/us/markets/stocks/tickers"
CRYPTO_SNAPSHOT_PATH = "/v2/snapshot/locale/global/markets/crypto/tickers"

# Timeframe -> (multiplier, timespan) of /v2/aggs/ticker/{t}/range/{m}/{span}/{from}/{to}
TIMESPANS: dict[Timeframe, tuple[int, str]] = {
    Timeframe.ONE_MINUTE: (1, "minute"),
    Timeframe.FIVE_MINUTES: (5, "minute"),
    Timeframe.FIFTEEN_MINUTES: (15, "minute"),
    Timeframe.ONE_HOUR: (1, "hour"),
    Timeframe.ONE_DAY: (1, "day"),
}


def aggregates_path(ticker: str, timeframe: Timeframe, start_ms: int, end_ms: int) -> str:
    multiplier, span = TIMESPANS[timeframe]
    return f"/v2/aggs/ticker/{ticker}/range/{multiplier}/{span}/{start_ms}/{end_ms}"


def prev_close_path(ticker: str) -> str:
    return f"/v2/aggs/ticker/{ticker}/prev"


def last_trade_path(ticker: str) -> str:
    return f"/v2/last/trade/{ticker}"


def last_nbbo_path(ticker: str) -> str:
    return f"/v2/last/nbbo/{ticker}"


def last_crypto_path(base: str, quote: str) -> str:
    return f"/v1/last/crypto/{base}/{quote}"


def indicator_path(name: str, ticker: str) -> str:
    return f"/v1/indicators/{name}/{ticker}"


@dataclass(frozen=True, slots=True)
class MarketStatus:
    """GET /v1/marketstatus/now: overall market state and per-exchange states."""

    market: str  # "open", "closed", "extended-hours"
    server_time: datetime
    exchanges: dict[str, str]
    crypto_open: bool


@dataclass(frozen=True, slots=True)
class MarketHoliday:
    """One entry of GET /v1/marketstatus/upcoming; early closes carry their hours (UTC)."""

    exchange: str
    name: str
    day: date
    status: str  # "closed" | "early-close"
    open: datetime | None = None
    close: datetime | None = None
