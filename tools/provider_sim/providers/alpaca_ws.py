"""Alpaca market-data stream: `/v2/iex`, `/v2/sip` (stocks) and `/v1beta3/crypto/us`.

Connect -> `[{"T":"success","msg":"connected"}]` (plus `authenticated` at once when the
upgrade carried valid APCA-API-* headers); `{"action":"auth","key":..,"secret":..}` ->
`authenticated` or error 402 (then closed); `subscribe` / `unsubscribe` with `trades`,
`quotes`, `bars` lists -> one `subscription` frame with the full current lists. Errors are
the documented codes: 400 invalid syntax, 401 not authenticated, 402 auth failed, 403
already authenticated, 404 auth timeout, 405 symbol limit exceeded (trades + quotes over
`stream.symbol_limit`), 406 connection limit exceeded. Data: `t` trades, `q` quotes, `b`
minute bars, as arrays.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from aiohttp import web

from market_gateway.domain import AssetClass, Symbol
from tools.provider_sim.providers.alpaca_shapes import bar_json, quote_json, symbol_text, trade_json
from tools.provider_sim.providers.base import ProviderBase
from tools.provider_sim.providers.stream_base import Event, StreamHub, StreamProtocol, StreamSession

_CHANNELS = ("trades", "quotes", "bars")
_ERRORS = {
    400: "invalid syntax",
    401: "not authenticated",
    402: "auth failed",
    403: "already authenticated",
    404: "auth timeout",
    405: "symbol limit exceeded",
    406: "connection limit exceeded",
}


def error(code: int) -> list[Event]:
    return [{"T": "error", "code": code, "msg": _ERRORS[code]}]


class AlpacaStream(StreamProtocol):
    def __init__(
        self,
        provider: ProviderBase,
        hub: StreamHub,
        outage: Callable[[ProviderBase], str | None],
        keys_valid: Callable[[Any, Any], bool],
    ) -> None:
        super().__init__(provider, hub, outage)
        self._keys_valid = keys_valid

    async def iex(self, request: web.Request) -> web.StreamResponse:
        return await self.serve(request, "iex")

    async def sip(self, request: web.Request) -> web.StreamResponse:
        return await self.serve(request, "sip")

    async def crypto(self, request: web.Request) -> web.StreamResponse:
        return await self.serve(request, "crypto")

    async def welcome(self, session: StreamSession) -> None:
        await session.send([{"T": "success", "msg": "connected"}])
        headers = session.request.headers
        if "APCA-API-KEY-ID" in headers:
            await self._auth(
                session, headers.get("APCA-API-KEY-ID"), headers.get("APCA-API-SECRET-KEY")
            )

    async def on_auth_timeout(self, session: StreamSession) -> None:
        await session.send(error(404))
        await session.ws.close()

    async def on_text(self, session: StreamSession, text: str) -> None:
        try:
            message: Any = json.loads(text)
            action = message["action"]
        except (ValueError, KeyError, TypeError):
            await session.send(error(400))
            return
        if action == "auth":
            if session.authenticated:
                await session.send(error(403))
            else:
                await self._auth(session, message.get("key"), message.get("secret"))
        elif action in ("subscribe", "unsubscribe"):
            await self._subscribe(session, message, add=action == "subscribe")
        else:
            await session.send(error(400))

    async def _auth(self, session: StreamSession, key: Any, secret: Any) -> None:
        provider = self.provider
        if not self._keys_valid(key, secret):
            provider.ctx.counters.stream(provider.name).auth_failed += 1
            await session.send(error(402))
            await session.ws.close()
        elif self.over_connection_limit(session):
            await session.send(error(406))
            await session.ws.close()
        else:
            session.authenticated = True
            await session.send([{"T": "success", "msg": "authenticated"}])

    async def _subscribe(
        self, session: StreamSession, message: dict[str, Any], *, add: bool
    ) -> None:
        if not session.authenticated:
            await session.send(error(401))
            return
        wanted: dict[str, set[str]] = {}
        for channel in _CHANNELS:
            names = message.get(channel) or []
            if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
                await session.send(error(400))
                return
            current = session.subscriptions[channel]
            wanted[channel] = current | set(names) if add else current - set(names)
        limit = self.stream_config.symbol_limit
        if limit is not None and session.cluster == "iex":
            if len(wanted["trades"]) + len(wanted["quotes"]) > limit:
                self.provider.ctx.counters.stream(self.provider.name).refused += 1
                await session.send(error(405))
                return
        for channel, names in wanted.items():
            session.subscriptions[channel] = names
        for symbol in self._symbols(session, "bars"):
            bar = await self.provider.market.last_minute(symbol)
            session.last_bar.setdefault(symbol.canonical, bar.start_time.timestamp() if bar else 0)
        lists = {channel: sorted(session.subscriptions[channel]) for channel in _CHANNELS}
        await session.send([{"T": "subscription", **lists}])

    def _symbols(self, session: StreamSession, channel: str) -> list[Symbol]:
        asset = AssetClass.CRYPTO if session.cluster == "crypto" else AssetClass.STOCK
        names = session.subscriptions.get(channel, set())
        if "*" in names:
            return self.provider.market.universe(asset)
        found = (self.provider.market.lookup(name) for name in sorted(names))
        return [s for s in found if s is not None and s.asset_class is asset]

    async def events(self, session: StreamSession) -> list[Event]:
        market = self.provider.market
        events: list[Event] = []
        for kind, channel, shape in (("t", "trades", trade_json), ("q", "quotes", quote_json)):
            for symbol in self._symbols(session, channel):
                if market.is_open(symbol):
                    tick = await market.tick(symbol)
                    events.append({"T": kind, "S": symbol_text(symbol), **shape(tick)})
        for symbol in self._symbols(session, "bars"):
            bar = await market.last_minute(symbol)
            if bar is None or bar.start_time.timestamp() <= session.last_bar.get(
                symbol.canonical, 0
            ):
                continue
            session.last_bar[symbol.canonical] = bar.start_time.timestamp()
            events.append({"T": "b", "S": symbol_text(symbol), **bar_json(bar)})
        return events
