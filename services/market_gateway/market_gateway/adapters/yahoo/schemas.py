"""Yahoo chart v8 wire facts (provider-formats.md §4): path and intervals."""

from __future__ import annotations

from market_gateway.domain import Timeframe

PROVIDER = "yahoo"

INTERVALS: dict[Timeframe, str] = {
    Timeframe.ONE_MINUTE: "1m",
    Timeframe.FIVE_MINUTES: "5m",
    Timeframe.FIFTEEN_MINUTES: "15m",
    Timeframe.ONE_HOUR: "60m",
    Timeframe.ONE_DAY: "1d",
}


def chart_path(yahoo_symbol: str) -> str:
    return f"/v8/finance/chart/{yahoo_symbol}"
