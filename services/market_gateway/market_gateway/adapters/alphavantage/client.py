"""Alpha Vantage client: a `QuoteSource` (one call per symbol: the free API has no batch)
plus RSI/MACD. The key must travel as the `apikey` query parameter; errors and logs never
carry the URL (see common.http)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta

import httpx

from market_gateway.adapters.alphavantage import parsing, schemas
from market_gateway.adapters.alphavantage.errors import check
from market_gateway.adapters.common.batch import quotes_one_by_one
from market_gateway.adapters.common.http import fetch
from market_gateway.adapters.common.paging import completed_in_window, take
from market_gateway.domain import (
    AssetClass,
    Bar,
    IndicatorSeries,
    Quote,
    QuoteBatch,
    Symbol,
    Timeframe,
    UnknownSymbol,
)
from market_gateway.ports import Clock

Params = dict[str, str | int | float]


class AlphaVantageClient:
    def __init__(
        self,
        http: httpx.AsyncClient,
        *,
        api_key: str,
        clock: Clock,
        day_reset_offset: timedelta = timedelta(0),
        name: str = schemas.PROVIDER,
    ) -> None:
        self._http = http
        self._api_key = api_key
        self._clock = clock
        self._day_reset_offset = day_reset_offset
        self._name = name

    @property
    def name(self) -> str:
        return self._name

    async def get_quotes(self, symbols: Sequence[Symbol]) -> QuoteBatch:
        """GLOBAL_QUOTE per stock, CURRENCY_EXCHANGE_RATE per crypto pair, concurrently.
        A quota or outage error fails the whole batch; unknown symbols are left out."""
        return await quotes_one_by_one(symbols, self._quote)

    async def get_bars(
        self,
        symbol: Symbol,
        timeframe: Timeframe,
        start: datetime | None,
        end: datetime,
        limit: int,
    ) -> list[Bar]:
        params: Params
        interval = schemas.INTERVALS[timeframe]
        crypto = symbol.asset_class is AssetClass.CRYPTO
        if crypto:
            base, market = parsing.crypto_pair(symbol)
            params = {"symbol": base, "market": market}
            daily, intraday = schemas.CRYPTO_DAILY, schemas.CRYPTO_INTRADAY
        else:
            params = {"symbol": parsing.stock_symbol(symbol)}
            daily, intraday = schemas.STOCK_DAILY, schemas.STOCK_INTRADAY
        if timeframe is Timeframe.ONE_DAY:
            params["function"] = daily
        else:
            params |= {"function": intraday, "interval": interval}
        if not crypto or timeframe is not Timeframe.ONE_DAY:
            full = start is not None or limit > schemas.COMPACT_POINTS
            params["outputsize"] = "full" if full else "compact"
        body = await self._get(params, symbol=symbol.canonical)
        bars = completed_in_window(
            parsing.parse_time_series(body, timeframe), timeframe, start, end
        )
        return take(bars, limit, newest=start is None)

    async def rsi(
        self, symbol: Symbol, timeframe: Timeframe, *, period: int = 14
    ) -> IndicatorSeries:
        return await self.indicator(symbol, "RSI", timeframe, time_period=period)

    async def macd(self, symbol: Symbol, timeframe: Timeframe) -> IndicatorSeries:
        return await self.indicator(symbol, "MACD", timeframe)

    async def indicator(
        self, symbol: Symbol, function: str, timeframe: Timeframe, **extra: str | int
    ) -> IndicatorSeries:
        """Any indicator function (RSI, MACD, SMA, EMA...) on closing prices."""
        spelled = (
            "".join(parsing.crypto_pair(symbol))
            if symbol.asset_class is AssetClass.CRYPTO
            else parsing.stock_symbol(symbol)
        )
        params: Params = {
            "function": function,
            "symbol": spelled,
            "interval": schemas.INTERVALS[timeframe],
            "series_type": "close",
            **extra,
        }
        body = await self._get(params, symbol=symbol.canonical)
        return parsing.parse_indicator(body, symbol.canonical, function)

    async def _quote(self, symbol: Symbol) -> Quote:
        now = self._clock.now()
        if symbol.asset_class is AssetClass.CRYPTO:
            base, market = parsing.crypto_pair(symbol)
            params: Params = {
                "function": schemas.CRYPTO_QUOTE,
                "from_currency": base,
                "to_currency": market,
            }
            body = await self._get(params, symbol=symbol.canonical)
            return parsing.parse_exchange_rate(body, symbol.canonical, now)
        params = {"function": schemas.STOCK_QUOTE, "symbol": parsing.stock_symbol(symbol)}
        quote = parsing.parse_global_quote(
            await self._get(params, symbol=symbol.canonical), symbol.canonical, now
        )
        if quote is None:
            raise UnknownSymbol(symbol.canonical)
        return quote

    async def _get(self, params: Params, *, symbol: str | None) -> Mapping[str, object]:
        query = params | {"apikey": self._api_key, "datatype": "json"}
        raw = await fetch(self._http, schemas.QUERY_PATH, provider=self._name, params=query)
        return check(
            raw,
            now=self._clock.now(),
            secrets=(self._api_key,),
            symbol=symbol,
            day_reset_offset=self._day_reset_offset,
        )
