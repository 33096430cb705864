"""A provider WebSocket feed that survives disconnects, as an async iterator of FeedEvents.

One connection: connect -> wait for the greeting -> authenticate -> subscribe -> read
frames (arrays of events), folding each trade / best bid-ask / bar into the symbol's
latest `Quote` and yielding a `QuoteUpdate`. When the connection drops (closed, reset,
handshake timeout, or a retryable error frame such as Alpaca 406/407 or Polygon
`max_connections`), it reconnects after a full-jitter backoff (time from the injected
clock), subscribes again, yields one `FeedGap` from the drop to the new subscription, and
back-fills every symbol over REST from its last streamed event (one `Backfilled` each;
a symbol whose back-fill fails is logged and left with the gap). Fatal errors — `AuthFailed`
(Alpaca 402/409, Polygon `auth_failed`) or a non-retryable `ProviderUnavailable` (Alpaca 405
symbol limit) — end the iterator with that error.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

import structlog
from websockets.asyncio.client import connect as websocket_connect
from websockets.exceptions import InvalidStatus, WebSocketException

from market_gateway.adapters.common.streams import Backfill, Backoff, Control, FeedProtocol, Tick
from market_gateway.adapters.common.values import QUOTE_MAX_SKEW
from market_gateway.domain import (
    AuthFailed,
    Backfilled,
    BadProviderData,
    CacheStatus,
    FeedEvent,
    FeedGap,
    ProviderUnavailable,
    Quote,
    QuoteUpdate,
    Symbol,
    validate_quote,
)
from market_gateway.ports import Clock

log = structlog.get_logger(__name__)
Connector = Callable[[str], AbstractAsyncContextManager[Any]]


def default_connector(url: str) -> AbstractAsyncContextManager[Any]:
    return websocket_connect(url, open_timeout=10, ping_interval=20, max_size=2**22)


class _Dropped(Exception):
    """The connection ended; `reason` says how (never holds a secret)."""


@dataclass
class _Book:
    """What the feed knows of one symbol."""

    price: float = 0.0
    bid: float = 0.0
    ask: float = 0.0
    volume: float = 0.0
    time: datetime | None = None


class ReconnectingFeed:
    def __init__(
        self,
        protocol: FeedProtocol,
        *,
        clock: Clock,
        backfill: Backfill | None = None,
        backoff: Backoff | None = None,
        connect: Connector = default_connector,
        handshake_timeout: float = 10.0,
        max_attempts: int | None = None,
    ) -> None:
        self._protocol = protocol
        self._clock = clock
        self._backfill = backfill
        self._backoff = backoff or Backoff()
        self._connect = connect
        self._handshake_timeout = handshake_timeout
        self._max_attempts = max_attempts

    async def events(self, symbols: Sequence[Symbol]) -> AsyncIterator[FeedEvent]:
        provider = self._protocol.provider
        books = {s.canonical: _Book() for s in symbols}
        followed_since: datetime | None = None
        gap: tuple[datetime, str] | None = None
        attempt = 0
        while True:
            live = False
            try:
                async with self._connect(self._protocol.url()) as ws:
                    await self._handshake(ws)
                    for message in self._protocol.subscribe_messages(symbols):
                        await ws.send(message)
                    subscribed_at = self._clock.now()
                    live, attempt = True, 0
                    followed_since = followed_since or subscribed_at
                    log.info("feed_subscribed", provider=provider, symbols=len(symbols))
                    if gap is not None:
                        start, reason = gap
                        gap = None
                        names = tuple(books)
                        # the last record's time is the provider's clock, which may run a
                        # few ms ahead of ours: a gap never ends before it starts
                        end = max(start, subscribed_at)
                        yield FeedGap(names, start, end, reason, provider)
                        async for filled in self._fill(
                            symbols, books, followed_since, subscribed_at
                        ):
                            yield filled
                    async for frame in ws:
                        for update in self._updates(frame, books):
                            yield update
                    raise _Dropped("closed by the server")
            except (_Dropped, WebSocketException, OSError, TimeoutError, ProviderUnavailable) as e:
                error = _classified(e, provider)
                if not error.retryable:
                    raise error from None
                if live:
                    gap = (self._clock.now(), str(error))
                attempt += 1
                if self._max_attempts is not None and attempt > self._max_attempts:
                    raise ProviderUnavailable(
                        f"{provider} stream: gave up after {attempt - 1} reconnects ({error})",
                        provider=provider,
                    ) from None
                delay = self._backoff.delay(attempt)
                log.warning(
                    "feed_disconnected",
                    provider=provider,
                    reason=str(error),
                    attempt=attempt,
                    retry_in_s=round(delay, 3),
                )
                await self._clock.sleep(delay)

    async def _handshake(self, ws: Any) -> None:
        async with asyncio.timeout(self._handshake_timeout):
            await self._expect(ws, "connected")
            await ws.send(self._protocol.auth_message())
            await self._expect(ws, "authenticated")

    async def _expect(self, ws: Any, kind: str) -> None:
        while True:
            for message in self._protocol.decode(await ws.recv()):
                if isinstance(message, ProviderUnavailable):
                    raise message
                if isinstance(message, Control) and message.kind == kind:
                    return

    def _updates(self, frame: str | bytes, books: dict[str, _Book]) -> list[QuoteUpdate]:
        try:
            messages = self._protocol.decode(frame)
        except BadProviderData as e:
            log.warning("feed_frame_unreadable", provider=self._protocol.provider, error=str(e))
            return []
        updates = []
        for message in messages:
            if isinstance(message, ProviderUnavailable):
                raise message
            if isinstance(message, Tick) and message.symbol in books:
                update = self._fold(message, books[message.symbol])
                if update is not None:
                    updates.append(update)
        return updates

    def _fold(self, tick: Tick, book: _Book) -> QuoteUpdate | None:
        book.price = tick.price if tick.price is not None else book.price
        book.bid = tick.bid if tick.bid is not None else book.bid
        book.ask = tick.ask if tick.ask is not None else book.ask
        book.volume = tick.day_volume if tick.day_volume is not None else book.volume
        book.time = max(book.time, tick.time) if book.time else tick.time
        price = book.price or ((book.bid + book.ask) / 2 if book.bid and book.ask else 0.0)
        if tick.silent or price <= 0:
            return None
        quote = Quote(
            tick.symbol,
            price,
            book.bid,
            book.ask,
            book.volume,
            tick.time,
            self._protocol.provider,
            cache_status=CacheStatus.STREAM,
        )
        try:
            validate_quote(quote, self._clock.now(), max_skew=QUOTE_MAX_SKEW)
        except BadProviderData as e:
            log.warning("feed_tick_rejected", provider=self._protocol.provider, error=str(e))
            return None
        return QuoteUpdate(tick.kind, quote, size=tick.size, bar=tick.bar)

    async def _fill(
        self,
        symbols: Sequence[Symbol],
        books: dict[str, _Book],
        followed_since: datetime,
        until: datetime,
    ) -> AsyncIterator[Backfilled]:
        if self._backfill is None:
            return
        provider = self._protocol.provider
        for symbol in symbols:
            book = books[symbol.canonical]
            since = book.time or followed_since
            end = max(since, until)  # the book's time is the provider's clock (see the gap)
            try:
                bars, quote = await self._backfill(symbol, since, end)
            except Exception as e:  # the gap event already told the consumer
                log.warning(
                    "feed_backfill_failed", provider=provider, symbol=str(symbol), error=str(e)
                )
                continue
            if quote is not None and (book.time is None or quote.time > book.time):
                book.price, book.bid, book.ask, book.time = (
                    quote.price,
                    quote.bid,
                    quote.ask,
                    quote.time,
                )
                book.volume = quote.volume or book.volume
                quote = replace(quote, cache_status=CacheStatus.STREAM)
            yield Backfilled(symbol.canonical, since, end, tuple(bars), quote, provider)


def _classified(error: Exception, provider: str) -> ProviderUnavailable:
    """Every way a connection can end, as a classified error (retryable unless fatal)."""
    if isinstance(error, BadProviderData):  # an unreadable handshake frame: try again
        return ProviderUnavailable(f"{provider} stream: {error}", provider=provider)
    if isinstance(error, ProviderUnavailable):
        return error
    if isinstance(error, InvalidStatus):
        status = error.response.status_code
        if status in (401, 403):
            return AuthFailed(f"{provider} stream: HTTP {status} on connect", provider=provider)
        return ProviderUnavailable(
            f"{provider} stream: HTTP {status} on connect", provider=provider
        )
    if isinstance(error, TimeoutError):
        return ProviderUnavailable(f"{provider} stream: handshake timed out", provider=provider)
    reason = str(error) if isinstance(error, _Dropped) else type(error).__name__
    return ProviderUnavailable(f"{provider} stream: {reason}", provider=provider)
