"""Per-caller quotas shared by gateway replicas through the Redis limiter ledger.

Lost if it failed: a caller spreading its calls over N gateway replicas would get N times its
quota, and with it N times the paid provider calls behind them."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from redis.asyncio import Redis

from resilience import Quota, Window
from resilience.limiter_redis import RedisLimiterStore
from service_runtime.caller_quota import CallerQuotas
from service_runtime.clock import FakeClock

pytestmark = [pytest.mark.integration, pytest.mark.asyncio]

START = datetime(2026, 3, 2, 15, 0, 0, tzinfo=UTC)
QUOTAS = {"default": Quota.of(Window.rate(1.0, burst=5))}


async def admitted(replicas: list[CallerQuotas], calls: int) -> int:
    granted = 0
    for i in range(calls):  # round robin over the replicas, as a load balancer would
        if await replicas[i % len(replicas)].retry_after("batch-job") is None:
            granted += 1
    return granted


async def test_two_replicas_sharing_redis_admit_one_quota(redis: Redis, prefix: str) -> None:
    clock = FakeClock(START)
    store = RedisLimiterStore(redis, prefix=prefix)
    replicas = [CallerQuotas(QUOTAS, clock=clock, store=store) for _ in range(2)]
    assert await admitted(replicas, 12) == 5  # the burst, once, across both


async def test_without_a_shared_store_each_replica_admits_its_own_quota() -> None:
    clock = FakeClock(START)
    replicas = [CallerQuotas(QUOTAS, clock=clock) for _ in range(2)]
    assert await admitted(replicas, 12) == 10  # the documented per-replica behaviour
