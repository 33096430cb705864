"""A tiny in-process WebSocket server that plays scripted sessions, one per connection."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from types import TracebackType

from websockets.asyncio.server import Server, ServerConnection, serve

Session = Callable[["Peer"], Awaitable[None]]


class Peer:
    """One accepted connection as a session sees it; records what the client sent."""

    def __init__(self, ws: ServerConnection) -> None:
        self.ws = ws
        self.received: list[str] = []

    @property
    def path(self) -> str:
        return self.ws.request.path if self.ws.request else ""

    async def send(self, frame: str) -> None:
        await self.ws.send(frame)

    async def recv(self) -> str:
        message = await self.ws.recv()
        text = message if isinstance(message, str) else message.decode()
        self.received.append(text)
        return text

    async def close(self) -> None:
        await self.ws.close()

    async def hold(self) -> None:
        """Keep the connection open until the client closes it."""
        try:
            async for message in self.ws:
                self.received.append(message if isinstance(message, str) else message.decode())
        except Exception:  # the client going away ends the session
            pass


class ScriptedServer:
    """Serves `sessions[i]` to the i-th connection (the last one repeats)."""

    def __init__(self, *sessions: Session) -> None:
        self._sessions = list(sessions)
        self.peers: list[Peer] = []
        self._server: Server | None = None

    @property
    def url(self) -> str:
        assert self._server is not None
        port = self._server.sockets[0].getsockname()[1]
        return f"ws://127.0.0.1:{port}"

    async def _handle(self, ws: ServerConnection) -> None:
        peer = Peer(ws)
        index = len(self.peers)
        self.peers.append(peer)
        session = self._sessions[min(index, len(self._sessions) - 1)]
        await session(peer)

    async def __aenter__(self) -> ScriptedServer:
        self._server = await serve(self._handle, "127.0.0.1", 0)
        return self

    async def __aexit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        assert self._server is not None
        self._server.close()
        await asyncio.wait_for(self._server.wait_closed(), 5)
