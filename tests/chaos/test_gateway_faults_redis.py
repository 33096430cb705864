"""Redis stopped under a running gateway process, then started again (its own redis-server).

While Redis is away the gateway serves from its in-process tier and its local limiter with
no caller errors; when Redis is back (empty, as after a crash) the shared rate-limit ledger
and the shared cache are written again without a restart of the gateway.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from redis.asyncio import Redis

from argo.marketdata.v1 import marketdata_pb2 as pb
from tests.chaos.gateway_process import GatewayProcess, running_gateway, wait_until
from tests.chaos.redis_instance import RedisInstance
from tests.chaos.sim_process import SimProcess

pytestmark = [pytest.mark.chaos, pytest.mark.e2e]
PREFIX = "argo:chaos-gateway"
SYMBOLS = ["AAPL", "BTC-USD"]


@pytest.fixture
def own_redis(tmp_path: Path) -> Iterator[RedisInstance]:
    redis = RedisInstance(tmp_path)
    redis.start()
    yield redis
    redis.stop()


async def keys(redis: RedisInstance, kind: str) -> list[bytes]:
    client = Redis.from_url(redis.url, socket_connect_timeout=0.5)
    try:
        return [key async for key in client.scan_iter(match=f"{PREFIX}:{kind}*")]
    finally:
        await client.aclose()


async def served_without_errors(gw: GatewayProcess, *, max_age_ms: int = 0) -> list[pb.Quote]:
    started = time.monotonic()
    reply = await gw.quotes(SYMBOLS, max_age_ms=max_age_ms, deadline=2)
    assert not reply.errors, reply.errors
    assert [q.symbol for q in reply.quotes] == SYMBOLS
    assert time.monotonic() - started < 1.0  # no Redis timeout paid per call
    return list(reply.quotes)


@pytest.mark.asyncio
async def test_redis_stopped_mid_run_degrades_to_l1_without_errors_and_recovers(
    sim: SimProcess, tmp_path: Path, chaos_anchor: str, own_redis: RedisInstance
) -> None:
    """Lost if it failed: a Redis outage would turn into caller errors or slow calls (a
    timeout per lookup), or after Redis returned the replicas would keep limiting each on
    its own — no shared quota, no shared cache — until someone restarted them."""
    env = {"REDIS_URL": own_redis.url, "MARKET_GATEWAY_REDIS_PREFIX": PREFIX}
    providers = ("polygon", "alpaca")
    async with running_gateway(tmp_path, sim, chaos_anchor, providers=providers, env=env) as gw:
        await served_without_errors(gw)
        assert await keys(own_redis, "rl:") and await keys(own_redis, "cache")

        own_redis.stop()
        store_errors = "argo_ratelimit_store_errors_total"

        async def limiter_fell_back_to_memory() -> bool:
            await served_without_errors(gw, max_age_ms=1)  # fresh: takes a limiter permit
            return await gw.metric(store_errors, store="redis", fallback="memory") > 0

        await wait_until("the limiter's in-memory fallback", limiter_fell_back_to_memory, within=10)

        async def l2_switched_off() -> bool:
            await served_without_errors(gw, max_age_ms=1)
            return await gw.metric("argo_resilience_cache_l2_up", cache="quotes") == 0

        await wait_until("the quote cache's L2 to be switched off", l2_switched_off, within=10)
        again = await served_without_errors(gw)
        assert {q.cache_status for q in again} == {pb.CACHE_STATUS_HIT_LOCAL}

        own_redis.start()

        async def shared_again() -> bool:
            await served_without_errors(gw, max_age_ms=1)
            return bool(await keys(own_redis, "rl:") and await keys(own_redis, "cache"))

        await wait_until("limiter and cache entries in Redis again", shared_again, within=15)
        up = await gw.metric("argo_resilience_cache_l2_up", cache="quotes")
        assert up == 1
        assert gw.alive()
