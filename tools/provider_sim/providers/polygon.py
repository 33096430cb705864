"""Polygon.io / Massive REST: snapshots (many tickers per call), aggregates with next_url
paging, previous close, last trade / NBBO, crypto (X:BTCUSD). Auth: `apiKey=` query or
`Authorization: Bearer`; errors carry `status: "ERROR"` and an `error` text.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, ClassVar

from aiohttp import web

from market_gateway.domain import AssetClass, Symbol
from tools.provider_sim.providers import polygon_aggs
from tools.provider_sim.providers.base import (
    ProviderBase,
    Route,
    bearer_token,
    count_symbols,
    json_response,
    split_symbols,
)
from tools.provider_sim.providers.polygon_shapes import (
    last_quote_json,
    last_trade_json,
    prev_close_json,
    snapshot_json,
)
from tools.provider_sim.providers.polygon_ws import PolygonStream
from tools.provider_sim.quotas import QuotaDecision
from tools.provider_sim.timefmt import epoch_ms
from tools.provider_sim.urls import BASE_PATHS, WS_PATHS

_STOCKS = "/v2/snapshot/locale/us/markets/stocks/tickers"
_CRYPTO = "/v2/snapshot/locale/global/markets/crypto/tickers"
RATE_LIMIT_TEXT = (
    "You've exceeded the maximum requests per minute, please wait or upgrade your "
    "subscription to continue. https://polygon.io/pricing"
)


class Polygon(ProviderBase):
    name = "polygon"
    base_path: ClassVar[str] = BASE_PATHS["polygon"]
    stream_path: ClassVar[str] = WS_PATHS["polygon"]

    def routes(self) -> list[Route]:
        return [
            Route("GET", _STOCKS, self.snapshot_many),
            Route("GET", _STOCKS + "/{ticker}", self.snapshot_one),
            Route("GET", _CRYPTO, self.snapshot_many),
            Route("GET", _CRYPTO + "/{ticker}", self.snapshot_one),
            Route(
                "GET",
                "/v2/aggs/ticker/{ticker}/range/{multiplier}/{timespan}/{from}/{to}",
                self.aggregates,
            ),
            Route("GET", "/v2/aggs/ticker/{ticker}/prev", self.previous_close),
            Route("GET", "/v2/last/trade/{ticker}", self.last_trade),
            Route("GET", "/v2/last/nbbo/{ticker}", self.last_nbbo),
            Route("GET", "/v1/last/crypto/{base}/{quote}", self.last_crypto),
        ]

    def stream_routes(self, hub: Any, outage: Callable[[ProviderBase], str | None]) -> list[Route]:
        stream = PolygonStream(self, hub, outage)
        return [Route("WS", "/stocks", stream.stocks), Route("WS", "/crypto", stream.crypto)]

    def authenticate(self, request: web.Request) -> web.Response | None:
        key = request.query.get("apiKey") or bearer_token(request)
        if not key:
            return self.error(401, "API Key was not provided")
        return None if key == self.config.api_key else self.error(401, "Unknown API Key")

    def rate_limited(self, decision: QuotaDecision) -> web.Response:
        return self.error(429, RATE_LIMIT_TEXT)

    def server_error(self, status: int) -> web.Response:
        return self.error(status, "Internal server error, please try again later.")

    def error(self, status: int, text: str) -> web.Response:
        body = {"status": "ERROR", "request_id": self.request_id(), "error": text}
        return json_response(body, status)

    def not_found(self, text: str = "Data not found.") -> web.Response:
        body = {"status": "NOT_FOUND", "request_id": self.request_id(), "message": text}
        return json_response(body, 404)

    async def snapshot_many(self, request: web.Request) -> web.Response:
        crypto = request.path.rstrip("/").endswith(_CRYPTO)
        asset = AssetClass.CRYPTO if crypto else AssetClass.STOCK
        raw = split_symbols(request.query.get("tickers"))
        symbols = [self.market.lookup(t) for t in raw] if raw else self.market.universe(asset)
        count_symbols(request, len(raw) or len(symbols))
        found = [s for s in symbols if s is not None and s.asset_class is asset]
        tickers = [await self._snapshot(symbol) for symbol in found]
        body: dict[str, Any] = {"status": "OK", "tickers": tickers}
        if not crypto:
            body = {"count": len(tickers), **body}
        return json_response(body)

    async def snapshot_one(self, request: web.Request) -> web.Response:
        count_symbols(request, 1)
        symbol = self.market.lookup(request.match_info["ticker"])
        if symbol is None:
            return self.not_found("Ticker not found.")
        entry = await self._snapshot(symbol)
        return json_response({"request_id": self.request_id(), "status": "OK", "ticker": entry})

    async def _snapshot(self, symbol: Symbol) -> dict[str, Any]:
        market = self.market
        return snapshot_json(
            await market.tick(symbol),
            await market.today(symbol),
            await market.last_minute(symbol),
            await market.previous_day(symbol),
        )

    async def aggregates(self, request: web.Request) -> web.Response:
        count_symbols(request, 1)
        return await polygon_aggs.aggregates(self, request)

    async def previous_close(self, request: web.Request) -> web.Response:
        count_symbols(request, 1)
        ticker = request.match_info["ticker"]
        symbol = self.market.lookup(ticker)
        prev = await self.market.previous_day(symbol) if symbol is not None else None
        results = [prev_close_json(symbol, prev)] if symbol is not None and prev else []
        adjusted = request.query.get("adjusted", "true") != "false"
        body: dict[str, Any] = {
            "ticker": ticker,
            "queryCount": len(results),
            "resultsCount": len(results),
            "adjusted": adjusted,
            "results": results,
            "status": "OK",
            "request_id": self.request_id(),
            "count": len(results),
        }
        if not results:
            del body["results"]
        return json_response(body)

    async def last_trade(self, request: web.Request) -> web.Response:
        count_symbols(request, 1)
        symbol = self.market.lookup(request.match_info["ticker"])
        if symbol is None or symbol.asset_class is not AssetClass.STOCK:
            return self.not_found()
        results = last_trade_json(await self.market.tick(symbol))
        return json_response({"results": results, "status": "OK", "request_id": self.request_id()})

    async def last_nbbo(self, request: web.Request) -> web.Response:
        count_symbols(request, 1)
        symbol = self.market.lookup(request.match_info["ticker"])
        if symbol is None or symbol.asset_class is not AssetClass.STOCK:
            return self.not_found()
        results = last_quote_json(await self.market.tick(symbol))
        return json_response({"results": results, "status": "OK", "request_id": self.request_id()})

    async def last_crypto(self, request: web.Request) -> web.Response:
        count_symbols(request, 1)
        base, quote = request.match_info["base"], request.match_info["quote"]
        symbol = self.market.lookup(f"{base}-{quote}")
        if symbol is None or symbol.asset_class is not AssetClass.CRYPTO:
            return self.not_found()
        tick = await self.market.tick(symbol)
        last = {
            "conditions": [1 + tick.trade_id % 2],
            "exchange": 1 + tick.trade_id % 4,
            "price": tick.price,
            "size": tick.trade_size,
            "timestamp": epoch_ms(tick.time),
        }
        body = {"last": last, "request_id": self.request_id(), "status": "success"}
        return json_response({**body, "symbol": symbol.canonical})
