"""Alpaca market-data REST client: a `QuoteSource` (snapshots; bars with next_page_token
paging) plus multi-symbol bars and latest trades/quotes/bars. Auth by APCA-* headers."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

import httpx

from market_gateway.adapters.alpaca import parsing, schemas
from market_gateway.adapters.alpaca.errors import check
from market_gateway.adapters.common.http import fetch
from market_gateway.adapters.common.paging import MAX_PAGES, completed_in_window, lookback, take
from market_gateway.domain import AssetClass, Bar, QuoteBatch, Symbol, Timeframe, Trade
from market_gateway.ports import Clock

T = TypeVar("T")
Params = dict[str, str | int | float]


def auth_headers(key_id: str, secret_key: str) -> dict[str, str]:
    return {"APCA-API-KEY-ID": key_id, "APCA-API-SECRET-KEY": secret_key}


def rfc3339(instant: datetime) -> str:
    return instant.astimezone(UTC).isoformat().replace("+00:00", "Z")


class AlpacaClient:
    """One call per asset class for any number of symbols (`symbols=A,B,...`)."""

    def __init__(
        self,
        http: httpx.AsyncClient,
        *,
        key_id: str,
        secret_key: str,
        clock: Clock,
        feed: str = schemas.DEFAULT_FEED,
        name: str = schemas.PROVIDER,
    ) -> None:
        self._http = http
        self._secrets = (key_id, secret_key)
        self._clock = clock
        self._feed = feed
        self._name = name

    @property
    def name(self) -> str:
        return self._name

    async def get_quotes(self, symbols: Sequence[Symbol]) -> QuoteBatch:
        async def snapshots(asset: AssetClass, group: list[Symbol]) -> QuoteBatch:
            body = await self._get(schemas.snapshots_path(asset), self._params(asset, group))
            return parsing.parse_snapshots(body, self._clock.now())

        batch = QuoteBatch()
        for part in await self._per_asset_class(symbols, snapshots):
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
        bars = await self.get_bars_multi([symbol], timeframe, start, end, limit)
        return bars.get(symbol.canonical, [])

    async def get_bars_multi(
        self,
        symbols: Sequence[Symbol],
        timeframe: Timeframe,
        start: datetime | None,
        end: datetime,
        limit: int,
    ) -> dict[str, list[Bar]]:
        """Completed bars per canonical symbol, oldest first (see QuoteSource.get_bars)."""

        async def history(asset: AssetClass, group: list[Symbol]) -> dict[str, list[Bar]]:
            newest = start is None
            since = start or end - lookback(timeframe, limit, asset)
            if timeframe is Timeframe.ONE_DAY:  # daily bars are stamped 00:00 New York
                since -= timedelta(days=1)
            params = self._params(asset, group)
            params |= {
                "timeframe": schemas.TIMEFRAMES[timeframe],
                "start": rfc3339(since),
                "end": rfc3339(end),
                "limit": min((limit + 2) * len(group), schemas.MAX_PAGE_LIMIT),
                "sort": "desc" if newest else "asc",
                "adjustment": "raw",
            }
            collected: dict[str, list[Bar]] = {s.canonical: [] for s in group}
            path = schemas.history_path(asset, "bars")
            for _ in range(MAX_PAGES):
                page, token = parsing.parse_bars_page(await self._get(path, params), timeframe)
                for name, bars in page.items():
                    if name in collected:
                        collected[name] += completed_in_window(bars, timeframe, start, end)
                if token is None or all(len(b) >= limit for b in collected.values()):
                    break
                params = params | {"page_token": token}
            return {name: take(bars, limit, newest=newest) for name, bars in collected.items()}

        merged: dict[str, list[Bar]] = {}
        for part in await self._per_asset_class(symbols, history):
            merged.update(part)
        return merged

    async def trade_history(
        self, symbols: Sequence[Symbol], start: datetime, end: datetime, *, limit: int = 1000
    ) -> dict[str, list[Trade]]:
        """Trades per symbol in [start, end], oldest first, following next_page_token (a
        page may end inside one symbol's trades and the next continue with another's)."""

        async def history(asset: AssetClass, group: list[Symbol]) -> dict[str, list[Trade]]:
            params = self._params(asset, group)
            params |= {"start": rfc3339(start), "end": rfc3339(end), "limit": min(limit, 10_000)}
            collected: dict[str, list[Trade]] = {s.canonical: [] for s in group}
            path = schemas.history_path(asset, "trades")
            for _ in range(MAX_PAGES):
                page, token = parsing.parse_trades_page(await self._get(path, params))
                for name, trades in page.items():
                    collected.setdefault(name, []).extend(trades)
                if token is None:
                    break
                params = params | {"page_token": token}
            return {n: sorted(t, key=lambda x: x.time)[:limit] for n, t in collected.items()}

        return _merge(await self._per_asset_class(symbols, history))

    async def latest_trades(self, symbols: Sequence[Symbol]) -> dict[str, Trade]:
        async def latest(asset: AssetClass, group: list[Symbol]) -> dict[str, Trade]:
            body = await self._get(schemas.latest_path(asset, "trades"), self._params(asset, group))
            return parsing.parse_latest_trades(body)

        return _merge(await self._per_asset_class(symbols, latest))

    async def latest_quotes(self, symbols: Sequence[Symbol]) -> QuoteBatch:
        """Best bid/ask per symbol; the quote's price is the midpoint."""

        async def latest(asset: AssetClass, group: list[Symbol]) -> QuoteBatch:
            body = await self._get(schemas.latest_path(asset, "quotes"), self._params(asset, group))
            return parsing.parse_latest_quotes(body, self._clock.now())

        batch = QuoteBatch()
        for part in await self._per_asset_class(symbols, latest):
            batch.update(part)
            batch.rejected.update(part.rejected)
        return batch

    async def latest_bars(self, symbols: Sequence[Symbol]) -> dict[str, Bar]:
        """The latest 1-minute bar per symbol."""

        async def latest(asset: AssetClass, group: list[Symbol]) -> dict[str, Bar]:
            body = await self._get(schemas.latest_path(asset, "bars"), self._params(asset, group))
            return parsing.parse_latest_bars(body)

        return _merge(await self._per_asset_class(symbols, latest))

    def _params(self, asset: AssetClass, group: Sequence[Symbol]) -> Params:
        params: Params = {"symbols": ",".join(parsing.symbol_for(s) for s in group)}
        if asset is AssetClass.STOCK:
            params["feed"] = self._feed
        return params

    async def _per_asset_class(
        self,
        symbols: Sequence[Symbol],
        call: Callable[[AssetClass, list[Symbol]], Awaitable[T]],
    ) -> list[T]:
        groups = {
            asset: [s for s in symbols if s.asset_class is asset]
            for asset in (AssetClass.STOCK, AssetClass.CRYPTO)
        }
        return list(
            await asyncio.gather(*(call(asset, group) for asset, group in groups.items() if group))
        )

    async def _get(self, path: str, params: Params) -> Any:
        raw = await fetch(self._http, path, provider=self._name, params=params)
        return check(raw, now=self._clock.now(), secrets=self._secrets)


def _merge(parts: list[dict[str, T]]) -> dict[str, T]:
    merged: dict[str, T] = {}
    for part in parts:
        merged.update(part)
    return merged
