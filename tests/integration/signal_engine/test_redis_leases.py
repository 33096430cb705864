"""RedisLeases against the real Redis: replicas split the symbols without overlap, take
over a dead replica's symbols within one lease period, and hand over gracefully."""

from __future__ import annotations

import asyncio
import contextlib
import time
import uuid
from collections.abc import AsyncIterator, Callable

import pytest
import pytest_asyncio
from redis.asyncio import Redis

from service_runtime.clock import SystemClock
from signal_engine.adapters.redis_leases import RedisLeases
from signal_engine.domain import rendezvous_owner
from tests.conftest import free_port

pytestmark = [pytest.mark.integration, pytest.mark.asyncio]
SYMBOLS = [f"SYM{i}" for i in range(20)]
LEASE = 1.0  # seconds; a tick is a fifth of it


@pytest_asyncio.fixture
async def redis(redis_url: str) -> AsyncIterator[Redis]:
    # Bounded commands: a stalled connection fails a tick (logged, retried) instead of
    # hanging a keeper, and with it the test, until pytest's timeout.
    client = Redis.from_url(redis_url, socket_timeout=2.0, socket_connect_timeout=2.0)
    yield client
    await client.aclose()


@pytest_asyncio.fixture
async def make(redis: Redis) -> AsyncIterator[Callable[[str], RedisLeases]]:
    prefix = f"test:engine:{uuid.uuid4().hex}"

    def build(replica: str) -> RedisLeases:
        return RedisLeases(
            redis,
            SYMBOLS,
            clock=SystemClock(),
            replica_id=replica,
            key_prefix=prefix,
            lease_seconds=LEASE,
        )

    yield build
    keys = [k async for k in redis.scan_iter(match=f"{{{prefix}}}:*")]
    if keys:
        await redis.delete(*keys)


@contextlib.asynccontextmanager
async def keeping(*replicas: RedisLeases) -> AsyncIterator[list[asyncio.Task[None]]]:
    tasks = [asyncio.create_task(r.keep()) for r in replicas]
    try:
        yield tasks
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)


async def until(condition: Callable[[], bool], within: float) -> float:
    """Seconds it took `condition` to hold (polled every 10 ms); fails after `within`."""
    started = time.monotonic()
    async with asyncio.timeout(within):
        while not condition():  # noqa: ASYNC110 - polling the replicas' view is the point
            await asyncio.sleep(0.01)
    return time.monotonic() - started


def share(replica: str, members: list[str]) -> frozenset[str]:
    return frozenset(s for s in SYMBOLS if rendezvous_owner(s, members) == replica)


def settled(*replicas: RedisLeases) -> Callable[[], bool]:
    names = [r.replica_id for r in replicas]
    return lambda: all(r.owned() == share(r.replica_id, names) for r in replicas)


async def test_two_replicas_split_the_symbols_by_rendezvous_without_overlap(make) -> None:
    a, b = make("replica-a"), make("replica-b")
    async with keeping(a, b):
        await until(settled(a, b), within=3 * LEASE)
        for _ in range(50):  # sampled over 1 s of renewals: never both, never neither
            assert not a.owned() & b.owned()
            assert len(a.owned() | b.owned()) == 20
            await asyncio.sleep(0.02)
    assert 0 < len(a.owned()) < 20


async def test_a_dead_replicas_symbols_are_taken_over_within_one_lease_period(make) -> None:
    a, b = make("replica-a"), make("replica-b")
    async with keeping(a, b) as tasks:
        await until(settled(a, b), within=3 * LEASE)
        tasks[0].cancel()  # replica a dies: no release, its leases just stop being renewed
        took = await until(lambda: len(b.owned()) == 20, within=3 * LEASE)
    assert took <= LEASE


async def test_a_released_replica_hands_over_at_the_next_tick(make) -> None:
    a, b = make("replica-a"), make("replica-b")
    async with keeping(a, b):
        await until(settled(a, b), within=3 * LEASE)
        await a.release()
        assert a.owned() == frozenset()
        took = await until(lambda: len(b.owned()) == 20, within=3 * LEASE)
        await asyncio.sleep(LEASE / 2)
        assert a.owned() == frozenset()  # its keeper keeps ticking but takes nothing
    assert took <= LEASE / 5 + 0.1


async def test_a_claimed_symbol_moves_to_a_new_replica_only_after_the_cycle(make) -> None:
    a = make("replica-a")
    async with asyncio.timeout(20 * LEASE), keeping(a):  # a hang fails here, with its stack
        await until(lambda: len(a.owned()) == 20, within=3 * LEASE)
        b = make("replica-b")
        async with a.claim() as claimed, keeping(b):
            assert claimed == frozenset(SYMBOLS)
            await asyncio.sleep(2 * LEASE)  # several ticks: a keeps what its cycle holds
            assert b.owned() == frozenset() and len(a.owned()) == 20
        async with keeping(b):
            await until(settled(a, b), within=3 * LEASE)


async def test_churn_never_gives_a_symbol_to_two_replicas(make) -> None:
    replicas = [make(f"replica-{i}") for i in range(3)]
    async with keeping(*replicas) as tasks:
        deadline = time.monotonic() + 4 * LEASE
        step = 0
        while time.monotonic() < deadline:
            owned = [r.owned() for r in replicas]
            for i in range(3):
                for j in range(i + 1, 3):
                    assert not owned[i] & owned[j]
            step += 1
            if step == 60:
                tasks[1].cancel()  # one dies
            if step == 120:
                await replicas[2].release()  # one leaves politely
            await asyncio.sleep(0.01)
        await until(lambda: len(replicas[0].owned()) == 20, within=2 * LEASE)


async def test_without_redis_ownership_lapses_quietly() -> None:
    client = Redis.from_url(f"redis://127.0.0.1:{free_port()}/0", socket_connect_timeout=0.2)
    leases = RedisLeases(
        client,
        SYMBOLS,
        clock=SystemClock(),
        replica_id="lonely",
        key_prefix="test:engine:nowhere",
        lease_seconds=LEASE,
    )
    assert await leases.tick() == pytest.approx(LEASE / 5)
    async with leases.claim() as owned:
        assert owned == frozenset()
    await client.aclose()
