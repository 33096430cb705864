"""WebSocket sessions shared by the Polygon and Alpaca streams.

A provider's protocol answers control messages (auth, subscribe) and builds the data events
of one tick; this module runs the connection: the welcome frame, the auth timeout, one data
frame every `stream.interval_ms` (real time; prices come from the simulator clock) split at
`max_events_per_frame`, the per-cluster connection limit, outages and the `drop_after_frames`
fault (`abort`: the TCP connection is closed with no close frame; `close`: code 1001).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections import defaultdict
from collections.abc import Callable
from typing import Any

from aiohttp import WSMsgType, web

from tools.provider_sim.config import StreamConfig
from tools.provider_sim.providers.base import ProviderBase

Event = dict[str, Any]


class StreamSession:
    def __init__(self, ws: web.WebSocketResponse, request: web.Request, cluster: str) -> None:
        self.ws = ws
        self.request = request
        self.cluster = cluster
        self.authenticated = False
        self.subscriptions: defaultdict[str, set[str]] = defaultdict(set)
        self.frames = 0
        self.last_bar: dict[str, float] = {}  # symbol -> start of the last bar sent

    async def send(self, events: list[Event]) -> None:
        await self.ws.send_str(json.dumps(events, separators=(",", ":")))

    async def drop(self, mode: str) -> None:
        if mode == "close":
            await self.ws.close(code=1001, message=b"going away")
        elif self.request.transport is not None:
            self.request.transport.close()


class StreamProtocol:
    """What a provider's stream must say; subclasses implement the messages."""

    def __init__(
        self, provider: ProviderBase, hub: StreamHub, outage: Callable[[ProviderBase], str | None]
    ) -> None:
        self.provider = provider
        self.hub = hub
        self._outage = outage

    @property
    def stream_config(self) -> StreamConfig:
        return self.provider.config.stream

    async def welcome(self, session: StreamSession) -> None:
        raise NotImplementedError  # template hook: each provider's subclass overrides it

    async def on_text(self, session: StreamSession, text: str) -> None:
        raise NotImplementedError  # template hook: each provider's subclass overrides it

    async def on_auth_timeout(self, session: StreamSession) -> None:
        await session.ws.close()

    async def events(self, session: StreamSession) -> list[Event]:
        raise NotImplementedError  # template hook: each provider's subclass overrides it

    def over_connection_limit(self, session: StreamSession) -> bool:
        """True (and counted) when authenticating `session` would exceed the plan."""
        limit = self.stream_config.max_connections
        others = self.hub.authenticated(self.provider.name, session.cluster, besides=session)
        if limit is not None and others >= limit:
            self.provider.ctx.counters.stream(self.provider.name).refused += 1
            return True
        return False

    async def serve(self, request: web.Request, cluster: str) -> web.WebSocketResponse:
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        session = StreamSession(ws, request, cluster)
        tally = self.provider.ctx.counters.stream(self.provider.name)
        tally.connections += 1
        tally.open += 1
        self.hub.add(self.provider.name, session)
        pump = asyncio.create_task(self._pump(session))
        try:
            await self.welcome(session)
            async for message in ws:
                if message.type is WSMsgType.TEXT:
                    await self.on_text(session, message.data)
        finally:
            pump.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await pump
            self.hub.remove(self.provider.name, session)
            self.provider.ctx.counters.stream(self.provider.name).open -= 1
        return ws

    async def _pump(self, session: StreamSession) -> None:
        with contextlib.suppress(ConnectionError):
            await self._tick_until_closed(session)

    async def _tick_until_closed(self, session: StreamSession) -> None:
        name = self.provider.name
        waited = 0.0
        while not session.ws.closed:
            cfg = self.stream_config
            await asyncio.sleep(cfg.interval_ms / 1000.0)
            waited += cfg.interval_ms
            if self._outage(self.provider) is not None:
                self.provider.ctx.counters.stream(name).dropped += 1
                await session.drop("abort")
                return
            if not session.authenticated:
                if waited >= cfg.auth_timeout_ms:
                    await self.on_auth_timeout(session)
                    return
                continue
            events = await self.events(session)
            size = cfg.max_events_per_frame
            for i in range(0, len(events), size):
                await session.send(events[i : i + size])
                session.frames += 1
                tally = self.provider.ctx.counters.stream(name)
                tally.frames += 1
                tally.events += len(events[i : i + size])
                if cfg.drop_after_frames is not None and session.frames >= cfg.drop_after_frames:
                    tally.dropped += 1
                    await session.drop(cfg.drop_mode)
                    return


class StreamHub:
    """Open sessions per provider, for connection limits, outages and shutdown."""

    def __init__(self) -> None:
        self._sessions: defaultdict[str, set[StreamSession]] = defaultdict(set)

    def add(self, provider: str, session: StreamSession) -> None:
        self._sessions[provider].add(session)

    def remove(self, provider: str, session: StreamSession) -> None:
        self._sessions[provider].discard(session)

    def authenticated(self, provider: str, cluster: str, *, besides: StreamSession) -> int:
        return sum(
            1
            for s in self._sessions[provider]
            if s is not besides and s.cluster == cluster and s.authenticated and not s.ws.closed
        )

    async def close_all(self) -> None:
        for sessions in self._sessions.values():
            for session in list(sessions):
                await session.ws.close(code=1001, message=b"server shutdown")
