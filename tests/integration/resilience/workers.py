"""Bodies of the OS processes the multi-process tests start (spawned, so importable here)."""

from __future__ import annotations

import asyncio
import random
import time
from datetime import datetime
from multiprocessing.queues import Queue
from multiprocessing.synchronize import Event
from typing import Any

from redis.asyncio import Redis

from resilience import LimitKey, Quota, RateLimited, RateLimiter, Window
from resilience.limiter_redis import RedisLimiterStore
from resilience.pushback import parse_response
from service_runtime.clock import SystemClock

KEY = LimitKey("polygon", "shared-cred", "aggs")
HAMMER_QUOTA = Quota.of(Window.rate(40, burst=8), Window.fixed(50, 1.0))
PAUSE_QUOTA = Quota.of(Window.rate(200, burst=20))


class RecordingClock(SystemClock):
    """The real clock, remembering the last wall-clock instant the limiter read."""

    last = 0.0

    def now(self) -> datetime:
        instant = super().now()
        self.last = instant.timestamp()
        return instant


def hammer(
    url: str,
    prefix: str,
    quota_name: str,
    seconds: float,
    seed: int,
    ready: Queue[Any],
    go: Event,
    results: Queue[Any],
) -> None:
    """Acquire as fast as possible for `seconds`; report grants (reservation instant, cost)."""
    results.put(asyncio.run(_hammer(url, prefix, quota_name, seconds, seed, ready, go)))


async def _hammer(
    url: str, prefix: str, quota_name: str, seconds: float, seed: int, ready: Queue[Any], go: Event
) -> dict[str, Any]:
    quota = HAMMER_QUOTA if quota_name == "hammer" else PAUSE_QUOTA
    client = Redis.from_url(url)
    clock = RecordingClock()
    limiter = RateLimiter(
        {"polygon": quota}, store=RedisLimiterStore(client, prefix=prefix), clock=clock
    )
    await client.ping()
    ready.put("ready")
    go.wait()
    rng = random.Random(seed)
    grants: list[tuple[float, float]] = []
    paused_rejections = 0
    stop = time.monotonic() + seconds
    while time.monotonic() < stop:
        cost = rng.choice([1.0, 1.0, 2.0]) if quota_name == "hammer" else 1.0
        try:
            await limiter.acquire(KEY, cost)
            grants.append((clock.last, cost))
        except RateLimited as e:
            paused_rejections += e.paused
    await client.aclose()
    return {"grants": grants, "paused_rejections": paused_rejections}


def pauser(
    url: str, prefix: str, after: float, ready: Queue[Any], go: Event, results: Queue[Any]
) -> None:
    """After `after` seconds, get a 429 with `Retry-After: 1` and pause the shared key."""
    results.put(asyncio.run(_pauser(url, prefix, after, ready, go)))


async def _pauser(
    url: str, prefix: str, after: float, ready: Queue[Any], go: Event
) -> dict[str, Any]:
    client = Redis.from_url(url)
    clock = SystemClock()
    limiter = RateLimiter(
        {"polygon": PAUSE_QUOTA}, store=RedisLimiterStore(client, prefix=prefix), clock=clock
    )
    await client.ping()
    ready.put("ready")
    go.wait()
    await asyncio.sleep(after)
    pushback = parse_response(429, {"Retry-After": "1"}, clock.now())
    assert pushback is not None
    until = await limiter.pause(KEY, pushback.until, source=pushback.source)
    paused_at = clock.now().timestamp()
    await client.aclose()
    return {"paused_at": paused_at, "until": until.timestamp()}
