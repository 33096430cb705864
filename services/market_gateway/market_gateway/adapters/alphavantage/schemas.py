"""Alpha Vantage wire facts: one endpoint, function names per data type, and the typed
values of endpoints without a domain counterpart. Shapes are in provider-formats.md §3."""

from __future__ import annotations

from dataclasses import dataclass

from market_gateway.domain import Timeframe

PROVIDER = "alphavantage"
QUERY_PATH = "/query"
COMPACT_POINTS = 100  # outputsize=compact returns the latest 100 points

INTERVALS: dict[Timeframe, str] = {
    Timeframe.ONE_MINUTE: "1min",
    Timeframe.FIVE_MINUTES: "5min",
    Timeframe.FIFTEEN_MINUTES: "15min",
    Timeframe.ONE_HOUR: "60min",
    Timeframe.ONE_DAY: "daily",
}

STOCK_QUOTE = "GLOBAL_QUOTE"
CRYPTO_QUOTE = "CURRENCY_EXCHANGE_RATE"
STOCK_INTRADAY = "TIME_SERIES_INTRADAY"
STOCK_DAILY = "TIME_SERIES_DAILY"
CRYPTO_INTRADAY = "CRYPTO_INTRADAY"
CRYPTO_DAILY = "DIGITAL_CURRENCY_DAILY"


@dataclass(frozen=True, slots=True)
class MarketState:
    """One market of MARKET_STATUS (Alpha Vantage's own hours: US close 16:15)."""

    market_type: str
    region: str
    local_open: str
    local_close: str
    is_open: bool


@dataclass(frozen=True, slots=True)
class SymbolMatch:
    """One SYMBOL_SEARCH best match."""

    symbol: str
    name: str
    region: str
    currency: str
    match_score: float
