"""Provider WebSocket feeds behind GetQuotes and StreamQuotes (`optimizations.streams`).

Symbols that callers ask for are followed on one provider feed — the first provider in the
quote order that has one (Polygon, Alpaca) — up to `streams.max_symbols` and the feed's
plan limit (`plan_limit`: Alpaca's IEX plan 30, Polygon none), the first wanted first;
symbols beyond it are polled. New symbols are
gathered for `streams.resubscribe_delay_seconds` and the feed is then subscribed again with
all of them. Every update is kept as the symbol's latest quote and written through to the
cache; while the feed is healthy (an event within `streams.healthy_within_seconds`) GetQuotes
serves those symbols from it (cache status STREAM) and never polls them. The feed itself
survives disconnects (reconnect with backoff, a gap event, REST back-fill of each symbol);
a feed that fails for good (refused credentials, a plan limit) is skipped for
`FAILED_FEED_SECONDS` and the next provider's feed is tried. A busy symbol is written to
the cache at most every `WRITE_THROUGH_SECONDS` (its latest quote is always served).
StreamQuotes calls listen to the same events to send gap and back-filled events. Streamed
and back-filled 1-minute bars go to the bars cache (`store_bars`) with the instant from
which this subscription's bars are complete (its first bar; a gap resets it).
"""

from __future__ import annotations

import asyncio
import contextvars
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Mapping, Sequence
from datetime import datetime

import structlog

from market_gateway.app.deadline import background_context
from market_gateway.domain import (
    Backfilled,
    Bar,
    FeedEvent,
    FeedGap,
    Quote,
    QuoteUpdate,
    Symbol,
    Tunables,
)
from market_gateway.ports import Clock, QuoteStream
from market_gateway.telemetry import FEED_EVENTS, STREAMED_SYMBOLS

log = structlog.get_logger(__name__)
StoreBars = Callable[[str, Sequence[Bar], str, datetime], Awaitable[object]]
FAILED_FEED_SECONDS = 60.0
LISTENER_BACKLOG = 1024
WRITE_THROUGH_SECONDS = 0.2  # a busy symbol is written to the cache at most this often


def plan_limit(stream: QuoteStream) -> int | None:
    """The most symbols the provider's plan lets one subscription follow (None: no limit);
    a feed adapter says so with an optional `max_symbols` attribute."""
    limit = getattr(stream, "max_symbols", None)
    return limit if isinstance(limit, int) and limit > 0 else None


