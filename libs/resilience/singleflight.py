"""Single-flight: concurrent identical requests share one call (in-process).

Hand-written: Go's `singleflight` idea; cashews' `locked` serialises callers on a lock and
re-reads a cache, which is not the same (it needs a cache and a second lookup). Here the
first caller of a key starts the call as a task and every caller of that key awaits it;
everyone gets the same result or the same exception. A caller that is cancelled leaves the
others waiting; the shared call is cancelled only when its last waiter leaves, and is
forgotten then (a caller arriving while it winds down starts a new one). Cross-replica
sharing builds on this (`singleflight_redis.py`).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Hashable
from typing import Any, cast

from prometheus_client import Counter

from resilience.metrics import SINGLEFLIGHT_CALLS, span_event
from resilience.pipeline import CallContext, T


def _consume(task: asyncio.Future[Any]) -> None:
    """Mark a finished flight's exception as retrieved even if every waiter left."""
    if not task.cancelled():
        task.exception()


class SingleFlight:
    """Deduplicates in-flight calls by key within one event loop."""

    def __init__(self, name: str = "singleflight") -> None:
        self.name = name
        self._flights: dict[Hashable, asyncio.Task[Any]] = {}
        self._waiters: dict[Hashable, int] = {}
        self._leader: Counter = SINGLEFLIGHT_CALLS.labels(name, "leader")
        self._follower: Counter = SINGLEFLIGHT_CALLS.labels(name, "follower")

    def in_flight(self, key: Hashable) -> bool:
        return key in self._flights

    async def do(self, key: Hashable, fn: Callable[[], Awaitable[T]]) -> T:
        """Run `fn` once for all concurrent callers of `key` and give each the outcome."""
        task = self._flights.get(key)
        if task is None:
            task = asyncio.ensure_future(fn())
            self._flights[key] = task
            task.add_done_callback(lambda done: self._finished(key, done))
            self._leader.inc()
        else:
            self._follower.inc()
            span_event("singleflight_joined", {"flight": self.name})
        self._waiters[key] = self._waiters.get(key, 0) + 1
        try:
            return cast(T, await asyncio.shield(task))
        finally:
            left = self._waiters[key] = self._waiters[key] - 1
            if left == 0:
                del self._waiters[key]
                if not task.done():
                    task.cancel()  # it may take a while to end (cleanup): nobody joins it
                    if self._flights.get(key) is task:
                        del self._flights[key]

    async def run(self, call: Callable[[], Awaitable[T]], ctx: CallContext) -> T:
        """Pipeline step keyed by `ctx.key` (calls without a key are not shared)."""
        if ctx.key is None:
            return await call()
        return await self.do(ctx.key, call)

    def _finished(self, key: Hashable, task: asyncio.Task[Any]) -> None:
        if self._flights.get(key) is task:
            del self._flights[key]
        _consume(task)
