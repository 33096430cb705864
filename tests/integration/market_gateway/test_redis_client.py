"""The gateway's Redis client against the real Redis: the pool holds the configured number
of connections, and a call waits for a free one no longer than configured."""

from __future__ import annotations

import asyncio
import time

import pytest
from redis.asyncio import BlockingConnectionPool
from redis.exceptions import ConnectionError as RedisConnectionError

from market_gateway.adapters.redis_client import open_redis

pytestmark = pytest.mark.integration


@pytest.mark.asyncio
async def test_a_call_waits_for_the_one_pooled_connection_and_then_succeeds(
    redis_url: str,
) -> None:
    client = open_redis(redis_url, max_connections=1, pool_wait_seconds=10.0)
    pool = client.connection_pool
    assert isinstance(pool, BlockingConnectionPool)
    try:
        held = await pool.get_connection()
        waiting = asyncio.create_task(client.ping())
        # A second connection would answer within a millisecond; the one pooled is held,
        # longer than redis-py's or our earlier fixed waits (0.25 s), and still the call waits.
        done, _ = await asyncio.wait({waiting}, timeout=0.6)
        assert not done
        await pool.release(held)
        assert await asyncio.wait_for(waiting, timeout=10.0) is True
    finally:
        await client.aclose()


@pytest.mark.asyncio
async def test_a_call_that_finds_no_free_connection_within_the_wait_fails_as_a_redis_error(
    redis_url: str,
) -> None:
    """Lost if it failed: a hung Redis holding every connection would stall each cache and
    limiter call forever instead of letting them fall back."""
    client = open_redis(redis_url, max_connections=1, pool_wait_seconds=0.8)
    pool = client.connection_pool
    try:
        held = await pool.get_connection()
        started = time.monotonic()
        with pytest.raises(RedisConnectionError, match="No connection available"):
            await asyncio.wait_for(client.ping(), timeout=10.0)
        assert time.monotonic() - started >= 0.75  # the configured wait, not a shorter one
        await pool.release(held)
        assert await client.ping() is True
    finally:
        await client.aclose()
