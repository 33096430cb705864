"""StreamQuotes: per-symbol sequences, resume tokens, gap and back-filled events.

A stream sends a symbol's quote whenever its price changes. Prices come from GetQuotes'
path every `stream_interval_seconds` (served from a provider feed, the cache or a poll) and,
with `optimizations.streams`, straight from the provider feed as it delivers them. When the
provider feed drops, each symbol gets a `gap` event (the updates of the outage were not
seen) once the feed is back, then a `backfilled` event with the window filled over REST,
then its current quote. Resuming with a token replays what the gateway still holds
(streaming.py).
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncGenerator, Callable, Sequence

import structlog

from market_gateway.app.quotes import QuoteService
from market_gateway.app.requests import distinct
from market_gateway.app.stream_follow import StreamFollower
from market_gateway.domain import (
    Backfilled,
    ErrorReason,
    FeedEvent,
    FeedGap,
    QuoteUpdate,
    StreamEvent,
    Tunables,
    UnknownSymbol,
)
from market_gateway.ports import Clock
from market_gateway.streaming import StreamLog, StreamRegistry, decode_resume_token, resume_events
from market_gateway.telemetry import ACTIVE_STREAMS, STREAM_EVENTS

log = structlog.get_logger(__name__)
_EPSILON = 1e-6  # float sums of clock readings must not keep a poll from being due


class QuoteStreams:
    def __init__(
        self,
        quotes: QuoteService,
        follower: StreamFollower,
        *,
        clock: Clock,
        tunables: Callable[[], Tunables],
        new_stream_id: Callable[[], str] = lambda: uuid.uuid4().hex,
    ) -> None:
        self._quotes = quotes
        self._follower = follower
        self._clock = clock
        self._tunables = tunables
        self._new_stream_id = new_stream_id
        self._registry = StreamRegistry()
        self.active = 0
        self.shutting_down = False

    async def stream(
        self, symbols: Sequence[str], resume_token: str = ""
    ) -> AsyncGenerator[StreamEvent, None]:
        wanted = distinct(symbols)
        point = decode_resume_token(resume_token) if resume_token else None
        stream = StreamLog(self._new_stream_id(), wanted)
        old = self._registry.get(point.stream_id) if point else None
        backlog = resume_events(stream, old, point) if point else []
        self._registry.add(stream)
        self.active += 1
        ACTIVE_STREAMS.inc()
        streamed = self._tunables().optimizations.streams and self._follower.has_streams
        feed = self._follower.listen() if streamed else None
        log.info("quote_stream_opened", stream=stream.stream_id, symbols=len(wanted))
        try:
            for event in backlog:
                STREAM_EVENTS.labels(kind="gap" if event.gap else "replayed").inc()
                yield event
            polled_at: float | None = None
            while not self.shutting_down:
                interval = self._tunables().stream_interval_seconds
                if polled_at is not None:
                    left = interval - (self._clock.monotonic() - polled_at)
                    for feed_event in await self._feed_events(feed, max(left, 0.0)):
                        for event in _translate(stream, feed_event):
                            yield event
                    if self.shutting_down:
                        break
                    if self._clock.monotonic() - polled_at < interval - _EPSILON:
                        continue  # woken by the feed before the next poll is due
                quotes, errors = await self._quotes.get_quotes(list(wanted))
                unknown = [e for e in errors if e.reason is ErrorReason.UNKNOWN_SYMBOL]
                if polled_at is None and unknown:
                    raise UnknownSymbol(unknown[0].symbol)
                polled_at = self._clock.monotonic()
                for quote in quotes:
                    if stream.changed(quote):
                        STREAM_EVENTS.labels(kind="quote").inc()
                        yield stream.quote_event(quote)
        finally:
            if feed is not None:
                self._follower.unlisten(feed)
            self.active -= 1
            ACTIVE_STREAMS.dec()
            log.info("quote_stream_closed", stream=stream.stream_id)

    async def _feed_events(
        self, feed: asyncio.Queue[FeedEvent] | None, seconds: float
    ) -> list[FeedEvent]:
        """Feed events that arrive within `seconds` (at least the first one), or none."""
        if feed is None:
            await self._clock.sleep(seconds)
            return []
        if feed.empty():
            getter = asyncio.ensure_future(feed.get())
            sleeper = asyncio.ensure_future(self._clock.sleep(seconds))
            try:
                await asyncio.wait({getter, sleeper}, return_when=asyncio.FIRST_COMPLETED)
            finally:
                sleeper.cancel()
                getter.cancel()
            if not getter.cancelled() and getter.done():
                events = [getter.result()]
            else:
                return []
        else:
            events = []
        while not feed.empty():
            events.append(feed.get_nowait())
        return events


def _translate(stream: StreamLog, event: FeedEvent) -> list[StreamEvent]:
    """A provider feed event as this stream's events (for the symbols it follows)."""
    if isinstance(event, QuoteUpdate):
        if event.quote.symbol in stream.symbols and stream.changed(event.quote):
            STREAM_EVENTS.labels(kind="quote").inc()
            return [stream.quote_event(event.quote)]
        return []
    if isinstance(event, FeedGap):
        why = (
            f"{event.provider} feed down {event.start.isoformat()}..{event.end.isoformat()}"
            f" ({event.reason}); updates in between were not seen"
        )
        gaps = []
        for symbol in event.symbols:
            if symbol in stream.symbols:
                missing = stream.last_sequence(symbol) + 1
                gaps.append(stream.gap_event(symbol, missing, missing, why))
                STREAM_EVENTS.labels(kind="gap").inc()
        return gaps
    if isinstance(event, Backfilled) and event.symbol in stream.symbols:
        filled = [stream.backfilled_event(event.symbol, event.start, event.end)]
        STREAM_EVENTS.labels(kind="backfilled").inc()
        if event.quote is not None:
            filled.append(stream.quote_event(event.quote))
            STREAM_EVENTS.labels(kind="quote").inc()
        return filled
    return []
