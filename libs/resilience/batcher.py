"""Micro-batcher: single-key requests arriving close together become one upstream call.

Hand-written (aiocache's `multi_cached` batches keys a *caller* already grouped; nothing
groups independent callers). The first request opens a window of `window` seconds on the
injected clock; requests for other keys join it; the batch goes out when the window closes or
when it holds `max_batch` keys, as one `fetch_many(keys)` returning a mapping key -> value or
Exception. Each caller gets its own value or its own error: an Exception value is raised to
that key's callers only, a key missing from the answer raises `MissingBatchResult` for that
key only, and only a failure of the whole call reaches every caller of the batch. Requests
for a key already pending or in flight join that request instead of asking again. A caller's
cancellation never cancels the batch for the others.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Hashable, Mapping
from typing import Generic, TypeVar

from resilience.clock import Clock, system_clock
from resilience.errors import MissingBatchResult
from resilience.metrics import BATCH_CALLS, BATCH_SIZE, span_event

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


def _consume(future: asyncio.Future[V]) -> None:
    if not future.cancelled():
        future.exception()


class MicroBatcher(Generic[K, V]):
    """Groups `load(key)` calls into `fetch_many(keys)` calls."""

    def __init__(
        self,
        fetch_many: Callable[[list[K]], Awaitable[Mapping[K, V | Exception]]],
        *,
        name: str = "batcher",
        window: float = 0.005,
        max_batch: int = 50,
        max_concurrent_batches: int = 4,
        clock: Clock | None = None,
    ) -> None:
        if max_batch < 1 or window < 0 or max_concurrent_batches < 1:
            raise ValueError("max_batch >= 1, window >= 0 and max_concurrent_batches >= 1")
        self._fetch_many = fetch_many
        self._name = name
        self._window = window
        self._max_batch = max_batch
        self._clock = clock or system_clock()
        self._slots = asyncio.Semaphore(max_concurrent_batches)
        self._pending: dict[K, asyncio.Future[V]] = {}
        self._in_flight: dict[K, asyncio.Future[V]] = {}
        self._timer: asyncio.Task[None] | None = None
        self._batches: set[asyncio.Task[None]] = set()
        self._size = BATCH_SIZE.labels(name)

    async def load(self, key: K) -> V:
        """The value for `key`, fetched in a batch with whatever else arrives meanwhile."""
        future = self._pending.get(key)
        if future is None:
            future = self._in_flight.get(key)
        if future is None:
            future = asyncio.get_running_loop().create_future()
            future.add_done_callback(_consume)
            self._pending[key] = future
            if len(self._pending) >= self._max_batch:
                self._flush()
            elif self._timer is None:
                self._timer = asyncio.create_task(self._flush_after_window())
        span_event("batch_enqueued", {"batcher": self._name, "pending": len(self._pending)})
        return await asyncio.shield(future)

    async def aclose(self) -> None:
        """Cancel the open window and every batch in flight (their callers get CancelledError)."""
        if self._timer is not None:
            self._timer.cancel()
        for future in self._pending.values():
            future.cancel()
        self._pending.clear()
        for task in list(self._batches):
            task.cancel()
        await asyncio.gather(*self._batches, return_exceptions=True)

    async def _flush_after_window(self) -> None:
        await self._clock.sleep(self._window)
        self._timer = None
        self._flush()

    def _flush(self) -> None:
        if self._timer is not None and self._timer is not asyncio.current_task():
            self._timer.cancel()
        self._timer = None
        batch, self._pending = self._pending, {}
        if batch:
            self._in_flight.update(batch)
            task = asyncio.create_task(self._run(batch))
            self._batches.add(task)
            task.add_done_callback(self._batches.discard)

    async def _run(self, batch: dict[K, asyncio.Future[V]]) -> None:
        keys = list(batch)
        self._size.observe(len(keys))
        try:
            async with self._slots:
                answer = await self._fetch_many(keys)
        except asyncio.CancelledError:
            for future in batch.values():
                future.cancel()
            raise
        except Exception as e:
            BATCH_CALLS.labels(self._name, "error").inc()
            span_event("batch_failed", {"batcher": self._name, "keys": len(keys)})
            answer = dict.fromkeys(keys, e)
        else:
            BATCH_CALLS.labels(self._name, "ok").inc()
        finally:
            for key in keys:
                if self._in_flight.get(key) is batch[key]:
                    del self._in_flight[key]
        for key, future in batch.items():
            if future.done():
                continue
            if key not in answer:
                future.set_exception(MissingBatchResult(key))
                continue
            value = answer[key]
            if isinstance(value, Exception):
                future.set_exception(value)
            else:
                future.set_result(value)
