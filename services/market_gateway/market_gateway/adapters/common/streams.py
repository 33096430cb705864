"""Pieces of the WebSocket feeds: the messages a provider protocol decodes frames into, the
full-jitter backoff, REST back-fill over any `QuoteSource`, and merging feeds."""

from __future__ import annotations

import asyncio
import contextlib
import math
import random
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal, Protocol, TypeVar, cast

from market_gateway.domain import (
    Bar,
    ProviderUnavailable,
    Quote,
    Symbol,
    Timeframe,
    UpdateKind,
)
from market_gateway.ports import QuoteSource

MAX_BACKFILL_BARS = 5000
T = TypeVar("T")


ControlKind = Literal["connected", "authenticated", "subscribed"]


@dataclass(frozen=True, slots=True)
class Control:
    """A control frame of the handshake or subscription."""

    kind: ControlKind
    detail: str = ""


@dataclass(frozen=True, slots=True)
class Tick:
    """One data event for a symbol, before it is folded into the symbol's quote.
    `silent` ticks (e.g. a day-volume refresh) update the quote without an event."""

    symbol: str
    kind: UpdateKind
    time: datetime
    price: float | None = None
    size: float = 0.0
    bid: float | None = None
    ask: float | None = None
    day_volume: float | None = None
    bar: Bar | None = None
    silent: bool = False


FeedMessage = Control | Tick | ProviderUnavailable


class FeedProtocol(Protocol):
    """One provider's WebSocket dialect for one cluster (stocks or crypto)."""

    @property
    def provider(self) -> str: ...

    def url(self) -> str: ...

    def auth_message(self) -> str:
        """The JSON text that authenticates (holds the secret: never log it)."""
        ...

    def subscribe_messages(self, symbols: Sequence[Symbol]) -> list[str]: ...

    def decode(self, frame: str | bytes) -> list[FeedMessage]:
        """A frame (a JSON array of events) as messages; errors the provider reports are
        returned as classified `ProviderUnavailable`s; a frame that is not JSON raises
        `BadProviderData`."""
        ...


class Backoff:
    """Exponential backoff with full jitter: uniform(0, min(cap, base * 2^(attempt-1)))."""

    def __init__(
        self, *, base: float = 0.5, cap: float = 30.0, rand: Callable[[], float] = random.random
    ) -> None:
        self._base, self._cap, self._rand = base, cap, rand

    def delay(self, attempt: int) -> float:
        ceiling = min(self._cap, self._base * 2.0 ** min(max(attempt - 1, 0), 30))
        return self._rand() * ceiling


Backfill = Callable[[Symbol, datetime, datetime], Awaitable[tuple[list[Bar], Quote | None]]]


def rest_backfill(source: QuoteSource) -> Backfill:
    """Back-fill over a provider's REST client: 1-minute bars from the minute of `since`
    to `until`, and the latest quote."""

    async def backfill(
        symbol: Symbol, since: datetime, until: datetime
    ) -> tuple[list[Bar], Quote | None]:
        start = since.replace(second=0, microsecond=0)
        minutes = math.ceil((until - start) / timedelta(minutes=1)) + 1
        bars = await source.get_bars(
            symbol, Timeframe.ONE_MINUTE, start, until, min(minutes, MAX_BACKFILL_BARS)
        )
        quotes = await source.get_quotes([symbol])
        return bars, quotes.get(symbol.canonical)

    return backfill


_END = object()


async def merged(streams: Sequence[AsyncIterator[T]], *, buffer: int = 1024) -> AsyncIterator[T]:
    """Items of several async iterators as they come; the first failure ends all of them."""
    queue: asyncio.Queue[object] = asyncio.Queue(buffer)

    async def pump(stream: AsyncIterator[T]) -> None:
        try:
            async for item in stream:
                await queue.put(item)
            await queue.put(_END)
        except Exception as e:
            await queue.put(e)

    tasks = [asyncio.create_task(pump(s)) for s in streams]
    try:
        running = len(tasks)
        while running:
            item = await queue.get()
            if item is _END:
                running -= 1
            elif isinstance(item, Exception):
                raise item
            else:
                yield cast(T, item)
    finally:
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
