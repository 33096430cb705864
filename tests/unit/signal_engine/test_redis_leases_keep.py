"""The lease keeper stops when cancelled even if a Redis call swallowed the cancel.

If this failed, an engine replica's shutdown would wait forever on its keeper (redis-py
swallows about one cancel in a hundred on Python 3.11), and the replica would hold its
symbols' leases and its gRPC port until Kubernetes killed it."""

from __future__ import annotations

import asyncio

import pytest
from redis.asyncio import Redis

from service_runtime.clock import SystemClock
from signal_engine.adapters.redis_leases import RedisLeases

pytestmark = pytest.mark.asyncio


async def test_keep_ends_on_a_cancel_that_a_redis_call_swallowed() -> None:
    client = Redis.from_url("redis://127.0.0.1:1/0")  # never contacted: tick is replaced
    leases = RedisLeases(
        client,
        ["AAPL"],
        clock=SystemClock(),
        replica_id="a",
        key_prefix="test:keep",
        lease_seconds=1.0,
    )
    ticks: list[int] = []

    async def swallowing_tick() -> float:
        ticks.append(1)
        try:
            await asyncio.sleep(3600)
        except asyncio.CancelledError:
            pass  # what 3.11's wait_for does when the reply is already in
        return 0.2

    leases.tick = swallowing_tick  # type: ignore[method-assign]
    keeper = asyncio.create_task(leases.keep())
    await asyncio.sleep(0)
    keeper.cancel()
    done, _ = await asyncio.wait([keeper], timeout=1.0)
    assert done == {keeper} and keeper.cancelled()
    assert ticks == [1]
    await client.aclose()
