"""Fan-out of new signals to stream subscribers, each with its own bounded queue.

A subscriber that falls behind loses its oldest queued signals (counted), never blocks the
engine and never makes other subscribers wait.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
from types import TracebackType

from signal_engine.domain import Signal
from signal_engine.telemetry import STREAM_DROPPED, STREAM_SUBSCRIBERS


class Subscription:
    """An async iterator of new signals; registered on creation, closed by `close()` or
    by leaving `async with`. A closed subscription ends its iteration."""

    def __init__(self, hub: SignalBroadcaster, symbols: frozenset[str] | None, size: int) -> None:
        self._hub = hub
        self._symbols = symbols
        self._queue: asyncio.Queue[Signal | None] = asyncio.Queue(maxsize=size)
        self._closed = False
        self.dropped = 0

    def offer(self, signal: Signal) -> None:
        if self._closed or (self._symbols is not None and signal.symbol not in self._symbols):
            return
        if self._queue.full():
            self._queue.get_nowait()
            self.dropped += 1
            self._hub.dropped_total += 1
            STREAM_DROPPED.inc()
        self._queue.put_nowait(signal)

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        self._hub.remove(self)
        if self._queue.full():
            self._queue.get_nowait()
        self._queue.put_nowait(None)  # wakes a reader waiting in __anext__

    def __aiter__(self) -> Subscription:
        return self

    async def __anext__(self) -> Signal:
        item = await self._queue.get()
        if item is None:
            raise StopAsyncIteration
        return item

    async def __aenter__(self) -> Subscription:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


class SignalBroadcaster:
    def __init__(self, queue_size: int = 256) -> None:
        self._queue_size = queue_size
        self._subscribers: set[Subscription] = set()
        self.dropped_total = 0

    @property
    def subscriber_count(self) -> int:
        return len(self._subscribers)

    def subscribe(self, symbols: Iterable[str] | None = None) -> Subscription:
        wanted = frozenset(symbols) if symbols else None
        subscription = Subscription(self, wanted, self._queue_size)
        self._subscribers.add(subscription)
        STREAM_SUBSCRIBERS.set(len(self._subscribers))
        return subscription

    def remove(self, subscription: Subscription) -> None:
        self._subscribers.discard(subscription)
        STREAM_SUBSCRIBERS.set(len(self._subscribers))

    def publish(self, signals: Iterable[Signal]) -> None:
        for signal in signals:
            for subscription in list(self._subscribers):
                subscription.offer(signal)

    def close_all(self) -> None:
        for subscription in list(self._subscribers):
            subscription.close()
