"""Polygon / Massive REST client: a `QuoteSource` plus last trade/NBBO, previous close,
indicators and market status. Auth by `Authorization: Bearer` (never the apiKey query)."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

import httpx

from market_gateway.adapters.common.http import fetch
from market_gateway.adapters.common.paging import (
    MAX_PAGES,
    completed_in_window,
    lookback,
    relative_url,
    take,
)
from market_gateway.adapters.common.values import to_epoch_ms
from market_gateway.adapters.polygon import parsing, parsing_extras, schemas
from market_gateway.adapters.polygon.errors import check
from market_gateway.domain import (
    AssetClass,
    Bar,
    IndicatorSeries,
    Quote,
    QuoteBatch,
    Symbol,
    Timeframe,
    Trade,
)
from market_gateway.ports import Clock

Params = Mapping[str, str | int | float]


def auth_headers(api_key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {api_key}"}


class PolygonClient:
    """Batches quotes into one snapshot call per asset class (`tickers=A,B,...`)."""

    def __init__(
        self, http: httpx.AsyncClient, *, api_key: str, clock: Clock, name: str = schemas.PROVIDER
    ) -> None:
        self._http = http
        self._secrets = (api_key,)
        self._clock = clock
        self._name = name

    @property
    def name(self) -> str:
        return self._name

    async def get_quotes(self, symbols: Sequence[Symbol]) -> QuoteBatch:
        groups = [
            (
                schemas.STOCK_SNAPSHOT_PATH,
                [s for s in symbols if s.asset_class is AssetClass.STOCK],
            ),
            (
                schemas.CRYPTO_SNAPSHOT_PATH,
                [s for s in symbols if s.asset_class is AssetClass.CRYPTO],
            ),
        ]
        parts = await asyncio.gather(
            *(self._snapshot(path, group) for path, group in groups if group)
        )
        batch = QuoteBatch()
        for part in parts:
            batch.update(part)
            batch.rejected.update(part.rejected)
        return batch

    async def get_bars(
        self,
        symbol: Symbol,
        timeframe: Timeframe,
        start: datetime | None,
        end: datetime,
        limit: int,
    ) -> list[Bar]:
        newest = start is None
        since = start if start is not None else end - lookback(timeframe, limit, symbol.asset_class)
        if timeframe is Timeframe.ONE_DAY:  # daily bars are stamped 00:00 New York
            since -= timedelta(days=1)
        path = schemas.aggregates_path(
            parsing.ticker_for(symbol), timeframe, to_epoch_ms(since), to_epoch_ms(end)
        )
        params: Params | None = {
            "adjusted": "true",
            "sort": "desc" if newest else "asc",
            "limit": min(limit + 2, schemas.MAX_AGGREGATE_LIMIT),
        }
        collected: list[Bar] = []
        for _ in range(MAX_PAGES):
            body = await self._get(path, params, symbol=symbol.canonical)
            page, next_url = parsing.parse_aggregates(body, timeframe)
            collected.extend(completed_in_window(page, timeframe, start, end))
            if next_url is None or len(collected) >= limit:
                break
            path, params = relative_url(next_url), None
        return take(collected, limit, newest=newest)

    async def previous_close(self, symbol: Symbol) -> Bar:
        body = await self._get(schemas.prev_close_path(parsing.ticker_for(symbol)), None)
        return parsing.parse_prev_close(body)

    async def last_trade(self, symbol: Symbol) -> Trade:
        if symbol.asset_class is AssetClass.CRYPTO:
            base, quote = symbol.canonical.split("-")
            body = await self._get(schemas.last_crypto_path(base, quote), None, symbol=str(symbol))
            return parsing.parse_last_crypto(body, symbol.canonical)
        body = await self._get(schemas.last_trade_path(symbol.canonical), None, symbol=str(symbol))
        return parsing.parse_last_trade(body, symbol.canonical)

    async def last_quote(self, symbol: Symbol) -> Quote:
        """Best bid/ask (NBBO) with the midpoint as price; crypto via its snapshot."""
        if symbol.asset_class is AssetClass.CRYPTO:
            path = f"{schemas.CRYPTO_SNAPSHOT_PATH}/{parsing.ticker_for(symbol)}"
            body = await self._get(path, None, symbol=symbol.canonical)
            return parsing.parse_snapshot_ticker(body, symbol.canonical, self._clock.now())
        body = await self._get(schemas.last_nbbo_path(symbol.canonical), None, symbol=str(symbol))
        return parsing.parse_last_nbbo(body, symbol.canonical, self._clock.now())

    async def quote_history(
        self, symbol: Symbol, start: datetime, end: datetime, *, limit: int = 1000
    ) -> list[Quote]:
        """Best bid/ask changes of a stock in [start, end) from /v3/quotes, oldest first."""
        path: str = f"/v3/quotes/{parsing.ticker_for(symbol)}"
        params: Params | None = {
            "timestamp.gte": _epoch_ns(start),
            "timestamp.lt": _epoch_ns(end),
            "order": "desc",
            "sort": "timestamp",
            "limit": min(limit, schemas.MAX_AGGREGATE_LIMIT),
        }
        quotes: list[Quote] = []
        for _ in range(MAX_PAGES):
            body = await self._get(path, params, symbol=symbol.canonical)
            page, next_url = parsing_extras.parse_v3_quotes(
                body, symbol.canonical, self._clock.now()
            )
            quotes.extend(page)
            if next_url is None or len(quotes) >= limit:
                break
            path, params = relative_url(next_url), None
        quotes.sort(key=lambda q: q.time)
        return quotes[-limit:]

    async def indicator(
        self, symbol: Symbol, name: str, timeframe: Timeframe, *, window: int = 14, limit: int = 50
    ) -> IndicatorSeries:
        """Provider-computed "sma", "ema", "rsi" or "macd" over `timeframe` bars."""
        _, span = schemas.TIMESPANS[timeframe]
        params: dict[str, str | int | float] = {
            "timespan": span,
            "series_type": "close",
            "order": "desc",
            "limit": limit,
            "adjusted": "true",
        }
        if name != "macd":
            params["window"] = window
        path = schemas.indicator_path(name, parsing.ticker_for(symbol))
        body = await self._get(path, params, symbol=symbol.canonical)
        return parsing_extras.parse_indicator(body, symbol.canonical, name)

    async def market_status(self) -> schemas.MarketStatus:
        return parsing_extras.parse_market_status(await self._get("/v1/marketstatus/now", None))

    async def upcoming_holidays(self) -> list[schemas.MarketHoliday]:
        return parsing_extras.parse_upcoming_holidays(
            await self._get("/v1/marketstatus/upcoming", None)
        )

    async def _snapshot(self, path: str, symbols: list[Symbol]) -> QuoteBatch:
        wanted = parsing.wanted_tickers(symbols)
        body = await self._get(path, {"tickers": ",".join(wanted)})
        return parsing.parse_snapshot_tickers(body, wanted, self._clock.now())

    async def _get(self, path: str, params: Params | None, *, symbol: str | None = None) -> Any:
        raw = await fetch(self._http, path, provider=self._name, params=params)
        return check(raw, now=self._clock.now(), secrets=self._secrets, symbol=symbol)


def _epoch_ns(instant: datetime) -> int:
    return int(instant.timestamp()) * 1_000_000_000 + instant.microsecond * 1000
