"""Replica-shared state through real Redis: the k-of-n breaker view and single-flight."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import pytest
from redis.asyncio import Redis

from resilience import CircuitBreaker, CircuitOpen, RemoteFlightFailed
from resilience.breaker_quorum import QuorumBreaker
from resilience.presets import SEED_BREAKER
from resilience.singleflight_redis import RedisSingleFlight
from service_runtime.clock import FakeClock, SystemClock

pytestmark = pytest.mark.integration

START = datetime(2026, 3, 2, 15, 0, tzinfo=UTC)


def replicas(redis: Redis, prefix: str, clock: FakeClock, n: int = 3) -> list[QuorumBreaker]:
    return [
        QuorumBreaker(
            CircuitBreaker("xai", SEED_BREAKER, clock=clock),
            redis,
            replica_id=f"pod-{i}",
            quorum=2,
            prefix=prefix,
            clock=clock,
        )
        for i in range(n)
    ]


async def trip(breaker: QuorumBreaker) -> None:
    for _ in range(5):
        breaker.local.on_error(breaker.local.acquire_permission(), 0.1, TimeoutError())
    await breaker.refresh()


async def ok() -> str:
    return "ok"


@pytest.mark.asyncio
async def test_one_replica_open_stays_local_two_open_it_for_everyone(
    redis: Redis, prefix: str
) -> None:
    clock = FakeClock(START)
    pods = replicas(redis, prefix, clock)
    for pod in pods:
        await pod.refresh()
    await trip(pods[0])
    await pods[2].refresh()
    assert pods[2].open_replicas == 1
    assert await pods[2].execute(ok) == "ok"  # one pod's trouble stays local
    with pytest.raises(CircuitOpen) as local:
        await pods[0].execute(ok)
    assert not local.value.shared

    clock.advance(10)
    await trip(pods[1])
    await pods[2].refresh()
    with pytest.raises(CircuitOpen) as shared:
        await pods[2].execute(ok)
    assert shared.value.shared
    assert shared.value.retry_after == pytest.approx(50.0, abs=0.01)  # pod-0's open wait ends first

    clock.advance(50)
    for pod in pods:
        await pod.refresh()
    assert pods[2].shared_open_remaining() == 0
    assert await pods[2].execute(ok) == "ok"
    for pod in pods:
        await pod.aclose()


@pytest.mark.asyncio
async def test_quorum_can_require_a_fraction_of_live_replicas(redis: Redis, prefix: str) -> None:
    clock = FakeClock(START)
    pods = [
        QuorumBreaker(
            CircuitBreaker("glm", SEED_BREAKER, clock=clock),
            redis,
            replica_id=f"p{i}",
            quorum=1,
            min_open_fraction=0.5,
            prefix=prefix,
            clock=clock,
        )
        for i in range(4)
    ]
    for pod in pods:
        await pod.refresh()
    await trip(pods[0])
    await pods[3].refresh()
    assert pods[3].shared_open_remaining() == 0  # 1 of 4 < 50 %
    await trip(pods[1])
    await pods[3].refresh()
    assert pods[3].shared_open_remaining() > 0  # 2 of 4
    for pod in pods:
        await pod.aclose()


@pytest.mark.asyncio
async def test_one_upstream_call_serves_every_replica(
    redis: Redis, redis_url: str, prefix: str
) -> None:
    other = Redis.from_url(redis_url)
    here = RedisSingleFlight(redis, prefix=prefix, name="sf-it")
    there = RedisSingleFlight(other, prefix=prefix, name="sf-it", poll_interval=0.005)
    calls = 0
    gate = asyncio.Event()

    async def upstream() -> dict[str, float]:
        nonlocal calls
        calls += 1
        await gate.wait()
        return {"AAPL": 101.5}

    leader = asyncio.create_task(here.do("quote:AAPL", upstream))
    await asyncio.sleep(0.05)
    followers = [asyncio.create_task(there.do("quote:AAPL", upstream)) for _ in range(3)]
    await asyncio.sleep(0.05)
    gate.set()
    results = await asyncio.gather(leader, *followers)
    assert results == [{"AAPL": 101.5}] * 4
    assert calls == 1
    await other.aclose()


@pytest.mark.asyncio
async def test_the_leaders_error_reaches_the_other_replicas(
    redis: Redis, redis_url: str, prefix: str
) -> None:
    other = Redis.from_url(redis_url)
    here = RedisSingleFlight(redis, prefix=prefix)
    there = RedisSingleFlight(other, prefix=prefix, poll_interval=0.005)
    gate = asyncio.Event()

    async def failing() -> str:
        await gate.wait()
        raise TimeoutError("provider timed out")

    leader = asyncio.create_task(here.do("k", failing))
    await asyncio.sleep(0.05)
    follower = asyncio.create_task(there.do("k", failing))
    await asyncio.sleep(0.05)
    gate.set()
    with pytest.raises(TimeoutError):
        await leader
    with pytest.raises(RemoteFlightFailed) as info:
        await follower
    assert info.value.kind == "TimeoutError"
    await other.aclose()


@pytest.mark.asyncio
async def test_a_follower_takes_over_when_the_leader_vanishes(redis: Redis, prefix: str) -> None:
    await redis.set(f"{prefix}:k:lease", "dead-leader", px=200)  # a leader that crashed
    flight = RedisSingleFlight(redis, prefix=prefix, poll_interval=0.01)
    calls = 0

    async def upstream() -> str:
        nonlocal calls
        calls += 1
        return "fresh"

    assert await flight.do("k", upstream) == "fresh"
    assert calls == 1


@pytest.mark.asyncio
async def test_a_cancelled_leader_hands_the_flight_over_at_once(
    redis: Redis, redis_url: str, prefix: str
) -> None:
    """Lost if it failed: when the leading replica's caller gives up (deadline, shutdown),
    every other replica would wait out the whole lease (here 30 s) before calling upstream
    itself, failing its own callers' deadlines meanwhile."""
    other = Redis.from_url(redis_url)
    polling = asyncio.Event()

    class PollingClock(SystemClock):
        async def sleep(self, seconds: float) -> None:
            polling.set()  # the follower found the lease held and waits between polls
            await super().sleep(seconds)

    here = RedisSingleFlight(redis, prefix=prefix, lease_ttl=30.0)
    there = RedisSingleFlight(
        other, prefix=prefix, lease_ttl=30.0, poll_interval=0.005, clock=PollingClock()
    )
    leading = asyncio.Event()

    async def stuck() -> str:
        leading.set()
        await asyncio.Event().wait()  # an upstream that never answers
        return "never"

    async def upstream() -> str:
        return "fresh"

    try:
        leader = asyncio.create_task(here.do("k", stuck))
        await leading.wait()  # it holds the lease
        follower = asyncio.create_task(there.do("k", upstream))
        await polling.wait()
        leader.cancel()
        with pytest.raises(asyncio.CancelledError):
            await leader
        async with asyncio.timeout(5):  # far inside the 30 s lease
            assert await follower == "fresh"
        assert await redis.get(f"{prefix}:k:lease") is None  # the new leader released it too
    finally:
        await other.aclose()
