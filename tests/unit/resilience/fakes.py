"""Test doubles: a virtual clock whose sleepers wake in time order, and a Redis stand-in."""

from __future__ import annotations

import asyncio
import heapq
import itertools
from datetime import datetime, timedelta

from redis.exceptions import ConnectionError as RedisConnectionError


class VirtualClock:
    """Fake time with real scheduling: `sleep` parks until `advance` moves time past it.

    Unlike `FakeClock` (whose sleep jumps time at once), concurrent sleepers here wake in
    deadline order, which hedging and batching windows need. Nothing sleeps for real.
    """

    def __init__(self, start: datetime) -> None:
        self._start = start
        self._mono = 0.0
        self._sleepers: list[tuple[float, int, asyncio.Future[None]]] = []
        self._seq = itertools.count()

    def now(self) -> datetime:
        return self._start + timedelta(seconds=self._mono)

    def monotonic(self) -> float:
        return self._mono

    async def sleep(self, seconds: float) -> None:
        if seconds <= 0:
            await asyncio.sleep(0)
            return
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        heapq.heappush(self._sleepers, (self._mono + seconds, next(self._seq), future))
        await future

    async def advance(self, seconds: float) -> None:
        """Move time forward, waking every sleeper due on the way, in order."""
        target = self._mono + seconds
        await settle()
        while self._sleepers and self._sleepers[0][0] <= target:
            due, _, future = heapq.heappop(self._sleepers)
            self._mono = max(self._mono, due)
            if not future.done():
                future.set_result(None)
            await settle()
        self._mono = target
        await settle()


async def settle() -> None:
    """Let every ready task run until the loop is quiet (no real time passes)."""
    for _ in range(50):
        await asyncio.sleep(0)


class FakeRedis:
    """The few commands the cache's L2 tier uses, with an on/off switch for outages."""

    def __init__(self) -> None:
        self.data: dict[str, bytes] = {}
        self.down = False
        self.calls = 0

    def _check(self) -> None:
        self.calls += 1
        if self.down:
            raise RedisConnectionError("Connection refused")

    async def get(self, key: str) -> bytes | None:
        self._check()
        return self.data.get(key)

    async def set(self, key: str, value: bytes, px: int | None = None) -> bool:
        self._check()
        self.data[key] = value
        return True

    async def delete(self, key: str) -> int:
        self._check()
        return 1 if self.data.pop(key, None) is not None else 0
