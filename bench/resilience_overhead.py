"""Per-call overhead of the resilience pipeline (limiter + breaker + retry) around an async
no-op, next to the bare call, measured in the same run.

    .venv/bin/python -m bench.resilience_overhead [--calls 200000] [--rounds 5]
        [--redis redis://127.0.0.1:6379/0] [--json out.json]

Each row is the best of `rounds` runs of `calls` sequential awaits (the minimum is the least
disturbed by the machine); "added" is that row minus the bare call. Nothing waits: quotas are
set far above the call rate and the breaker stays closed. With `--redis`, a pipeline whose
limiter uses the shared Redis store is measured too (fewer calls), and the Redis commands
sent per acquire are counted (target: 1).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import time
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

from redis.asyncio import Redis

from resilience import (
    CircuitBreaker,
    LimitKey,
    Pipeline,
    Quota,
    RateLimiter,
    Retry,
    RetryBudget,
    Window,
)
from resilience.limiter_redis import RedisLimiterStore
from resilience.presets import SEED_BREAKER
from service_runtime.clock import SystemClock

KEY = LimitKey("bench", "cred", "endpoint")
UNLIMITED = {"bench": Quota.of(Window.rate(1e12, burst=1e12), Window.fixed(1e15, 86_400))}


async def noop() -> int:
    return 1


async def best_per_call(call: Callable[[], Awaitable[Any]], calls: int, rounds: int) -> float:
    """Best-of-rounds seconds per call."""
    best = float("inf")
    for _ in range(rounds):
        started = time.perf_counter()
        for _ in range(calls):
            await call()
        best = min(best, (time.perf_counter() - started) / calls)
    return best


class CountingRedis(Redis):
    commands = 0

    async def execute_command(self, *args: Any, **options: Any) -> Any:
        CountingRedis.commands += 1
        return await super().execute_command(*args, **options)  # type: ignore[no-untyped-call]


def policies(clock: SystemClock) -> tuple[CircuitBreaker, Retry]:
    breaker = CircuitBreaker("bench", SEED_BREAKER, clock=clock)
    retry = Retry("bench", budget=RetryBudget(clock=clock), clock=clock)
    return breaker, retry


async def measure(calls: int, rounds: int, redis_url: str | None) -> list[dict[str, Any]]:
    clock = SystemClock()
    limiter = RateLimiter(UNLIMITED, clock=clock)
    breaker, retry = policies(clock)
    pipeline = Pipeline([retry, breaker, limiter], clock=clock)

    async def limited() -> int:
        await limiter.acquire(KEY)
        return await noop()

    cases: list[tuple[str, Callable[[], Awaitable[Any]], int]] = [
        ("bare await noop()", noop, calls),
        ("limiter.acquire + noop (in-process)", limited, calls),
        ("breaker.execute(noop)", lambda: breaker.execute(noop), calls),
        ("retry.execute(noop) with budget", lambda: retry.execute(noop), calls),
        ("pipeline retry+breaker+limiter", lambda: pipeline.execute(noop, key=KEY), calls),
    ]
    extra: dict[str, float] = {}
    if redis_url:
        client = CountingRedis.from_url(redis_url)
        prefix = f"bench:{uuid.uuid4().hex[:8]}"
        shared = RateLimiter(UNLIMITED, store=RedisLimiterStore(client, prefix=prefix), clock=clock)
        shared_breaker, shared_retry = policies(clock)
        shared_pipe = Pipeline([shared_retry, shared_breaker, shared], clock=clock)
        await shared_pipe.execute(noop, key=KEY)  # load the script
        CountingRedis.commands = 0
        probe = 200
        for _ in range(probe):
            await shared_pipe.execute(noop, key=KEY)
        extra["redis_commands_per_acquire"] = CountingRedis.commands / probe
        cases.append(
            (
                "pipeline with Redis limiter store",
                lambda: shared_pipe.execute(noop, key=KEY),
                max(1000, calls // 50),
            )
        )
    rows: list[dict[str, Any]] = []
    bare = 0.0
    for name, call, n in cases:
        per_call = await best_per_call(call, n, rounds)
        bare = per_call if not rows else bare
        rows.append(
            {
                "case": name,
                "calls": n,
                "us_per_call": per_call * 1e6,
                "added_us": (per_call - bare) * 1e6,
            }
        )
    if redis_url:
        rows[-1]["redis_commands_per_acquire"] = extra["redis_commands_per_acquire"]
        keys = [k async for k in client.scan_iter(match=f"{prefix}*")]
        if keys:
            await client.delete(*keys)
        await client.aclose()
    return rows


def print_table(rows: list[dict[str, Any]]) -> None:
    print(f"{'case':<40} {'calls':>8} {'µs/call':>9} {'added µs':>9}")
    for row in rows:
        line = (
            f"{row['case']:<40} {row['calls']:>8} "
            f"{row['us_per_call']:>9.2f} {row['added_us']:>9.2f}"
        )
        if "redis_commands_per_acquire" in row:
            line += f"   ({row['redis_commands_per_acquire']:.2f} Redis commands per acquire)"
        print(line)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--calls", type=int, default=200_000)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--redis", default=None, help="also measure the Redis limiter store")
    parser.add_argument("--json", default=None, help="write the rows as JSON to this path")
    args = parser.parse_args()
    rows = asyncio.run(measure(args.calls, args.rounds, args.redis))
    print_table(rows)
    if args.json:
        with open(args.json, "w", encoding="utf-8") as out:
            json.dump({"benchmark": "resilience_overhead", "rows": rows}, out, indent=2)


if __name__ == "__main__":
    main()