class StreamFollower:
    def __init__(
        self,
        streams: Sequence[QuoteStream],
        *,
        clock: Clock,
        tunables: Callable[[], Tunables],
        order: Callable[[], list[str]],
        store: Callable[[Quote], Awaitable[None]],
        store_bars: StoreBars | None = None,
        context: contextvars.Context | None = None,
    ) -> None:
        """`context`: what the feed's task runs in (the app's, not a request's);
        `store_bars(symbol, bars, provider, complete_since)`: 1-minute bars written through."""
        self._context = context or background_context()
        self._streams = {s.name: s for s in streams}
        self._clock = clock
        self._tunables = tunables
        self._order = order
        self._store = store
        self._store_bars = store_bars
        self._bars_since: dict[str, datetime] = {}  # the feed has every bar from here on
        self._symbols: dict[str, Symbol] = {}
        self._book: dict[str, Quote] = {}
        self._written: dict[str, float] = {}
        self._last_event: float | None = None
        self._failed_until: dict[str, float] = {}
        self._listeners: set[asyncio.Queue[FeedEvent]] = set()
        self._changed: asyncio.Event | None = None
        self._task: asyncio.Task[None] | None = None
        self._closed = False
        self.provider: str | None = None

    @property
    def has_streams(self) -> bool:
        return bool(self._streams)

    @property
    def followed(self) -> list[str]:
        return list(self._symbols)

    @property
    def healthy(self) -> bool:
        if self._task is None or self._task.done() or self._last_event is None:
            return False
        within = self._tunables().streams.healthy_within_seconds
        return self._clock.monotonic() - self._last_event <= within

    def want(self, symbols: Iterable[Symbol]) -> None:
        """Follow these symbols too (as far as the limit allows)."""
        if not self._streams or self._closed:
            return
        followed = self._symbols
        new = [symbol for symbol in symbols if symbol.canonical not in followed]
        room = self._tunables().streams.max_symbols - len(followed) if new else 0
        added = False
        for symbol in new:  # usually none: the symbols of every cycle are followed already
            if room <= 0:
                break
            if symbol.canonical not in followed:
                followed[symbol.canonical] = symbol
                room -= 1
                added = True
        if self._changed is None:
            self._changed = asyncio.Event()
        if added:
            self._changed.set()
        if self._task is None or self._task.done():
            # the feed outlives the request (its deadline, its trace) that woke it
            self._task = asyncio.get_running_loop().create_task(
                self._run(), context=self._context.copy()
            )

    def latest(self, symbol: str) -> Quote | None:
        """The symbol's latest streamed quote while the feed is healthy."""
        return self._book.get(symbol) if self.healthy else None

    def book(self) -> Mapping[str, Quote]:
        """Every followed symbol's latest quote while the feed is healthy, else nothing."""
        return self._book if self.healthy else {}

    def listen(self) -> asyncio.Queue[FeedEvent]:
        queue: asyncio.Queue[FeedEvent] = asyncio.Queue(LISTENER_BACKLOG)
        self._listeners.add(queue)
        return queue

    def unlisten(self, queue: asyncio.Queue[FeedEvent]) -> None:
        self._listeners.discard(queue)

    async def stop(self) -> None:
        """Stop following (the next `want` starts again)."""
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
        self._last_event = None
        STREAMED_SYMBOLS.set(0)

    async def aclose(self) -> None:
        self._closed = True
        await self.stop()

    async def _run(self) -> None:
        assert self._changed is not None
        self._last_event = None
        while self._tunables().optimizations.streams:
            stream = self._pick()
            if stream is None:
                await self._clock.sleep(FAILED_FEED_SECONDS)
                continue
            await self._clock.sleep(self._tunables().streams.resubscribe_delay_seconds)
            self._changed.clear()
            symbols = list(self._symbols.values())[: plan_limit(stream)]
            followed = {s.canonical for s in symbols}
            self._book = {k: q for k, q in self._book.items() if k in followed}
            self._bars_since.clear()  # a new subscription: bars start with the next minute
            self.provider = stream.name
            STREAMED_SYMBOLS.set(len(symbols))
            log.info("feed_following", provider=stream.name, symbols=len(symbols))
            error = await self._follow(stream, symbols)
            if error is not None:
                self._last_event = None
                self._failed_until[stream.name] = self._clock.monotonic() + FAILED_FEED_SECONDS
                log.warning("feed_failed", provider=stream.name, error=str(error))
        self._last_event = None

    def _pick(self) -> QuoteStream | None:
        now = self._clock.monotonic()
        for name in self._order():
            stream = self._streams.get(name)
            if stream is not None and self._failed_until.get(name, 0.0) <= now:
                return stream
        return None

    async def _follow(self, stream: QuoteStream, symbols: list[Symbol]) -> Exception | None:
        """Pump the feed until the followed symbols change (None) or it fails (the error)."""
        assert self._changed is not None
        pump = asyncio.ensure_future(self._pump(stream.events(symbols)))
        changed = asyncio.ensure_future(self._changed.wait())
        try:
            await asyncio.wait({pump, changed}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for task in (pump, changed):
                task.cancel()
            await asyncio.gather(pump, changed, return_exceptions=True)
        if pump.cancelled() or pump.exception() is None:
            return None
        error = pump.exception()
        return error if isinstance(error, Exception) else None

    async def _pump(self, events: AsyncIterator[FeedEvent]) -> None:
        async for event in events:
            self._last_event = self._clock.monotonic()
            if isinstance(event, QuoteUpdate):
                FEED_EVENTS.labels(provider=event.quote.provider, kind="update").inc()
                await self._keep(event.quote)
                if event.bar is not None:
                    since = self._bars_since.setdefault(event.quote.symbol, event.bar.start_time)
                    await self._keep_bars(event.quote.symbol, (event.bar,), event.quote, since)
            elif isinstance(event, FeedGap):
                FEED_EVENTS.labels(provider=event.provider, kind="gap").inc()
                for symbol in event.symbols:
                    self._bars_since.pop(symbol, None)  # bars were missed: a hole
            elif isinstance(event, Backfilled):
                FEED_EVENTS.labels(provider=event.provider, kind="backfilled").inc()
                if event.quote is not None:
                    await self._keep(event.quote)
                await self._keep_bars(event.symbol, event.bars, event.provider, event.start)
            for queue in list(self._listeners):
                if not queue.full():
                    queue.put_nowait(event)

    async def _keep_bars(
        self, symbol: str, bars: Sequence[Bar], source: Quote | str, since: datetime
    ) -> None:
        if self._store_bars is None or not bars:
            return
        provider = source if isinstance(source, str) else source.provider
        try:
            await self._store_bars(symbol, bars, provider, since)
        except Exception as e:  # the cache is best effort: the feed goes on
            log.warning("feed_bars_not_stored", symbol=symbol, error=str(e))

    async def _keep(self, quote: Quote) -> None:
        known = self._book.get(quote.symbol)
        if known is not None and quote.time < known.time:
            return
        self._book[quote.symbol] = quote
        now = self._clock.monotonic()
        written = self._written.get(quote.symbol)
        if written is None or now - written >= WRITE_THROUGH_SECONDS:
            self._written[quote.symbol] = now
            await self._store(quote)
