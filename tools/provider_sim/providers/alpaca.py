"""Alpaca market data: stocks v2 and crypto v1beta3 (multi-symbol bars, latest bars / trades
/ quotes, snapshots). Auth: `APCA-API-KEY-ID` + `APCA-API-SECRET-KEY` headers (crypto needs
none; wrong ones are still refused). Every answer carries `X-RateLimit-*` as Alpaca
documents. Errors: `{"code": 42210000, "message": "invalid timeframe"}`; no keys ->
401 `{"message": "unauthorized."}`; wrong keys -> 403 `{"message": "forbidden."}`.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, ClassVar

from aiohttp import web

from market_gateway.domain import AssetClass, Symbol
from tools.provider_sim.providers.alpaca_bars import historical_bars
from tools.provider_sim.providers.alpaca_shapes import (
    bar_json,
    daily_json,
    quote_json,
    symbol_text,
    trade_json,
)
from tools.provider_sim.providers.alpaca_ws import AlpacaStream
from tools.provider_sim.providers.base import (
    ProviderBase,
    Route,
    count_symbols,
    json_response,
    split_symbols,
)
from tools.provider_sim.quotas import QuotaDecision
from tools.provider_sim.urls import BASE_PATHS, WS_PATHS

_CRYPTO = "/v1beta3/crypto/us"
Latest = Callable[[Symbol], Awaitable[Any]]


class Alpaca(ProviderBase):
    name = "alpaca"
    base_path: ClassVar[str] = BASE_PATHS["alpaca"]
    stream_path: ClassVar[str] = WS_PATHS["alpaca"]
    rate_limit_headers_always: ClassVar[bool] = True

    def routes(self) -> list[Route]:
        stock, crypto = AssetClass.STOCK, AssetClass.CRYPTO
        routes = []
        for asset, prefix, latest in ((stock, "/v2/stocks", ""), (crypto, _CRYPTO, "/latest")):
            routes += [
                Route("GET", f"{prefix}/bars", self._bars(asset)),
                Route("GET", f"{prefix}{latest}/bars" + ("/latest" if asset is stock else ""),
                      self._latest(asset, "bars", self._latest_bar)),
                Route("GET", f"{prefix}{latest}/trades" + ("/latest" if asset is stock else ""),
                      self._latest(asset, "trades", self._latest_trade)),
                Route("GET", f"{prefix}{latest}/quotes" + ("/latest" if asset is stock else ""),
                      self._latest(asset, "quotes", self._latest_quote)),
                Route("GET", f"{prefix}/snapshots", self._snapshots(asset)),
            ]  # fmt: skip
        return routes

    def stream_routes(self, hub: Any, outage: Callable[[ProviderBase], str | None]) -> list[Route]:
        stream = AlpacaStream(self, hub, outage, self.keys_valid)
        return [
            Route("WS", "/v2/iex", stream.iex),
            Route("WS", "/v2/sip", stream.sip),
            Route("WS", _CRYPTO, stream.crypto),
        ]

    def keys_valid(self, key_id: str | None, secret: str | None) -> bool:
        return key_id == self.config.api_key and secret == self.config.secret_key

    def authenticate(self, request: web.Request) -> web.Response | None:
        key_id = request.headers.get("APCA-API-KEY-ID")
        secret = request.headers.get("APCA-API-SECRET-KEY")
        crypto = request.path.startswith(self.base_path + _CRYPTO)
        if key_id is None and secret is None:
            return None if crypto else json_response({"message": "unauthorized."}, 401)
        return (
            None
            if self.keys_valid(key_id, secret)
            else json_response({"message": "forbidden."}, 403)
        )

    def rate_limited(self, decision: QuotaDecision) -> web.Response:
        return self.error(429, 42910000, "rate limit exceeded")

    def server_error(self, status: int) -> web.Response:
        return self.error(status, 50010000, "internal server error occurred")

    def error(self, status: int, code: int, message: str) -> web.Response:
        return json_response({"code": code, "message": message}, status)

    def _bars(self, asset: AssetClass) -> Callable[[web.Request], Awaitable[web.Response]]:
        async def handler(request: web.Request) -> web.Response:
            return await historical_bars(self, request, asset)

        return handler

    def _symbols(self, request: web.Request, asset: AssetClass) -> list[tuple[str, Symbol | None]]:
        raw = split_symbols(request.query.get("symbols"))
        count_symbols(request, len(raw))
        found = []
        for text in raw:
            symbol = self.market.lookup(text)
            found.append((text, symbol if symbol and symbol.asset_class is asset else None))
        return found

    def _latest(
        self, asset: AssetClass, key: str, item: Latest
    ) -> Callable[[web.Request], Awaitable[web.Response]]:
        async def handler(request: web.Request) -> web.Response:
            found: dict[str, Any] = {}
            for _, symbol in self._symbols(request, asset):
                value = await item(symbol) if symbol is not None else None
                if symbol is not None and value is not None:
                    found[symbol_text(symbol)] = value
            return json_response({key: found})

        return handler

    async def _latest_bar(self, symbol: Symbol) -> dict[str, Any] | None:
        bar = await self.market.last_minute(symbol)
        return bar_json(bar) if bar is not None else None

    async def _latest_trade(self, symbol: Symbol) -> dict[str, Any]:
        return trade_json(await self.market.tick(symbol))

    async def _latest_quote(self, symbol: Symbol) -> dict[str, Any]:
        return quote_json(await self.market.tick(symbol))

    def _snapshots(self, asset: AssetClass) -> Callable[[web.Request], Awaitable[web.Response]]:
        async def handler(request: web.Request) -> web.Response:
            found: dict[str, Any] = {}
            for text, symbol in self._symbols(request, asset):
                if symbol is None:
                    found[text] = None
                    continue
                market, tick = self.market, await self.market.tick(symbol)
                minute = await market.last_minute(symbol)
                found[symbol_text(symbol)] = {
                    "latestTrade": trade_json(tick),
                    "latestQuote": quote_json(tick),
                    "minuteBar": bar_json(minute) if minute is not None else None,
                    "dailyBar": daily_json(symbol, await market.today(symbol)),
                    "prevDailyBar": daily_json(symbol, await market.previous_day(symbol)),
                }
            body = found if asset is AssetClass.STOCK else {"snapshots": found}
            return json_response(body)

        return handler
