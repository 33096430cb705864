"""Polygon/Massive WebSocket: `/stocks` (T, Q, AM) and `/crypto` (XT, XQ, XA) clusters.

Connect -> `connected`; `{"action":"auth","params":KEY}` -> `auth_success` or `auth_failed`
(then closed); `{"action":"subscribe","params":"T.AAPL,Q.*"}` -> one `success` status frame
per channel; data frames are arrays of events. Over the plan's connections per cluster the
new connection gets `max_connections` and is closed; no auth in time gets `auth_timeout`.
Each interval sends the latest trade and quote of every subscribed symbol while its market
is open, and a minute aggregate once per completed minute.
"""

from __future__ import annotations

import json
from typing import Any

from aiohttp import web

from market_gateway.domain import AssetClass, Symbol
from tools.provider_sim.market import Tick
from tools.provider_sim.providers.polygon_shapes import number, trade_conditions
from tools.provider_sim.providers.stream_base import Event, StreamProtocol, StreamSession
from tools.provider_sim.timefmt import epoch_ms

_CHANNELS = {"stocks": ("T", "Q", "AM"), "crypto": ("XT", "XQ", "XA")}


def status(state: str, message: str) -> list[Event]:
    return [{"ev": "status", "status": state, "message": message}]


class PolygonStream(StreamProtocol):
    async def stocks(self, request: web.Request) -> web.StreamResponse:
        return await self.serve(request, "stocks")

    async def crypto(self, request: web.Request) -> web.StreamResponse:
        return await self.serve(request, "crypto")

    async def welcome(self, session: StreamSession) -> None:
        await session.send(status("connected", "Connected Successfully"))

    async def on_auth_timeout(self, session: StreamSession) -> None:
        await session.send(status("auth_timeout", "No authentication request received."))
        await session.ws.close()

    async def on_text(self, session: StreamSession, text: str) -> None:
        try:
            message: Any = json.loads(text)
            action, params = message["action"], str(message.get("params", ""))
        except (ValueError, KeyError, TypeError):
            await session.send(status("error", "invalid message"))
            return
        if action == "auth":
            await self._auth(session, params)
        elif action in ("subscribe", "unsubscribe"):
            if not session.authenticated:
                await session.send(status("auth_required", "authentication required"))
                return
            for channel in (p.strip() for p in params.split(",") if p.strip()):
                prefix, _, ticker = channel.partition(".")
                if action == "subscribe":
                    session.subscriptions[prefix].add(ticker)
                    await self._mark_bars(session, prefix, ticker)
                    await session.send(status("success", f"subscribed to: {channel}"))
                else:
                    session.subscriptions[prefix].discard(ticker)
                    await session.send(status("success", f"unsubscribed to: {channel}"))
        else:
            await session.send(status("error", f"unknown action: {action}"))

    async def _auth(self, session: StreamSession, key: str) -> None:
        if key != self.provider.config.api_key:
            self.provider.ctx.counters.stream(self.provider.name).auth_failed += 1
            await session.send(status("auth_failed", "authentication failed"))
            await session.ws.close()
        elif self.over_connection_limit(session):
            await session.send(status("max_connections", "Maximum number of connections exceeded."))
            await session.ws.close()
        else:
            session.authenticated = True
            await session.send(status("auth_success", "authenticated"))

    def _symbols(self, session: StreamSession, prefix: str) -> list[Symbol]:
        asset = AssetClass.CRYPTO if session.cluster == "crypto" else AssetClass.STOCK
        names = session.subscriptions.get(prefix, set())
        if "*" in names:
            return self.provider.market.universe(asset)
        found = (self.provider.market.lookup(name) for name in sorted(names))
        return [s for s in found if s is not None and s.asset_class is asset]

    async def _mark_bars(self, session: StreamSession, prefix: str, ticker: str) -> None:
        """Aggregates start with the next completed minute, as on the real feed."""
        if prefix not in ("AM", "XA"):
            return
        for symbol in self._symbols(session, prefix):
            bar = await self.provider.market.last_minute(symbol)
            session.last_bar.setdefault(symbol.canonical, bar.start_time.timestamp() if bar else 0)

    async def events(self, session: StreamSession) -> list[Event]:
        trades, quotes, bars = _CHANNELS[session.cluster]
        market = self.provider.market
        events: list[Event] = []
        for symbol in self._symbols(session, trades):
            if market.is_open(symbol):
                events.append(_trade(await market.tick(symbol)))
        for symbol in self._symbols(session, quotes):
            if market.is_open(symbol):
                events.append(_quote(await market.tick(symbol)))
        for symbol in self._symbols(session, bars):
            bar = await market.last_minute(symbol)
            if bar is None or bar.start_time.timestamp() <= session.last_bar.get(
                symbol.canonical, 0
            ):
                continue
            session.last_bar[symbol.canonical] = bar.start_time.timestamp()
            today = await market.today(symbol)
            start, end = epoch_ms(bar.start_time), epoch_ms(bar.start_time) + 60_000
            event: Event = {
                "v": number(bar.volume), "vw": bar.vwap, "o": bar.open, "c": bar.close,
                "h": bar.high, "l": bar.low, "s": start, "e": end,
                "z": int(bar.volume / bar.trade_count) if bar.trade_count else 0,
            }  # fmt: skip
            if symbol.asset_class is AssetClass.CRYPTO:
                events.append({"ev": "XA", "pair": symbol.canonical, **event})
            else:
                av, op = (today.bar.volume, today.bar.open) if today else (bar.volume, bar.open)
                extra = {"av": number(av), "op": op, "a": today.bar.vwap if today else bar.vwap}
                events.append({"ev": "AM", "sym": symbol.canonical, **event, **extra})
        return events


def _trade(tick: Tick) -> Event:
    stamp = epoch_ms(tick.time)
    if tick.symbol.asset_class is AssetClass.CRYPTO:
        return {
            "ev": "XT", "pair": tick.symbol.canonical, "p": tick.price, "t": stamp,
            "s": tick.trade_size, "c": [1 + tick.trade_id % 2], "i": tick.trade_id, "x": 1,
            "r": stamp + 15,
        }  # fmt: skip
    return {
        "ev": "T", "sym": tick.symbol.canonical, "x": 4, "i": str(tick.trade_id), "z": 3,
        "p": tick.price, "s": number(tick.trade_size), "c": trade_conditions(tick) or [0],
        "t": stamp, "q": tick.sequence,
    }  # fmt: skip


def _quote(tick: Tick) -> Event:
    stamp = epoch_ms(tick.time)
    if tick.symbol.asset_class is AssetClass.CRYPTO:
        return {
            "ev": "XQ", "pair": tick.symbol.canonical, "bp": tick.bid, "bs": tick.bid_size,
            "ap": tick.ask, "as": tick.ask_size, "t": stamp, "x": 1, "r": stamp + 12,
        }  # fmt: skip
    return {
        "ev": "Q", "sym": tick.symbol.canonical, "bx": 4, "bp": tick.bid,
        "bs": int(tick.bid_size // 100), "ax": 7, "ap": tick.ask,
        "as": int(tick.ask_size // 100), "c": 0, "i": [604], "t": stamp, "q": tick.sequence,
        "z": 3,
    }  # fmt: skip
