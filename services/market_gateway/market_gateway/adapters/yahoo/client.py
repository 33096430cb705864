"""Yahoo chart v8 client (no key): a `QuoteSource`, one chart call per symbol."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

import httpx

from market_gateway.adapters.common.batch import quotes_one_by_one
from market_gateway.adapters.common.http import fetch
from market_gateway.adapters.common.paging import completed_in_window, lookback, take
from market_gateway.adapters.yahoo import parsing, schemas
from market_gateway.adapters.yahoo.errors import check
from market_gateway.domain import (
    Bar,
    Quote,
    QuoteBatch,
    Symbol,
    Timeframe,
)
from market_gateway.ports import Clock


class YahooClient:
    def __init__(
        self, http: httpx.AsyncClient, *, clock: Clock, name: str = schemas.PROVIDER
    ) -> None:
        self._http = http
        self._clock = clock
        self._name = name

    @property
    def name(self) -> str:
        return self._name

    async def get_quotes(self, symbols: Sequence[Symbol]) -> QuoteBatch:
        """Concurrent chart calls; unknown symbols are left out, bad data is `rejected`,
        any other failure fails the batch."""
        return await quotes_one_by_one(symbols, self._quote)

    async def get_bars(
        self,
        symbol: Symbol,
        timeframe: Timeframe,
        start: datetime | None,
        end: datetime,
        limit: int,
    ) -> list[Bar]:
        since = start or end - lookback(timeframe, limit, symbol.asset_class)
        params: dict[str, str | int] = {
            "period1": int(since.timestamp()),
            "period2": int(end.timestamp()),
            "interval": schemas.INTERVALS[timeframe],
            "includePrePost": "false",
        }
        result = await self._chart(symbol, params)
        bars = completed_in_window(parsing.parse_bars(result, timeframe), timeframe, start, end)
        return take(bars, limit, newest=start is None)

    async def _quote(self, symbol: Symbol) -> Quote:
        result = await self._chart(symbol, {"range": "1d", "interval": "1d"})
        return parsing.parse_quote(result, symbol.canonical, self._clock.now())

    async def _chart(self, symbol: Symbol, params: Mapping[str, str | int]) -> Mapping[str, Any]:
        path = schemas.chart_path(parsing.yahoo_symbol(symbol))
        raw = await fetch(self._http, path, provider=self._name, params=params)
        return check(raw, now=self._clock.now(), symbol=symbol.canonical)
