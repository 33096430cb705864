"""The Redis limiter store against real Redis: same decisions as the in-process rule, one
round trip per acquire, pauses shared between clients, and a fallback when Redis is gone."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from prometheus_client import REGISTRY
from redis.asyncio import Redis

from resilience import InMemoryLimiterStore, LimitKey, Quota, RateLimited, RateLimiter, Window
from resilience.limiter_redis import RedisLimiterStore
from resilience.presets import SEED_QUOTAS
from service_runtime.clock import FakeClock
from tests.conftest import REDIS_URL, free_port
from tests.unit.resilience.quota_oracle import violations

pytestmark = pytest.mark.integration

KEY = LimitKey("polygon", "cred", "aggs")
START = datetime(2026, 3, 2, 15, 0, 0, 250000, tzinfo=UTC)


class CountingRedis(Redis):
    """Counts commands sent (a script call is one EVALSHA)."""

    commands = 0

    async def execute_command(self, *args: Any, **options: Any) -> Any:
        CountingRedis.commands += 1
        return await super().execute_command(*args, **options)


@pytest.mark.asyncio
async def test_an_acquire_is_one_round_trip_even_when_it_waits(redis_url: str, prefix: str) -> None:
    client = CountingRedis.from_url(redis_url)
    clock = FakeClock(START)
    limiter = RateLimiter(SEED_QUOTAS, store=RedisLimiterStore(client, prefix=prefix), clock=clock)
    await limiter.acquire(KEY)  # loads the script (EVALSHA miss, then EVAL)
    CountingRedis.commands = 0
    for _ in range(9):
        await limiter.acquire(KEY)
    assert await limiter.acquire(KEY, max_wait=1.0) > 0  # waited on the clock, not on Redis
    assert CountingRedis.commands == 10
    await client.aclose()


@pytest.mark.asyncio
async def test_a_pause_written_by_one_client_holds_another(
    redis: Redis, redis_url: str, prefix: str
) -> None:
    clock = FakeClock(START)
    other_client = Redis.from_url(redis_url)
    here = RateLimiter(SEED_QUOTAS, store=RedisLimiterStore(redis, prefix=prefix), clock=clock)
    there = RateLimiter(
        SEED_QUOTAS, store=RedisLimiterStore(other_client, prefix=prefix), clock=clock
    )
    until = clock.now() + timedelta(seconds=20)
    await here.pause(LimitKey("polygon", "cred", "quotes"), until, source="retry_after")
    with pytest.raises(RateLimited) as info:
        await there.acquire(KEY)
    assert info.value.paused and info.value.retry_after == pytest.approx(20, abs=1e-3)
    assert await there.paused_until(KEY) == until
    await other_client.aclose()


@pytest.mark.asyncio
async def test_alpha_vantage_daily_cap_is_enforced_in_redis(redis: Redis, prefix: str) -> None:
    clock = FakeClock(START)
    limiter = RateLimiter(SEED_QUOTAS, store=RedisLimiterStore(redis, prefix=prefix), clock=clock)
    key = LimitKey("alpha_vantage")
    granted = 0
    while True:
        try:
            await limiter.acquire(key)
            granted += 1
        except RateLimited as e:
            if e.retry_after > 3600:
                midnight = START.replace(hour=0, minute=0, second=0, microsecond=0)
                until = clock.now() + timedelta(seconds=e.retry_after)
                assert abs((until - midnight - timedelta(days=1)).total_seconds()) < 1e-3
                break
            clock.advance(e.retry_after)
    assert granted == 25


@pytest.mark.asyncio
async def test_without_redis_the_fallback_store_keeps_limiting(prefix: str) -> None:
    dead = Redis.from_url(f"redis://127.0.0.1:{free_port()}/0", socket_connect_timeout=0.2)
    store = RedisLimiterStore(dead, prefix=prefix, fallback=InMemoryLimiterStore(scale=0.5))
    limiter = RateLimiter(
        {"polygon": Quota.of(Window.rate(10, burst=4))}, store=store, clock=FakeClock(START)
    )
    await limiter.acquire(KEY)
    await limiter.acquire(KEY)
    with pytest.raises(RateLimited):
        await limiter.acquire(KEY)  # half of the burst: this replica's share
    labels = {"store": "redis", "fallback": "memory"}
    assert (REGISTRY.get_sample_value("argo_ratelimit_store_errors_total", labels) or 0) >= 1
    await dead.aclose()


windows = st.lists(
    st.one_of(
        st.builds(Window.rate, st.sampled_from([0.5, 2.0, 5.0]), st.just(1.0), st.integers(1, 6)),
        st.builds(Window.fixed, st.integers(1, 10), st.sampled_from([1.0, 10.0]), st.just(0.0)),
    ),
    min_size=1,
    max_size=3,
).filter(lambda ws: len({w.label for w in ws}) == len(ws))
events = st.lists(
    st.tuples(
        st.floats(0.0, 1.0),
        st.sampled_from([1.0, 2.0]),
        st.sampled_from([0.0, 0.5, 20.0]),
        st.booleans(),
    ),
    min_size=1,
    max_size=40,
)


@settings(max_examples=25, deadline=None)
@given(ws=windows, evs=events)
def test_redis_decides_exactly_like_the_in_process_rule(ws: list[Window], evs: list) -> None:
    asyncio.run(_differential(Quota(tuple(ws)), evs))


async def _differential(quota: Quota, evs: list) -> None:
    import uuid

    client = Redis.from_url(REDIS_URL)
    prefix = f"test:resilience:diff:{uuid.uuid4().hex[:10]}"
    redis_store, memory = RedisLimiterStore(client, prefix=prefix), InMemoryLimiterStore()
    now = START.timestamp()
    admitted: list[tuple[float, float]] = []
    try:
        for gap, cost, max_wait, pause in evs:
            now += gap
            if pause:
                await redis_store.pause(KEY, now + 1.5, now)
                await memory.pause(KEY, now + 1.5, now)
            if cost > quota.max_cost:
                continue
            remote = await redis_store.reserve(KEY, quota.windows, cost, now, max_wait)
            local = await memory.reserve(KEY, quota.windows, cost, now, max_wait)
            assert (remote.granted, remote.paused) == (local.granted, local.paused)
            assert remote.wait == pytest.approx(local.wait, abs=1e-5)
            if remote.granted:
                admitted.append((now + remote.wait, cost))
        assert violations(quota.windows, admitted) == []
    finally:
        keys = [k async for k in client.scan_iter(match=f"{prefix}*")]
        if keys:
            await client.delete(*keys)
        await client.aclose()


@pytest.mark.asyncio
async def test_wait_time_peeks_at_the_shared_ledger_without_reserving(
    redis: Redis, prefix: str
) -> None:
    clock = FakeClock(START)
    limiter = RateLimiter(
        {"polygon": Quota.of(Window.rate(2, burst=1))},
        store=RedisLimiterStore(redis, prefix=prefix),
        clock=clock,
    )
    await limiter.acquire(KEY)
    for _ in range(3):
        assert await limiter.wait_time(KEY) == pytest.approx(0.5, abs=1e-5)
    clock.advance(0.5)
    assert await limiter.wait_time(KEY) == 0.0
    await limiter.acquire(KEY)
